"""One backend's worker process: the child's loop, and the parent's handle on it.

A backend whose plugin can be loaded again by name gets a fresh interpreter
(:mod:`~conformance.isolation.fresh`: a forked child of a harness that has run a
threaded native library can hang in it); one registered directly in Python, with
inline functions, is forked from the harness (``multiprocessing``'s ``fork`` context)
and works without being imported again. The worker reads one
:class:`~conformance.checks.calls.Call` at a time from a pipe
(:mod:`~conformance.isolation.wire`), runs it with
:func:`~conformance.isolation.execute.execute`, and sends back ``(status, payload)``.
Its stdout is its stderr: a kernel's ``print`` never reaches the harness's stdout. It
ignores SIGINT (the harness handles Ctrl-C and then ends it), and writes a Python
traceback to a private file on a fatal signal, which the parent reads to say where the
worker died.
"""

from __future__ import annotations

import contextlib
import ctypes
import faulthandler
import json
import multiprocessing
import os
import re
import signal
import struct
import sys
import sysconfig
import tempfile
import time
import warnings
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import IO, Any

from conformance.checks.calls import Call, Reply, during
from conformance.errors import (
    HarnessError,
    KernelFault,
    KernelRaised,
    KernelTimeout,
    NotDeclared,
    WorkerLost,
)
from conformance.isolation.execute import Tracked, describe_exception, execute
from conformance.isolation.fresh import load_backend, start_fresh
from conformance.isolation.wire import decode_calls, decode_replies, encode_calls, encode_replies
from conformance.plugins.backend import Backend
from conformance.plugins.registry import Recipe

PR_SET_PDEATHSIG = 1
"""Linux prctl option: the signal this process gets when its parent dies."""
_INDEX = struct.Struct("<q")
"""The index of the call in flight, as the worker writes it to its progress file."""
STOP = b""
"""The message that asks a worker to exit."""
STOP_GRACE = 0.5
"""Seconds a worker gets to exit after being asked to, before it is killed."""
_FRAME = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+) in (?P<func>\S+)')


def describe_exit(code: int) -> str:
    """``died with SIGSEGV`` for a signal (a negative exit code), ``exited with status 3``."""
    if code < 0:
        try:
            return f"died with {signal.Signals(-code).name}"
        except ValueError:
            return f"died with signal {-code}"
    return f"exited with status {code}"


class Worker:
    """The harness's handle on one backend's worker process, started on first use.

    :param siblings: the other workers' connections, which a new child closes (it
        must not hold them open).
    """

    def __init__(
        self,
        backend: Backend,
        siblings: Callable[[], list[Connection]],
        recipe: Recipe | None = None,
    ) -> None:
        self.backend = backend
        self.recipe = recipe
        """How to load the backend in a fresh interpreter; None: fork the harness."""
        self._siblings = siblings
        self.process: Any = None
        self.conn: Connection | None = None
        self._fault_file: IO[bytes] | None = None
        self._progress: IO[bytes] | None = None
        self.starts = 0
        """How many processes this worker has started (1 + restarts)."""

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.is_alive()

    def request(
        self, calls: list[Call], budget: float, timeout: float
    ) -> tuple[list[Reply], float]:
        """Run ``calls`` in the worker; returns the replies and the seconds spent waiting.

        Raises KernelTimeout when no answer comes within ``budget`` seconds (what is
        left of the per-check ``timeout``), WorkerLost when the worker dies or exits,
        and the exception of the call otherwise (KernelRaised, KernelFault, ...). A lost
        worker is replaced on the next request.
        """
        if self.conn is None or not self.alive:
            self._start()
        assert self.conn is not None
        start = time.monotonic()
        try:
            self.conn.send_bytes(encode_calls(calls))
        except (OSError, EOFError) as exc:
            raise self._lost(calls) from exc
        if not self.conn.poll(max(budget, 0.0)):
            index = self._in_flight(calls)
            self.stop(grace=0.0)
            timed_out = KernelTimeout(
                f"timed out after {timeout:g} s (the per-check timeout)", calls[index].during
            )
            timed_out.index = index
            raise timed_out
        try:
            status, payload = decode_replies(self.conn.recv_bytes())
        except Exception as exc:  # EOF, or a reply cut short by the worker's death
            raise self._lost(calls) from exc
        waited = time.monotonic() - start
        if status == "ok":
            return payload, waited
        index, message = payload
        error = _ERRORS.get(status, HarnessError)(message)
        if isinstance(error, KernelFault):
            error.index = index
        raise error

    def stop(self, grace: float = STOP_GRACE) -> None:
        """Ask the worker to exit, kill it if it has not after ``grace`` seconds, reap it."""
        if self.process is not None:
            if grace and self.conn is not None and self.process.is_alive():
                with contextlib.suppress(OSError):
                    self.conn.send_bytes(STOP)
                self.process.join(grace)
            if self.process.is_alive():
                self.process.kill()
            self.process.join()
        self._close()

    def _start(self) -> None:
        self.stop(grace=0.0)
        self._fault_file = tempfile.TemporaryFile()  # noqa: SIM115 (closed in _close)
        self._progress = tempfile.TemporaryFile()  # noqa: SIM115 (closed in _close)
        for stream in (sys.stdout, sys.stderr):  # nothing buffered may be written twice
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
        if self.recipe is not None:
            self.process, self.conn = start_fresh(self.recipe, self._fault_file, self._progress)
            self.starts += 1
            return
        context = multiprocessing.get_context("fork")
        parent, child = context.Pipe()
        process = context.Process(
            target=serve,
            args=(child, self.backend, self._fault_file, self._progress, self._siblings()),
            name=f"conformance worker {self.backend.name}",
            daemon=True,
        )
        with warnings.catch_warnings():  # fork with threads: the child runs only our loop
            warnings.simplefilter("ignore", DeprecationWarning)
            process.start()
        child.close()
        self.process, self.conn = process, parent
        self.starts += 1

    def _lost(self, calls: list[Call]) -> WorkerLost:
        """The worker is gone (or has closed its end): reap it and say how it ended."""
        assert self.process is not None
        self.process.join(2.0)
        if self.process.exitcode is None:
            what = "worker stopped answering (its connection closed)"
        else:
            what = f"worker {describe_exit(self.process.exitcode)}"
        where, index = self._fault_location(), self._in_flight(calls)
        self.stop(grace=0.0)
        lost = WorkerLost(what, calls[index].during, where)
        lost.index = index
        return lost

    def _in_flight(self, calls: list[Call]) -> int:
        """Which of ``calls`` the worker was running: it writes the index before each."""
        if self._progress is None:
            return 0
        self._progress.seek(0)
        raw = self._progress.read(_INDEX.size)
        index = _INDEX.unpack(raw)[0] if len(raw) == _INDEX.size else 0
        return index if 0 <= index < len(calls) else 0

    def _fault_location(self) -> str:
        """`` (at crashy.py:7 in forward)``: the innermost frame of the kernel's code in the
        traceback faulthandler wrote when the worker died of a signal, if it did."""
        if self._fault_file is None:
            return ""
        self._fault_file.seek(0)
        dump = self._fault_file.read().decode("utf-8", "replace")
        skip = (sysconfig.get_paths()["stdlib"], os.path.dirname(__file__))
        for line in dump.splitlines():
            match = _FRAME.match(line)
            if match and not match["file"].startswith(skip):
                return f" (at {os.path.basename(match['file'])}:{match['line']} in {match['func']})"
        return ""

    def _close(self) -> None:
        for resource in (self.conn, self._fault_file, self._progress):
            if resource is not None:
                resource.close()
        self.process = self.conn = self._fault_file = self._progress = None


_ERRORS: dict[str, type[Exception]] = {
    "raised": KernelRaised,
    "fault": KernelFault,
    "not_declared": NotDeclared,
    "harness": HarnessError,
}
"""The exception the parent raises for each status of a reply other than ``ok``."""


def serve(
    conn: Connection,
    backend: Backend,
    fault_file: IO[bytes],
    progress: IO[bytes],
    inherited: list[Connection],
) -> None:
    """The worker's loop: one call in, one ``(status, payload)`` out, until told to stop."""
    for other in inherited:
        other.close()
    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.dup2(2, 1)  # print() and C-level writes to stdout go to stderr instead
    sys.stdout = sys.stderr
    faulthandler.enable(file=fault_file)
    tracked: Tracked = []
    while True:
        try:
            message = conn.recv_bytes()
        except (EOFError, OSError):
            return
        if message == STOP:
            return
        calls = decode_calls(message)
        try:
            answer = encode_replies(*_answer(backend, calls, tracked, progress.fileno()))
        except Exception as exc:  # an output that cannot be sent back
            problem = f"{during(calls)} returned what cannot be sent back: {exc}"
            answer = encode_replies("fault", (0, problem))
        conn.send_bytes(answer)


def _die_with_parent() -> None:
    """On Linux, have the kernel kill this worker when the harness dies (even by SIGKILL),
    so that a hung kernel never outlives it."""
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def _answer(
    backend: Backend, calls: list[Call], tracked: Tracked, progress: int
) -> tuple[str, Any]:
    """``("ok", replies)``, or the status of the first call that failed with its index and
    message. The index of each call is written to ``progress`` before it runs."""
    replies = []
    for index, call in enumerate(calls):
        os.pwrite(progress, _INDEX.pack(index), 0)
        try:
            replies.append(execute(backend, call, tracked, catch_exit=False))
        except KernelRaised as exc:
            return "raised", (index, str(exc))
        except KernelFault as exc:
            return "fault", (index, str(exc))
        except NotDeclared as exc:
            return "not_declared", (index, str(exc))
        except Exception as exc:  # a bug of the harness's own code in the worker
            return "harness", (index, describe_exception(exc))
    return "ok", replies


def serve_refusal(conn: Connection, problem: str) -> None:
    """The loop of a worker that has no backend to serve: every call is answered with
    ``problem`` (a harness error naming the backend), until told to stop."""
    while True:
        try:
            message = conn.recv_bytes()
        except (EOFError, OSError):
            return
        if message == STOP:
            return
        conn.send_bytes(encode_replies("harness", (0, problem)))


def fresh_main() -> None:
    """A fresh worker's entry point (``python -c``, from
    :func:`~conformance.isolation.fresh.start_fresh`): load the backend its recipe
    names, then serve it until told to stop."""
    setup = json.loads(sys.argv[1])
    sys.argv = sys.argv[:1]
    sys.path[:] = setup["path"]
    conn = Connection(setup["conn"])
    fault_file = os.fdopen(setup["fault"], "r+b", buffering=0)
    progress = os.fdopen(setup["progress"], "r+b", buffering=0)
    recipe = Recipe(**setup["recipe"])
    try:
        backend, problem = load_backend(recipe)
    except Exception as exc:  # the plugin itself is broken in a fresh process
        backend, problem = None, f"{type(exc).__name__}: {exc}"
    if backend is None:
        serve_refusal(conn, f"could not load backend {recipe.backend!r} afresh: {problem}")
        return
    serve(conn, backend, fault_file, progress, [])
