"""``numpy-vectorized``: the Elman RNN and its classifier head, batched over rows.

Arrays are batch rows, as in the specs: x_t is (B, D), h_t is (B, H), and one step is
``tanh(x @ W_x.T + h_prev @ W_h.T + b)``, one matmul per weight. No Python loop over
the batch; the sequence still loops over time, one step at a time.

Each forward sits next to its backward, hand-derived (backpropagation through time),
with tanh' in terms of the value, 1 − h² for h = tanh(a).
"""

from __future__ import annotations

import numpy as np

from conformance import Arrays, Kernel

# ---------------------------------------------------------------------------
# One step: h_t = tanh(x_t W_xᵀ + h_{t-1} W_hᵀ + b)
# ---------------------------------------------------------------------------


def _step(x: np.ndarray, h_prev: np.ndarray, inputs: Arrays) -> np.ndarray:
    """h_t = tanh(x_t W_xᵀ + h_{t-1} W_hᵀ + b) for all rows."""
    return np.tanh(x @ inputs["W_x"].T + h_prev @ inputs["W_h"].T + inputs["b"])


def _step_backward(
    dh: np.ndarray, h: np.ndarray, x: np.ndarray, h_prev: np.ndarray, inputs: Arrays
) -> dict[str, np.ndarray]:
    """Backward through one step for all rows, given ∂h_t:

    ∂a = ∂h_t ⊙ (1 − h_t²),  ∂W_x = ∂aᵀ x_t,  ∂W_h = ∂aᵀ h_{t-1},  ∂b = Σ_rows ∂a,
    ∂x_t = ∂a W_x,  ∂h_{t-1} = ∂a W_h.
    """
    da = dh * (1 - h * h)
    return {
        "x": da @ inputs["W_x"],
        "h_prev": da @ inputs["W_h"],
        "W_x": da.T @ x,
        "W_h": da.T @ h_prev,
        "b": da.sum(axis=0),
    }


def cell_forward(inputs: Arrays) -> dict[str, np.ndarray]:
    """h_t = tanh(x_t W_xᵀ + h_{t-1} W_hᵀ + b)."""
    return {"h": _step(inputs["x"], inputs["h_prev"], inputs)}


def cell_vjp(inputs: Arrays, cotangents: Arrays) -> dict[str, np.ndarray]:
    """∂a = ∂h ⊙ (1 − h²);  ∂W_x = ∂aᵀ x,  ∂W_h = ∂aᵀ h_{t-1},  ∂b = Σ_rows ∂a,

    ∂x = ∂a W_x,  ∂h_{t-1} = ∂a W_h.
    """
    x, h_prev = inputs["x"], inputs["h_prev"]
    return _step_backward(cotangents["h"], _step(x, h_prev, inputs), x, h_prev, inputs)


# ---------------------------------------------------------------------------
# The sequence: h_1 … h_T from h_0
# ---------------------------------------------------------------------------


def sequence_forward(inputs: Arrays) -> dict[str, np.ndarray]:
    """h_t = tanh(x_t W_xᵀ + h_{t-1} W_hᵀ + b) for t = 1 … T, all rows at once."""
    h, hs = inputs["h_0"], []
    for x_t in inputs["xs"]:
        h = _step(x_t, h, inputs)
        hs.append(h)
    return {"hs": np.stack(hs), "h_T": h}


def sequence_vjp(inputs: Arrays, cotangents: Arrays) -> dict[str, np.ndarray]:
    """Backpropagation through time, given ∂h_1 … ∂h_T and ∂h_T:

    carried = ∂h_T; for t = T … 1: ∂h = ∂hs_t + carried, the step's backward gives
    ∂x_t and carried = ∂h_{t-1}, and the weight gradients summed over t; ∂h_0 = carried.
    """
    xs, hs = inputs["xs"], sequence_forward(inputs)["hs"]
    previous = [inputs["h_0"], *hs[:-1]]
    grads = {name: np.zeros_like(inputs[name]) for name in ("W_x", "W_h", "b")}
    dxs = np.empty_like(xs)
    carried = cotangents["h_T"]
    for t in reversed(range(xs.shape[0])):
        step = _step_backward(cotangents["hs"][t] + carried, hs[t], xs[t], previous[t], inputs)
        for name in grads:
            grads[name] += step[name]
        dxs[t], carried = step["x"], step["h_prev"]
    return {"xs": dxs, "h_0": carried, **grads}


# ---------------------------------------------------------------------------
# The classifier head: ŷ = softmax(h_T W_out + b_out)
# ---------------------------------------------------------------------------


def _softmax(z: np.ndarray) -> np.ndarray:
    """softmax over the last axis, shifted by each row's max so that exp cannot overflow."""
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def classifier_forward(inputs: Arrays) -> dict[str, np.ndarray]:
    """ŷ = softmax(h_T W_out + b_out)."""
    return {"p": _softmax(inputs["h_T"] @ inputs["W_out"] + inputs["b_out"])}


def classifier_vjp(inputs: Arrays, cotangents: Arrays) -> dict[str, np.ndarray]:
    """∂z = ŷ ⊙ (∂ŷ − Σ_k ŷ_k ∂ŷ_k) per row;  ∂W_out = h_Tᵀ ∂z,  ∂b_out = Σ_rows ∂z,

    ∂h_T = ∂z W_outᵀ.
    """
    h_T, W_out = inputs["h_T"], inputs["W_out"]
    p, dp = classifier_forward(inputs)["p"], cotangents["p"]
    dz = p * (dp - (p * dp).sum(axis=-1, keepdims=True))
    return {"h_T": dz @ W_out.T, "W_out": h_T.T @ dz, "b_out": dz.sum(axis=0)}


# ---------------------------------------------------------------------------
# The whole classifier: the sequence, then the head on h_T
# ---------------------------------------------------------------------------


def sequence_classifier_forward(inputs: Arrays) -> dict[str, np.ndarray]:
    """ŷ = softmax(h_T W_out + b_out) with h_T the last state of the sequence."""
    return classifier_forward({**inputs, "h_T": sequence_forward(inputs)["h_T"]})


def sequence_classifier_vjp(inputs: Arrays, cotangents: Arrays) -> dict[str, np.ndarray]:
    """The head's backward gives ∂h_T; BPTT from it, with ∂hs = 0 (only h_T feeds the head)."""
    sequence = sequence_forward(inputs)
    head = classifier_vjp({**inputs, "h_T": sequence["h_T"]}, cotangents)
    dh_T = head.pop("h_T")
    rnn = sequence_vjp(inputs, {"hs": np.zeros_like(sequence["hs"]), "h_T": dh_T})
    return {**rnn, **head}


# ---------------------------------------------------------------------------
# Registration
# ---------------------------------------------------------------------------

KERNELS: dict[str, Kernel] = {
    "rnn.cell": Kernel(cell_forward, cell_vjp),
    "rnn.sequence": Kernel(sequence_forward, sequence_vjp),
    "rnn.classifier": Kernel(classifier_forward, classifier_vjp),
    "rnn.sequence_classifier": Kernel(sequence_classifier_forward, sequence_classifier_vjp),
}
