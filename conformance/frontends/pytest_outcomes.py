"""Every pytest outcome of a conformance test becomes a result, and a failed test never a pass.

A conformance test normally attaches its result to its report
(:func:`attach_result`). Its test can still fail some other way: a crash in the test
or in a fixture, a failing teardown, or a pytest-xdist worker that died while running
it, for which only the controller's "worker 'gw0' crashed" report exists. For each
test, :class:`Outcomes` gathers the reports of every phase and, once the test is over
(its teardown, or the crash report), decides its result: the attached one when the
test passed or failed as the result says, else an ``error`` carrying pytest's own
message. Tests are matched to the session's plan by their id.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass, field

import pytest

from conformance.engine import CheckRequest, blank_result
from conformance.errors import ResultFileError
from conformance.frontends.pytest_options import PROPERTY
from conformance.results.codec import decode_result, encode_result
from conformance.results.model import CheckResult, Status

CELL = re.compile(r"::test_conformance\[(?P<id>.+)\]$")
"""A conformance test's node id, ending in its cell's id."""
LAST_PHASES = ("teardown", "???")
"""After these phases a test is over: its teardown, or pytest-xdist's crash report."""


def attach_result(item: pytest.Item, result: CheckResult) -> None:
    """Attach ``result`` to the test's report so that it survives the trip from a worker."""
    item.user_properties.append((PROPERTY, json.dumps(encode_result(result), allow_nan=False)))


@dataclass
class _Test:
    cell: str
    result: CheckResult | None = None
    failures: list[str] = field(default_factory=list)


class Outcomes:
    """Turns the reports of conformance tests into one result per test that ran.

    :param plan: the session's requests, by cell id, to build results for tests that
        reported no result of their own.
    """

    def __init__(self, plan: dict[str, CheckRequest], seed: int = 0) -> None:
        self.plan, self.seed = plan, seed
        self._tests: dict[str, _Test] = {}

    def report(self, report: pytest.TestReport) -> CheckResult | None:
        """Take one phase's report; returns the test's result once the test is over."""
        match = CELL.search(report.nodeid)
        if match is None:
            return None
        test = self._tests.setdefault(report.nodeid, _Test(match["id"]))
        if test.result is None:
            test.result = _attached(report)
        if report.failed:
            test.failures.append(f"{'crash' if report.when == '???' else report.when}: "
                                 f"{_summary(report)}")  # fmt: skip
        if report.when not in LAST_PHASES:
            return None
        del self._tests[report.nodeid]
        return self._decide(test)

    def _decide(self, test: _Test) -> CheckResult | None:
        result, failures = test.result, test.failures
        if not failures:
            return result
        if result is not None and not result.ok:  # it failed, and pytest says so too
            others = [f for f in failures if not f.startswith("call:")]
            if others:
                result.message += f" (and {'; '.join(others)})"
            return result
        said = f" (the check itself said {result.status.value})" if result is not None else ""
        if result is None:
            request = self.plan.get(test.cell)
            if request is None:
                sys.stderr.write(f"conformance: no planned check has the id {test.cell!r}\n")
                return None
            result = blank_result(request, seed=self.seed)
        result.status = Status.ERROR
        result.message = "; ".join(failures) + said
        result.extra["pytest_failure"] = True
        return result


def _attached(report: pytest.TestReport) -> CheckResult | None:
    for name, value in report.user_properties:
        if name != PROPERTY:
            continue
        try:
            return decode_result(json.loads(str(value)), report.nodeid)
        except (ValueError, ResultFileError) as exc:  # never lose the run to a bad record
            sys.stderr.write(f"conformance: could not read result of {report.nodeid}: {exc}\n")
    return None


def _summary(report: pytest.TestReport) -> str:
    """The gist of a failed report: its ``E`` lines' last, or the last line of its text."""
    text = report.longreprtext if report.longrepr is not None else ""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    errors = [line[1:].strip() for line in lines if line.startswith("E ")]
    gist = errors[-1] if errors else lines[-1] if lines else "failed"
    return gist if len(gist) <= 300 else gist[:297] + "..."
