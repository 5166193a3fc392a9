"""Issue 10's hostile inputs through the real command line: each ends the process with exit
status 2 and exactly one line on stderr, ``conformance: error: …``, naming what is at fault;
never a traceback, and never after a long wait.

Each case runs ``python -m conformance …`` in a folder of its own. A hostile spec is put in a
``specs`` package in that folder, which shadows the shipped one (the working directory comes
first on ``sys.path``), so the command loads it exactly as it loads the shipped specs.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import spec_text

import conformance

ROOT = Path(conformance.__file__).resolve().parents[1]
EQUATION = "y = sigmoid(x @ W.T + b)"
SECONDS = 60
"""Every case ends well within this (the power tower ran for 100 s before its MemoryError)."""


@dataclass(frozen=True)
class Case:
    """One command run in a folder holding ``files``; stderr must contain ``expect``."""

    id: str
    args: tuple[str, ...]
    expect: tuple[str, ...]
    files: dict[str, bytes] = field(default_factory=dict)


def hostile_spec(old: str, new: str) -> dict[str, bytes]:
    return {"specs/__init__.py": b"", "specs/hostile.toml": spec_text(old, new).encode()}


def equation(extra: str) -> dict[str, bytes]:
    return hostile_spec(EQUATION, f"{EQUATION} + {extra}")


AT_EQUATION = "specs/hostile.toml: spec 'mini.gate': equations[0]: "
BAD_NAME_PLUGIN = b"""
from conformance import Backend, Kernel, hookimpl

@hookimpl
def conformance_register_backends(register):
    register.add(Backend(name=42, kernels={"lstm.hidden_state": Kernel(lambda a: a)}))
"""

CASES = [
    Case("power-tower", ("list",), (AT_EQUATION, "'2 ** 64' would be an integer"),
         equation("0 * ((((((2 ** 64) ** 64) ** 64) ** 64) ** 64) ** 64)")),
    Case("power-tower-run", ("run", "--no-progress"), (AT_EQUATION, "'2 ** 64' would be"),
         equation("0 * ((((((2 ** 64) ** 64) ** 64) ** 64) ** 64) ** 64)")),
    Case("1/0", ("list",), (AT_EQUATION, "ZeroDivisionError: division by zero"),
         equation("1 / 0")),
    Case("10.0**400.0", ("list",), (AT_EQUATION, "OverflowError"), equation("10.0 ** 400.0")),
    Case("0**-1", ("list",), (AT_EQUATION, "ZeroDivisionError"), equation("0 ** -1")),
    Case("10000-unary-minus", ("list",), (AT_EQUATION, "characters long"),
         equation("-" * 10000 + "1")),
    Case("5000-terms", ("list",), (AT_EQUATION, "characters long"),
         equation(" + ".join(["0"] * 5000))),
    Case("4000-digit-literal", ("list",), (AT_EQUATION, "characters long"),
         equation("0 * " + "9" * 4000)),
    Case("1e5x1e5", ("list",), ("spec 'mini.gate'.sizes[0]: x would have 10000000000 elements",),
         hostile_spec("{ B = 2, D = 3, H = 4 }", "{ B = 100000, D = 100000, H = 4 }")),
    Case("D-10", ("list",), ("sizes[0]: x.shape[1] = 'D - 10' is -7",),
         hostile_spec('x = { shape = ["B", "D"]', 'x = { shape = ["B", "D - 10"]')),
    Case("uniform(1,0)", ("list",), ("cannot draw x from 'uniform(1, 0)'",),
         hostile_spec('domain = "normal(0, 1)"', 'domain = "uniform(1, 0)"')),
    Case("latin-1", ("list",), ("specs/latin1.toml: not UTF-8: byte 0xed on line 3",),
         {"specs/__init__.py": b"",
          "specs/latin1.toml": spec_text("minimal", "mínimal").encode("latin-1")}),
    Case("invariant-the-oracle-violates", ("run", "--no-progress"),
         ("specs/hostile.toml: spec 'mini.gate': invariants[0]: 'y >= 1e9' does not hold for "
          "the spec's own oracle",),
         hostile_spec('invariants = ["0 <= y <= 1"]', 'invariants = ["y >= 1e9"]')),
    Case("binary-result-file", ("report", "x.json"), ("x.json: not a result file: byte 0x89",),
         {"x.json": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe"}),
    Case("deep-result-file", ("report", "x.json"), ("x.json: not a result file: JSON nested",),
         {"x.json": b"[" * 100000 + b"]" * 100000}),
    Case("Backend(name=42)", ("run", "--plugin", "bad_name", "--no-progress"),
         ("plugin 'bad_name' failed to load", "registered a backend named 42"),
         {"bad_name.py": BAD_NAME_PLUGIN}),
    Case("seed-1", ("run", "--seed", "-1", "--spec", "lstm.cell"),
         ("--seed -1: a seed is an integer >= 0",)),
]  # fmt: skip


def run_case(case: Case, folder: Path) -> tuple[subprocess.CompletedProcess[str], float]:
    folder.mkdir(parents=True)
    for name, content in case.files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(content)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONFORMANCE_")}
    env.update(PYTHONPATH=str(ROOT), PYTHONIOENCODING="utf-8", NO_COLOR="1")
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "conformance", *case.args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=SECONDS * 3,
        check=False,
    )
    return done, time.perf_counter() - start


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple]:
    """Every case's process, run four at a time (each mostly waits on its imports)."""
    root = tmp_path_factory.mktemp("cli-errors")
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {
            case.id: pool.submit(run_case, case, root / f"case{i}") for i, case in enumerate(CASES)
        }
        return {name: future.result() for name, future in futures.items()}


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_hostile_input_is_one_line_on_stderr_and_exit_2(outcomes, case: Case) -> None:
    done, seconds = outcomes[case.id]
    lines = done.stderr.splitlines()
    assert done.returncode == 2, done.stderr
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("conformance: error: ")
    for fragment in case.expect:
        assert fragment in lines[0]
    assert "Traceback" not in done.stderr + done.stdout
    assert seconds < SECONDS
