"""``fused-gate``: the LSTM cell with all four gates in one GEMM.

The backend's kernels live in one module per spec family; this module registers them
as the ``fused-gate`` backend through the ``conformance.backends`` entry point.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import conformance
from conformance import Backend
from implementations.fused_gate import lstm

if TYPE_CHECKING:
    from conformance.registry import BackendRegistry

__version__ = "0.1.0"

FAMILIES = (lstm,)
"""Family modules, each with a ``KERNELS`` dict of spec id → Kernel."""


@conformance.hookimpl
def conformance_register_backends(register: BackendRegistry) -> None:
    """Register the ``fused-gate`` backend with every family's kernels."""
    kernels = {spec_id: k for family in FAMILIES for spec_id, k in family.KERNELS.items()}
    register.add(
        Backend(
            name="fused-gate",
            version=__version__,
            description="One (4H, H+D) GEMM for all four gates, preallocated buffers, "
            "in-place ufuncs.",
            kernels=kernels,
        )
    )
