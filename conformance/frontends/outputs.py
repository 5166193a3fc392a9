"""Where a run's results go, checked before it starts and written as they come.

Both front ends hand their paths to a :class:`RunOutputs`: :meth:`RunOutputs.check`
fails at once, before anything runs, on a path that cannot be written
(``--json /proc/x.json``); :meth:`RunOutputs.start` opens the result file, which then
grows by one line per result and is valid JSON at every moment; :meth:`RunOutputs.finish`
saves the failing inputs, writes the final result file and the report, and records
how the run ended, so that an interrupted run still leaves both, marked incomplete.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from conformance.errors import UsageError
from conformance.frontends.recording import Recorder, spec_infos
from conformance.frontends.reproduce import save_failing_inputs
from conformance.report import format_for_path, write_report
from conformance.results.files import ResultSet, write_results
from conformance.results.model import CheckResult
from conformance.results.stream import ResultStream


def ensure_writable(path: Path, option: str, *, directory: bool = False) -> None:
    """UsageError unless ``path`` (a file, or with ``directory`` a folder) can be written.

    Nothing is left behind: a missing folder is tried in its nearest existing parent.
    """
    if not directory and path.exists():
        if path.is_dir():
            raise UsageError(f"{option} {path}: is a directory")
        try:
            open(path, "ab").close()  # append: nothing of the file is lost
        except OSError as exc:
            raise UsageError(f"{option} {path}: cannot write it: {exc.strerror or exc}") from None
        return
    folder = path if directory else path.parent
    existing = folder.absolute()
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise UsageError(f"{option} {path}: {existing} is not a directory")
    try:
        tempfile.TemporaryFile(dir=existing).close()
    except OSError as exc:
        raise UsageError(
            f"{option} {path}: cannot create files in {existing} ({exc.strerror or exc})"
        ) from None


class RunOutputs:
    """A run's result file, report and failing inputs (each optional).

    :param options: the option that named each path, for messages (``--json``).
    """

    def __init__(
        self,
        *,
        json: Path | None = None,
        report: Path | None = None,
        inputs_dir: Path | None = None,
        detail: bool = False,
        options: tuple[str, str, str] = ("--json", "--report", "--inputs-dir"),
    ) -> None:
        self.json, self.report, self.inputs_dir, self.detail = json, report, inputs_dir, detail
        self.options = options
        self.recorder: Recorder | None = None
        self.stream: ResultStream | None = None
        self.written: list[Path] = []

    def check(self) -> None:
        """UsageError for an output that cannot be written, or a report of unknown format."""
        json_option, report_option, inputs_option = self.options
        if self.report is not None:
            try:
                format_for_path(self.report)
            except UsageError as exc:
                raise UsageError(f"{report_option}: {exc}") from None
            ensure_writable(self.report, report_option)
        if self.json is not None:
            ensure_writable(self.json, json_option)
        if self.inputs_dir is not None:
            ensure_writable(self.inputs_dir, inputs_option, directory=True)

    def start(self, recorder: Recorder, planned: int) -> None:
        """The run begins, ``planned`` checks long: open the result file."""
        self.recorder = recorder
        recorder.plan(planned)
        if self.json is not None:
            specs = spec_infos(recorder.session.catalog)
            self.stream = ResultStream(self.json, recorder.run_info, specs)

    def record(self, result: CheckResult) -> CheckResult:
        """Annotate and keep ``result``, and write it to the result file at once."""
        assert self.recorder is not None, "start() first"
        self.recorder.record(result)
        if self.stream is not None:
            self.stream.append(result)
        return result

    def finish(self, state: str = "complete", note: str = "") -> ResultSet:
        """Save the failing inputs, then the final result file and the report, saying
        how the run ended (``complete``, ``interrupted``, …); returns the results."""
        assert self.recorder is not None, "start() first"
        self.recorder.end(state, note)
        results = self.recorder.result_set()
        if self.inputs_dir is not None:
            save_failing_inputs(results.results, self.recorder.session, self.inputs_dir)
        if self.stream is not None:
            self.written.append(self.stream.finish(results))
        elif self.json is not None:
            self.written.append(write_results(self.json, results))
        if self.report is not None:
            self.written.append(write_report(self.report, results, detail=self.detail))
        return results
