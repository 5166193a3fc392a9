"""``onnxruntime``: the BiLSTM as one ONNX ``LSTM`` node with ``direction="bidirectional"``.

Direction 0 of ``W``, ``R``, ``B``, the states and ``Y`` is the forward one, direction 1
the backward one. ONNX's backward direction writes its state after reading x_T … x_t at
``Y[t, 1]``, aligned with x_t as the spec's ``h_bwd``; ``Y_h[1]`` is its state after x_1.
:func:`backward_direction` computes the same half alone with ``direction="reverse"``.
"""

from __future__ import annotations

import numpy as np

from conformance import Arrays, Kernel
from conformance.layout import drop_state_axis
from implementations.onnxruntime_backend._graphs import LSTM_ORDER, kernel
from implementations.onnxruntime_backend.lstm import FLOAT32_ONLY, REASON, run_lstm

FORWARD = ("_fwd", "h_fwd_init", "c_fwd_init")
BACKWARD = ("_bwd", "h_bwd_init", "c_bwd_init")


def sequence_kernel(order: str = LSTM_ORDER) -> Kernel:
    """Both directions in one bidirectional LSTM graph."""

    def forward(inputs: Arrays, dtype: str) -> dict[str, np.ndarray]:
        """h_fwd = Y[:, 0], h_bwd = Y[:, 1]; the finals from Y_h and Y_c."""
        r = run_lstm("bidirectional", dtype, inputs, inputs["xs"], [FORWARD, BACKWARD], order)
        return {
            "h_fwd": r["Y"][:, 0],
            "h_bwd": r["Y"][:, 1],
            "h_fwd_final": r["Y_h"][0],
            "c_fwd_final": r["Y_c"][0],
            "h_bwd_final": r["Y_h"][1],
            "c_bwd_final": r["Y_c"][1],
        }

    return kernel(forward, FLOAT32_ONLY, REASON)


def backward_direction(inputs: Arrays) -> dict[str, np.ndarray]:
    """The spec's backward half (``h_bwd``, ``h_bwd_final``, ``c_bwd_final``) from
    ``bilstm.sequence``'s inputs, by an LSTM graph with ``direction="reverse"``: ONNX's own
    way to run one direction backward, with no flip on our side."""
    r = run_lstm("reverse", "float32", inputs, inputs["xs"], [BACKWARD])
    return {
        "h_bwd": r["Y"][:, 0],
        "h_bwd_final": drop_state_axis(r["Y_h"]),
        "c_bwd_final": drop_state_axis(r["Y_c"]),
    }


KERNELS: dict[str, Kernel] = {"bilstm.sequence": sequence_kernel()}
