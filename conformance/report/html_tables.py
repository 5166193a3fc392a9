"""The HTML page's tables: summary, matrix, per-check matrix, timing, environment.

Every cell of a matrix has an id (``m-<spec>-<column>``, ``d-<spec>-<check>-<column>``);
a failing cell links to its first failure's block (``<check id>`` or
``<check id>@<machine>`` with several machines), which links back. Header cells of
backend columns carry ``data-b`` (backend) and ``data-m`` (machine), rows ``data-f``
(family), so the page's script can filter them; ``data-v`` holds a cell's number for
sorting. Every string from the results is escaped.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from conformance.report.escape import escape_html
from conformance.report.model import Cell, Column, Report
from conformance.report.text import (
    environment_table,
    family_title,
    summary_table,
    timing_table,
    verdict,
)
from conformance.results.model import CheckResult

_UNSAFE = re.compile(r"[^A-Za-z0-9_.@-]")


def token(text: str) -> str:
    """``text`` as an id fragment: other characters than ``[A-Za-z0-9_.@-]`` as ``~hex~``."""
    return _UNSAFE.sub(lambda m: f"~{ord(m.group()):x}~", text)


def failure_id(result: CheckResult, machines: bool) -> str:
    """The anchor of a failure's block: its check id, with ``@machine`` when there are many."""
    return token(f"{result.id}@{result.machine}" if machines else result.id)


def matrix_id(spec: str, label: str) -> str:
    return "m-" + token(f"{spec}-{label}")


def detail_id(spec: str, check: str, label: str) -> str:
    return "d-" + token(f"{spec}-{check}-{label}")


def many_machines(report: Report) -> bool:
    return len({c.machine for c in report.columns}) > 1


class Links:
    """Which failure block each failing cell leads to, and the way back."""

    def __init__(self, report: Report) -> None:
        self.machines = many_machines(report)
        label = {(c.backend, c.machine): c.label for c in report.columns}
        self.family = {row.spec.id: f.id for f in report.families for row in f.rows}
        self.cell: dict[tuple[str, str], str] = {}
        self.check: dict[tuple[str, str, str], str] = {}
        self.label: dict[str, str] = {}
        self.column_first: dict[str, str] = {}
        for result in report.failures:
            column = label.get((result.backend, result.machine), result.backend)
            anchor = failure_id(result, self.machines)
            self.label[anchor] = column
            self.cell.setdefault((result.spec, column), anchor)
            self.check.setdefault((result.spec, result.check, column), anchor)
            self.column_first.setdefault(column, anchor)


def _column_heads(columns: Sequence[Column]) -> str:
    return "".join(
        f'<th data-b="{escape_html(c.backend)}" data-m="{escape_html(c.machine)}">'
        f"{escape_html(c.label)}</th>"
        for c in columns
    )


def sort_value(cell: Cell) -> float:
    """A cell's number for sorting: its fraction; an error sorts above every number."""
    if cell.fraction is not None:
        return cell.fraction if cell.fraction == cell.fraction else 1e308
    return {"fail": 1e308, "na": -1.0}.get(cell.state, 0.0)


def cell_html(cell: Cell, cell_id: str, target: str | None) -> str:
    """One coloured cell, linking to ``target`` (a failure block's id) when it fails."""
    text = escape_html(cell.text)
    if target is not None:
        text = f'<a href="#{escape_html(target)}">{text}</a>'
    value = sort_value(cell)
    return (
        f'<td class="cell {cell.state}" id="{escape_html(cell_id)}" data-v="{value:.6g}" '
        f'title="{escape_html(cell.detail)}">{text}</td>'
    )


def summary_html(report: Report, links: Links) -> str:
    headers, rows = summary_table(report)
    head = "".join(f"<th>{escape_html(h)}</th>" for h in headers)
    out = []
    for summary, row in zip(report.summaries, rows, strict=True):
        column = summary.column
        word = verdict(summary)
        css = {"conforms": "conforms", "FAILS": "fails"}.get(word, "na")
        shown = escape_html(word)
        if column.label in links.column_first:
            shown = f'<a href="#{escape_html(links.column_first[column.label])}">{shown}</a>'
        cells = [f"<th>{escape_html(column.label)}</th>", f'<td class="{css}">{shown}</td>']
        cells += [f'<td class="num">{escape_html(str(v))}</td>' for v in row[2:]]
        data = f'data-b="{escape_html(column.backend)}" data-m="{escape_html(column.machine)}"'
        out.append(f'<tr class="item" {data}>{"".join(cells)}</tr>')
    body = "".join(out)
    return (
        f'<table class="summary sortable"><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table>"
    )


def matrix_html(report: Report, links: Links) -> str:
    """Specs grouped by family (a ``<tbody>`` each) against backends."""
    head = "<th>spec</th>" + _column_heads(report.columns)
    bodies = []
    for family in report.families:
        title = family_title(family.id, family.title)
        span = len(report.columns) + 1
        rows = [f'<tr class="family"><th colspan="{span}">{escape_html(title)}</th></tr>']
        for row in family.rows:
            spec = row.spec.id
            name = f'<th title="{escape_html(row.spec.title)}">{escape_html(spec)}</th>'
            cells = "".join(
                cell_html(
                    row.cells[c.label], matrix_id(spec, c.label), links.cell.get((spec, c.label))
                )
                for c in report.columns
            )
            rows.append(f"<tr>{name}{cells}</tr>")
        bodies.append(f'<tbody data-f="{escape_html(family.id)}">{"".join(rows)}</tbody>')
    return (
        '<table class="matrix sortable" data-cols="1" data-status>'
        f"<thead><tr>{head}</tr></thead>{''.join(bodies)}</table>"
    )


def detail_html(report: Report, links: Links) -> str:
    """One row per (spec, check kind), dtypes aggregated."""
    head = "<th>spec</th><th>check</th>" + _column_heads(report.columns)
    rows = []
    for (spec, check), cells in report.detail.items():
        family = escape_html(links.family.get(spec, spec.split(".")[0]))
        tds = "".join(
            cell_html(cells[c.label], detail_id(spec, check, c.label),
                      links.check.get((spec, check, c.label)))
            for c in report.columns
        )  # fmt: skip
        rows.append(
            f'<tr data-f="{family}"><th>{escape_html(spec)}</th>'
            f"<td>{escape_html(check)}</td>{tds}</tr>"
        )
    return (
        '<table class="detail sortable" data-cols="2" data-status>'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def timing_html(report: Report, links: Links) -> str:
    """Median seconds per forward call, speedups in brackets; sorts by the seconds."""
    _, rows = timing_table(report)
    head = "<th>spec</th><th>dtype</th>" + _column_heads(report.columns)
    out = []
    for timing, row in zip(report.timings, rows, strict=True):
        family = escape_html(links.family.get(timing.spec, timing.spec.split(".")[0]))
        cells = []
        for column, text in zip(report.columns, row[2:], strict=True):
            seconds = timing.seconds.get(column.label)
            value = f' data-v="{seconds:.6g}"' if seconds is not None else ' data-v="-1"'
            cells.append(f'<td class="num"{value}>{escape_html(text)}</td>')
        out.append(
            f'<tr data-f="{family}"><th>{escape_html(timing.spec)}</th>'
            f"<td>{escape_html(timing.dtype)}</td>{''.join(cells)}</tr>"
        )
    return (
        '<table class="timing sortable" data-cols="2">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(out)}</tbody></table>"
    )


def environment_html(report: Report) -> str:
    headers, rows = environment_table(report)
    head = "".join(f"<th>{escape_html(h)}</th>" for h in headers)
    body = "".join(
        f'<tr class="item" data-m="{escape_html(str(row[0]))}">'
        + "".join(f"<td>{escape_html(str(v))}</td>" for v in row)
        + "</tr>"
        for row in rows
    )
    return (
        f'<table class="environment sortable"><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table>"
    )


def plain_table(headers: list[str], rows: Sequence[Sequence[object]], css: str) -> str:
    head = "".join(f"<th>{escape_html(str(h))}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape_html(str(v))}</td>" for v in row) + "</tr>" for row in rows
    )
    return f'<table class="{css}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
