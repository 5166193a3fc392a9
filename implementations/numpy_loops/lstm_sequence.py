"""``numpy-loops``: the LSTM over a sequence, as a seed notebook writes it.

A Python loop over time around the cell of :mod:`.lstm` (itself a loop over batch rows,
column vectors). The loop can also run from t = T down to 1, storing each state at its
own index t, which is what the BiLSTM's backward direction needs (:mod:`.bilstm`).

The backward is backpropagation through time, hand-written: walking the steps in the
opposite order of the forward, the gradient reaching h_t is the cotangent of hs[t] plus
what flowed back from the step that read h_t, the gradient reaching c_t is what flowed
back through the next c = f ⊙ c_t + …, and the cell's own backward turns them into
∂x_t, ∂h_prev, ∂c_prev and this step's share of the weight gradients, summed over steps.
"""

from __future__ import annotations

import numpy as np

from conformance import Arrays, Kernel
from implementations.numpy_loops.lstm import cell_forward, cell_vjp

PARAMETERS = ("W_f", "W_i", "W_c", "W_o", "b_f", "b_i", "b_c", "b_o")
"""The cell's weights and biases, shared by every time step."""


def _order(T: int, reverse: bool) -> range:
    """The steps in reading order: 0 … T−1, or T−1 … 0 for the backward direction."""
    return range(T - 1, -1, -1) if reverse else range(T)


def run(
    xs: np.ndarray, h_0: np.ndarray, c_0: np.ndarray, params: Arrays, reverse: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every h_t and c_t (each (T, B, H), at its own index t) and the last (h, c) read.

    h_t, c_t = LSTM(x_t, h_prev, c_prev), where (h_prev, c_prev) is the state of the step
    read before t: t − 1 forward, t + 1 with ``reverse``, and (h_0, c_0) for the first.
    """
    T = xs.shape[0]
    hs = np.zeros((T, *h_0.shape), dtype=h_0.dtype)
    cs = np.zeros((T, *c_0.shape), dtype=c_0.dtype)
    h, c = h_0, c_0
    for t in _order(T, reverse):
        step = cell_forward({"x": xs[t], "h_prev": h, "c_prev": c, **params})
        h, c = step["h"], step["c"]
        hs[t], cs[t] = h, c
    return hs, cs, h, c


def bptt(
    xs: np.ndarray,
    h_0: np.ndarray,
    c_0: np.ndarray,
    params: Arrays,
    dhs: np.ndarray,
    dh_last: np.ndarray,
    dc_last: np.ndarray,
    reverse: bool = False,
) -> dict[str, np.ndarray]:
    """Gradients of ``run`` for xs, h_0, c_0 and every parameter, given ∂hs and ∂(h, c) last.

    Walking the steps backwards from ∂h = ∂h_last, ∂c = ∂c_last: at step t,
    ∂h += ∂hs[t]; the cell backward at t gives ∂x_t, ∂W_t, and the new ∂h, ∂c for the
    state it read; ∂W = Σ_t ∂W_t. What is left at the end is ∂h_0, ∂c_0.
    """
    hs, cs, _, _ = run(xs, h_0, c_0, params, reverse)
    T = xs.shape[0]
    grads = {name: np.zeros_like(params[name]) for name in PARAMETERS}
    dxs = np.zeros_like(xs)
    dh, dc = dh_last, dc_last
    order = list(_order(T, reverse))
    for k in reversed(range(T)):
        t = order[k]
        prev = order[k - 1] if k > 0 else None
        h_prev = hs[prev] if prev is not None else h_0
        c_prev = cs[prev] if prev is not None else c_0
        step = {"x": xs[t], "h_prev": h_prev, "c_prev": c_prev, **params}
        step_grads = cell_vjp(step, {"h": dh + dhs[t], "c": dc})
        for name in PARAMETERS:
            grads[name] += step_grads[name]
        dxs[t] = step_grads["x"]
        dh, dc = step_grads["h_prev"], step_grads["c_prev"]
    return {"xs": dxs, "h_0": dh, "c_0": dc, **grads}


def sequence_forward(inputs: Arrays) -> dict[str, np.ndarray]:
    """h_t, c_t = LSTM(x_t, h_{t-1}, c_{t-1}) for t = 1 … T from (h_0, c_0): hs, h_T, c_T."""
    params = {name: inputs[name] for name in PARAMETERS}
    hs, _, h_T, c_T = run(inputs["xs"], inputs["h_0"], inputs["c_0"], params)
    return {"hs": hs, "h_T": h_T.copy(), "c_T": c_T.copy()}


def sequence_vjp(inputs: Arrays, cotangents: Arrays) -> dict[str, np.ndarray]:
    """Backpropagation through time for t = T … 1: see :func:`bptt`."""
    params = {name: inputs[name] for name in PARAMETERS}
    return bptt(
        inputs["xs"],
        inputs["h_0"],
        inputs["c_0"],
        params,
        cotangents["hs"],
        cotangents["h_T"],
        cotangents["c_T"],
    )


KERNELS: dict[str, Kernel] = {"lstm.sequence": Kernel(sequence_forward, sequence_vjp)}
