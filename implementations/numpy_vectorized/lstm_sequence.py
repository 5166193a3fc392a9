"""``numpy-vectorized``: the LSTM over a sequence, one batched cell step per time step.

xs is time first, (T, B, D). The forward is the cell of :mod:`.lstm` applied at t = 1 … T,
carrying (h, c); each step is batched over rows, one matmul per gate.

The backward is backpropagation through time, hand-written: walking t = T … 1, the
gradient reaching h_t is the cotangent of hs[t] plus what flowed back from step t + 1,
the gradient reaching c_t is what flowed back through c_{t+1} = f ⊙ c_t + …, and the
cell's own backward turns them into ∂x_t, ∂h_{t-1}, ∂c_{t-1} and this step's share of
the weight gradients, which are summed over t (the weights are shared by every step).
"""

from __future__ import annotations

import numpy as np

from conformance import Arrays, Kernel
from implementations.numpy_vectorized.lstm import cell_forward, cell_vjp

PARAMETERS = ("W_f", "W_i", "W_c", "W_o", "b_f", "b_i", "b_c", "b_o")
"""The cell's weights and biases, shared by every time step."""


def _states(inputs: Arrays) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """[h_0, h_1, …, h_T] and [c_0, c_1, …, c_T]: the forward, keeping every state."""
    params = {name: inputs[name] for name in PARAMETERS}
    hs, cs = [inputs["h_0"]], [inputs["c_0"]]
    for x_t in inputs["xs"]:
        step = cell_forward({"x": x_t, "h_prev": hs[-1], "c_prev": cs[-1], **params})
        hs.append(step["h"])
        cs.append(step["c"])
    return hs, cs


def sequence_forward(inputs: Arrays) -> dict[str, np.ndarray]:
    """h_t, c_t = LSTM(x_t, h_{t-1}, c_{t-1}) for t = 1 … T, from (h_0, c_0):

    hs = [h_1, …, h_T] (T, B, H), and the last states h_T, c_T.
    """
    hs, cs = _states(inputs)
    return {"hs": np.stack(hs[1:]), "h_T": hs[-1], "c_T": cs[-1]}


def sequence_vjp(inputs: Arrays, cotangents: Arrays) -> dict[str, np.ndarray]:
    """Backpropagation through time, for t = T … 1, starting from ∂h = ∂h_T, ∂c = ∂c_T:

    ∂h += ∂hs[t];  (∂x_t, ∂h, ∂c, ∂W_t) = cell backward at step t given (∂h, ∂c);
    ∂W = Σ_t ∂W_t.  After t = 1, ∂h and ∂c are ∂h_0 and ∂c_0.
    """
    params = {name: inputs[name] for name in PARAMETERS}
    hs, cs = _states(inputs)
    grads = {name: np.zeros_like(inputs[name]) for name in PARAMETERS}
    dxs = np.zeros_like(inputs["xs"])
    dh, dc = cotangents["h_T"], cotangents["c_T"]
    for t in reversed(range(inputs["xs"].shape[0])):
        step = {"x": inputs["xs"][t], "h_prev": hs[t], "c_prev": cs[t], **params}
        step_grads = cell_vjp(step, {"h": dh + cotangents["hs"][t], "c": dc})
        for name in PARAMETERS:
            grads[name] += step_grads[name]
        dxs[t] = step_grads["x"]
        dh, dc = step_grads["h_prev"], step_grads["c_prev"]
    return {"xs": dxs, "h_0": dh, "c_0": dc, **grads}


KERNELS: dict[str, Kernel] = {"lstm.sequence": Kernel(sequence_forward, sequence_vjp)}
