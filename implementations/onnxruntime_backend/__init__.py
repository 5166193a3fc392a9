"""``onnxruntime``: the specs as ONNX graphs, built in memory and run by onnxruntime's CPU
execution provider.

Each kernel builds a one-node (or few-node) graph with ``onnx.helper``: ``LSTM`` for
``lstm.cell`` (T = 1), ``lstm.sequence`` and ``bilstm.sequence``
(``direction="bidirectional"``), ``RNN`` for ``rnn.cell`` (T = 1), ``rnn.sequence`` and
the sequence classifier, ``Softmax`` and ``LogSoftmax`` for CTC and the classifier head.
Weights are graph *inputs*, never initializers, so a cached session depends only on the
graph's kind, dtype and sizes. Forward only: onnxruntime has no VJP to offer.

The CPU provider runs ``LSTM`` and ``RNN`` in float32 only (float64 LSTM fails at run
time with "LSTM operator does not support double yet"; there is no float64 RNN kernel
at all), so those kernels declare ``dtypes=("float32",)`` and say why; they never cast.

Without onnxruntime (or onnx) installed, importing this package raises
:class:`conformance.BackendUnavailable`.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import conformance
from conformance import BackendUnavailable

try:
    import onnx
    import onnxruntime
except ImportError as exc:  # pragma: no cover - exercised where onnxruntime is absent
    missing = "onnx" if exc.name == "onnx" else "onnxruntime"
    raise BackendUnavailable(
        f"{missing} is not installed", install="pip install 'rnn-conformance[onnx]'"
    ) from exc

from implementations._common import package_backend
from implementations.onnxruntime_backend._graphs import PROVIDER, THREADS

if TYPE_CHECKING:
    from conformance import BackendRegistry

__version__ = "0.1.0"
DESCRIPTION = (
    "onnxruntime's CPU provider on in-memory ONNX graphs (LSTM, RNN, Softmax, LogSoftmax), "
    "weights as graph inputs, sessions cached by graph kind, dtype and sizes; forward only."
)


def environment() -> dict[str, str]:
    """What produced this backend's figures: versions, intra-op threads, provider."""
    return {
        "onnxruntime": onnxruntime.__version__,
        "onnx": onnx.__version__,
        "onnxruntime threads": str(THREADS),
        "onnxruntime provider": PROVIDER,
    }


@conformance.hookimpl
def conformance_register_backends(register: BackendRegistry) -> None:
    """Register the ``onnxruntime`` backend with every family's kernels and its environment."""
    backend = package_backend(__name__, "onnxruntime", __version__, DESCRIPTION)
    register.add(dataclasses.replace(backend, environment=environment()))
