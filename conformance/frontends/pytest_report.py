"""Results out of the pytest suite: one report, also under pytest-xdist.

Each test attaches its result, encoded as JSON, to its report's ``user_properties``
(:func:`attach_result`). pytest-xdist ships those reports to the controller, where
the :class:`ConformanceReporter` (made at the first result, on the controller only)
collects every result, saves the failing inputs, writes ``--conformance-json`` and
``--conformance-report`` once, and prints a short matrix at the end of the run,
fitted to the terminal.
"""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import pytest

from conformance.errors import ResultFileError
from conformance.frontends.pytest_options import PROPERTY, option
from conformance.frontends.recording import Recorder
from conformance.frontends.reproduce import inputs_directory, save_failing_inputs
from conformance.frontends.session import Session
from conformance.report import write_report
from conformance.report.fit import fit_table, wrap
from conformance.report.model import LEGEND, build_report
from conformance.report.text import headline, plural, summary_table
from conformance.results.codec import decode_result, encode_result
from conformance.results.files import write_results
from conformance.results.model import CheckResult


def attach_result(item: pytest.Item, result: CheckResult) -> None:
    """Attach ``result`` to the test's report so that it survives the trip from a worker."""
    item.user_properties.append((PROPERTY, json.dumps(encode_result(result), allow_nan=False)))


def header_lines(session: Session) -> list[str]:
    """What the suite checks, said once after collection; plugins that did not load."""
    specs = session.catalog.select(session.selection.specs)
    backends = session.registry.select(session.selection.backends)
    names = ", ".join(b.name for b in backends) or "none"
    lines = [
        f"conformance: {plural(len(specs), 'spec')} × {plural(len(backends), 'backend')} "
        f"({names}), seed {session.selection.seed}"
    ]
    lines += [
        f"conformance: plugin {h.name!r} {h.state}: {h.reason}"
        for h in session.registry.health
        if h.state != "loaded"
    ]
    return lines


class ConformanceReporter:
    """Collects results on the controller; writes the files and the summary once."""

    def __init__(self, config: pytest.Config, session: Session) -> None:
        self.config = config
        self.json_path = _path(option(config, "json"))
        self.report_path = _path(option(config, "report"))
        command = shlex.join(["pytest", *config.invocation_params.args])
        machine = option(config, "machine")
        self.recorder = Recorder(
            session, command=command, machine=machine if isinstance(machine, str) else None
        )
        self.written: list[Path] = []

    def record(self, report: pytest.TestReport) -> None:
        """Keep the result a test's call report carries."""
        for name, value in report.user_properties:
            if name != PROPERTY:
                continue
            try:
                result = decode_result(json.loads(str(value)), report.nodeid)
            except (ValueError, ResultFileError) as exc:  # never lose the run to a bad record
                sys.stderr.write(f"conformance: could not read result of {report.nodeid}: {exc}\n")
                continue
            self.recorder.record(result)

    def finish(self) -> None:
        """Save the failing inputs, the result file and the report, as asked."""
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

    def summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        """Per backend: verdict and counts; then only the specs that fail or barely pass."""
        if not self.recorder.results or self.config.get_verbosity() < -1:
            return
        report = build_report(self.recorder.result_set())
        width = self.config.get_terminal_writer().fullwidth
        write = terminalreporter.write_line
        terminalreporter.write_sep("=", "conformance")
        write(wrap(headline(report), width))
        write(fit_table(*summary_table(report), width))
        problems = [
            [row.spec.id, *(row.cells[c.label].text for c in report.columns)]
            for family in report.families
            for row in family.rows
            if any(cell.state in ("fail", "warn") for cell in row.cells.values())
        ]
        if problems:
            write("")
            write("Specs that fail or pass above half the tolerance:")
            headers = ["spec", *(c.label for c in report.columns)]
            write(fit_table(headers, problems, width))
            write(wrap(LEGEND, width))
        for path in self.written:
            write(f"conformance: wrote {path}")
        if not self.written:
            hint = "conformance: the full matrix with --conformance-report PATH (.md, .html, .txt)"
            write(wrap(hint, width))


def _path(value: object) -> Path | None:
    return Path(value) if isinstance(value, str) and value else None
