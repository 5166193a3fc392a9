"""``torch``: the specs run by PyTorch's own modules and operators, on the CPU.

The LSTM, BiLSTM and Elman RNN are ``nn.LSTMCell``, ``nn.LSTM`` (also with
``bidirectional=True``), ``nn.RNNCell`` and ``nn.RNN``, called through
``torch.func.functional_call`` with weights converted from the spec's layout by
:mod:`conformance.layout`; CTC is ``F.log_softmax`` and ``F.ctc_loss``; the gates, the
classifier head and the S-LSTM are written with torch operators. Every VJP is
``torch.autograd.grad`` through the same call. Float32 and float64, no upcast.

The package is named ``torch_backend`` so as not to shadow ``torch``; its entry point
is ``torch``. Without torch installed, importing it raises
:class:`conformance.BackendUnavailable`.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import conformance
from conformance import BackendUnavailable
from implementations._frameworks import thread_count

try:
    import torch
except ImportError as exc:  # pragma: no cover - exercised where torch is absent
    raise BackendUnavailable(
        "torch is not installed", install="pip install 'rnn-conformance[torch]'"
    ) from exc

from implementations._common import package_backend

if TYPE_CHECKING:
    from conformance import BackendRegistry

__version__ = "0.1.0"
DESCRIPTION = (
    "PyTorch on the CPU: nn.LSTM/LSTMCell/RNN/RNNCell through functional_call with the "
    "spec's weights converted by conformance.layout, F.ctc_loss, torch operators "
    "elsewhere; VJPs by torch.autograd."
)

THREADS = thread_count()
"""torch's intra-op threads: the BLAS thread count (see ``implementations._frameworks``)."""
torch.set_num_threads(THREADS)


def lstm_path() -> str:
    """Which kernel ``nn.LSTM`` runs on the CPU: oneDNN's for float32 when it is built in
    and enabled (``torch.backends.mkldnn``), ATen's own otherwise and for float64."""
    mkldnn = torch.backends.mkldnn
    if mkldnn.is_available() and mkldnn.enabled:
        return "oneDNN on (float32; float64 runs ATen's native kernel)"
    return "oneDNN off (ATen's native kernel)"


def environment() -> dict[str, str]:
    """What produced this backend's figures: torch's version, threads and LSTM path."""
    return {
        "torch": torch.__version__,
        "torch threads": str(torch.get_num_threads()),
        "torch LSTM path": lstm_path(),
    }


@conformance.hookimpl
def conformance_register_backends(register: BackendRegistry) -> None:
    """Register the ``torch`` backend with every family's kernels and its environment."""
    backend = package_backend(__name__, "torch", __version__, DESCRIPTION)
    register.add(dataclasses.replace(backend, environment=environment()))
