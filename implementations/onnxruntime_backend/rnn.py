"""``onnxruntime``: the Elman RNN cell (a sequence of T = 1) and sequence as ONNX ``RNN``
graphs, and the classifier head as ``Softmax(MatMul + Add)``.

ONNX's RNN against the spec's: ``W`` [1, H, D] is W_x, ``R`` [1, H, H] is W_h,
``B`` [1, 2H] = ``[Wb, Rb]`` = the spec's b then zeros (``layout.split_bias``), states
[1, B, H], ``Y`` [T, 1, B, H]; tanh is the default activation. The head keeps the
spec's orientation, ``MatMul(h_T, W_out)`` with W_out (H, K).
"""

from __future__ import annotations

import numpy as np

from conformance import Arrays, Kernel
from conformance.layout import add_state_axis, drop_state_axis, split_bias
from implementations.onnxruntime_backend._graphs import kernel, run

FLOAT32_ONLY = ("float32",)
REASON = "onnxruntime's CPU provider has no float64 RNN"
"""Why the RNN kernels declare float32 alone: the session cannot even be created for a
float64 RNN graph ("Could not find an implementation for RNN(14)")."""


def rnn_feeds(inputs: Arrays, xs: np.ndarray, h_0: np.ndarray) -> dict[str, np.ndarray]:
    """The RNN node's inputs from the spec's xs, h_0, W_x, W_h, b."""
    return {
        "X": xs,
        "W": inputs["W_x"][None],
        "R": inputs["W_h"][None],
        "B": np.concatenate(split_bias(inputs["b"]))[None],
        "initial_h": add_state_axis(h_0),
    }


def _sizes(xs: np.ndarray, inputs: Arrays) -> dict[str, int]:
    T, B, D = xs.shape
    return {"T": T, "B": B, "D": D, "H": inputs["W_h"].shape[0]}


def cell_forward(inputs: Arrays, dtype: str) -> dict[str, np.ndarray]:
    """h = Y_h[0] of the RNN on the one-step sequence x[None] from h_prev."""
    xs = inputs["x"][None]
    r = run("rnn", dtype, _sizes(xs, inputs), rnn_feeds(inputs, xs, inputs["h_prev"]))
    return {"h": drop_state_axis(r["Y_h"])}


def sequence_forward(inputs: Arrays, dtype: str) -> dict[str, np.ndarray]:
    """hs = Y[:, 0], h_T = Y_h[0]."""
    xs = inputs["xs"]
    r = run("rnn", dtype, _sizes(xs, inputs), rnn_feeds(inputs, xs, inputs["h_0"]))
    return {"hs": r["Y"][:, 0], "h_T": drop_state_axis(r["Y_h"])}


def classifier_forward(inputs: Arrays, dtype: str) -> dict[str, np.ndarray]:
    """p = Softmax(MatMul(h_T, W_out) + b_out)."""
    H, K = inputs["W_out"].shape
    sizes = {"B": inputs["h_T"].shape[0], "H": H, "K": K}
    feeds = {name: inputs[name] for name in ("h_T", "W_out", "b_out")}
    return {"p": run("classifier", dtype, sizes, feeds)["p"]}


def sequence_classifier_forward(inputs: Arrays, dtype: str) -> dict[str, np.ndarray]:
    """The RNN, then the head on Squeeze(Y_h), in one graph."""
    xs = inputs["xs"]
    sizes = {**_sizes(xs, inputs), "K": inputs["W_out"].shape[1]}
    feeds = {
        **rnn_feeds(inputs, xs, inputs["h_0"]),
        "W_out": inputs["W_out"],
        "b_out": inputs["b_out"],
    }
    return {"p": run("rnn-classifier", dtype, sizes, feeds)["p"]}


KERNELS: dict[str, Kernel] = {
    "rnn.cell": kernel(cell_forward, FLOAT32_ONLY, REASON),
    "rnn.sequence": kernel(sequence_forward, FLOAT32_ONLY, REASON),
    "rnn.classifier": kernel(classifier_forward),
    "rnn.sequence_classifier": kernel(sequence_classifier_forward, FLOAT32_ONLY, REASON),
}
