"""``pytest conformance``: a crashing backend is never reported as conforming, xdist included."""

from __future__ import annotations

from pathlib import Path

import pytest

import conformance
from conformance.frontends.pytest_outcomes import Outcomes, attach_result
from conformance.frontends.session import Selection, Session
from conformance.results.files import read_results
from conformance.results.model import Status

pytest_plugins = ["pytester"]

SUITE = str(Path(conformance.__file__).parent)
CRASHING = '''
"""A backend whose hidden-state kernel segfaults: the harness must not call it conforming."""

import ctypes

from conformance import Backend, Kernel, hookimpl


def hidden_state(a):
    ctypes.string_at(0)


@hookimpl
def conformance_register_backends(register):
    register.add(Backend("crashing", {"lstm.hidden_state": Kernel(hidden_state)}))
'''
SELECTION = [
    "--conformance-spec", "lstm.hidden_state", "--conformance-dtype", "float32",
    "--conformance-check", "shape",
]  # fmt: skip


@pytest.fixture
def crashing(pytester):
    pytester.makepyfile(crashing_backend=CRASHING)
    return [
        "--conformance-plugin", "crashing_backend",
        "--conformance-backend", "numpy-vectorized,crashing",
    ]  # fmt: skip


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_a_crashing_backend_is_an_error_in_the_json_and_the_summary(pytester, crashing, workers):
    out = pytester.path / "r.json"
    run = pytester.runpytest_subprocess(
        SUITE, *workers, *crashing, *SELECTION, "--conformance-json", str(out),
        "-p", "no:cacheprovider", "-q",
    )  # fmt: skip
    assert run.ret == 1, run.stdout.str()
    results = {r.backend: r for r in read_results(out).results}
    assert results["crashing"].status is Status.ERROR
    assert "worker died with SIGSEGV during forward of lstm.hidden_state" in (
        results["crashing"].message
    )
    assert results["numpy-vectorized"].status is Status.PASS
    run.stdout.fnmatch_lines(["*= conformance =*", "*crashing*FAILS*"])
    assert "every backend conforms" not in run.stdout.str()


def test_a_crashed_xdist_worker_is_an_error_and_its_backend_stays_in_the_report(pytester, crashing):
    """In-process, the segfault kills pytest-xdist's worker: the controller records it."""
    out = pytester.path / "r.json"
    run = pytester.runpytest_subprocess(
        SUITE, "-n", "2", "--conformance-in-process", *crashing, *SELECTION,
        "--conformance-json", str(out), "-p", "no:cacheprovider", "-q",
    )  # fmt: skip
    assert run.ret == 1, run.stdout.str()
    results = {r.backend: r for r in read_results(out).results}
    crashed = results["crashing"]
    assert crashed.status is Status.ERROR and crashed.extra["pytest_failure"] is True
    assert "crash: worker 'gw" in crashed.message and "crashed while running" in crashed.message
    assert results["numpy-vectorized"].status is Status.PASS
    run.stdout.fnmatch_lines(["*crashing*FAILS*"])


class _Report:
    """Just what :class:`Outcomes` reads of a ``pytest.TestReport``."""

    def __init__(self, nodeid, when, outcome="passed", longrepr=None, properties=()):
        self.nodeid, self.when, self.longrepr = nodeid, when, longrepr
        self.failed = outcome == "failed"
        self.user_properties = list(properties)
        self.longreprtext = str(longrepr or "")


class _Item:
    def __init__(self):
        self.user_properties = []


@pytest.fixture
def outcomes():
    session = Session.load(Selection(backends=("numpy-vectorized",), specs=("lstm.cell",)))
    requests = session.requests()
    return Outcomes({r.id: r for r in requests}), requests[0]


def _phases(nodeid, call="passed", teardown="passed", result=None, longrepr=None):
    item = _Item()
    if result is not None:
        attach_result(item, result)
    return [
        _Report(nodeid, "setup", properties=item.user_properties),
        _Report(nodeid, "call", call, longrepr if call == "failed" else None, item.user_properties),
        _Report(
            nodeid,
            "teardown",
            teardown,
            longrepr if teardown == "failed" else None,
            item.user_properties,
        ),
    ]


def test_a_passing_check_whose_test_failed_is_recorded_as_an_error(outcomes, make_result):
    tracker, request = outcomes
    nodeid = f"conformance/test_conformance.py::test_conformance[{request.id}]"
    passing = make_result("numpy-vectorized", spec=request.spec.id, check=request.check)
    reports = _phases(nodeid, teardown="failed", result=passing, longrepr="E   OSError: gone")
    decided = [tracker.report(r) for r in reports]
    assert decided[:2] == [None, None]
    assert decided[2].status is Status.ERROR
    assert decided[2].message == "teardown: OSError: gone (the check itself said pass)"


def test_a_test_that_failed_without_a_result_is_an_error_from_the_plan(outcomes):
    tracker, request = outcomes
    nodeid = f"conformance/test_conformance.py::test_conformance[{request.id}]"
    crash = _Report(nodeid, "???", "failed", f"worker 'gw1' crashed while running '{nodeid}'")
    result = tracker.report(crash)
    assert result.status is Status.ERROR and result.id == request.id
    assert result.message.startswith("crash: worker 'gw1' crashed while running")


def test_a_failed_check_keeps_its_own_message(outcomes, make_result):
    tracker, request = outcomes
    nodeid = f"conformance/test_conformance.py::test_conformance[{request.id}]"
    failing = make_result("numpy-vectorized", status=Status.FAIL, message="h[0] is off")
    reports = _phases(nodeid, call="failed", result=failing, longrepr="E   h[0] is off")
    assert [tracker.report(r) for r in reports][2].message == "h[0] is off"


def test_reports_of_other_tests_are_ignored(outcomes):
    tracker, _ = outcomes
    assert tracker.report(_Report("tests/test_x.py::test_y", "teardown", "failed", "E   x")) is None
