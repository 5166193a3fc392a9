"""The command line on a real terminal (a pseudo-terminal of 80 or 200 columns): tables
fit, check names are never cut, progress goes to stderr whenever stderr is a terminal."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

from conformance.frontends.progress import progress_line
from conformance.plugins.registry import load_registry
from conformance.report.fit import visible_width

ROOT = Path(__file__).resolve().parents[2]
ANSI = re.compile(r"\x1b\[[0-9;]*m")
CHECK_NAMES = ("shape", "dtype", "numeric", "gradient", "invariants", "stability",
               "inputs_unmodified", "batch_independence", "layout", "stateless",
               "chunking")  # fmt: skip


def run_on_terminal(
    args: list[str], columns: int, cwd: Path, stdout_file: Path | None = None
) -> tuple[int, str]:
    """Run ``python -m conformance ARGS`` with stdin and stderr (and stdout, unless
    ``stdout_file``) on a pseudo-terminal ``columns`` wide; return its exit code and what
    the terminal received."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "NO_COLOR")}
    env.update(PYTHONPATH=str(ROOT), TERM="xterm")
    stdout = stdout_file.open("w") if stdout_file else slave
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "conformance", *args],
            stdin=slave, stdout=stdout, stderr=slave, cwd=cwd, env=env,
        )  # fmt: skip
    finally:
        os.close(slave)
        if stdout_file:
            stdout.close()
    received = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the other side is closed
            break
        if not chunk:
            break
        received.append(chunk)
    os.close(master)
    return process.wait(timeout=120), b"".join(received).decode()


def screen(received: str) -> list[str]:
    """The lines a person sees: carriage returns overwrite, colours are invisible."""
    lines = []
    for raw in ANSI.sub("", received).replace("\r\n", "\n").split("\n"):
        line: list[str] = []
        for part in raw.split("\r"):
            line[: len(part)] = part
        lines.append("".join(line).rstrip())
    return lines


@pytest.mark.parametrize("columns", [80, 200])
def test_run_report_fits_the_terminal_and_never_cuts_a_check_name(tmp_path, columns):
    code, received = run_on_terminal(
        ["run", "--spec", "lstm.*", "--dtype", "float32", "--detail"], columns, tmp_path
    )
    assert code == 0, received
    lines = screen(received)
    wide = [line for line in lines if visible_width(line) > columns]
    assert wide == [], wide
    detail = [line.split() for line in lines if line.startswith("lstm.forget_gate ")]
    checks = {w[1] for w in detail if len(w) > 1 and w[1] not in ("✓", "float32")}
    assert checks == set(CHECK_NAMES[:-1]), checks  # each name whole (no "numer", "gradi")
    backends = len(load_registry().backends)  # 3 NumPy ones, and the frameworks installed
    assert f"Conformance report: {backends} backends × 8 specs × float32" in received
    frames = [f for f in ANSI.sub("", received).split("\r") if f.startswith("[")]
    assert frames and all(visible_width(f.rstrip()) <= columns - 1 for f in frames)


def test_progress_shows_on_stderr_when_stdout_goes_to_a_file(tmp_path):
    out = tmp_path / "out.txt"
    code, received = run_on_terminal(
        ["run", "--spec", "lstm.cell", "--backend", "numpy-loops"], 80, tmp_path, stdout_file=out
    )
    assert code == 0, received
    assert re.search(r"\[[#-]{10}\] +\d+/\d+  lstm\.cell numpy-loops", received), received
    # the bar is erased, and the last line says how many checks ran, at which sizes, how fast
    last = received.rstrip().rsplit("\r", 1)[-1].strip()
    assert re.fullmatch(r"conformance: \d+ checks? at --sizes quick in [\d.]+ s", last), last
    report = out.read_text()
    assert report.startswith("Conformance report: 1 backend × 1 spec ×")
    assert "\r" not in report and "\x1b[" not in report  # a file: no bar, no colours
    assert max(len(line) for line in report.splitlines()) > 80  # and whole tables


@pytest.mark.parametrize("command", [["list"], ["show", "bilstm.sequence", "ctc.loss"]])
def test_list_and_show_fit_80_columns(tmp_path, command):
    code, received = run_on_terminal(command, 80, tmp_path)
    assert code == 0, received
    wide = [line for line in screen(received) if visible_width(line) > 80]
    assert wide == [], wide


@pytest.mark.parametrize("width", [200, 80, 60, 40, 20])
def test_progress_line_fits_and_keeps_the_check_name_last_to_go(width):
    what = "bilstm.sequence numpy-vectorized float32 batch_independence"
    line = progress_line(41, 290, 1, what, width)
    assert len(line) <= width - 1
    assert "41/290 ✗1" in line
    if width >= 40:
        assert line.endswith("float32 batch_independence")
    if width >= 120:
        assert line.endswith(what) and line.startswith("[")


def test_progress_bar_width_does_not_depend_on_the_check():
    short = progress_line(5, 290, 0, "rnn.cell fused-gate float32 shape", 80)
    long = progress_line(5, 290, 0, "slstm.forget_gate_right numpy-vectorized float64 gradient", 80)
    assert short.index("]") == long.index("]")  # the bar never jumps from line to line
