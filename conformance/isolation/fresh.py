"""Workers started as fresh interpreters, for backends whose plugin can be loaded again.

A forked worker inherits the harness's memory, threads included, but not the threads
themselves: once the harness process has run a multi-threaded native library (GNU
OpenMP under PyTorch's oneDNN, as a user's other tests may well do before the
conformance suite runs), a forked child that calls that library waits forever on a
thread pool that does not exist in it. A fresh interpreter has no such past. So a
backend that came from an entry point or a ``--plugin`` module (a
:class:`~conformance.plugins.registry.Recipe` says how to load it again) gets a worker
started with ``python -c`` (:func:`~conformance.isolation.worker.fresh_main`), which
imports its plugin, registers its backends and serves the one asked for; a backend
registered directly in Python (tests, notebooks) can only be forked.

The child gets everything it needs as inherited file descriptors (its connection, the
fault and progress files) and one JSON argument (the recipe, the descriptors, the
harness's ``sys.path``), so that it imports what the harness imported.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
from dataclasses import asdict
from importlib import metadata
from importlib.machinery import PathFinder
from multiprocessing.connection import Connection
from typing import IO

from conformance.plugins.backend import Backend
from conformance.plugins.markers import ENTRY_POINT_GROUP
from conformance.plugins.registry import Recipe, load_registry


class FreshProcess:
    """A worker started as a fresh interpreter, with the interface the worker handle uses
    (that of :class:`multiprocessing.Process`)."""

    def __init__(self, popen: subprocess.Popen[bytes]) -> None:
        self.popen = popen

    def is_alive(self) -> bool:
        return self.popen.poll() is None

    def join(self, timeout: float | None = None) -> None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout)

    def kill(self) -> None:
        if self.popen.poll() is None:
            self.popen.kill()

    @property
    def exitcode(self) -> int | None:
        """The exit status, negative for a signal (as multiprocessing says it), or None."""
        return self.popen.poll()


def start_fresh(
    recipe: Recipe, fault_file: IO[bytes], progress: IO[bytes]
) -> tuple[FreshProcess, Connection]:
    """A fresh interpreter serving ``recipe``'s backend, and the harness's end of its
    connection."""
    ours, theirs = socket.socketpair()
    try:
        fds = (theirs.fileno(), fault_file.fileno(), progress.fileno())
        setup = {
            "recipe": asdict(recipe),
            "conn": fds[0],
            "fault": fds[1],
            "progress": fds[2],
            "path": [p for p in sys.path if isinstance(p, str)],
        }
        code = "from conformance.isolation.worker import fresh_main; fresh_main()"
        popen = subprocess.Popen(
            [sys.executable, "-c", code, json.dumps(setup)],
            pass_fds=fds,
            stdin=subprocess.DEVNULL,
            cwd=os.getcwd(),
        )
    finally:
        theirs.close()
    return FreshProcess(popen), Connection(ours.detach())


def load_backend(recipe: Recipe) -> tuple[Backend | None, str]:
    """The backend ``recipe`` names, loaded as the harness loaded it; or None and why not."""
    if recipe.kind == "entry point":
        entry = metadata.EntryPoint(recipe.plugin, recipe.target, ENTRY_POINT_GROUP)
        try:
            plugin = entry.load()
        except Exception as exc:
            return None, f"{type(exc).__name__}: {exc}"
        registry = load_registry(
            extra_plugins=[(recipe.plugin, plugin)], use_entry_points=False, environ={}
        )
    else:
        registry = load_registry([recipe.target], use_entry_points=False, environ={})
    backend = registry.backends.get(recipe.backend)
    if backend is not None:
        return backend, ""
    reasons = "; ".join(f"{h.name}: {h.state} {h.reason}".strip() for h in registry.health)
    return None, f"its plugin registered no backend {recipe.backend!r} ({reasons or 'no plugin'})"


def imports_the_same(recipe: Recipe) -> bool:
    """Whether a fresh interpreter on this ``sys.path`` would import the plugin module
    this process has loaded, from the same file: not when another module of that name
    was imported first (tests that write ``my_plugin.py`` into several folders), nor
    when the module was not loaded from a file at all."""
    name = recipe.target.split(":", 1)[0].strip()
    loaded = getattr(sys.modules.get(name), "__file__", None)
    if not loaded:
        return False
    search: list[str] | None = [p for p in sys.path if isinstance(p, str)]
    found = None
    for part in _prefixes(name):
        found = PathFinder.find_spec(part, search)
        if found is None:
            return False
        search = list(found.submodule_search_locations or [])
    return found is not None and _same(found.origin, loaded)


def _prefixes(name: str) -> list[str]:
    """``a.b.c`` → ``a``, ``a.b``, ``a.b.c``: the modules an import of it finds in turn."""
    parts = name.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


def _same(a: str | None, b: str) -> bool:
    return a is not None and os.path.realpath(a) == os.path.realpath(b)
