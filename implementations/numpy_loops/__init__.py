"""``numpy-loops``: the LSTM cell as a seed notebook writes it.

The backend's kernels live in one module per spec family; this module registers them
as the ``numpy-loops`` backend through the ``conformance.backends`` entry point.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import conformance
from conformance import Backend
from implementations.numpy_loops import lstm

if TYPE_CHECKING:
    from conformance.registry import BackendRegistry

__version__ = "0.1.0"

FAMILIES = (lstm,)
"""Family modules, each with a ``KERNELS`` dict of spec id → Kernel."""


@conformance.hookimpl
def conformance_register_backends(register: BackendRegistry) -> None:
    """Register the ``numpy-loops`` backend with every family's kernels."""
    kernels = {spec_id: k for family in FAMILIES for spec_id, k in family.KERNELS.items()}
    register.add(
        Backend(
            name="numpy-loops",
            version=__version__,
            description="Textbook NumPy: a Python loop over batch rows, column vectors, "
            "one matmul per gate.",
            kernels=kernels,
        )
    )
