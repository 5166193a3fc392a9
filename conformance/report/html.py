"""The report as one self-contained HTML page: inline CSS, no scripts, no network.

Cells carry a class for their state: ``pass`` (green), ``warn`` (amber: passing
above half the tolerance), ``fail`` (red), ``na`` (grey).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from conformance.report.escape import escape_html, safe_link
from conformance.report.failures import fact_lines, failure_blocks
from conformance.report.model import BASELINE, LEGEND, Cell, Report
from conformance.report.text import (
    detail_table,
    environment_table,
    headline,
    summary_table,
    timing_notes,
    timing_table,
)
from conformance.results.files import relative_to

STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; }
table { border-collapse: collapse; margin: 0.5em 0; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: left; }
th { background: #f3f3f3; }
tr.family th { background: #e4e8f0; }
td.cell { text-align: center; white-space: nowrap; font-variant-numeric: tabular-nums; }
td.pass { background: #c8f0c8; }
td.warn { background: #ffe0a0; }
td.fail { background: #f8b8b8; }
td.na { background: #e6e6e6; color: #666; }
pre { background: #f6f6f6; padding: 6px; overflow-x: auto; }
.legend { color: #555; }
.conforms { color: #176317; font-weight: bold; } .fails { color: #a11; font-weight: bold; }
"""


def _cell(cell: Cell) -> str:
    title, text = escape_html(cell.detail), escape_html(cell.text)
    return f'<td class="cell {cell.state}" title="{title}">{text}</td>'


def _table(headers: list[str], rows: Sequence[Sequence[object]], css: str = "") -> str:
    head = "".join(f"<th>{escape_html(str(h))}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape_html(str(v))}</td>" for v in row) + "</tr>" for row in rows
    )
    cls = f' class="{css}"' if css else ""
    return f"<table{cls}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _wrap(css: str, head: str, rows: list[str]) -> str:
    body = "".join(rows)
    return f'<table class="{css}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _matrix(report: Report) -> str:
    head = "<th>spec</th>" + "".join(f"<th>{escape_html(c.label)}</th>" for c in report.columns)
    rows = []
    for family in report.families:
        title = f"{family.id} — {family.title}" if family.title else family.id
        span = len(report.columns) + 1
        rows.append(f'<tr class="family"><th colspan="{span}">{escape_html(title)}</th></tr>')
        for row in family.rows:
            name = f'<th title="{escape_html(row.spec.title)}">{escape_html(row.spec.id)}</th>'
            rows.append(
                f"<tr>{name}{''.join(_cell(row.cells[c.label]) for c in report.columns)}</tr>"
            )
    return _wrap("matrix", head, rows)


def _detail(report: Report) -> str:
    headers, _ = detail_table(report, lambda c: c.text)
    head = "".join(f"<th>{escape_html(h)}</th>" for h in headers)
    rows = [
        f"<tr><th>{escape_html(spec)}</th><td>{escape_html(check)}</td>"
        + "".join(_cell(cells[c.label]) for c in report.columns)
        + "</tr>"
        for (spec, check), cells in report.detail.items()
    ]
    return _wrap("detail", head, rows)


def _summary(report: Report) -> str:
    headers, rows = summary_table(report)
    out = []
    for row in rows:
        css = {"conforms": "conforms", "FAILS": "fails"}.get(str(row[1]), "na")
        cells = [f"<td>{escape_html(row[0])}</td>", f'<td class="{css}">{escape_html(row[1])}</td>']
        cells += [f"<td>{escape_html(v)}</td>" for v in row[2:]]
        out.append("<tr>" + "".join(cells) + "</tr>")
    head = "".join(f"<th>{escape_html(h)}</th>" for h in headers)
    return _wrap("summary", head, out)


def _failures(report: Report, base_dir: Path | None) -> str:
    machines = len({c.machine for c in report.columns}) > 1
    items = []
    for facts in failure_blocks(report.failures, machine_label=machines):
        parts = [
            f"<h3>{escape_html(facts.title)}: {escape_html(facts.status)}</h3>",
            f"<p>{escape_html(facts.message)}</p>",
        ]
        lines = [f"{escape_html(k)}: <code>{escape_html(v)}</code>" for k, v in fact_lines(facts)]
        if lines:
            parts.append(f"<p>{'<br>'.join(lines)}</p>")
        if facts.inputs_file:
            shown = relative_to(facts.inputs_file, base_dir) if base_dir else facts.inputs_file
            url = safe_link(facts.inputs_file, base_dir)
            target = (
                f'<a href="{escape_html(url)}">{escape_html(shown)}</a>'
                if url
                else f"<code>{escape_html(shown)}</code> (not linked: not a file in this folder)"
            )
            parts.append(f"<p>inputs: {target}</p>")
        rerun = facts.rerun or "(no command: backend registered directly)"
        parts.append(f"<p>re-run:</p><pre>{escape_html(rerun)}</pre>")
        anchors = "".join(f'<a id="{escape_html(i)}"></a>' for i in facts.ids[1:])
        items.append(
            f'<li class="failure" id="{escape_html(facts.ids[0])}">{anchors}{"".join(parts)}</li>'
        )
    return f'<ol class="failures">{"".join(items)}</ol>'


def render_html(report: Report, *, base_dir: Path | None = None) -> str:
    """One offline page: summary, matrix, per-check detail, timing, failures, environment."""
    body = [
        "<h1>Conformance report</h1>",
        f"<p><strong>{escape_html(headline(report))}</strong></p>",
        _summary(report),
        "<h2>Matrix</h2>",
        f'<p class="legend">{escape_html(LEGEND)}.</p>',
        _matrix(report),
        "<details><summary>Every check kind</summary>",
        _detail(report),
        "</details>",
    ]
    if report.timings:
        caption, note = timing_notes(report)
        caption = escape_html(caption).replace(BASELINE, f"<code>{BASELINE}</code>")
        body += [
            "<h2>Timing</h2>",
            f"<p>{caption}.</p>",
            _table(*timing_table(report), css="timing"),
        ]
        body += [f'<p class="note">{escape_html(note)}</p>'] if note else []
    if report.failures:
        body += ["<h2>Failures</h2>", _failures(report, base_dir)]
    if report.plugin_problems:
        rows = [
            [p["machine"], p["name"], p["source"], p["state"], p["reason"]]
            for p in report.plugin_problems
        ]
        body += [
            "<h2>Plugins</h2>",
            _table(["machine", "plugin", "source", "state", "reason"], rows, "plugins"),
        ]
    body += ["<h2>Environment</h2>", _table(*environment_table(report), css="environment")]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        "<title>Conformance report</title>"
        f"<style>{STYLE}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n"
    )
