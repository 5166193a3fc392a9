"""The report as text: a terminal page and a Markdown page, tables drawn by tabulate.

The terminal page fits a width when given one (:mod:`conformance.report.fit`): the
front ends pass the terminal's, and a file or a pipe gets whole tables.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from conformance.report.escape import (
    one_line,
)
from conformance.report.failures import fact_lines, failure_blocks
from conformance.report.fit import fit_table, wrap
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
ALWAYS_COUNTED = (Status.PASS, Status.FAIL)


def verdict(summary: Summary) -> str:
    """``conforms``, ``FAILS``, or ``not implemented`` when nothing was checked."""
    if not summary.conforms:
        return "FAILS"
    return "conforms" if summary.counts.get(Status.PASS) else "not implemented"


def summary_table(report: Report) -> tuple[list[str], list[list[object]]]:
    """Backend, verdict and counts per status: pass and fail always, the other statuses
    only where some backend has them (a column of zeros says nothing)."""
    statuses = [
        status
        for status in STATUS_COLUMNS
        if status in ALWAYS_COUNTED or any(s.counts.get(status) for s in report.summaries)
    ]
    headers = ["backend", "verdict", *(s.value.replace("_", " ") for s in statuses)]
    rows = [
        [s.column.label, verdict(s), *(s.counts.get(status, 0) for status in statuses)]
        for s in report.summaries
    ]
    return headers, rows


def _same(text: str) -> str:
    return text


def family_title(family_id: str, title: str) -> str:
    """``lstm — Long short-term memory``, or the id alone."""
    return f"{family_id} — {title}" if title else family_id


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
        title = family_title(family.id, family.title)
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


ENV_WRAP_COLUMNS = (3, 6)
"""The environment table's free-text columns (blas, frameworks): they wrap between words."""


def environment_table(report: Report) -> tuple[list[str], list[list[str]]]:
    """One row per run: the machine, its libraries and thread counts, when and with which seed."""
    headers = [
        "machine", "python", "numpy", "blas", "threads", "arch", "frameworks", "started", "took",
        "seed",
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
            describe_seconds(run.seconds) if run.seconds else "—",
            str(run.seed),
        ]
        for run in report.runs
    ]
    return headers, rows


def describe_seconds(seconds: float) -> str:
    """``4.2 s``, ``7 min 32 s``: how long a run took, as people say it."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s"


def plural(count: int, noun: str, plural_form: str | None = None) -> str:
    """``1 backend``, ``3 backends``, ``1 failing check``, ``0 specs``."""
    return f"{count} {noun if count == 1 else plural_form or noun + 's'}"


def headline(report: Report) -> str:
    """``3 backends × 26 specs × float32, float64, seed 0: every backend conforms``, with
    the sizes when they are not the quick ones (``, realistic sizes``)."""
    specs = sum(len(f.rows) for f in report.families)
    verdict = (
        "every backend conforms"
        if report.conforms
        else plural(len(report.failures), "failing check")
    )
    if report.incomplete:
        verdict = (
            ("no failure" if report.conforms else verdict)
            + " so far — "
            + "; ".join(report.incomplete)
        )
    seeds = ", ".join(map(str, report.seeds))
    shown = report.profiles
    sizes = "" if shown in ([], ["quick"]) else f", sizes {', '.join(shown)}"
    sizes += f" ({plural(report.shrunk, 'failure')} shrunk)" if report.shrunk else ""
    return (
        f"{plural(len(report.columns), 'backend')} × {plural(specs, 'spec')} × "
        f"{', '.join(report.dtypes)}, seed {seeds}{sizes}: {verdict}"
    )


def timing_notes(report: Report) -> tuple[str, str]:
    """The timing table's caption, and what its blank cells mean (empty when there are none).

    The caption names the baseline of the speedups only when the baseline ran.
    """
    caption = "Median time per forward call at the largest sizes"
    if any(c.backend == BASELINE for c in report.columns):
        caption += f" (in brackets the speedup over {BASELINE} on the same machine)"
    blank = any(c.label not in t.seconds for t in report.timings for c in report.columns)
    note = (
        "A blank cell: no time, since that backend has no passing numeric check there "
        "(not implemented, failed, or not selected)."
        if blank
        else ""
    )
    return caption, note


def shown_path(path: str | None, base: Path | None) -> str | None:
    if not path:
        return None
    return relative_to(path, base) if base is not None else path


def render_terminal(
    report: Report,
    *,
    color: bool = False,
    detail: bool = False,
    base_dir: Path | None = None,
    width: int | None = None,
) -> str:
    """The report for a terminal; ``color`` adds ANSI colours to the cells, and ``width``
    fits every table and paragraph into that many columns (None: no limit).

    Control characters in strings from the results (a kernel's message holding an escape
    sequence) are shown as spaces: only the report's own colours reach the terminal.
    """

    def paint(cell: Cell) -> str:
        return f"{ANSI[cell.state]}{one_line(cell.text)}{RESET}" if color else one_line(cell.text)

    out = [wrap(f"Conformance report: {one_line(headline(report))}", width), ""]
    out += [fit_table(*_one_line_table(summary_table(report)), width), ""]
    headers, rows = matrix_table(report, paint, lambda t: t, one_line)
    headers = [one_line(h) for h in headers]
    out += [wrap(LEGEND, width), fit_table(headers, rows, width, banners=_family_banners(report))]
    out.append("")
    if detail:
        d_headers, d_rows = detail_table(report, paint, one_line)
        d_headers = [one_line(h) for h in d_headers]
        out += [fit_table(d_headers, d_rows, width, keep=2), ""]
    if report.timings:
        caption, note = timing_notes(report)
        out += [
            wrap(caption, width),
            fit_table(*_one_line_table(timing_table(report)), width, keep=2),
        ]
        out += [wrap(note, width), ""] if note else [""]
    machines = len({c.machine for c in report.columns}) > 1
    for number, facts in enumerate(failure_blocks(report.failures, machine_label=machines), 1):
        title, message = one_line(facts.title), one_line(facts.message)
        out += [
            wrap(f"{facts.status.upper()} {number}. {title}", width),
            wrap(f"  {message}", width, "    "),
        ]
        out += [
            wrap(f"  {label}: {one_line(value)}", width, "    ")
            for label, value in fact_lines(facts)
        ]
        # the command and the path are never wrapped: they are copied and pasted whole
        rerun = one_line(facts.rerun) or "(no command: backend registered directly)"
        out.append(f"  re-run: {rerun}")
        if link := shown_path(facts.inputs_file, base_dir):
            out.append(f"  inputs: {one_line(link)}")
        out.append("")
    for problem in report.plugin_problems:
        name, source, state = (one_line(problem[k]) for k in ("name", "source", "state"))
        reason = one_line(problem["reason"])
        out.append(wrap(f"plugin {name!r} ({source}) {state}: {reason}", width, "  "))
    if out[-1] != "":
        out.append("")
    out.append(
        fit_table(*_one_line_table(environment_table(report)), width, wrap_columns=ENV_WRAP_COLUMNS)
    )
    return "\n".join(out).rstrip() + "\n"


def _one_line_table(
    table: tuple[list[str], Sequence[Sequence[object]]],
) -> tuple[list[str], list[list[str]]]:
    """A table whose cells from the results are made one line each (no control characters)."""
    headers, rows = table
    return [one_line(h) for h in headers], [[one_line(str(v)) for v in row] for row in rows]


def _family_banners(report: Report) -> dict[int, str]:
    """Row index → ``[lstm — Long short-term memory]`` for the family rows of the matrix."""
    banners, index = {}, 0
    for family in report.families:
        banners[index] = f"[{one_line(family_title(family.id, family.title))}]"
        index += 1 + len(family.rows)
    return banners
