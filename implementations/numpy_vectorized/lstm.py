"""``numpy-vectorized``: the LSTM cell batched over rows, one matmul per gate.

Arrays are batch rows, as in the specs: x is (B, D), h and c are (B, H), and with
z = [h_{t-1}, x_t] of shape (B, H + D) each gate's pre-activation is ``z @ W.T + b``.
No Python loop over the batch; each gate is still computed on its own.

Each forward sits next to its backward, hand-derived. The backward passes recompute
the forward and use the derivatives in terms of the activated values:
σ' = s (1 − s) for s = σ(a), and tanh' = 1 − t² for t = tanh(a).
"""

from __future__ import annotations

import numpy as np

from conformance import Arrays, Kernel
from implementations._common import sigmoid


def _concat(h_prev: np.ndarray, x: np.ndarray) -> np.ndarray:
    """z = [h_{t-1}, x_t], shape (B, H + D)."""
    return np.concatenate([h_prev, x], axis=-1)


def _split(dz: np.ndarray, H: int) -> tuple[np.ndarray, np.ndarray]:
    """∂z = [∂h_{t-1}, ∂x_t]: the first H columns and the remaining D."""
    return dz[:, :H], dz[:, H:]


# ---------------------------------------------------------------------------
# One gate: f, i, o (σ) and the candidate c̃ (tanh)
# ---------------------------------------------------------------------------


def _gate_kernel(weight: str, bias: str, out: str, activation: str) -> Kernel:
    """The kernel for one gate, ``out = act(z @ W.T + b)``, by symbol names."""
    act = sigmoid if activation == "sigmoid" else np.tanh

    def forward(inputs: Arrays) -> dict[str, np.ndarray]:
        """gate = act([h_{t-1}, x_t] Wᵀ + b) for all rows at once."""
        z = _concat(inputs["h_prev"], inputs["x"])
        return {out: act(z @ inputs[weight].T + inputs[bias])}

    def vjp(inputs: Arrays, cotangents: Arrays) -> dict[str, np.ndarray]:
        """With a = z Wᵀ + b: ∂a = ∂gate ⊙ s (1 − s) for σ, ∂gate ⊙ (1 − t²) for tanh;

        ∂W = ∂aᵀ z,  ∂b = Σ_rows ∂a,  [∂h_{t-1}, ∂x_t] = ∂a W.
        """
        W, H = inputs[weight], inputs["h_prev"].shape[-1]
        z = _concat(inputs["h_prev"], inputs["x"])
        gate = act(z @ W.T + inputs[bias])
        slope = gate * (1 - gate) if activation == "sigmoid" else 1 - gate * gate
        da = cotangents[out] * slope
        dh_prev, dx = _split(da @ W, H)
        return {"x": dx, "h_prev": dh_prev, weight: da.T @ z, bias: da.sum(axis=0)}

    return Kernel(forward, vjp)


# ---------------------------------------------------------------------------
# Cell state: c_t = f_t ⊙ c_{t-1} + i_t ⊙ c̃_t
# ---------------------------------------------------------------------------


def cell_state_forward(inputs: Arrays) -> dict[str, np.ndarray]:
    """c_t = f_t ⊙ c_{t-1} + i_t ⊙ c̃_t."""
    return {"c": inputs["f"] * inputs["c_prev"] + inputs["i"] * inputs["g"]}


def cell_state_vjp(inputs: Arrays, cotangents: Arrays) -> dict[str, np.ndarray]:
    """∂f = ∂c ⊙ c_{t-1},  ∂c_{t-1} = ∂c ⊙ f,  ∂i = ∂c ⊙ c̃,  ∂c̃ = ∂c ⊙ i."""
    dc = cotangents["c"]
    return {
        "f": dc * inputs["c_prev"],
        "c_prev": dc * inputs["f"],
        "i": dc * inputs["g"],
        "g": dc * inputs["i"],
    }


# ---------------------------------------------------------------------------
# Hidden state: h_t = o_t ⊙ tanh(c_t)
# ---------------------------------------------------------------------------


def hidden_state_forward(inputs: Arrays) -> dict[str, np.ndarray]:
    """h_t = o_t ⊙ tanh(c_t)."""
    return {"h": inputs["o"] * np.tanh(inputs["c"])}


def hidden_state_vjp(inputs: Arrays, cotangents: Arrays) -> dict[str, np.ndarray]:
    """With t = tanh(c_t): ∂o = ∂h ⊙ t,  ∂c = ∂h ⊙ o ⊙ (1 − t²)."""
    dh, tanh_c = cotangents["h"], np.tanh(inputs["c"])
    return {"o": dh * tanh_c, "c": dh * inputs["o"] * (1 - tanh_c * tanh_c)}


# ---------------------------------------------------------------------------
# The whole cell: one step of the LSTM
# ---------------------------------------------------------------------------


def _cell(inputs: Arrays) -> dict[str, np.ndarray]:
    """Every intermediate of one step: z, f, i, g (= c̃), o, c, tanh_c, h."""
    z = _concat(inputs["h_prev"], inputs["x"])
    f = sigmoid(z @ inputs["W_f"].T + inputs["b_f"])
    i = sigmoid(z @ inputs["W_i"].T + inputs["b_i"])
    g = np.tanh(z @ inputs["W_c"].T + inputs["b_c"])
    o = sigmoid(z @ inputs["W_o"].T + inputs["b_o"])
    c = f * inputs["c_prev"] + i * g
    tanh_c = np.tanh(c)
    return {"z": z, "f": f, "i": i, "g": g, "o": o, "c": c, "tanh_c": tanh_c, "h": o * tanh_c}


def cell_forward(inputs: Arrays) -> dict[str, np.ndarray]:
    """One LSTM step, with z = [h_{t-1}, x_t]:

    f = σ(z W_fᵀ + b_f), i = σ(z W_iᵀ + b_i), c̃ = tanh(z W_cᵀ + b_c), o = σ(z W_oᵀ + b_o),
    c_t = f ⊙ c_{t-1} + i ⊙ c̃,  h_t = o ⊙ tanh(c_t).
    """
    step = _cell(inputs)
    return {"h": step["h"], "c": step["c"]}


def cell_vjp(inputs: Arrays, cotangents: Arrays) -> dict[str, np.ndarray]:
    """Backward through one step, given ∂h_t and ∂c_t:

    ∂c = ∂c_t + ∂h_t ⊙ o ⊙ (1 − tanh²(c_t)),   ∂o = ∂h_t ⊙ tanh(c_t),
    ∂f = ∂c ⊙ c_{t-1},  ∂i = ∂c ⊙ c̃,  ∂c̃ = ∂c ⊙ i,  ∂c_{t-1} = ∂c ⊙ f,
    ∂a_σ = ∂gate ⊙ s (1 − s) for f, i, o;  ∂a_c = ∂c̃ ⊙ (1 − c̃²),
    ∂W_* = ∂a_*ᵀ z,  ∂b_* = Σ_rows ∂a_*,  [∂h_{t-1}, ∂x_t] = Σ_* ∂a_* W_*.
    """
    s = _cell(inputs)
    f, i, g, o, tanh_c = s["f"], s["i"], s["g"], s["o"], s["tanh_c"]
    H = inputs["h_prev"].shape[-1]
    dh_t = cotangents["h"]
    dc = cotangents["c"] + dh_t * o * (1 - tanh_c * tanh_c)
    da = {
        "f": dc * inputs["c_prev"] * (f * (1 - f)),
        "i": dc * g * (i * (1 - i)),
        "c": dc * i * (1 - g * g),
        "o": dh_t * tanh_c * (o * (1 - o)),
    }
    grads: dict[str, np.ndarray] = {"c_prev": dc * f}
    dz = np.zeros_like(s["z"])
    for gate, da_gate in da.items():
        grads[f"W_{gate}"] = da_gate.T @ s["z"]
        grads[f"b_{gate}"] = da_gate.sum(axis=0)
        dz += da_gate @ inputs[f"W_{gate}"]
    grads["h_prev"], grads["x"] = _split(dz, H)
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
