"""``onnxruntime``: the CTC softmax and log-softmax as ONNX ``Softmax`` and ``LogSoftmax``
over the class axis (``axis=-1``), in float32 and float64. ONNX has no CTC loss operator,
so ``ctc.loss`` is not implemented here."""

from __future__ import annotations

import numpy as np

from conformance import Arrays, Kernel
from implementations.onnxruntime_backend._graphs import kernel, run


def _sizes(y: np.ndarray) -> dict[str, int]:
    T, B, C = y.shape
    return {"T": T, "B": B, "C": C}


def softmax_forward(inputs: Arrays, dtype: str) -> dict[str, np.ndarray]:
    """P = Softmax(y, axis=-1)."""
    return {"P": run("softmax", dtype, _sizes(inputs["y"]), {"y": inputs["y"]})["out"]}


def log_softmax_forward(inputs: Arrays, dtype: str) -> dict[str, np.ndarray]:
    """ln P = LogSoftmax(y, axis=-1)."""
    return {"log_P": run("log-softmax", dtype, _sizes(inputs["y"]), {"y": inputs["y"]})["out"]}


KERNELS: dict[str, Kernel] = {
    "ctc.softmax": kernel(softmax_forward),
    "ctc.log_softmax": kernel(log_softmax_forward),
}
