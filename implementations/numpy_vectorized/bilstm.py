"""``numpy-vectorized``: the bidirectional LSTM as two runs of the batched sequence.

The backward direction is the forward sequence of :mod:`.lstm_sequence` run on the
time-reversed input with the backward weights, its outputs reversed back, so that
←h_t (at index t) is the state after reading x_T … x_t. Its VJP is the sequence's VJP
on the reversed cotangents, with ∂xs reversed back. The output layer is batched over
time and rows, one matmul per direction.
"""

from __future__ import annotations

import numpy as np

from conformance import Arrays, Kernel
from implementations.numpy_vectorized import lstm_sequence
from implementations.numpy_vectorized.lstm_sequence import PARAMETERS


def _flip(a: np.ndarray) -> np.ndarray:
    """a reversed along time (axis 0), as a new contiguous array."""
    return np.ascontiguousarray(a[::-1])


def _direction(inputs: Arrays, direction: str) -> dict[str, np.ndarray]:
    """lstm.sequence's inputs for one direction: xs (reversed for ``bwd``), its own
    initial state and weights under the cell's names."""
    return {
        "xs": _flip(inputs["xs"]) if direction == "bwd" else inputs["xs"],
        "h_0": inputs[f"h_{direction}_init"],
        "c_0": inputs[f"c_{direction}_init"],
        **{name: inputs[f"{name}_{direction}"] for name in PARAMETERS},
    }


# ---------------------------------------------------------------------------
# Both directions over the sequence
# ---------------------------------------------------------------------------


def sequence_forward(inputs: Arrays) -> dict[str, np.ndarray]:
    """→hs = LSTM_fwd(xs);  ←hs = flip(LSTM_bwd(flip(xs))), both with their final states."""
    fwd = lstm_sequence.sequence_forward(_direction(inputs, "fwd"))
    bwd = lstm_sequence.sequence_forward(_direction(inputs, "bwd"))
    return {
        "h_fwd": fwd["hs"],
        "h_bwd": _flip(bwd["hs"]),
        "h_fwd_final": fwd["h_T"],
        "c_fwd_final": fwd["c_T"],
        "h_bwd_final": bwd["h_T"],
        "c_bwd_final": bwd["c_T"],
    }


def sequence_vjp(inputs: Arrays, cotangents: Arrays) -> dict[str, np.ndarray]:
    """Each direction's BPTT; the backward one sees flip(∂←hs) and returns flip of its ∂xs.

    ∂xs = ∂xs^fwd + flip(∂xs^bwd), as both directions read every x_t.
    """
    grads: dict[str, np.ndarray] = {}
    for direction in ("fwd", "bwd"):
        dhs = cotangents[f"h_{direction}"]
        one = lstm_sequence.sequence_vjp(
            _direction(inputs, direction),
            {
                "hs": _flip(dhs) if direction == "bwd" else dhs,
                "h_T": cotangents[f"h_{direction}_final"],
                "c_T": cotangents[f"c_{direction}_final"],
            },
        )
        grads[f"xs_{direction}"] = _flip(one["xs"]) if direction == "bwd" else one["xs"]
        grads[f"h_{direction}_init"] = one["h_0"]
        grads[f"c_{direction}_init"] = one["c_0"]
        grads.update({f"{name}_{direction}": one[name] for name in PARAMETERS})
    grads["xs"] = grads.pop("xs_fwd") + grads.pop("xs_bwd")
    return grads


# ---------------------------------------------------------------------------
# The output layer: y_t = W_fwd →h_t + W_bwd ←h_t + b_y
# ---------------------------------------------------------------------------


def output_forward(inputs: Arrays) -> dict[str, np.ndarray]:
    """y = →hs W_fwdᵀ + ←hs W_bwdᵀ + b_y, for every step and row at once."""
    return {
        "y": inputs["h_fwd"] @ inputs["W_fwd"].T
        + inputs["h_bwd"] @ inputs["W_bwd"].T
        + inputs["b_y"]
    }


def output_vjp(inputs: Arrays, cotangents: Arrays) -> dict[str, np.ndarray]:
    """∂→hs = ∂y W_fwd,  ∂←hs = ∂y W_bwd,

    ∂W_* = Σ_{t,n} ∂y_{tn} h_{*,tn}ᵀ (one matmul over the T·B rows),  ∂b_y = Σ_{t,n} ∂y_{tn}.
    """
    dy = cotangents["y"]
    K, H = inputs["W_fwd"].shape
    rows = dy.reshape(-1, K)
    return {
        "h_fwd": dy @ inputs["W_fwd"],
        "h_bwd": dy @ inputs["W_bwd"],
        "W_fwd": rows.T @ inputs["h_fwd"].reshape(-1, H),
        "W_bwd": rows.T @ inputs["h_bwd"].reshape(-1, H),
        "b_y": rows.sum(axis=0),
    }


KERNELS: dict[str, Kernel] = {
    "bilstm.sequence": Kernel(sequence_forward, sequence_vjp),
    "bilstm.output": Kernel(output_forward, output_vjp),
}
