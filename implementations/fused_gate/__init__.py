"""``fused-gate``: the LSTM cell with all four gates in one GEMM.

The backend's kernels live in one module per spec family (each with a ``KERNELS``
dict); this module registers all of them as the
``fused-gate`` backend through the ``conformance.backends`` entry point.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import conformance
from conformance import Backend
from implementations._common import family_kernels

if TYPE_CHECKING:
    from conformance.registry import BackendRegistry

__version__ = "0.1.0"


@conformance.hookimpl
def conformance_register_backends(register: BackendRegistry) -> None:
    """Register the ``fused-gate`` backend with every family's kernels."""
    register.add(
        Backend(
            name="fused-gate",
            version=__version__,
            description="One (4H, H+D) GEMM for all four gates, preallocated buffers, "
            "in-place ufuncs.",
            kernels=family_kernels(__name__),
        )
    )
