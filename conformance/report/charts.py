"""The report's two pictures, as :class:`~conformance.report.svg.Plot` data.

- **Error against the tolerance**: per spec and backend, the worst error as a fraction of
  the tolerance (the matrix's number) on a log axis, with the limit 1 drawn as a line.
- **Time per call**: per spec, dtype and backend, the median time of one forward call.

With several machines a backend is one series: its point is the worst (errors) or the
median (times) over the machines, and a line spans the smallest to the largest value.
"""

from __future__ import annotations

import math
from statistics import median

from conformance.report.escape import escape_html
from conformance.report.model import Column, Report, format_fraction, format_seconds
from conformance.report.svg import Panel, Plot, Point, decade_label, spread


def _backends(columns: list[Column]) -> dict[str, list[Column]]:
    groups: dict[str, list[Column]] = {}
    for column in columns:
        groups.setdefault(column.backend, []).append(column)
    return groups


def _series_attrs(backends: dict[str, list[Column]], attr: str) -> dict[str, str]:
    return {name: f' {attr}="{escape_html(name)}"' for name in backends}


def _machines(count: int) -> str:
    return f"{count} machine" + ("s" if count != 1 else "")


def error_plot(report: Report, *, filter_attr: str = "data-b") -> Plot | None:
    """Worst error / tolerance per spec and backend; None when no cell has a number."""
    backends = _backends(report.columns)
    points: dict[tuple[str, str], Point] = {}
    rows: list[str] = []
    for family in report.families:
        for row in family.rows:
            rows.append(row.spec.id)
            for name, columns in backends.items():
                cells = [row.cells[c.label] for c in columns]
                ran = [c for c in cells if c.state != "na"]
                if not ran:
                    continue
                bad = any(c.state == "fail" for c in ran)
                values = [c.fraction for c in ran]
                if bad and any(c.state == "fail" and c.fraction is None for c in ran):
                    value: float | None = None  # an error: no number to draw
                else:
                    finite = [v for v in values if v is not None]
                    if not finite:
                        continue
                    value = max(finite)
                low, high = spread(values) if len(columns) > 1 else (None, None)
                shown = "error" if value is None else format_fraction(value)
                tip = f"{row.spec.id} · {name}: {'✗' if bad else '✓'} {shown}"
                if len(columns) > 1 and low is not None and high is not None:
                    tip += (
                        f" (worst of {_machines(len(ran))}; "
                        f"{format_fraction(low)}–{format_fraction(high)})"
                    )
                points[row.spec.id, name] = Point(value, low, high, tip, bad)
    if not points:
        return None
    return Plot(
        title="Worst error as a fraction of the tolerance, per spec and backend (log scale)",
        rows=rows,
        series=list(backends),
        panels=[Panel("every check and dtype", points)],
        tick_label=decade_label,
        reference=1.0,
        reference_label="limit (1 = the tolerance)",
        floor=1e-6,
        ceiling=1e4,
        series_attrs=_series_attrs(backends, filter_attr),
    )


def timing_plot(report: Report, *, filter_attr: str = "data-b") -> Plot | None:
    """Median time per forward call per spec, dtype (a panel each) and backend."""
    if not report.timings:
        return None
    backends = _backends(report.columns)
    rows = list(dict.fromkeys(t.spec for t in report.timings))
    dtypes = list(dict.fromkeys(t.dtype for t in report.timings))
    panels = []
    for dtype in dtypes:
        points: dict[tuple[str, str], Point] = {}
        for timing in (t for t in report.timings if t.dtype == dtype):
            for name, columns in backends.items():
                times = [timing.seconds[c.label] for c in columns if c.label in timing.seconds]
                if not times:
                    continue
                value = median(times)
                low, high = spread(times) if len(times) > 1 else (None, None)
                tip = f"{timing.spec} · {dtype} · {name}: {format_seconds(value)}"
                if len(times) > 1:
                    tip += f" (median of {_machines(len(times))})"
                else:
                    ratio = timing.speedup.get(columns[0].label)
                    if ratio is not None and not math.isclose(ratio, 1.0):
                        tip += f", {ratio:.1f}× the baseline"
                points[timing.spec, name] = Point(value, low, high, tip)
        panels.append(Panel(dtype, points))
    return Plot(
        title="Median time per forward call at the largest test sizes (log scale)",
        rows=rows,
        series=list(backends),
        panels=panels,
        tick_label=format_seconds,
        floor=1e-12,
        series_attrs=_series_attrs(backends, filter_attr),
    )
