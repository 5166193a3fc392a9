"""Shared fixtures: the shipped catalog and its oracle, a way to run one check on an inline
kernel, and builders of results and result sets as data for the report and CLI tests."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from conformance import Backend, Kernel
from conformance.engine import CheckRequest, run_check
from conformance.oracle.evaluate import Oracle
from conformance.oracle.verify import load_checked_catalog
from conformance.results.environment import Environment
from conformance.results.files import ResultSet, Run, SpecInfo
from conformance.results.model import CheckResult, Status
from conformance.spec.catalog import Catalog
from conformance.spec.model import Spec

CheckKernel = Callable[..., CheckResult]


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    """Every shipped spec."""
    return load_checked_catalog()


@pytest.fixture(scope="session")
def oracle(catalog: Catalog) -> Oracle:
    return Oracle(catalog.specs)


@pytest.fixture
def check_kernel(catalog: Catalog, oracle: Oracle) -> CheckKernel:
    """``check_kernel(spec, check, forward, vjp=None, dtype="float64")``: one check of an
    inline kernel, registered as the backend ``under-test``; ``spec`` is an id or a Spec."""

    def run(
        spec: str | Spec,
        check_name: str,
        forward: Callable,
        vjp: Callable | None = None,
        dtype: str = "float64",
    ) -> CheckResult:
        spec = catalog.get(spec) if isinstance(spec, str) else spec
        backend = Backend("under-test", {spec.id: Kernel(forward, vjp)})
        return run_check(CheckRequest(spec, backend, dtype, check_name), oracle)

    return run


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
        run_id="run-a",
    )
    if "run" in fields:
        fields["run_id"] = fields.pop("run")
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


SPEC_TEMPLATE = """\
[family]
id = "mini"
title = "A minimal family"

[defaults]
sizes = [{ B = 2, D = 3, H = 4 }]

[symbols]
x = { shape = ["B", "D"], role = "input", domain = "normal(0, 1)" }
W = { shape = ["H", "D"], role = "parameter", domain = "normal(0, 0.5)" }
b = { shape = ["H"], role = "parameter" }
y = { shape = ["B", "H"], role = "output" }

[[spec]]
id = "mini.gate"
inputs = ["x", "W", "b"]
outputs = ["y"]
equations = ["y = sigmoid(x @ W.T + b)"]
invariants = ["0 <= y <= 1"]
stability = { x = "extreme(1000)" }
"""
"""A valid one-spec family (``mini.gate``); hostile specs replace one fragment of it."""


def spec_text(old: str = "", new: str = "") -> str:
    """:data:`SPEC_TEMPLATE` with its single occurrence of ``old`` replaced by ``new``."""
    if not old:
        return SPEC_TEMPLATE
    assert SPEC_TEMPLATE.count(old) == 1, f"the template should contain {old!r} exactly once"
    return SPEC_TEMPLATE.replace(old, new)


@pytest.fixture
def make_spec_text():
    """``make_spec_text(old, new)``: the minimal spec file with one fragment replaced."""
    return spec_text
