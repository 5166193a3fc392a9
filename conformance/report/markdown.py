"""The report as GitHub-flavoured Markdown, from the same tables as the terminal report."""

from __future__ import annotations

from pathlib import Path

from tabulate import tabulate

from conformance.report.escape import escape_markdown, markdown_block, markdown_code, safe_link
from conformance.report.failures import fact_lines, failure_blocks
from conformance.report.model import BASELINE, LEGEND, Cell, Report
from conformance.report.text import (
    detail_table,
    environment_table,
    headline,
    matrix_table,
    shown_path,
    summary_table,
    timing_notes,
    timing_table,
)


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
        caption, note = timing_notes(report)
        out += ["### Timing", "", caption.replace(BASELINE, f"`{BASELINE}`") + ".", ""]
        out += [table(*timing_table(report)), ""]
        out += [note, ""] if note else []
    if report.failures:
        out += ["### Failures", ""]
    machines = len({c.machine for c in report.columns}) > 1
    for number, facts in enumerate(failure_blocks(report.failures, machine_label=machines), 1):
        out += [f"{number}. {bold(facts.title)}: {escape_markdown(facts.status)}  "]
        out += [f"   {escape_markdown(facts.message)}  "]
        out += [f"   {label}: {markdown_code(value)}  " for label, value in fact_lines(facts)]
        if shown := shown_path(facts.inputs_file, base_dir):
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
