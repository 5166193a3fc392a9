"""What the terminal is: its width for the printed tables, and whether to draw progress.

Tables fit the terminal when stdout is one (``$COLUMNS`` overrides its width, as for
any terminal program); a file or a pipe gets whole tables, lines that grep finds. Progress is
drawn on stderr whenever stderr is a terminal, whatever stdout is, so that
``conformance run > out.txt`` shows it and a CI log never holds it.
"""

from __future__ import annotations

import os
import shutil
import sys
from typing import TextIO

COLUMNS_ENV_VAR = "COLUMNS"


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # closed, or not a real stream
        return False


def output_width(stream: TextIO | None = None) -> int | None:
    """The width to fit tables printed on ``stream`` (stdout) to: the terminal's (``$COLUMNS``
    overrides it, as for any terminal program), or None for no limit in a file or pipe."""
    if _isatty(stream or sys.stdout):
        return shutil.get_terminal_size().columns
    return None


def wants_progress(stderr: TextIO | None = None) -> bool:
    """Whether to draw progress: when stderr is a terminal (stdout may be anything)."""
    return _isatty(stderr or sys.stderr)


def progress_width(stderr: TextIO | None = None) -> int:
    """The width of the terminal progress is drawn on."""
    columns = os.environ.get(COLUMNS_ENV_VAR, "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    try:
        return os.get_terminal_size((stderr or sys.stderr).fileno()).columns
    except (AttributeError, ValueError, OSError):
        return shutil.get_terminal_size().columns
