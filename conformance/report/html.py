"""The report as one self-contained HTML page: inline CSS, SVG and script, no network.

Sections: summary, matrix, a chart of the errors against the tolerance, failures,
the per-check matrix, timing (chart and table), plugins, environment. A sticky bar
links to them. Cells carry a class for their state: ``pass`` (green), ``warn`` (amber:
passing above half the tolerance), ``fail`` (red), ``na`` (grey); a failing cell links
to its failure block, which links back. Everything is visible without script; the
inline script (:mod:`conformance.report.html_assets`) adds filters and sorting.
"""

from __future__ import annotations

from pathlib import Path

from conformance.report.charts import error_plot, timing_plot
from conformance.report.escape import escape_html, safe_link
from conformance.report.failures import fact_lines, failure_block, failure_groups
from conformance.report.html_assets import CONTENT_SECURITY_POLICY, SCRIPT, STYLE
from conformance.report.html_tables import (
    Links,
    detail_html,
    detail_id,
    environment_html,
    failure_id,
    matrix_html,
    matrix_id,
    plain_table,
    summary_html,
    timing_html,
)
from conformance.report.model import BASELINE, LEGEND, Report
from conformance.report.svg import dot_plot
from conformance.report.text import headline, plural, timing_notes
from conformance.results.files import relative_to

MACHINES_IN_TITLE = 3
"""More machines than this are counted in the title, not named."""
STATUSES = (("fail", "✗ failing"), ("warn", "✓ close to the limit"), ("pass", "✓ passing"),
            ("na", "— not implemented"))  # fmt: skip


def page_title(report: Report) -> str:
    """``Conformance report · cpu-box, gpu-box · 2026-12-01``: the machines and the date(s)."""
    machines = list(dict.fromkeys(run.environment.machine for run in report.runs if run))
    machines = machines or list(dict.fromkeys(c.machine for c in report.columns if c.machine))
    named = ", ".join(machines[:MACHINES_IN_TITLE])
    if len(machines) > MACHINES_IN_TITLE:
        named += f" and {len(machines) - MACHINES_IN_TITLE} more machines"
    dates = sorted({run.started[:10] for run in report.runs if run.started[:10]})
    when = dates[0] if len(dates) == 1 else f"{dates[0]} – {dates[-1]}" if dates else ""
    return " · ".join(p for p in ("Conformance report", named, when) if p)


def _options(name: str, label: str, values: list[tuple[str, str]], everything: str) -> str:
    options = "".join(
        f'<option value="{escape_html(v)}">{escape_html(t)}</option>' for v, t in values
    )
    return (
        f'<label>{escape_html(label)} <select name="{name}"><option value="">{everything}</option>'
        f"{options}</select></label>"
    )


def _filters(report: Report) -> str:
    backends = list(dict.fromkeys(c.backend for c in report.columns))
    machines = list(dict.fromkeys(c.machine for c in report.columns))
    parts = [_options("backend", "backend", [(b, b) for b in backends], "all")]
    if len(machines) > 1:
        parts.append(_options("machine", "machine", [(m, m) for m in machines], "all"))
    families = [(f.id, f.id) for f in report.families]
    parts.append(_options("family", "family", families, "all"))
    parts.append(_options("status", "status", list(STATUSES), "any"))
    parts.append('<button type="reset">clear</button>')
    return f'<form class="filters" id="filters" hidden>{"".join(parts)}</form>'


def _nav(report: Report, sections: list[tuple[str, str]]) -> str:
    verdict = (
        '<span class="verdict conforms">✓ every backend conforms</span>'
        if report.conforms
        else f'<a class="verdict fails" href="#failures">'
        f"✗ {plural(len(report.failures), 'failing check')}</a>"
    )
    links = "".join(f'<a href="#{anchor}">{escape_html(title)}</a>' for anchor, title in sections)
    return f'<nav class="bar">{verdict}{links}{_filters(report)}</nav>'


def _failures(report: Report, links: Links, base_dir: Path | None) -> str:
    """One block per distinct failure; each result it stands for has an anchor in it."""
    items = []
    for group in failure_groups(report.failures):
        facts = failure_block(group, machine_label=links.machines)
        first = group[0]
        anchors = [failure_id(r, links.machines) for r in group]
        column = links.label.get(anchors[0], first.backend)
        back = (
            f'<span class="back"><a href="#{matrix_id(first.spec, column)}">↑ matrix</a> · '
            f'<a href="#{detail_id(first.spec, first.check, column)}">↑ check row</a></span>'
        )
        parts = [
            "".join(f'<a id="{escape_html(a)}"></a>' for a in anchors[1:]),
            f"<h3>{back}{escape_html(facts.title)}: {escape_html(facts.status)}</h3>",
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
        family = links.family.get(first.spec, first.spec.split(".")[0])
        data = (
            f'data-b="{escape_html(first.backend)}" data-m="{escape_html(first.machine)}" '
            f'data-f="{escape_html(family)}" data-s="fail"'
        )
        items.append(
            f'<li class="failure item" id="{escape_html(anchors[0])}" {data}>{"".join(parts)}</li>'
        )
    return f'<ol class="failures">{"".join(items)}</ol>'


def render_html(report: Report, *, base_dir: Path | None = None) -> str:
    """One offline page: summary, matrix, charts, failures, every check, timing, environment."""
    links = Links(report)
    title = page_title(report)
    sections: list[tuple[str, str]] = [("matrix", "Matrix")]
    body = [
        f"<h1>{escape_html(title)}</h1>",
        f"<p><strong>{escape_html(headline(report))}</strong></p>",
        '<section id="summary">',
        summary_html(report, links),
        '</section><section id="matrix"><h2>Matrix</h2>',
        f'<p class="legend">{escape_html(LEGEND)}. A red cell links to its failure.</p>',
        matrix_html(report, links),
        "</section>",
    ]
    errors = error_plot(report)
    if errors is not None:
        sections.append(("errors", "Errors"))
        body += [
            '<section id="errors"><h2>Worst error against the tolerance</h2>',
            '<p class="note">Per spec and backend, over every check, dtype and size; '
            "right of the dashed line (1) fails. A cross past the axis is an error without "
            "a number; with several machines a line spans their values.</p>",
            dot_plot(errors),
            "</section>",
        ]
    if report.failures:
        blocks = len(failure_groups(report.failures))
        sections.append(("failures", f"Failures ({blocks})"))
        body += [
            '<section id="failures"><h2>Failures</h2>',
            _failures(report, links, base_dir),
            "</section>",
        ]
    sections.append(("checks", "Checks"))
    body += [
        '<section id="checks"><h2>Every check kind</h2>',
        "<details open><summary>One row per spec and check kind, dtypes together</summary>",
        detail_html(report, links),
        "</details></section>",
    ]
    if report.timings:
        sections.append(("timing", "Timing"))
        timing_chart = timing_plot(report)
        caption, note = timing_notes(report)
        caption = escape_html(caption).replace(BASELINE, f"<code>{BASELINE}</code>")
        body += [
            '<section id="timing"><h2>Timing</h2>',
            f"<p>{caption}.</p>",
            dot_plot(timing_chart) if timing_chart is not None else "",
            timing_html(report, links),
            f'<p class="note">{escape_html(note)}</p>' if note else "",
            "</section>",
        ]
    if report.plugin_problems:
        sections.append(("plugins", "Plugins"))
        rows = [
            [p["machine"], p["name"], p["source"], p["state"], p["reason"]]
            for p in report.plugin_problems
        ]
        headers = ["machine", "plugin", "source", "state", "reason"]
        body += [
            '<section id="plugins"><h2>Plugins</h2>',
            plain_table(headers, rows, "plugins"),
            "</section>",
        ]
    sections.append(("environment", "Environment"))
    body += [
        '<section id="environment"><h2>Environment</h2>',
        environment_html(report),
        "</section>",
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape_html(title)}</title><style>{STYLE}</style></head><body>\n"
        + _nav(report, sections)
        + "\n<main>\n"
        + "\n".join(body)
        + f"\n</main>\n<script>{SCRIPT}</script>\n</body></html>\n"
    )
