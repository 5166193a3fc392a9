"""Stopping a run cleanly: SIGTERM (a CI job's timeout, ``kill``) is handled like Ctrl-C.

Inside :func:`terminate_as_exception`, SIGTERM raises :class:`Terminated` in the main
thread, so that the run stops where it is, records how far it got, writes its result
file and report marked incomplete, and stops the kernels' workers, as it does for
KeyboardInterrupt. Neither is an ``Exception``: no ``except Exception`` swallows them.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

EXIT_INTERRUPTED, EXIT_TERMINATED = 130, 143
"""The exit statuses of a run stopped by SIGINT and by SIGTERM (128 + the signal)."""


class Terminated(BaseException):
    """The process received SIGTERM."""


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    raise Terminated(f"received {signal.Signals(signum).name}")


@contextmanager
def terminate_as_exception() -> Iterator[None]:
    """SIGTERM raises :class:`Terminated` while inside (main thread only; elsewhere a no-op)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
