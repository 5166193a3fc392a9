"""Kernels out of process: each backend's kernels run in a worker process of its own.

The harness keeps the specs, the oracle and the results; only a call's arrays go to
the worker and only the returned arrays (with the kernel's own timing) come back. A
worker that dies, exits or hangs past the per-check timeout is an ``error`` for the
check in flight and is replaced; the run goes on. :class:`InProcess` runs kernels in
the harness itself, for debugging, without that protection.

May import: :mod:`conformance.checks` (the call protocol), :mod:`conformance.plugins`
(the backend types), errors, typing.
"""

from __future__ import annotations

from conformance.isolation.hosts import (
    DEFAULT_TIMEOUT,
    InProcess,
    KernelHost,
    WorkerPool,
)

__all__ = ["DEFAULT_TIMEOUT", "InProcess", "KernelHost", "WorkerPool"]
