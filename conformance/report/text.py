"""The report as text: a terminal page and a Markdown page, tables drawn by tabulate."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from tabulate import tabulate

from conformance.report.failures import fact_lines, failure_blocks
from conformance.report.model import (
    BASELINE,
    LEGEND,
    Cell,
    Report,
    Summary,
    format_seconds,
    format_speedup,
)
from conformance.results.files import relative_to
from conformance.results.model import Status

ANSI = {
    "pass": "\x1b[32m",
    "warn": "\x1b[33m",
    "fail": "\x1b[31m",
    "na": "\x1b[2m",
}
RESET = "\x1b[0m"
STATUS_COLUMNS = (Status.PASS, Status.FAIL, Status.ERROR, Status.NOT_IMPLEMENTED)


def verdict(summary: Summary) -> str:
    """``conforms``, ``FAILS``, or ``not implemented`` when nothing was checked."""
    if not summary.conforms:
        return "FAILS"
    return "conforms" if summary.counts.get(Status.PASS) else "not implemented"


def summary_table(report: Report) -> tuple[list[str], list[list[object]]]:
    """Backend, verdict and counts per status."""
    headers = ["backend", "verdict", *(s.value.replace("_", " ") for s in STATUS_COLUMNS)]
    rows = [
        [
            s.column.label,
            verdict(s),
            *(s.counts.get(status, 0) for status in STATUS_COLUMNS),
        ]
        for s in report.summaries
    ]
    return headers, rows


def matrix_table(
    report: Report, paint: Callable[[Cell], str], family_row: Callable[[str], str]
) -> tuple[list[str], list[list[str]]]:
    """Specs grouped by family against backends, one compact cell per spec."""
    headers = ["spec", *(c.label for c in report.columns)]
    rows: list[list[str]] = []
    for family in report.families:
        title = f"{family.id} — {family.title}" if family.title else family.id
        rows.append([family_row(title), *("" for _ in report.columns)])
        for row in family.rows:
            rows.append([row.spec.id, *(paint(row.cells[c.label]) for c in report.columns)])
    return headers, rows


def detail_table(report: Report, paint: Callable[[Cell], str]) -> tuple[list[str], list[list[str]]]:
    """One row per (spec, check kind), dtypes aggregated."""
    headers = ["spec", "check", *(c.label for c in report.columns)]
    rows = [
        [spec, check, *(paint(cells[c.label]) for c in report.columns)]
        for (spec, check), cells in report.detail.items()
    ]
    return headers, rows


def timing_table(report: Report) -> tuple[list[str], list[list[str]]]:
    """Median time per forward call at the largest sizes, and the speedup over the baseline."""
    headers = ["spec", "dtype", *(c.label for c in report.columns)]
    rows = []
    for timing in report.timings:
        cells = []
        for column in report.columns:
            seconds = timing.seconds.get(column.label)
            if seconds is None:
                cells.append("")
                continue
            speedup = timing.speedup.get(column.label)
            suffix = ""
            if speedup is not None and column.backend != BASELINE:
                suffix = f" ({format_speedup(speedup)})"
            cells.append(format_seconds(seconds) + suffix)
        rows.append([timing.spec, timing.dtype, *cells])
    return headers, rows


def environment_table(report: Report) -> tuple[list[str], list[list[str]]]:
    headers = [
        "machine", "python", "numpy", "blas", "threads", "arch", "frameworks", "started", "seed",
    ]  # fmt: skip
    rows = [
        [
            run.environment.machine,
            run.environment.python,
            run.environment.numpy,
            run.environment.blas,
            run.environment.threads,
            run.environment.arch,
            "; ".join(f"{k} {v}" for k, v in run.environment.extra.items()) or "—",
            run.started,
            str(run.seed),
        ]
        for run in report.runs
    ]
    return headers, rows


def headline(report: Report) -> str:
    specs = sum(len(f.rows) for f in report.families)
    verdict = (
        "every backend conforms" if report.conforms else f"{len(report.failures)} failing checks"
    )
    seeds = ", ".join(map(str, report.seeds))
    return (
        f"{len(report.columns)} backends × {specs} specs × {', '.join(report.dtypes)}, "
        f"seed {seeds}: {verdict}"
    )


def _link(path: str | None, base: Path | None) -> str | None:
    if not path:
        return None
    return relative_to(path, base) if base is not None else path


def render_terminal(
    report: Report, *, color: bool = False, detail: bool = False, base_dir: Path | None = None
) -> str:
    """The report for a terminal; ``color`` adds ANSI colours to the cells."""

    def paint(cell: Cell) -> str:
        return f"{ANSI[cell.state]}{cell.text}{RESET}" if color else cell.text

    out = [f"Conformance report: {headline(report)}", ""]
    out += [_simple(summary_table(report)), ""]
    out += [LEGEND, _simple(matrix_table(report, paint, lambda t: f"[{t}]")), ""]
    if detail:
        out += [_simple(detail_table(report, paint)), ""]
    if report.timings:
        out += [
            f"Median time per forward call at the largest sizes (speedup over {BASELINE})",
            _simple(timing_table(report)),
            "",
        ]
    machines = len({c.machine for c in report.columns}) > 1
    for number, facts in enumerate(failure_blocks(report.failures, machine_label=machines), 1):
        out += [f"{facts.status.upper()} {number}. {facts.title}", f"  {facts.message}"]
        out += [f"  {label}: {value}" for label, value in fact_lines(facts)]
        out.append(f"  re-run: {facts.rerun or '(no command: backend registered directly)'}")
        if link := _link(facts.inputs_file, base_dir):
            out.append(f"  inputs: {link}")
        out.append("")
    for problem in report.plugin_problems:
        name, source, state = problem["name"], problem["source"], problem["state"]
        out.append(f"plugin {name!r} ({source}) {state}: {problem['reason']}")
    out += ["", _simple(environment_table(report))]
    return "\n".join(out).rstrip() + "\n"


def _simple(table: tuple[list[str], Sequence[Sequence[object]]]) -> str:
    headers, rows = table
    return tabulate(rows, headers=headers, tablefmt="simple", disable_numparse=True)


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(report: Report, *, base_dir: Path | None = None) -> str:
    """The report as GitHub-flavoured Markdown, ready to paste into a pull request."""

    def paint(cell: Cell) -> str:
        return _md_escape(cell.text)

    def table(headers: list[str], rows: Sequence[Sequence[object]]) -> str:
        rows = [[_md_escape(str(v)) for v in row] for row in rows]
        return tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True)

    out = ["## Conformance report", "", f"**{headline(report)}**", ""]
    out += [table(*summary_table(report)), ""]
    out += ["### Matrix", "", f"_{LEGEND}._", ""]
    out += [table(*matrix_table(report, paint, lambda t: f"**{t}**")), ""]
    out += ["<details><summary>Every check kind</summary>", ""]
    out += [table(*detail_table(report, paint)), "", "</details>", ""]
    if report.timings:
        out += [
            "### Timing",
            "",
            f"Median time per forward call at the largest sizes; "
            f"in brackets the speedup over `{BASELINE}` on the same machine.",
            "",
        ]
        out += [table(*timing_table(report)), ""]
    if report.failures:
        out += ["### Failures", ""]
    machines = len({c.machine for c in report.columns}) > 1
    for number, facts in enumerate(failure_blocks(report.failures, machine_label=machines), 1):
        out += [f"{number}. **{_md_escape(facts.title)}**: {facts.status}  "]
        out += [f"   {_md_escape(facts.message)}  "]
        out += [f"   {label}: `{_md_escape(value)}`  " for label, value in fact_lines(facts)]
        if link := _link(facts.inputs_file, base_dir):
            out.append(f"   inputs: [`{link}`]({link})  ")
        if facts.rerun:
            out += ["   re-run:", "   ```sh", f"   {facts.rerun}", "   ```"]
        else:
            out.append("   re-run: no command (backend registered directly)")
        out.append("")
    if report.plugin_problems:
        out += ["### Plugins", ""]
        rows = [
            [p["machine"], p["name"], p["source"], p["state"], p["reason"]]
            for p in report.plugin_problems
        ]
        out += [table(["machine", "plugin", "source", "state", "reason"], rows), ""]
    out += ["### Environment", "", table(*environment_table(report)), ""]
    return "\n".join(out)
