"""``numpy-loops``: the LSTM cell as a seed notebook writes it.

One Python loop over the batch rows; inside it each row is a column vector
(x_t is (D, 1), h_{t-1} and c_{t-1} are (H, 1)) and every gate is one matmul on the
concatenated input, ``W_f @ concat(h, x) + b_f[:, None]``. Slow, but a line-for-line
transcription of the paper equations, which is what a reference backend is for.

Each forward sits next to its backward, hand-derived. The backward passes recompute
the forward for the row and use the derivatives in terms of the activated values:
σ' = s (1 − s) for s = σ(a), and tanh' = 1 − t² for t = tanh(a).
"""

from __future__ import annotations

import numpy as np

from conformance import Arrays, Kernel
from implementations._common import sigmoid

# ---------------------------------------------------------------------------
# Column-vector helpers
# ---------------------------------------------------------------------------


def _column(row: np.ndarray) -> np.ndarray:
    """A (n,) row of a batch as an (n, 1) column vector (a view, never a copy)."""
    return row[:, None]


def _concat(h: np.ndarray, x_t: np.ndarray) -> np.ndarray:
    """[h_{t-1}, x_t]: the (H + D, 1) column both stacked on top of each other."""
    return np.concatenate([h, x_t], axis=0)


def _activate(a: np.ndarray, activation: str) -> np.ndarray:
    """σ(a) or tanh(a), by name."""
    return sigmoid(a) if activation == "sigmoid" else np.tanh(a)


def _activation_grad(s: np.ndarray, activation: str) -> np.ndarray:
    """The activation's derivative in terms of its value s: s (1 − s) or 1 − s²."""
    return s * (1 - s) if activation == "sigmoid" else 1 - s * s


# ---------------------------------------------------------------------------
# One gate: f, i, o (σ) and the candidate c̃ (tanh)
# ---------------------------------------------------------------------------


def _gate_kernel(weight: str, bias: str, out: str, activation: str) -> Kernel:
    """The kernel for one gate, ``out = act(W [h_{t-1}, x_t] + b)``, by symbol names."""

    def forward(inputs: Arrays) -> dict[str, np.ndarray]:
        """gate_t = act(W [h_{t-1}, x_t] + b), one batch row at a time."""
        x, h_prev, W, b = inputs["x"], inputs["h_prev"], inputs[weight], inputs[bias]
        rows = []
        for n in range(x.shape[0]):
            z = _concat(_column(h_prev[n]), _column(x[n]))
            gate = _activate(W @ z + b[:, None], activation)
            rows.append(gate[:, 0])
        return {out: np.stack(rows)}

    def vjp(inputs: Arrays, cotangents: Arrays) -> dict[str, np.ndarray]:
        """With a = W z + b and gate = act(a), per row:

        ∂a = ∂gate ⊙ act'(gate),  ∂W += ∂a zᵀ,  ∂b += ∂a,  ∂z = Wᵀ ∂a = [∂h_{t-1}, ∂x_t].
        """
        x, h_prev, W, b = inputs["x"], inputs["h_prev"], inputs[weight], inputs[bias]
        H = h_prev.shape[1]
        dW, db = np.zeros_like(W), np.zeros_like(b)
        dh_rows, dx_rows = [], []
        for n in range(x.shape[0]):
            z = _concat(_column(h_prev[n]), _column(x[n]))
            gate = _activate(W @ z + b[:, None], activation)
            da = _column(cotangents[out][n]) * _activation_grad(gate, activation)
            dW += da @ z.T
            db += da[:, 0]
            dz = W.T @ da
            dh_rows.append(dz[:H, 0])
            dx_rows.append(dz[H:, 0])
        return {"x": np.stack(dx_rows), "h_prev": np.stack(dh_rows), weight: dW, bias: db}

    return Kernel(forward, vjp)


# ---------------------------------------------------------------------------
# Cell state: c_t = f_t ⊙ c_{t-1} + i_t ⊙ c̃_t
# ---------------------------------------------------------------------------


def cell_state_forward(inputs: Arrays) -> dict[str, np.ndarray]:
    """c_t = f_t ⊙ c_{t-1} + i_t ⊙ c̃_t, one batch row at a time."""
    f, c_prev, i, g = inputs["f"], inputs["c_prev"], inputs["i"], inputs["g"]
    rows = []
    for n in range(f.shape[0]):
        c = _column(f[n]) * _column(c_prev[n]) + _column(i[n]) * _column(g[n])
        rows.append(c[:, 0])
    return {"c": np.stack(rows)}


def cell_state_vjp(inputs: Arrays, cotangents: Arrays) -> dict[str, np.ndarray]:
    """∂f = ∂c ⊙ c_{t-1},  ∂c_{t-1} = ∂c ⊙ f,  ∂i = ∂c ⊙ c̃,  ∂c̃ = ∂c ⊙ i."""
    f, c_prev, i, g = inputs["f"], inputs["c_prev"], inputs["i"], inputs["g"]
    grads: dict[str, list[np.ndarray]] = {"f": [], "c_prev": [], "i": [], "g": []}
    for n in range(f.shape[0]):
        dc = _column(cotangents["c"][n])
        grads["f"].append((dc * _column(c_prev[n]))[:, 0])
        grads["c_prev"].append((dc * _column(f[n]))[:, 0])
        grads["i"].append((dc * _column(g[n]))[:, 0])
        grads["g"].append((dc * _column(i[n]))[:, 0])
    return {name: np.stack(rows) for name, rows in grads.items()}


# ---------------------------------------------------------------------------
# Hidden state: h_t = o_t ⊙ tanh(c_t)
# ---------------------------------------------------------------------------


def hidden_state_forward(inputs: Arrays) -> dict[str, np.ndarray]:
    """h_t = o_t ⊙ tanh(c_t), one batch row at a time."""
    o, c = inputs["o"], inputs["c"]
    rows = []
    for n in range(o.shape[0]):
        h = _column(o[n]) * np.tanh(_column(c[n]))
        rows.append(h[:, 0])
    return {"h": np.stack(rows)}


def hidden_state_vjp(inputs: Arrays, cotangents: Arrays) -> dict[str, np.ndarray]:
    """With t = tanh(c_t): ∂o = ∂h ⊙ t,  ∂c = ∂h ⊙ o ⊙ (1 − t²)."""
    o, c = inputs["o"], inputs["c"]
    do_rows, dc_rows = [], []
    for n in range(o.shape[0]):
        dh, o_t = _column(cotangents["h"][n]), _column(o[n])
        tanh_c = np.tanh(_column(c[n]))
        do_rows.append((dh * tanh_c)[:, 0])
        dc_rows.append((dh * o_t * (1 - tanh_c * tanh_c))[:, 0])
    return {"o": np.stack(do_rows), "c": np.stack(dc_rows)}


# ---------------------------------------------------------------------------
# The whole cell: one step of the LSTM
# ---------------------------------------------------------------------------


def _cell_row(
    inputs: Arrays, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Row n of the cell: z = [h_{t-1}, x_t] and the columns f, i, c̃, o, c_t, tanh(c_t)."""
    z = _concat(_column(inputs["h_prev"][n]), _column(inputs["x"][n]))
    f = sigmoid(inputs["W_f"] @ z + inputs["b_f"][:, None])
    i = sigmoid(inputs["W_i"] @ z + inputs["b_i"][:, None])
    g = np.tanh(inputs["W_c"] @ z + inputs["b_c"][:, None])
    o = sigmoid(inputs["W_o"] @ z + inputs["b_o"][:, None])
    c = f * _column(inputs["c_prev"][n]) + i * g
    tanh_c = np.tanh(c)
    return z, f, i, g, o, c, tanh_c


def cell_forward(inputs: Arrays) -> dict[str, np.ndarray]:
    """One LSTM step, row by row, with z = [h_{t-1}, x_t]:

    f = σ(W_f z + b_f), i = σ(W_i z + b_i), c̃ = tanh(W_c z + b_c), o = σ(W_o z + b_o),
    c_t = f ⊙ c_{t-1} + i ⊙ c̃,  h_t = o ⊙ tanh(c_t).
    """
    h_rows, c_rows = [], []
    for n in range(inputs["x"].shape[0]):
        _, _, _, _, o, c, tanh_c = _cell_row(inputs, n)
        h_rows.append((o * tanh_c)[:, 0])
        c_rows.append(c[:, 0])
    return {"h": np.stack(h_rows), "c": np.stack(c_rows)}


def cell_vjp(inputs: Arrays, cotangents: Arrays) -> dict[str, np.ndarray]:
    """Backward through one step, row by row, given ∂h_t and ∂c_t:

    ∂c = ∂c_t + ∂h_t ⊙ o ⊙ (1 − tanh²(c_t)),   ∂o = ∂h_t ⊙ tanh(c_t),
    ∂f = ∂c ⊙ c_{t-1},  ∂i = ∂c ⊙ c̃,  ∂c̃ = ∂c ⊙ i,  ∂c_{t-1} = ∂c ⊙ f,
    ∂a_σ = ∂gate ⊙ s (1 − s) for f, i, o;  ∂a_c = ∂c̃ ⊙ (1 − c̃²),
    ∂W_* += ∂a_* zᵀ,  ∂b_* += ∂a_*,  [∂h_{t-1}, ∂x_t] = Σ_* W_*ᵀ ∂a_*.
    """
    H = inputs["h_prev"].shape[1]
    names = ("W_f", "W_i", "W_c", "W_o", "b_f", "b_i", "b_c", "b_o")
    grads = {name: np.zeros_like(inputs[name]) for name in names}
    dx_rows, dh_rows, dc_prev_rows = [], [], []
    for n in range(inputs["x"].shape[0]):
        z, f, i, g, o, _, tanh_c = _cell_row(inputs, n)
        dh_t = _column(cotangents["h"][n])
        dc = _column(cotangents["c"][n]) + dh_t * o * (1 - tanh_c * tanh_c)
        da_f = dc * _column(inputs["c_prev"][n]) * (f * (1 - f))
        da_i = dc * g * (i * (1 - i))
        da_c = dc * i * (1 - g * g)
        da_o = dh_t * tanh_c * (o * (1 - o))
        dz = np.zeros_like(z)
        for gate, da in (("f", da_f), ("i", da_i), ("c", da_c), ("o", da_o)):
            grads[f"W_{gate}"] += da @ z.T
            grads[f"b_{gate}"] += da[:, 0]
            dz += inputs[f"W_{gate}"].T @ da
        dh_rows.append(dz[:H, 0])
        dx_rows.append(dz[H:, 0])
        dc_prev_rows.append((dc * f)[:, 0])
    grads["x"] = np.stack(dx_rows)
    grads["h_prev"] = np.stack(dh_rows)
    grads["c_prev"] = np.stack(dc_prev_rows)
    return grads


# ---------------------------------------------------------------------------
# Registration
# ---------------------------------------------------------------------------

KERNELS: dict[str, Kernel] = {
    "lstm.forget_gate": _gate_kernel("W_f", "b_f", "f", "sigmoid"),
    "lstm.input_gate": _gate_kernel("W_i", "b_i", "i", "sigmoid"),
    "lstm.candidate": _gate_kernel("W_c", "b_c", "g", "tanh"),
    "lstm.output_gate": _gate_kernel("W_o", "b_o", "o", "sigmoid"),
    "lstm.cell_state": Kernel(cell_state_forward, cell_state_vjp),
    "lstm.hidden_state": Kernel(hidden_state_forward, hidden_state_vjp),
    "lstm.cell": Kernel(cell_forward, cell_vjp),
}
