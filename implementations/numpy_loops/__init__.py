"""``numpy-loops``: every family as a seed notebook writes it.

Python loops over batch rows and time steps, each row a column vector, one matmul per
gate: the textbook form, and the baseline every speedup in the report is measured
against.

The backend's kernels live in one module per spec family (each with a ``KERNELS``
dict); this module registers all of them as the
``numpy-loops`` backend through the ``conformance.backends`` entry point.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import conformance
from implementations._common import package_backend

if TYPE_CHECKING:
    from conformance import BackendRegistry

__version__ = "0.1.0"
DESCRIPTION = (
    "Textbook NumPy: Python loops over batch rows and time steps, column "
    "vectors, one matmul per gate."
)


@conformance.hookimpl
def conformance_register_backends(register: BackendRegistry) -> None:
    """Register the ``numpy-loops`` backend with every family's kernels."""
    register.add(package_backend(__name__, "numpy-loops", __version__, DESCRIPTION))
