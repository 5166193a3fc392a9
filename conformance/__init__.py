"""Conformance harness for recurrent-network math.

Specs in ``specs/`` are the single source of truth; the oracle interprets them in
float64 (and complex128 for gradients); backends register through pluggy and are
checked against the oracle for shape, dtype, numeric and gradient conformance.

Public API for backend authors::

    from conformance import Backend, Kernel, hookimpl
"""

from __future__ import annotations

import pluggy

PROJECT = "conformance"
ENTRY_POINT_GROUP = "conformance.backends"
__version__ = "0.1.0"

hookimpl = pluggy.HookimplMarker(PROJECT)
"""Marker for hook implementations in backend plugins."""

from conformance.backend import Backend, Kernel  # noqa: E402
from conformance.errors import BackendUnavailable  # noqa: E402
from conformance.registry import BackendRegistry  # noqa: E402
from conformance.typing import DTYPES, Array, Arrays  # noqa: E402

__all__ = [
    "DTYPES",
    "ENTRY_POINT_GROUP",
    "PROJECT",
    "Array",
    "Arrays",
    "Backend",
    "BackendRegistry",
    "BackendUnavailable",
    "Kernel",
    "__version__",
    "hookimpl",
]
