"""Results out of the pytest suite: one report, also under pytest-xdist.

Each test attaches its result, encoded as JSON, to its report's ``user_properties``
(:func:`attach_result`). pytest-xdist ships those reports to the controller, where
the :class:`ConformanceReporter` (made at the first result, on the controller only)
turns every test's reports into its result (:mod:`~conformance.frontends.pytest_outcomes`:
a test that failed is never a pass, a crashed worker's test is an error), writes each
to ``--conformance-json`` as it comes, and at the end saves the failing inputs, the
final result file and ``--conformance-report`` (marked incomplete when the session was
interrupted or stopped early), and prints a short matrix fitted to the terminal.
"""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from conformance.frontends.outputs import RunOutputs
from conformance.frontends.pytest_options import option
from conformance.frontends.pytest_outcomes import Outcomes, attach_result
from conformance.frontends.recording import Recorder
from conformance.frontends.reproduce import inputs_directory
from conformance.frontends.session import Session
from conformance.report.fit import fit_table, wrap
from conformance.report.model import LEGEND, build_report
from conformance.report.text import headline, plural, summary_table

__all__ = ["ConformanceReporter", "attach_result", "header_lines", "outputs_of"]


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


def outputs_of(config: pytest.Config) -> RunOutputs:
    """Where ``--conformance-json`` and ``--conformance-report`` (and failing inputs) go."""
    json_path, report_path = _path(option(config, "json")), _path(option(config, "report"))
    target = report_path or json_path
    return RunOutputs(
        json=json_path,
        report=report_path,
        inputs_dir=inputs_directory(target) if target is not None else None,
        options=("--conformance-json", "--conformance-report", "--conformance-json"),
    )


class ConformanceReporter:
    """Collects results on the controller; writes them as they come, and the report once."""

    def __init__(self, config: pytest.Config, session: Session) -> None:
        self.config = config
        self.outputs = outputs_of(config)
        command = shlex.join(["pytest", *config.invocation_params.args])
        machine = option(config, "machine")
        self.recorder = Recorder(
            session, command=command, machine=machine if isinstance(machine, str) else None
        )
        self.outcomes = Outcomes({r.id: r for r in session.requests()}, session.selection.seed)
        self.started = False

    @property
    def written(self) -> list[Path]:
        return self.outputs.written

    def record(self, report: pytest.TestReport) -> None:
        """Take one phase's report of a conformance test; once the test is over, keep its
        result and write it to the result file."""
        result = self.outcomes.report(report)
        if result is None:
            return
        if not self.started:
            self.outputs.start(self.recorder, 0)
            self.started = True
        self.outputs.record(result)

    def finish(self, planned: int, *, interrupted: bool = False) -> None:
        """Save the failing inputs, the final result file and the report, saying how the
        session ended: interrupted, stopped before every planned test ran (``-x``, or
        pytest-xdist giving up on crashing workers), or complete."""
        if not self.started:
            return
        self.recorder.plan(max(planned, len(self.recorder.results)))
        if interrupted:
            state = "interrupted"
        elif len(self.recorder.results) < planned:
            state = "stopped"
        else:
            state = "complete"
        self.outputs.finish(state)

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
