"""The report as text: a terminal page and a Markdown page, tables drawn by tabulate."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from tabulate import tabulate

from conformance.report.escape import (
    escape_markdown,
    markdown_block,
    markdown_code,
    one_line,
    safe_link,
)
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


def _same(text: str) -> str:
    return text


def matrix_table(
    report: Report,
    paint: Callable[[Cell], str],
    family_row: Callable[[str], str],
    name: Callable[[str], str] = _same,
) -> tuple[list[str], list[list[str]]]:
    """Specs grouped by family against backends, one compact cell per spec.

    ``name`` draws each spec id (Markdown escapes it); ``paint`` draws each cell.
    """
    headers = ["spec", *(c.label for c in report.columns)]
    rows: list[list[str]] = []
    for family in report.families:
        title = f"{family.id} — {family.title}" if family.title else family.id
        rows.append([family_row(title), *("" for _ in report.columns)])
        for row in family.rows:
            rows.append([name(row.spec.id), *(paint(row.cells[c.label]) for c in report.columns)])
    return headers, rows


def detail_table(
    report: Report, paint: Callable[[Cell], str], name: Callable[[str], str] = _same
) -> tuple[list[str], list[list[str]]]:
    """One row per (spec, check kind), dtypes aggregated; ``name`` draws spec and check."""
    headers = ["spec", "check", *(c.label for c in report.columns)]
    rows = [
        [name(spec), name(check), *(paint(cells[c.label]) for c in report.columns)]
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
    """The report for a terminal; ``color`` adds ANSI colours to the cells.

    Control characters in strings from the results (a kernel's message holding an escape
    sequence) are shown as spaces: only the report's own colours reach the terminal.
    """

    def paint(cell: Cell) -> str:
        return f"{ANSI[cell.state]}{one_line(cell.text)}{RESET}" if color else one_line(cell.text)

    out = [f"Conformance report: {one_line(headline(report))}", ""]
    out += [_simple(summary_table(report)), ""]
    matrix = matrix_table(report, paint, lambda t: f"[{one_line(t)}]", one_line)
    out += [LEGEND, _simple(matrix, painted=True), ""]
    if detail:
        out += [_simple(detail_table(report, paint, one_line), painted=True), ""]
    if report.timings:
        out += [
            f"Median time per forward call at the largest sizes (speedup over {BASELINE})",
            _simple(timing_table(report)),
            "",
        ]
    machines = len({c.machine for c in report.columns}) > 1
    for number, facts in enumerate(failure_blocks(report.failures, machine_label=machines), 1):
        title, message = one_line(facts.title), one_line(facts.message)
        out += [f"{facts.status.upper()} {number}. {title}", f"  {message}"]
        out += [f"  {label}: {one_line(value)}" for label, value in fact_lines(facts)]
        rerun = one_line(facts.rerun) or "(no command: backend registered directly)"
        out.append(f"  re-run: {rerun}")
        if link := _link(facts.inputs_file, base_dir):
            out.append(f"  inputs: {one_line(link)}")
        out.append("")
    for problem in report.plugin_problems:
        name, source, state = (one_line(problem[k]) for k in ("name", "source", "state"))
        out.append(f"plugin {name!r} ({source}) {state}: {one_line(problem['reason'])}")
    out += ["", _simple(environment_table(report))]
    return "\n".join(out).rstrip() + "\n"


def _simple(table: tuple[list[str], Sequence[Sequence[object]]], *, painted: bool = False) -> str:
    """A plain table; its cells are made one line each unless ``painted`` already did."""
    headers, rows = table
    cells = rows if painted else [[one_line(v) for v in row] for row in rows]
    head = [one_line(h) for h in headers]
    return tabulate(cells, headers=head, tablefmt="simple", disable_numparse=True)


def render_markdown(report: Report, *, base_dir: Path | None = None) -> str:
    """The report as GitHub-flavoured Markdown, ready to paste into a pull request.

    Every string that comes from the results (backend names, messages, ids, paths) is
    escaped by :mod:`conformance.report.escape`; links go only to files in ``base_dir``.
    """

    def paint(cell: Cell) -> str:
        return escape_markdown(cell.text)

    def table(headers: list[str], rows: list[list[str]], *, escaped: bool = False) -> str:
        cells = rows if escaped else [[escape_markdown(v) for v in row] for row in rows]
        head = [escape_markdown(h) for h in headers]
        return tabulate(cells, headers=head, tablefmt="github", disable_numparse=True)

    def bold(title: str) -> str:
        return f"**{escape_markdown(title)}**"

    out = ["## Conformance report", "", bold(headline(report)), ""]
    summary_headers, summary_rows = summary_table(report)
    out += [table(summary_headers, [[str(v) for v in row] for row in summary_rows]), ""]
    out += ["### Matrix", "", f"_{LEGEND}._", ""]
    out += [table(*matrix_table(report, paint, bold, escape_markdown), escaped=True), ""]
    out += ["<details><summary>Every check kind</summary>", ""]
    detail = detail_table(report, paint, escape_markdown)
    out += [table(*detail, escaped=True), "", "</details>", ""]
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
        out += [f"{number}. {bold(facts.title)}: {escape_markdown(facts.status)}  "]
        out += [f"   {escape_markdown(facts.message)}  "]
        out += [f"   {label}: {markdown_code(value)}  " for label, value in fact_lines(facts)]
        if shown := _link(facts.inputs_file, base_dir):
            url = safe_link(facts.inputs_file, base_dir)
            out.append(
                f"   inputs: [{markdown_code(shown)}]({url})  "
                if url
                else f"   inputs: {markdown_code(shown)} (not linked: not a file in this folder)  "
            )
        if facts.rerun:
            out += ["   re-run:", *(f"   {line}" for line in markdown_block(facts.rerun, "sh"))]
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
