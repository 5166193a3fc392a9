"""``fused-gate``: gate weights stacked into one GEMM, buffers preallocated.

LSTM: one (4H, H + D) GEMM for all four gates; over a sequence, one GEMM for the input
projection of every step and weight gradients as single GEMMs outside the time loop.
Elman RNN: [W_x | W_h] fused. S-LSTM: the gates that see the same inputs stacked.
CTC has no gates to fuse, so this backend has no CTC module and the report shows
those specs as not implemented.

The backend's kernels live in one module per spec family (each with a ``KERNELS``
dict); this module registers all of them as the
``fused-gate`` backend through the ``conformance.backends`` entry point.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import conformance
from implementations._common import package_backend

if TYPE_CHECKING:
    from conformance import BackendRegistry

__version__ = "0.1.0"
DESCRIPTION = (
    "Stacked gate weights in one GEMM, input projections of all steps in "
    "one GEMM, preallocated buffers, in-place ufuncs; no CTC (nothing to fuse)."
)


@conformance.hookimpl
def conformance_register_backends(register: BackendRegistry) -> None:
    """Register the ``fused-gate`` backend with every family's kernels."""
    register.add(package_backend(__name__, "fused-gate", __version__, DESCRIPTION))
