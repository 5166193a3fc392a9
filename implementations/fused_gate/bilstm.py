"""``fused-gate``: the bidirectional LSTM with one input projection for both directions.

Both directions read the same xs, so their stacked input blocks are stacked once more,
[W_x^fwd; W_x^bwd] of shape (8H, D), and a single GEMM over all T·B rows projects every
step for both: A = xs [W_x^fwd; W_x^bwd]ᵀ + [b^fwd; b^bwd], (T, B, 8H). Each direction then
runs the recurrence of :mod:`.lstm_sequence` on its half of A, the backward one from
t = T down to 1, storing ←h_t at index t. In the backward pass both directions' ∂A share
one (T, B, 8H) buffer, so that ∂xs = ∂A [W_x^fwd; W_x^bwd] is again one GEMM; each
direction's ∂W is one GEMM over all steps.

The output layer concatenates [→h_t, ←h_t] and multiplies once by [W_fwd, W_bwd]ᵀ.
"""

from __future__ import annotations

import numpy as np

from conformance import Arrays, Kernel
from implementations.fused_gate.lstm_sequence import (
    Tape,
    project,
    recur,
    recur_backward,
    stack,
    unstack,
    weight_grads,
)

DIRECTIONS = {"fwd": False, "bwd": True}
"""Each direction's suffix on the spec's symbols, and whether it reads time backwards."""


# ---------------------------------------------------------------------------
# Both directions over the sequence
# ---------------------------------------------------------------------------


def _forward(inputs: Arrays) -> tuple[dict[str, Tape], dict[str, np.ndarray], int]:
    """Both directions' tapes, their stacked weights (4H, H + D) by direction, and H."""
    H = inputs["h_fwd_init"].shape[1]
    stacked = {d: stack(inputs, f"_{d}") for d in DIRECTIONS}
    W_x = np.concatenate([stacked[d][0][:, H:] for d in DIRECTIONS], axis=0)  # (8H, D)
    b = np.concatenate([stacked[d][1] for d in DIRECTIONS])
    A = project(inputs["xs"], W_x, b)  # one GEMM: every step, both directions
    tapes = {
        d: recur(
            A[:, :, k * 4 * H : (k + 1) * 4 * H],
            stacked[d][0][:, :H],
            inputs[f"h_{d}_init"],
            inputs[f"c_{d}_init"],
            reverse,
        )
        for k, (d, reverse) in enumerate(DIRECTIONS.items())
    }
    return tapes, {d: W for d, (W, _) in stacked.items()}, H


def sequence_forward(inputs: Arrays) -> dict[str, np.ndarray]:
    """→h_t for t = 1 … T and ←h_t for t = T … 1 (at index t), and each direction's last state.

    The last state read is at index T − 1 forward and at index 0 backward.
    """
    tapes, _, _ = _forward(inputs)
    outputs = {}
    for d, last in (("fwd", -1), ("bwd", 0)):
        outputs[f"h_{d}"] = tapes[d].hs
        outputs[f"h_{d}_final"] = tapes[d].hs[last].copy()
        outputs[f"c_{d}_final"] = tapes[d].cs[last].copy()
    return outputs


def sequence_vjp(inputs: Arrays, cotangents: Arrays) -> dict[str, np.ndarray]:
    """BPTT per direction into one ∂A (T, B, 8H); ∂xs = ∂A [W_x^fwd; W_x^bwd] in one GEMM."""
    xs = inputs["xs"]
    T, B, D = xs.shape
    tapes, W, H = _forward(inputs)
    dA = np.empty((T, B, 8 * H), dtype=tapes["fwd"].gates.dtype)
    grads: dict[str, np.ndarray] = {}
    for k, (d, reverse) in enumerate(DIRECTIONS.items()):
        dA_d = dA[:, :, k * 4 * H : (k + 1) * 4 * H]
        grads[f"h_{d}_init"], grads[f"c_{d}_init"] = recur_backward(
            tapes[d],
            W[d][:, :H],
            inputs[f"c_{d}_init"],
            cotangents[f"h_{d}"],
            cotangents[f"h_{d}_final"],
            cotangents[f"c_{d}_final"],
            dA_d,
            reverse,
        )
        dW, db = weight_grads(dA_d, xs, tapes[d], inputs[f"h_{d}_init"], reverse)
        grads.update(unstack(dW, db, f"_{d}"))
    W_x = np.concatenate([W[d][:, H:] for d in DIRECTIONS], axis=0)
    grads["xs"] = (dA.reshape(T * B, 8 * H) @ W_x).reshape(T, B, D)
    return grads


# ---------------------------------------------------------------------------
# The output layer: y_t = [W_fwd, W_bwd] [→h_t; ←h_t] + b_y
# ---------------------------------------------------------------------------


def _joined(inputs: Arrays) -> tuple[np.ndarray, np.ndarray]:
    """Z = [→hs, ←hs] as (T·B, 2H) rows and W = [W_fwd, W_bwd] (K, 2H)."""
    T, B, H = inputs["h_fwd"].shape
    Z = np.empty((T * B, 2 * H), dtype=np.result_type(inputs["h_fwd"], inputs["h_bwd"]))
    Z[:, :H] = inputs["h_fwd"].reshape(T * B, H)
    Z[:, H:] = inputs["h_bwd"].reshape(T * B, H)
    return Z, np.concatenate([inputs["W_fwd"], inputs["W_bwd"]], axis=1)


def output_forward(inputs: Arrays) -> dict[str, np.ndarray]:
    """y = [→hs, ←hs] [W_fwd, W_bwd]ᵀ + b_y: one (T·B, 2H) × (2H, K) GEMM."""
    T, B, _ = inputs["h_fwd"].shape
    Z, W = _joined(inputs)
    y = np.empty((T * B, W.shape[0]), dtype=np.result_type(Z, W, inputs["b_y"]))
    np.matmul(Z, W.T, out=y)
    y += inputs["b_y"]
    return {"y": y.reshape(T, B, -1)}


def output_vjp(inputs: Arrays, cotangents: Arrays) -> dict[str, np.ndarray]:
    """∂[→hs, ←hs] = ∂y [W_fwd, W_bwd] and ∂[W_fwd, W_bwd] = ∂yᵀ Z, one GEMM each;

    ∂b_y = Σ_{t,n} ∂y_{tn}.
    """
    T, B, H = inputs["h_fwd"].shape
    Z, W = _joined(inputs)
    dy = cotangents["y"].reshape(T * B, -1)
    dZ, dW = dy @ W, dy.T @ Z
    return {
        "h_fwd": dZ[:, :H].reshape(T, B, H),
        "h_bwd": dZ[:, H:].reshape(T, B, H),
        "W_fwd": dW[:, :H],
        "W_bwd": dW[:, H:],
        "b_y": dy.sum(axis=0),
    }


KERNELS: dict[str, Kernel] = {
    "bilstm.sequence": Kernel(sequence_forward, sequence_vjp),
    "bilstm.output": Kernel(output_forward, output_vjp),
}
