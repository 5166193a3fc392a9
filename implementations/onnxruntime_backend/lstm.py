"""``onnxruntime``: the LSTM cell (a sequence of T = 1) and the LSTM over a sequence, as
ONNX ``LSTM`` graphs.

ONNX's LSTM against the spec's: gates stacked i, o, f, c (``LSTM_ORDER``), each gate's
W (H, H + D) on ``concat(h_prev, x)`` split into the input block (into ``W``) and the
recurrent block (into ``R``) by ``layout.lstm_to_stacked``; ``B`` = ``[Wb, Rb]`` = the
spec's b then zeros (``layout.split_bias``); a leading num_directions axis on ``W``,
``R``, ``B`` and on every state; ``Y`` is [T, num_directions, B, H].
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from conformance import Arrays, Kernel
from conformance.layout import drop_state_axis, lstm_to_stacked, split_bias
from implementations.onnxruntime_backend._graphs import LSTM_ORDER, kernel, run

FLOAT32_ONLY = ("float32",)
REASON = "onnxruntime's CPU LSTM takes float32 only"
"""Why the LSTM kernels declare float32 alone: the CPU provider's LSTM kernel fails at
run time on float64 ("LSTM operator does not support double yet")."""

Direction = tuple[str, str, str]
"""One direction's (parameter suffix, initial h name, initial c name) in the spec."""


def onnx_params(inputs: Arrays, suffix: str = "", order: str = LSTM_ORDER) -> dict[str, np.ndarray]:
    """One direction's ``W`` (4H, D), ``R`` (4H, H) and ``B`` (8H,) from the spec's
    ``W_f{suffix}`` … ``b_o{suffix}``, the gates stacked in ``order``."""
    W, R, b = lstm_to_stacked(inputs, order, suffix)
    return {"W": W, "R": R, "B": np.concatenate(split_bias(b))}


def lstm_feeds(
    inputs: Arrays, xs: np.ndarray, directions: Sequence[Direction], order: str = LSTM_ORDER
) -> dict[str, np.ndarray]:
    """The LSTM node's inputs: ``X`` = xs, and ``W``, ``R``, ``B``, ``initial_h``,
    ``initial_c`` with one entry per direction along their leading axis."""
    params = [onnx_params(inputs, suffix, order) for suffix, _, _ in directions]
    return {
        "X": xs,
        **{name: np.stack([p[name] for p in params]) for name in ("W", "R", "B")},
        "initial_h": np.stack([inputs[h] for _, h, _ in directions]),
        "initial_c": np.stack([inputs[c] for _, _, c in directions]),
    }


def run_lstm(
    direction: str,
    dtype: str,
    inputs: Arrays,
    xs: np.ndarray,
    directions: Sequence[Direction],
    order: str = LSTM_ORDER,
) -> dict[str, np.ndarray]:
    """``Y``, ``Y_h``, ``Y_c`` of the ``direction`` LSTM graph on the spec's ``inputs``."""
    T, B, D = xs.shape
    H = inputs[directions[0][1]].shape[-1]
    feeds = lstm_feeds(inputs, xs, directions, order)
    return run(f"lstm-{direction}", dtype, {"T": T, "B": B, "D": D, "H": H}, feeds)


def cell_kernel(order: str = LSTM_ORDER) -> Kernel:
    """One step: the LSTM graph on the one-step sequence x[None] from (h_prev, c_prev)."""

    def forward(inputs: Arrays, dtype: str) -> dict[str, np.ndarray]:
        """(h, c) = (Y_h[0], Y_c[0]) of a one-step forward LSTM."""
        r = run_lstm("forward", dtype, inputs, inputs["x"][None], [("", "h_prev", "c_prev")], order)
        return {"h": drop_state_axis(r["Y_h"]), "c": drop_state_axis(r["Y_c"])}

    return kernel(forward, FLOAT32_ONLY, REASON)


def sequence_kernel(order: str = LSTM_ORDER) -> Kernel:
    """The sequence: one forward LSTM graph over all T steps."""

    def forward(inputs: Arrays, dtype: str) -> dict[str, np.ndarray]:
        """hs = Y[:, 0] (the one direction), h_T = Y_h[0], c_T = Y_c[0]."""
        r = run_lstm("forward", dtype, inputs, inputs["xs"], [("", "h_0", "c_0")], order)
        return {
            "hs": r["Y"][:, 0],
            "h_T": drop_state_axis(r["Y_h"]),
            "c_T": drop_state_axis(r["Y_c"]),
        }

    return kernel(forward, FLOAT32_ONLY, REASON)


KERNELS: dict[str, Kernel] = {
    "lstm.cell": cell_kernel(),
    "lstm.sequence": sequence_kernel(),
}
