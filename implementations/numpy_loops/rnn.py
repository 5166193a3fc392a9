"""``numpy-loops``: the Elman RNN and its classifier head as a seed notebook writes them.

Python loops over the batch rows and over time; inside them each row is a column
vector (x_t is (D, 1), h_t is (H, 1)) and the step is the paper's equation,
``h = tanh(W_x @ x + W_h @ h + b)``. The head multiplies in the seeds' orientation,
h_Tᵀ W_out, which for a column is ``W_out.T @ h``.

Each forward sits next to its backward, hand-derived (backpropagation through time).
The backward passes recompute the forward for the row and use tanh' in terms of the
value, 1 − h² for h = tanh(a).
"""

from __future__ import annotations

import numpy as np

from conformance import Arrays, Kernel


def _column(row: np.ndarray) -> np.ndarray:
    """A (n,) row of a batch as an (n, 1) column vector (a view, never a copy)."""
    return row[:, None]


# ---------------------------------------------------------------------------
# One step: h_t = tanh(W_x x_t + W_h h_{t-1} + b)
# ---------------------------------------------------------------------------


def _step(
    x: np.ndarray, h_prev: np.ndarray, W_x: np.ndarray, W_h: np.ndarray, b: np.ndarray
) -> np.ndarray:
    """h_t = tanh(W_x x_t + W_h h_{t-1} + b) for one row, as (H, 1) columns."""
    return np.tanh(W_x @ x + W_h @ h_prev + _column(b))


def _step_backward(
    dh: np.ndarray,
    h: np.ndarray,
    x: np.ndarray,
    h_prev: np.ndarray,
    inputs: Arrays,
    grads: dict[str, np.ndarray],
) -> tuple[np.ndarray, np.ndarray]:
    """Backward through one step of one row, given ∂h_t (a column); returns (∂x_t, ∂h_{t-1}).

    ∂a = ∂h_t ⊙ (1 − h_t²),  ∂W_x += ∂a x_tᵀ,  ∂W_h += ∂a h_{t-1}ᵀ,  ∂b += ∂a,
    ∂x_t = W_xᵀ ∂a,  ∂h_{t-1} = W_hᵀ ∂a.
    """
    da = dh * (1 - h * h)
    grads["W_x"] += da @ x.T
    grads["W_h"] += da @ h_prev.T
    grads["b"] += da[:, 0]
    return inputs["W_x"].T @ da, inputs["W_h"].T @ da


def _weight_grads(inputs: Arrays) -> dict[str, np.ndarray]:
    """Zeroed accumulators ∂W_x, ∂W_h, ∂b."""
    return {name: np.zeros_like(inputs[name]) for name in ("W_x", "W_h", "b")}


def cell_forward(inputs: Arrays) -> dict[str, np.ndarray]:
    """h_t = tanh(W_x x_t + W_h h_{t-1} + b), one batch row at a time."""
    x, h_prev = inputs["x"], inputs["h_prev"]
    weights = inputs["W_x"], inputs["W_h"], inputs["b"]
    rows = [_step(_column(x[n]), _column(h_prev[n]), *weights)[:, 0] for n in range(x.shape[0])]
    return {"h": np.stack(rows)}


def cell_vjp(inputs: Arrays, cotangents: Arrays) -> dict[str, np.ndarray]:
    """Per row: ∂a = ∂h ⊙ (1 − h²); ∂W_x += ∂a xᵀ, ∂W_h += ∂a h_{t-1}ᵀ, ∂b += ∂a;

    ∂x = W_xᵀ ∂a, ∂h_{t-1} = W_hᵀ ∂a.
    """
    x, h_prev = inputs["x"], inputs["h_prev"]
    weights = inputs["W_x"], inputs["W_h"], inputs["b"]
    grads = _weight_grads(inputs)
    dx_rows, dh_rows = [], []
    for n in range(x.shape[0]):
        x_t, h_tm1 = _column(x[n]), _column(h_prev[n])
        h = _step(x_t, h_tm1, *weights)
        dx, dh_prev = _step_backward(_column(cotangents["h"][n]), h, x_t, h_tm1, inputs, grads)
        dx_rows.append(dx[:, 0])
        dh_rows.append(dh_prev[:, 0])
    return {"x": np.stack(dx_rows), "h_prev": np.stack(dh_rows), **grads}


# ---------------------------------------------------------------------------
# The sequence: h_1 … h_T from h_0
# ---------------------------------------------------------------------------


def _row_states(inputs: Arrays, n: int) -> list[np.ndarray]:
    """[h_0, h_1, …, h_T] of row n, each an (H, 1) column."""
    xs = inputs["xs"]
    weights = inputs["W_x"], inputs["W_h"], inputs["b"]
    states = [_column(inputs["h_0"][n])]
    for t in range(xs.shape[0]):
        states.append(_step(_column(xs[t, n]), states[-1], *weights))
    return states


def sequence_forward(inputs: Arrays) -> dict[str, np.ndarray]:
    """h_t = tanh(W_x x_t + W_h h_{t-1} + b) for t = 1 … T, row by row, step by step."""
    xs, h_0 = inputs["xs"], inputs["h_0"]
    hs = np.empty((xs.shape[0], *h_0.shape), dtype=h_0.dtype)
    for n in range(xs.shape[1]):
        for t, h in enumerate(_row_states(inputs, n)[1:]):
            hs[t, n] = h[:, 0]
    return {"hs": hs, "h_T": hs[-1].copy()}


def sequence_vjp(inputs: Arrays, cotangents: Arrays) -> dict[str, np.ndarray]:
    """Backpropagation through time, row by row, given ∂h_1 … ∂h_T and ∂h_T:

    ∂h_T carried in, then for t = T … 1: ∂h = ∂hs_t + carried, ∂a = ∂h ⊙ (1 − h_t²),
    ∂W_x += ∂a x_tᵀ, ∂W_h += ∂a h_{t-1}ᵀ, ∂b += ∂a, ∂x_t = W_xᵀ ∂a, carried = W_hᵀ ∂a;
    ∂h_0 is what is carried out of step 1.
    """
    xs, dhs = inputs["xs"], cotangents["hs"]
    grads = _weight_grads(inputs)
    dxs = np.zeros_like(xs)
    dh_0 = np.zeros_like(inputs["h_0"])
    for n in range(xs.shape[1]):
        states = _row_states(inputs, n)
        carried = _column(cotangents["h_T"][n])
        for t in reversed(range(xs.shape[0])):
            dh = _column(dhs[t, n]) + carried
            x_t = _column(xs[t, n])
            dx, carried = _step_backward(dh, states[t + 1], x_t, states[t], inputs, grads)
            dxs[t, n] = dx[:, 0]
        dh_0[n] = carried[:, 0]
    return {"xs": dxs, "h_0": dh_0, **grads}


# ---------------------------------------------------------------------------
# The classifier head: ŷ = softmax(h_T W_out + b_out)
# ---------------------------------------------------------------------------


def _head(h: np.ndarray, W_out: np.ndarray, b_out: np.ndarray) -> np.ndarray:
    """ŷ = softmax(W_outᵀ h + b_out) for one (H, 1) column, shifted by the max logit."""
    z = W_out.T @ h + _column(b_out)
    e = np.exp(z - np.max(z))
    return e / np.sum(e)


def _head_backward(
    dp: np.ndarray, p: np.ndarray, h: np.ndarray, inputs: Arrays, grads: dict[str, np.ndarray]
) -> np.ndarray:
    """Backward through the head for one column, given ∂ŷ; returns ∂h_T.

    ∂z = ŷ ⊙ (∂ŷ − ŷᵀ ∂ŷ),  ∂W_out += h ∂zᵀ,  ∂b_out += ∂z,  ∂h = W_out ∂z.
    """
    dz = p * (dp - np.sum(p * dp))
    grads["W_out"] += h @ dz.T
    grads["b_out"] += dz[:, 0]
    return inputs["W_out"] @ dz


def classifier_forward(inputs: Arrays) -> dict[str, np.ndarray]:
    """ŷ = softmax(h_T W_out + b_out), one batch row at a time."""
    h_T, W_out, b_out = inputs["h_T"], inputs["W_out"], inputs["b_out"]
    rows = [_head(_column(h_T[n]), W_out, b_out)[:, 0] for n in range(h_T.shape[0])]
    return {"p": np.stack(rows)}


def classifier_vjp(inputs: Arrays, cotangents: Arrays) -> dict[str, np.ndarray]:
    """Per row: ∂z = ŷ ⊙ (∂ŷ − ŷᵀ∂ŷ); ∂W_out += h ∂zᵀ, ∂b_out += ∂z, ∂h_T = W_out ∂z."""
    h_T, W_out, b_out = inputs["h_T"], inputs["W_out"], inputs["b_out"]
    grads = {"W_out": np.zeros_like(W_out), "b_out": np.zeros_like(b_out)}
    dh_rows = []
    for n in range(h_T.shape[0]):
        h = _column(h_T[n])
        p = _head(h, W_out, b_out)
        dh_rows.append(_head_backward(_column(cotangents["p"][n]), p, h, inputs, grads)[:, 0])
    return {"h_T": np.stack(dh_rows), **grads}


# ---------------------------------------------------------------------------
# The whole classifier: the sequence, then the head on h_T
# ---------------------------------------------------------------------------


def sequence_classifier_forward(inputs: Arrays) -> dict[str, np.ndarray]:
    """ŷ = softmax(h_T W_out + b_out) with h_T the last state of the sequence."""
    h_T = sequence_forward(inputs)["h_T"]
    return classifier_forward({**inputs, "h_T": h_T})


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
