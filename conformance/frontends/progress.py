"""A one-line progress bar on stderr for ``conformance run``, when stderr is a terminal.

No dependency: the bar redraws itself with a carriage return and erases itself when
done, so that stdout holds nothing but the report. When disabled it does nothing.
It always fits the terminal: the bar shrinks, then goes, and the check's name is the
last thing to be cut (``…ence numpy-vectorized float32 gradient``).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, TextIO

from conformance.frontends.terminal import progress_width, wants_progress
from conformance.results.model import CheckResult, Status

if TYPE_CHECKING:
    from conformance.engine import CheckRequest

__all__ = ["ProgressBar", "progress_line", "wants_progress"]

BAR_MIN, BAR_MAX = 10, 30


def progress_line(done: int, total: int, failed: int, what: str, width: int) -> str:
    """``[#####-----]  41/290 ✗1  lstm.cell fused-gate float32 gradient``, in ``width - 1``
    columns (the last is left free so that the terminal never wraps the line).

    The bar's width depends on the terminal's only, so that it never jumps from one
    check to the next; what does not fit is cut from the left of ``what``.
    """
    room = max(width - 1, 1)
    count = f"{done:>{len(str(total))}}/{total}" + (f" ✗{failed}" if failed else "")
    bar_width = BAR_MAX if room >= 120 else BAR_MIN if room >= 50 else 0
    filled = bar_width * done // max(total, 1)
    bar = f"[{'#' * filled}{'-' * (bar_width - filled)}] " if bar_width else ""
    head = f"{bar}{count}  "
    keep = room - len(head)
    if len(what) <= keep:
        return head + what
    if keep < 2:
        return head.rstrip()[:room]
    return head + "…" + what[len(what) - keep + 1 :]


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
        width = progress_width(self.stream)
        what = f"{request.spec.id} {request.backend.name} {request.dtype} {request.check}"
        line = progress_line(self.done, self.total, self.failed, what, width)
        self.stream.write("\r" + line.ljust(max(width - 1, 1)))
        self.stream.flush()

    def close(self) -> None:
        """Erase the bar."""
        if self.enabled and self.done:
            width = progress_width(self.stream)
            self.stream.write("\r" + " " * max(width - 1, 1) + "\r")
            self.stream.flush()
