"""Where a run's kernels execute: a worker process per backend, or this process.

The engine asks its host for the :class:`~conformance.checks.calls.KernelCalls` of one
check (``host.calls(backend)``). Both hosts answer identical plain forward calls once
(:mod:`~conformance.isolation.reuse`). :class:`WorkerPool` keeps one worker per backend and
gives each check its own budget of the per-check timeout; :class:`InProcess` calls
the kernels directly, for debugging with ``pdb``, and gives up every protection.
"""

from __future__ import annotations

import atexit
from dataclasses import replace
from multiprocessing.connection import Connection
from types import TracebackType
from typing import Protocol

from conformance.checks.calls import Call, KernelCalls, Reply
from conformance.errors import KernelFault
from conformance.isolation.execute import Tracked, execute
from conformance.isolation.fresh import imports_the_same
from conformance.isolation.reuse import ReplyCache
from conformance.isolation.worker import Worker
from conformance.plugins.backend import Backend
from conformance.plugins.registry import Registry

DEFAULT_TIMEOUT = 60.0
"""Seconds of kernel time one check (all its cases and calls) may take by default."""


class KernelHost(Protocol):
    """Runs the kernels of a run's checks; closed when the run ends."""

    def calls(self, backend: Backend) -> KernelCalls:
        """The kernel calls of one check of ``backend``."""
        ...

    def close(self) -> None:
        """Release every process the host started."""
        ...


class WorkerPool:
    """One worker process per backend, started on first use and replaced when lost.

    A worker that dies, exits or outlasts the per-check timeout ``timeout`` costs the
    check in flight (an ``error``), never the run. A backend that ``registry`` can load
    again by name runs in a fresh interpreter; any other is forked from this process
    (:mod:`~conformance.isolation.fresh` says why).
    """

    def __init__(self, timeout: float = DEFAULT_TIMEOUT, registry: Registry | None = None) -> None:
        if not timeout > 0:
            raise ValueError(f"the per-check timeout must be positive, got {timeout!r}")
        self.timeout = timeout
        self.registry = registry
        """Where the backends came from: one it can load again gets a fresh interpreter."""
        self.workers: dict[str, Worker] = {}
        self.caches: dict[str, ReplyCache] = {}
        atexit.register(self.close)

    def calls(self, backend: Backend) -> KernelCalls:
        worker = self.workers.get(backend.name)
        if worker is None or worker.backend is not backend:
            if worker is not None:
                worker.stop()
            recipe = self.registry.recipe(backend) if self.registry is not None else None
            if recipe is not None and not imports_the_same(recipe):
                recipe = None  # a fresh import would find another module: fork instead
            worker = Worker(backend, self._connections, recipe)
            self.workers[backend.name] = worker
            self.caches[backend.name] = ReplyCache()
        return WorkerCalls(worker, self.timeout, self.caches[backend.name])

    def close(self) -> None:
        for worker in self.workers.values():
            worker.stop()

    def _connections(self) -> list[Connection]:
        return [w.conn for w in self.workers.values() if w.conn is not None]

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class WorkerCalls:
    """The kernel calls of one check, in the backend's worker, sharing one timeout."""

    def __init__(self, worker: Worker, timeout: float, cache: ReplyCache | None = None) -> None:
        self.worker, self.timeout, self.left = worker, timeout, timeout
        self.cache = cache or ReplyCache()

    def call(self, calls: list[Call]) -> list[Reply]:
        return self.cache.call(calls, self._request)

    def _request(self, calls: list[Call]) -> list[Reply]:
        replies, waited = self.worker.request(calls, self.left, self.timeout)
        self.left -= waited
        return replies


class InProcess:
    """Kernels called in the harness's own process, for debugging with ``pdb``.

    Nothing is isolated: a kernel that crashes or exits ends the run, one that hangs
    hangs it, and its prints reach stdout. Exceptions and ``sys.exit`` are still
    recorded as errors.
    """

    def __init__(self) -> None:
        self.tracked: Tracked = []
        self.caches: dict[str, tuple[Backend, ReplyCache]] = {}

    def calls(self, backend: Backend) -> KernelCalls:
        known = self.caches.get(backend.name)
        if known is None or known[0] is not backend:
            known = self.caches[backend.name] = (backend, ReplyCache())
        return InProcessCalls(backend, self.tracked, known[1])

    def close(self) -> None:
        self.tracked.clear()
        self.caches.clear()

    def __enter__(self) -> InProcess:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class InProcessCalls:
    """One backend's kernels, called directly on private copies of the arrays."""

    def __init__(self, backend: Backend, tracked: Tracked, cache: ReplyCache | None = None) -> None:
        self.backend, self.tracked, self.cache = backend, tracked, cache or ReplyCache()

    def call(self, calls: list[Call]) -> list[Reply]:
        return self.cache.call(calls, self._run)

    def _run(self, calls: list[Call]) -> list[Reply]:
        replies = []
        for index, call in enumerate(calls):
            try:
                replies.append(execute(self.backend, _private(call), self.tracked, catch_exit=True))
            except KernelFault as exc:  # say which call of the batch failed
                exc.index = index
                raise
        return replies


def _private(call: Call) -> Call:
    """``call`` on copies of its arrays, which the kernel may scribble on."""
    return replace(call, arrays=tuple({k: v.copy() for k, v in a.items()} for a in call.arrays))
