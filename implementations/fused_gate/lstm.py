"""``fused-gate``: the LSTM cell with all four gates in one GEMM.

The gate weights are stacked once per call into one (4H, H + D) matrix, σ-gates
first so that a single sigmoid covers them:

    W = [W_f; W_i; W_o; W_c],  b = [b_f; b_i; b_o; b_c],
    a = z Wᵀ + b  with z = [h_{t-1}, x_t]        (one GEMM, shape (B, 4H))
    [f, i, o] = σ(a[:, :3H]),  c̃ = tanh(a[:, 3H:])  (two ufunc passes in place)

Buffers are allocated once per call and filled with ``out=`` ufuncs; nothing is
cached between calls, so kernels stay reentrant, and inputs are only ever read.
The single-gate specs run the same path on a one-gate "stack" (the gate's own W).

Each forward sits next to its backward, hand-derived. The backward passes recompute
the forward and use the derivatives in terms of the activated values:
σ' = s (1 − s) for s = σ(a), and tanh' = 1 − t² for t = tanh(a).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from conformance import Arrays, Kernel
from implementations._common import sigmoid

CELL_GATES = ("f", "i", "o", "c")
"""Block order of the stacked weights: the three σ-gates, then the tanh candidate."""


# ---------------------------------------------------------------------------
# The fused affine + activation, and its backward
# ---------------------------------------------------------------------------


def _concat(h_prev: np.ndarray, x: np.ndarray) -> np.ndarray:
    """z = [h_{t-1}, x_t] of shape (B, H + D), written into one new buffer."""
    B, H = h_prev.shape
    z = np.empty((B, H + x.shape[1]), dtype=np.result_type(h_prev, x))
    z[:, :H] = h_prev
    z[:, H:] = x
    return z


def _stack(inputs: Arrays, gates: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """W = [W_g; ...] of shape (len(gates)·H, H + D) and b = [b_g; ...], in ``gates`` order."""
    W = np.concatenate([inputs[f"W_{gate}"] for gate in gates], axis=0)
    b = np.concatenate([inputs[f"b_{gate}"] for gate in gates], axis=0)
    return W, b


def _gates_forward(z: np.ndarray, W: np.ndarray, b: np.ndarray, n_sigmoid: int) -> np.ndarray:
    """act(z Wᵀ + b): one GEMM, then σ on the first ``n_sigmoid`` columns, tanh on the rest.

    Returns the activated gates, shape (B, rows of W), in one buffer.
    """
    a = np.empty((z.shape[0], W.shape[0]), dtype=np.result_type(z, W, b))
    np.matmul(z, W.T, out=a)
    a += b
    sigmoid(a[:, :n_sigmoid], out=a[:, :n_sigmoid])
    np.tanh(a[:, n_sigmoid:], out=a[:, n_sigmoid:])
    return a


def _gates_backward(
    da: np.ndarray, a: np.ndarray, z: np.ndarray, W: np.ndarray, n_sigmoid: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backward of ``_gates_forward`` given ∂gates ``da`` (overwritten): (∂W, ∂b, ∂z).

    ∂pre = ∂gates ⊙ s (1 − s) on the σ columns and ∂gates ⊙ (1 − t²) on the tanh
    columns (s, t the activated values in ``a``); then ∂W = ∂preᵀ z, ∂b = Σ_rows ∂pre,
    ∂z = ∂pre W.
    """
    slope = np.empty_like(a)
    s, t = a[:, :n_sigmoid], a[:, n_sigmoid:]
    slope_s, slope_t = slope[:, :n_sigmoid], slope[:, n_sigmoid:]
    np.subtract(1.0, s, out=slope_s)
    np.multiply(slope_s, s, out=slope_s)
    np.square(t, out=slope_t)
    np.subtract(1.0, slope_t, out=slope_t)
    np.multiply(da, slope, out=da)
    return da.T @ z, da.sum(axis=0), da @ W


def _unstack(dW: np.ndarray, db: np.ndarray, gates: Sequence[str], H: int) -> dict[str, np.ndarray]:
    """Split stacked ∂W, ∂b back into ∂W_g, ∂b_g per gate (row blocks of H)."""
    grads = {}
    for k, gate in enumerate(gates):
        grads[f"W_{gate}"] = dW[k * H : (k + 1) * H]
        grads[f"b_{gate}"] = db[k * H : (k + 1) * H]
    return grads


# ---------------------------------------------------------------------------
# One gate: f, i, o (σ) and the candidate c̃ (tanh), on the fused path
# ---------------------------------------------------------------------------


def _gate_kernel(gate: str, out: str, activation: str) -> Kernel:
    """The kernel for one gate, ``out = act(z W_gᵀ + b_g)``, on the fused path."""

    def n_sigmoid(H: int) -> int:
        return H if activation == "sigmoid" else 0

    def forward(inputs: Arrays) -> dict[str, np.ndarray]:
        """gate = act([h_{t-1}, x_t] W_gᵀ + b_g)."""
        z = _concat(inputs["h_prev"], inputs["x"])
        W, b = inputs[f"W_{gate}"], inputs[f"b_{gate}"]
        return {out: _gates_forward(z, W, b, n_sigmoid(W.shape[0]))}

    def vjp(inputs: Arrays, cotangents: Arrays) -> dict[str, np.ndarray]:
        """∂pre = ∂gate ⊙ act'(gate);  ∂W_g = ∂preᵀ z,  ∂b_g = Σ_rows ∂pre,

        [∂h_{t-1}, ∂x_t] = ∂pre W_g.
        """
        z = _concat(inputs["h_prev"], inputs["x"])
        W, b = inputs[f"W_{gate}"], inputs[f"b_{gate}"]
        H = W.shape[0]
        a = _gates_forward(z, W, b, n_sigmoid(H))
        da = np.array(cotangents[out], dtype=a.dtype)  # a copy: the backward overwrites it
        dW, db, dz = _gates_backward(da, a, z, W, n_sigmoid(H))
        return {"x": dz[:, H:], "h_prev": dz[:, :H], f"W_{gate}": dW, f"b_{gate}": db}

    return Kernel(forward, vjp)


# ---------------------------------------------------------------------------
# Cell state: c_t = f_t ⊙ c_{t-1} + i_t ⊙ c̃_t
# ---------------------------------------------------------------------------


def cell_state_forward(inputs: Arrays) -> dict[str, np.ndarray]:
    """c_t = f_t ⊙ c_{t-1} + i_t ⊙ c̃_t."""
    c = np.multiply(inputs["f"], inputs["c_prev"])
    c += inputs["i"] * inputs["g"]
    return {"c": c}


def cell_state_vjp(inputs: Arrays, cotangents: Arrays) -> dict[str, np.ndarray]:
    """∂f = ∂c ⊙ c_{t-1},  ∂c_{t-1} = ∂c ⊙ f,  ∂i = ∂c ⊙ c̃,  ∂c̃ = ∂c ⊙ i."""
    dc = cotangents["c"]
    return {
        "f": np.multiply(dc, inputs["c_prev"]),
        "c_prev": np.multiply(dc, inputs["f"]),
        "i": np.multiply(dc, inputs["g"]),
        "g": np.multiply(dc, inputs["i"]),
    }


# ---------------------------------------------------------------------------
# Hidden state: h_t = o_t ⊙ tanh(c_t)
# ---------------------------------------------------------------------------


def hidden_state_forward(inputs: Arrays) -> dict[str, np.ndarray]:
    """h_t = o_t ⊙ tanh(c_t)."""
    h = np.tanh(inputs["c"])
    h *= inputs["o"]
    return {"h": h}


def _dc_from_h(dh: np.ndarray, o: np.ndarray, tanh_c: np.ndarray) -> np.ndarray:
    """∂h ⊙ o ⊙ (1 − tanh²(c)): the path from h_t = o ⊙ tanh(c_t) back to c_t."""
    dc = np.square(tanh_c)
    np.subtract(1.0, dc, out=dc)
    dc *= o
    dc *= dh
    return dc


def hidden_state_vjp(inputs: Arrays, cotangents: Arrays) -> dict[str, np.ndarray]:
    """With t = tanh(c_t): ∂o = ∂h ⊙ t,  ∂c = ∂h ⊙ o ⊙ (1 − t²)."""
    dh, tanh_c = cotangents["h"], np.tanh(inputs["c"])
    return {"o": np.multiply(dh, tanh_c), "c": _dc_from_h(dh, inputs["o"], tanh_c)}


# ---------------------------------------------------------------------------
# The whole cell: one step of the LSTM, four gates in one GEMM
# ---------------------------------------------------------------------------


def _cell(inputs: Arrays) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The forward's intermediates: z, the stacked W, the gates [f, i, o, c̃], c_t, tanh(c_t)."""
    H = inputs["h_prev"].shape[1]
    z = _concat(inputs["h_prev"], inputs["x"])
    W, b = _stack(inputs, CELL_GATES)
    a = _gates_forward(z, W, b, n_sigmoid=3 * H)
    f, i, g = a[:, :H], a[:, H : 2 * H], a[:, 3 * H :]
    c = np.multiply(f, inputs["c_prev"])
    c += i * g
    tanh_c = np.tanh(c)
    return z, W, a, c, tanh_c


def cell_forward(inputs: Arrays) -> dict[str, np.ndarray]:
    """One LSTM step, with z = [h_{t-1}, x_t] and W, b the stacked [f; i; o; c] blocks:

    [f, i, o] = σ((z Wᵀ + b)[:, :3H]),  c̃ = tanh((z Wᵀ + b)[:, 3H:]),
    c_t = f ⊙ c_{t-1} + i ⊙ c̃,  h_t = o ⊙ tanh(c_t).
    """
    H = inputs["h_prev"].shape[1]
    _, _, a, c, tanh_c = _cell(inputs)
    o = a[:, 2 * H : 3 * H]
    tanh_c *= o  # tanh_c is ours and used once more: it becomes h_t
    return {"h": tanh_c, "c": c}


def cell_vjp(inputs: Arrays, cotangents: Arrays) -> dict[str, np.ndarray]:
    """Backward through one step, given ∂h_t and ∂c_t:

    ∂c = ∂c_t + ∂h_t ⊙ o ⊙ (1 − tanh²(c_t)),
    ∂[f, i, o, c̃] = [∂c ⊙ c_{t-1}, ∂c ⊙ c̃, ∂h_t ⊙ tanh(c_t), ∂c ⊙ i]   (one (B, 4H) buffer),
    ∂pre = ∂gates ⊙ [s (1 − s) | 1 − c̃²],  ∂W = ∂preᵀ z,  ∂b = Σ_rows ∂pre,
    [∂h_{t-1}, ∂x_t] = ∂pre W,  ∂c_{t-1} = ∂c ⊙ f.
    """
    H = inputs["h_prev"].shape[1]
    z, W, a, _, tanh_c = _cell(inputs)
    f, i, o, g = a[:, :H], a[:, H : 2 * H], a[:, 2 * H : 3 * H], a[:, 3 * H :]
    dh_t = cotangents["h"]

    dc = _dc_from_h(dh_t, o, tanh_c)
    dc += cotangents["c"]

    da = np.empty_like(a)
    np.multiply(dc, inputs["c_prev"], out=da[:, :H])  # ∂f
    np.multiply(dc, g, out=da[:, H : 2 * H])  # ∂i
    np.multiply(dh_t, tanh_c, out=da[:, 2 * H : 3 * H])  # ∂o
    np.multiply(dc, i, out=da[:, 3 * H :])  # ∂c̃
    dW, db, dz = _gates_backward(da, a, z, W, n_sigmoid=3 * H)

    grads = _unstack(dW, db, CELL_GATES, H)
    grads["x"], grads["h_prev"] = dz[:, H:], dz[:, :H]
    grads["c_prev"] = np.multiply(dc, f, out=dc)  # dc is not needed after this
    return grads


# ---------------------------------------------------------------------------
# Registration
# ---------------------------------------------------------------------------

KERNELS: dict[str, Kernel] = {
    "lstm.forget_gate": _gate_kernel("f", "f", "sigmoid"),
    "lstm.input_gate": _gate_kernel("i", "i", "sigmoid"),
    "lstm.candidate": _gate_kernel("c", "g", "tanh"),
    "lstm.output_gate": _gate_kernel("o", "o", "sigmoid"),
    "lstm.cell_state": Kernel(cell_state_forward, cell_state_vjp),
    "lstm.hidden_state": Kernel(hidden_state_forward, hidden_state_vjp),
    "lstm.cell": Kernel(cell_forward, cell_vjp),
}
