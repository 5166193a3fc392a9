"""``numpy-vectorized``: every family batched over rows, one matmul per gate.

The backend's kernels live in one module per spec family (each with a ``KERNELS``
dict); this module registers all of them as the
``numpy-vectorized`` backend through the ``conformance.backends`` entry point.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import conformance
from implementations._common import package_backend

if TYPE_CHECKING:
    from conformance import BackendRegistry

__version__ = "0.1.0"
DESCRIPTION = "NumPy batched over rows: z @ W.T + b, one matmul per gate and step."


@conformance.hookimpl
def conformance_register_backends(register: BackendRegistry) -> None:
    """Register the ``numpy-vectorized`` backend with every family's kernels."""
    register.add(package_backend(__name__, "numpy-vectorized", __version__, DESCRIPTION))
