"""``numpy-loops``: the bidirectional LSTM, as a seed notebook writes it.

Two time loops around the row-by-row cell: the forward direction reads t = 1 … T with
its weights, the backward direction reads t = T … 1 with its own, storing its state
after reading x_T … x_t at index t (:func:`.lstm_sequence.run` with ``reverse=True``).
The output layer is a loop over time and rows with column vectors,
y_t = W_fwd →h_t + W_bwd ←h_t + b_y.

The backward of each direction is backpropagation through time in its own reading
order (:func:`.lstm_sequence.bptt`); both directions read the same x_t, so ∂x_t is
the sum of the two.
"""

from __future__ import annotations

import numpy as np

from conformance import Arrays, Kernel
from implementations.numpy_loops.lstm_sequence import PARAMETERS, bptt, run

DIRECTIONS = {"fwd": False, "bwd": True}
"""Each direction's suffix on the spec's symbols, and whether it reads time backwards."""


def _params(inputs: Arrays, direction: str) -> dict[str, np.ndarray]:
    """One direction's weights under the cell's names: W_f = W_f_fwd, …"""
    return {name: inputs[f"{name}_{direction}"] for name in PARAMETERS}


# ---------------------------------------------------------------------------
# Both directions over the sequence
# ---------------------------------------------------------------------------


def sequence_forward(inputs: Arrays) -> dict[str, np.ndarray]:
    """→h_t = LSTM_fwd(x_t, →h_{t-1}) for t = 1 … T, from (→h_0, →c_0);

    ←h_t = LSTM_bwd(x_t, ←h_{t+1}) for t = T … 1, from (←h_{T+1}, ←c_{T+1});
    and each direction's last state.
    """
    outputs = {}
    for direction, reverse in DIRECTIONS.items():
        hs, _, h, c = run(
            inputs["xs"],
            inputs[f"h_{direction}_init"],
            inputs[f"c_{direction}_init"],
            _params(inputs, direction),
            reverse,
        )
        outputs[f"h_{direction}"] = hs
        outputs[f"h_{direction}_final"] = h.copy()
        outputs[f"c_{direction}_final"] = c.copy()
    return outputs


def sequence_vjp(inputs: Arrays, cotangents: Arrays) -> dict[str, np.ndarray]:
    """BPTT through each direction in its own reading order; ∂x_t = ∂x_t^fwd + ∂x_t^bwd."""
    grads: dict[str, np.ndarray] = {"xs": np.zeros_like(inputs["xs"])}
    for direction, reverse in DIRECTIONS.items():
        one = bptt(
            inputs["xs"],
            inputs[f"h_{direction}_init"],
            inputs[f"c_{direction}_init"],
            _params(inputs, direction),
            cotangents[f"h_{direction}"],
            cotangents[f"h_{direction}_final"],
            cotangents[f"c_{direction}_final"],
            reverse,
        )
        grads["xs"] += one["xs"]
        grads[f"h_{direction}_init"] = one["h_0"]
        grads[f"c_{direction}_init"] = one["c_0"]
        grads.update({f"{name}_{direction}": one[name] for name in PARAMETERS})
    return grads


# ---------------------------------------------------------------------------
# The output layer: y_t = W_fwd →h_t + W_bwd ←h_t + b_y
# ---------------------------------------------------------------------------


def output_forward(inputs: Arrays) -> dict[str, np.ndarray]:
    """y_t = W_fwd →h_t + W_bwd ←h_t + b_y, one time step and batch row at a time."""
    h_fwd, h_bwd = inputs["h_fwd"], inputs["h_bwd"]
    W_fwd, W_bwd, b_y = inputs["W_fwd"], inputs["W_bwd"], inputs["b_y"]
    T, B, _ = h_fwd.shape
    y = np.zeros((T, B, W_fwd.shape[0]), dtype=h_fwd.dtype)
    for t in range(T):
        for n in range(B):
            y_col = W_fwd @ h_fwd[t, n][:, None] + W_bwd @ h_bwd[t, n][:, None] + b_y[:, None]
            y[t, n] = y_col[:, 0]
    return {"y": y}


def output_vjp(inputs: Arrays, cotangents: Arrays) -> dict[str, np.ndarray]:
    """Per step and row: ∂→h = W_fwdᵀ ∂y,  ∂←h = W_bwdᵀ ∂y,

    ∂W_fwd += ∂y →hᵀ,  ∂W_bwd += ∂y ←hᵀ,  ∂b_y += ∂y.
    """
    h_fwd, h_bwd = inputs["h_fwd"], inputs["h_bwd"]
    W_fwd, W_bwd = inputs["W_fwd"], inputs["W_bwd"]
    grads = {name: np.zeros_like(inputs[name]) for name in inputs}
    T, B, _ = h_fwd.shape
    for t in range(T):
        for n in range(B):
            dy = cotangents["y"][t, n][:, None]
            grads["h_fwd"][t, n] = (W_fwd.T @ dy)[:, 0]
            grads["h_bwd"][t, n] = (W_bwd.T @ dy)[:, 0]
            grads["W_fwd"] += dy @ h_fwd[t, n][None, :]
            grads["W_bwd"] += dy @ h_bwd[t, n][None, :]
            grads["b_y"] += dy[:, 0]
    return grads


KERNELS: dict[str, Kernel] = {
    "bilstm.sequence": Kernel(sequence_forward, sequence_vjp),
    "bilstm.output": Kernel(output_forward, output_vjp),
}
