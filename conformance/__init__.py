"""Conformance harness for recurrent-network math.

Specs in ``specs/`` are the single source of truth; the oracle interprets them in
float64 (and complex128 for gradients); backends register through pluggy and are
checked against the oracle for shape, dtype, numeric and gradient conformance.

This module is the whole public API for backend authors, and nothing internal::

    from conformance import Backend, Kernel, hookimpl

Layout conversions for adapters are public too, in :mod:`conformance.layout`.
The subpackages follow the flow: ``lang`` (the equation language) → ``spec`` (spec
files) → ``oracle`` → ``checks`` → ``engine`` → ``results`` → ``report``, with
``plugins`` (the registry) beside them and ``frontends`` (CLI, pytest) on top.

The names are imported on first use: the package's pytest plugin is loaded in every
pytest run where the package is installed, and importing it must not import NumPy
(or anything else) into a project that never runs the suite.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from conformance.version import __version__

if TYPE_CHECKING:
    from conformance.errors import BackendUnavailable
    from conformance.plugins.backend import Backend, BackendRegistry, Kernel
    from conformance.plugins.markers import ENTRY_POINT_GROUP, PROJECT, hookimpl
    from conformance.typing import DTYPES, Array, Arrays

_HOMES = {
    "BackendUnavailable": "conformance.errors",
    "Backend": "conformance.plugins.backend",
    "BackendRegistry": "conformance.plugins.backend",
    "Kernel": "conformance.plugins.backend",
    "ENTRY_POINT_GROUP": "conformance.plugins.markers",
    "PROJECT": "conformance.plugins.markers",
    "hookimpl": "conformance.plugins.markers",
    "DTYPES": "conformance.typing",
    "Array": "conformance.typing",
    "Arrays": "conformance.typing",
}
"""Where each public name lives."""

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


def __getattr__(name: str) -> Any:
    """Import a public name from its module the first time it is asked for."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'conformance' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
