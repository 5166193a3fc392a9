"""Shared builders for the result, report and CLI tests: results and result sets as data."""

from __future__ import annotations

import pytest

from conformance.environment import Environment
from conformance.result_files import ResultSet, Run, SpecInfo
from conformance.results import CheckResult, Status


def environment(machine: str = "cpu-box") -> Environment:
    return Environment(
        machine=machine,
        python="CPython 3.11.7",
        numpy="2.4.6",
        blas="scipy-openblas 0.3.31",
        threads="16 cpus",
        arch="x86_64",
        platform="Linux",
        conformance="0.1.0",
    )


def result(backend: str = "numpy-loops", **fields) -> CheckResult:
    values = dict(
        spec="lstm.forget_gate",
        backend=backend,
        dtype="float32",
        check="numeric",
        status=Status.PASS,
        max_abs=1e-7,
        max_rel=2e-7,
        tol_fraction=0.1,
        worst="f[0, 1]",
        tolerance={"atol": 1e-6, "rtol": 1e-5},
        sizes={"B": 3, "D": 5, "H": 4},
        case=0,
        seconds=1e-5,
        machine="cpu-box",
        run="run-a",
    )
    values.update(fields)
    return CheckResult(**values)


def result_set(
    *results: CheckResult,
    run: str = "run-a",
    machine: str = "cpu-box",
    started: str = "2026-01-01T00:00:00+00:00",
) -> ResultSet:
    runs = {run: Run(run, environment(machine), started=started, seed=0)}
    specs = {"lstm.forget_gate": SpecInfo("lstm.forget_gate", "Forget gate", "lstm", "LSTM")}
    return ResultSet(list(results), runs, specs)


@pytest.fixture
def make_result():
    """``make_result(backend, **fields)``: a passing numeric result unless told otherwise."""
    return result


@pytest.fixture
def make_result_set():
    """``make_result_set(*results, run=, machine=, started=)``: results with their run."""
    return result_set


@pytest.fixture
def make_environment():
    return environment
