"""Mutants of the bidirectional LSTM: the two directions over a sequence, and the output
layer on both."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from conformance import Kernel
from conformance.spec.model import Spec
from implementations.fused_gate import bilstm as fused
from implementations.numpy_vectorized import bilstm as vec
from implementations.numpy_vectorized import lstm_sequence as vec_seq
from mutants._activations import sigmoid_from_exponentials
from mutants._memory import ravel_k_as_row_major
from mutants._model import Mutant
from mutants._origin import (
    Arrays,
    builtin,
    inputs_changed,
    renamed,
    with_forward,
    with_vjp,
)

PARAMETERS = vec_seq.PARAMETERS


def _run(a: Arrays, direction: str, weights: str, xs: np.ndarray) -> dict[str, np.ndarray]:
    """lstm.sequence over ``xs`` from ``direction``'s initial state with ``weights``' cell."""
    return vec_seq.sequence_forward(
        {
            "xs": xs,
            "h_0": a[f"h_{direction}_init"],
            "c_0": a[f"c_{direction}_init"],
            **{n: a[f"{n}_{weights}"] for n in PARAMETERS},
        }
    )


def _outputs(fwd: dict, bwd: dict, h_bwd: np.ndarray) -> dict[str, np.ndarray]:
    return {
        "h_fwd": fwd["hs"], "h_bwd": h_bwd,
        "h_fwd_final": fwd["h_T"], "c_fwd_final": fwd["c_T"],
        "h_bwd_final": bwd["h_T"], "c_bwd_final": bwd["c_T"],
    }  # fmt: skip


def sequence_backward_not_realigned(a: Arrays) -> dict[str, np.ndarray]:
    """←hs returned in reading order (index 0 holds ←h_T), not flipped back to index t."""
    fwd = _run(a, "fwd", "fwd", a["xs"])
    bwd = _run(a, "bwd", "bwd", a["xs"][::-1])
    return _outputs(fwd, bwd, bwd["hs"])


def sequence_backward_reads_forward(a: Arrays) -> dict[str, np.ndarray]:
    """The backward direction fed xs in forward order (its input never reversed), its
    states flipped as if it had read backward."""
    fwd = _run(a, "fwd", "fwd", a["xs"])
    bwd = _run(a, "bwd", "bwd", a["xs"])
    return _outputs(fwd, bwd, bwd["hs"][::-1].copy())


def sequence_shared_direction_weights(a: Arrays) -> dict[str, np.ndarray]:
    """The backward direction run with the forward direction's weights."""
    fwd = _run(a, "fwd", "fwd", a["xs"])
    bwd = _run(a, "bwd", "fwd", a["xs"][::-1])
    return _outputs(fwd, bwd, bwd["hs"][::-1])


def sequence_final_states_in_float64(a: Arrays) -> dict[str, np.ndarray]:
    """The four final states gathered into one ``np.zeros((4, B, H))`` without a dtype."""
    out = dict(vec.sequence_forward(a))
    names = ("h_fwd_final", "c_fwd_final", "h_bwd_final", "c_bwd_final")
    finals = np.zeros((4, *out["h_fwd_final"].shape))
    for k, name in enumerate(names):
        finals[k] = out[name]
    return {**out, **{name: finals[k] for k, name in enumerate(names)}}


def sequence_sigmoid_from_exponentials(a: Arrays) -> dict[str, np.ndarray]:
    """Both directions with σ(z) written e^z / (1 + e^z) in every gate."""

    def run(direction: str, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        W = {g: a[f"W_{g}_{direction}"] for g in "fico"}
        b = {g: a[f"b_{g}_{direction}"] for g in "fico"}
        h, c, hs = a[f"h_{direction}_init"], a[f"c_{direction}_init"], []
        for x in xs:
            z = np.concatenate([h, x], axis=-1)
            f, i, o = (sigmoid_from_exponentials(z @ W[g].T + b[g]) for g in "fio")
            c = f * c + i * np.tanh(z @ W["c"].T + b["c"])
            h = o * np.tanh(c)
            hs.append(h)
        return np.stack(hs), h, c

    h_fwd, h_f, c_f = run("fwd", a["xs"])
    h_bwd, h_b, c_b = run("bwd", a["xs"][::-1])
    return {
        "h_fwd": h_fwd, "h_bwd": h_bwd[::-1].copy(),
        "h_fwd_final": h_f, "c_fwd_final": c_f, "h_bwd_final": h_b, "c_bwd_final": c_b,
    }  # fmt: skip


def sequence_reverses_xs_in_place(a: Arrays) -> dict[str, np.ndarray]:
    """The backward direction's input made by reversing the caller's xs in place (after
    the forward direction read it); the outputs are right, the caller's xs is reversed."""
    fwd = _run(a, "fwd", "fwd", a["xs"])
    xs = a["xs"]
    xs[...] = xs[::-1].copy()
    bwd = _run(a, "bwd", "bwd", xs)
    return _outputs(fwd, bwd, bwd["hs"][::-1].copy())


def output_backward_states_flipped_again(a: Arrays) -> dict[str, np.ndarray]:
    """y_t = W_fwd →h_t + W_bwd ←h_{T-1-t} + b_y: ←hs, already aligned, flipped once more."""
    return {"y": a["h_fwd"] @ a["W_fwd"].T + a["h_bwd"][::-1] @ a["W_bwd"].T + a["b_y"]}


def output_vjp_last_step_weight_gradient(a: Arrays, ct: Arrays) -> dict[str, np.ndarray]:
    """∂W_fwd = ∂y_Tᵀ →h_T, the last step's share only: the sum over time steps left out."""
    grads = dict(vec.output_vjp(a, ct))
    grads["W_fwd"] = ct["y"][-1].T @ a["h_fwd"][-1]
    return grads


def output_weights_joined_once_per_shape(_spec: Spec) -> Kernel:
    """fused-gate's output layer with its joined [W_fwd, W_bwd] kept between calls, keyed by
    shape: new weights of the same shape get the old ones."""
    joined: dict[tuple, np.ndarray] = {}

    def forward(a: Arrays) -> dict[str, np.ndarray]:
        T, B, _ = a["h_fwd"].shape
        Z, W = fused._joined(a)
        W = joined.setdefault((W.shape, W.dtype), W)
        return {"y": (Z @ W.T + a["b_y"]).reshape(T, B, -1)}

    return replace(builtin("bilstm.output", "fused_gate"), forward=forward)


M = Mutant
MUTANTS: tuple[Mutant, ...] = (
    M("backward_not_realigned", "bilstm.sequence", "reversal",
      "the backward direction's states returned in reading order, not re-aligned to index t",
      with_forward("bilstm.sequence", sequence_backward_not_realigned),
      companions=("lstm.sequence",)),
    M("backward_reads_forward", "bilstm.sequence", "reversal",
      "the backward direction fed xs in forward order: it never reads the sequence backward",
      with_forward("bilstm.sequence", sequence_backward_reads_forward),
      companions=("lstm.sequence",)),
    M("shared_direction_weights", "bilstm.sequence", "numeric",
      "the backward direction run with the forward direction's weights",
      with_forward("bilstm.sequence", sequence_shared_direction_weights)),
    M("swapped_output_weights", "bilstm.output", "numeric",
      "W_fwd applied to ←h and W_bwd to →h",
      renamed("bilstm.output", W_fwd="W_bwd", W_bwd="W_fwd")),
    M("weight_gradient_of_last_step_only", "bilstm.output", "gradient",
      "∂W_fwd from the last time step only: the sum over t left out",
      with_vjp("bilstm.output", output_vjp_last_step_weight_gradient)),
    M("final_states_in_float64", "bilstm.sequence", "dtype",
      "the final states gathered into np.zeros without a dtype: float64 from float32 inputs",
      with_forward("bilstm.sequence", sequence_final_states_in_float64), dtypes=("float32",)),
    M("backward_states_flipped_again", "bilstm.output", "chunking",
      "the output layer flips ←hs in time although it is already aligned",
      with_forward("bilstm.output", output_backward_states_flipped_again)),
    M("sigmoid_from_exponentials", "bilstm.sequence", "stability",
      "σ(z) written e^z / (1 + e^z): ∞/∞ = nan once e^z overflows",
      with_forward("bilstm.sequence", sequence_sigmoid_from_exponentials)),
    M("inputs_read_in_memory_order", "bilstm.sequence", "layout",
      "every input read as ravel(order='K') reshaped as if row-major: scrambled for "
      "Fortran-ordered inputs",
      inputs_changed("bilstm.sequence", ravel_k_as_row_major, "fused_gate"),
      source="fused_gate"),
    M("xs_reversed_in_place", "bilstm.sequence", "inputs_unmodified",
      "the backward direction's input made by reversing the caller's xs in place",
      with_forward("bilstm.sequence", sequence_reverses_xs_in_place)),
    M("weights_joined_once_per_shape", "bilstm.output", "stateless",
      "the joined [W_fwd, W_bwd] cached by shape: new weights of the same shape get the old ones",
      output_weights_joined_once_per_shape, source="fused_gate"),
)  # fmt: skip
"""The BiLSTM's mutants."""
