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
"""

from __future__ import annotations

from conformance.errors import BackendUnavailable
from conformance.plugins.backend import Backend, BackendRegistry, Kernel
from conformance.plugins.markers import ENTRY_POINT_GROUP, PROJECT, hookimpl
from conformance.typing import DTYPES, Array, Arrays
from conformance.version import __version__

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
