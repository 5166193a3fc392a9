"""Results out of ``pytest conformance``: one report, also under pytest-xdist.

Each test attaches its result, encoded as JSON, to its report's ``user_properties``
(:func:`attach_result`). pytest-xdist ships those reports to the controller, where
:class:`ConformanceReporter` (registered only on the controller) collects every
result, saves the failing inputs, writes ``--conformance-json`` and
``--conformance-report`` once, and prints a short matrix at the end of the run.
"""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import pytest
from tabulate import tabulate

from conformance.errors import ConformanceError, ResultFileError
from conformance.frontends.recording import Recorder
from conformance.frontends.reproduce import inputs_directory, save_failing_inputs
from conformance.frontends.session import Session
from conformance.report import format_for_path, write_report
from conformance.report.model import LEGEND, build_report
from conformance.report.text import headline, summary_table
from conformance.results.codec import decode_result, encode_result
from conformance.results.files import write_results
from conformance.results.model import CheckResult

PROPERTY = "conformance_result"
"""Name of the user property that carries a test's result as JSON."""


def attach_result(item: pytest.Item, result: CheckResult) -> None:
    """Attach ``result`` to the test's report so that it survives the trip from a worker."""
    item.user_properties.append((PROPERTY, json.dumps(encode_result(result), allow_nan=False)))


def is_worker(config: pytest.Config) -> bool:
    """Whether this process is a pytest-xdist worker (results go to the controller)."""
    return hasattr(config, "workerinput")


class ConformanceReporter:
    """Collects results on the controller; writes the files and the summary once."""

    def __init__(self, config: pytest.Config, session: Session) -> None:
        self.config = config
        self.json_path: Path | None = _path(config.getoption("--conformance-json"))
        self.report_path: Path | None = _path(config.getoption("--conformance-report"))
        if self.report_path is not None:
            try:
                format_for_path(self.report_path)
            except ConformanceError as exc:
                raise pytest.UsageError(f"conformance: --conformance-report: {exc}") from None
        command = shlex.join(["pytest", *config.invocation_params.args])
        self.recorder = Recorder(
            session, command=command, machine=config.getoption("--conformance-machine")
        )
        self.written: list[Path] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "call":  # teardown reports carry the same properties again
            return
        for name, value in report.user_properties:
            if name != PROPERTY:
                continue
            try:
                result = decode_result(json.loads(str(value)), report.nodeid)
            except (ValueError, ResultFileError) as exc:  # never lose the run to a bad record
                sys.stderr.write(f"conformance: could not read result of {report.nodeid}: {exc}\n")
                continue
            self.recorder.record(result)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if not self.recorder.results or not (self.json_path or self.report_path):
            return
        results = self.recorder.result_set()
        target = self.report_path or self.json_path
        assert target is not None
        save_failing_inputs(results.results, self.recorder.session, inputs_directory(target))
        if self.json_path is not None:
            self.written.append(write_results(self.json_path, results))
        if self.report_path is not None:
            self.written.append(write_report(self.report_path, results))

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        """Per backend: verdict and counts; then only the specs that fail or barely pass."""
        if not self.recorder.results or self.config.get_verbosity() < -1:
            return
        report = build_report(self.recorder.result_set())
        write = terminalreporter.write_line
        terminalreporter.write_sep("=", "conformance")
        write(headline(report))
        headers, rows = summary_table(report)
        write(tabulate(rows, headers=headers, disable_numparse=True))
        problems = [
            [row.spec.id, *(row.cells[c.label].text for c in report.columns)]
            for family in report.families
            for row in family.rows
            if any(cell.state in ("fail", "warn") for cell in row.cells.values())
        ]
        if problems:
            write("")
            headers = [
                "spec (failing or above half the tolerance)",
                *(c.label for c in report.columns),
            ]
            write(tabulate(problems, headers=headers, disable_numparse=True))
            write(LEGEND)
        for path in self.written:
            write(f"conformance: wrote {path}")
        if not self.written:
            write("conformance: the full matrix with --conformance-report PATH (.md, .html, .txt)")


def _path(value: str | None) -> Path | None:
    return Path(value) if value else None
