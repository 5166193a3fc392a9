"""A one-line progress bar on stderr for ``conformance run``, only on a terminal.

No dependency: the bar redraws itself with a carriage return and erases itself when
done, so that stdout holds nothing but the report. When disabled it does nothing.
"""

from __future__ import annotations

import shutil
import sys
from typing import TYPE_CHECKING, TextIO

from conformance.results.model import CheckResult, Status

if TYPE_CHECKING:
    from conformance.engine import CheckRequest


def wants_progress(stdout: TextIO | None = None, stderr: TextIO | None = None) -> bool:
    """Whether both stdout and stderr are terminals (never inside a pipe or a CI log)."""
    streams = (stdout or sys.stdout, stderr or sys.stderr)
    return all(getattr(s, "isatty", lambda: False)() for s in streams)


class ProgressBar:
    """``[#######-------]  41/290 ✗1  lstm.cell fused-gate float32 gradient``."""

    def __init__(self, total: int, *, enabled: bool, stream: TextIO | None = None) -> None:
        self.total, self.enabled = total, enabled
        self.stream = stream or sys.stderr
        self.done = 0
        self.failed = 0

    def update(self, request: CheckRequest, result: CheckResult) -> None:
        """Count ``result`` and redraw; the engine's ``progress`` callback."""
        self.done += 1
        self.failed += result.status in (Status.FAIL, Status.ERROR)
        if not self.enabled:
            return
        width = shutil.get_terminal_size((80, 20)).columns
        bar_width = max(10, min(30, width // 4))
        filled = bar_width * self.done // max(self.total, 1)
        failed = f" ✗{self.failed}" if self.failed else ""
        line = (
            f"[{'#' * filled}{'-' * (bar_width - filled)}] "
            f"{self.done:>{len(str(self.total))}}/{self.total}{failed}  "
            f"{request.spec.id} {request.backend.name} {request.dtype} {request.check}"
        )
        self.stream.write("\r" + line[: width - 1].ljust(width - 1))
        self.stream.flush()

    def close(self) -> None:
        """Erase the bar."""
        if self.enabled and self.done:
            width = shutil.get_terminal_size((80, 20)).columns
            self.stream.write("\r" + " " * (width - 1) + "\r")
            self.stream.flush()
