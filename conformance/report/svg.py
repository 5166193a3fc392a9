"""Dot plots on a logarithmic axis, drawn as inline SVG: no library, no network.

A plot has rows (specs), one or more panels side by side (dtypes) and series (backends),
each series a colour and a shape. A point is a value with an optional range (the spread
over machines) and a tooltip. Values at or below zero sit on the axis's left edge;
infinite or missing ones (a check that raised) are drawn as a cross right of the axis.
An optional reference line marks a limit (1, the tolerance), with the region past it
shaded. Every string drawn is escaped.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from conformance.report.escape import escape_html

PALETTE = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#555555")
"""Okabe–Ito colours, distinguishable with the common colour-vision deficiencies."""
SHAPES = ("circle", "square", "diamond", "triangle", "down", "circle", "square")
ROW, LABEL_CHAR, PANEL_GAP, TOP, BOTTOM, OVER = 18, 7.0, 28, 46, 34, 26
"""Row height, width of one label character, gap between panels, margins, the "past
the axis" strip for infinite values (pixels)."""


@dataclass(frozen=True)
class Point:
    """One series' value on one row: ``value`` (None: no number, e.g. an error)."""

    value: float | None
    low: float | None = None
    high: float | None = None
    tip: str = ""
    bad: bool = False
    """Drawn filled red-edged: a failing check."""


@dataclass(frozen=True)
class Panel:
    title: str
    points: dict[tuple[str, str], Point]
    """(row, series) → point."""


@dataclass
class Plot:
    """What :func:`dot_plot` draws."""

    title: str
    rows: list[str]
    series: list[str]
    panels: list[Panel]
    tick_label: Callable[[float], str]
    reference: float | None = None
    reference_label: str = ""
    floor: float = 1e-12
    """Values below this (and zero) are drawn at the left edge."""
    ceiling: float = float("inf")
    """Values above this are drawn at the right edge, its tick labelled ``≥``."""
    width: int = 1180
    series_attrs: dict[str, str] = field(default_factory=dict)
    """Series → extra attributes of its group (the page's filter uses ``data-b``)."""


def _decades(plot: Plot) -> tuple[int, int]:
    values = [
        v
        for panel in plot.panels
        for p in panel.points.values()
        for v in (p.value, p.low, p.high)
        if v is not None and math.isfinite(v) and v > plot.floor
    ]
    values = [min(v, plot.ceiling) for v in values]
    if plot.reference is not None:
        values += [plot.reference / 10, plot.reference * 10]
    if not values:
        values = [1e-3, 1.0]
    low, high = math.floor(math.log10(min(values))), math.ceil(math.log10(max(values)))
    return low, max(high, low + 1)


def _marker(shape: str, x: float, y: float, color: str, bad: bool) -> str:
    stroke = ' stroke="#a00" stroke-width="1.6"' if bad else ' stroke="#fff" stroke-width="0.8"'
    paint = f'fill="{color}"{stroke}'
    r = 4.2
    if shape == "circle":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r}" {paint}/>'
    if shape == "square":
        return f'<rect x="{x - r:.1f}" y="{y - r:.1f}" width="{2 * r}" height="{2 * r}" {paint}/>'
    corners = {
        "diamond": ((0, -1.25), (1.25, 0), (0, 1.25), (-1.25, 0)),
        "triangle": ((0, -1.2), (1.1, 0.9), (-1.1, 0.9)),
        "down": ((0, 1.2), (1.1, -0.9), (-1.1, -0.9)),
    }[shape]
    points = " ".join(f"{x + dx * r:.1f},{y + dy * r:.1f}" for dx, dy in corners)
    return f'<polygon points="{points}" {paint}/>'


def _cross(x: float, y: float, color: str) -> str:
    d = 4.0
    return (
        f'<path d="M{x - d:.1f},{y - d:.1f}L{x + d:.1f},{y + d:.1f}M{x - d:.1f},{y + d:.1f}'
        f'L{x + d:.1f},{y - d:.1f}" stroke="{color}" stroke-width="2.2"/>'
    )


def dot_plot(plot: Plot) -> str:
    """``plot`` as one ``<svg>`` element, sized to its rows, readable at 1280 px."""
    low, high = _decades(plot)
    label_w = 12 + LABEL_CHAR * max((len(r) for r in plot.rows), default=4)
    panels = max(len(plot.panels), 1)
    panel_w = (plot.width - label_w - PANEL_GAP * (panels - 1)) / panels - OVER
    height = TOP + ROW * len(plot.rows) + BOTTOM
    out = [
        f'<svg class="chart" role="img" '
        f'width="{plot.width}" height="{height}" viewBox="0 0 {plot.width} {height}">',
        f"<title>{escape_html(plot.title)}</title>",
    ]
    out.append(_legend(plot, label_w))
    for i, row in enumerate(plot.rows):
        y = TOP + ROW * i + ROW / 2
        if i % 2:
            out.append(
                f'<rect x="0" y="{y - ROW / 2:.1f}" width="{plot.width}" height="{ROW}" '
                'fill="#f5f6f8"/>'
            )
        out.append(
            f'<text x="{label_w - 8:.1f}" y="{y + 4:.1f}" text-anchor="end">'
            f"{escape_html(row)}</text>"
        )
    for p, panel in enumerate(plot.panels):
        x0 = label_w + p * (panel_w + OVER + PANEL_GAP)
        out.append(_panel(plot, panel, x0, panel_w, low, high, height))
    out.append("</svg>")
    return "\n".join(out)


def _legend(plot: Plot, x: float) -> str:
    parts = []
    for s, name in enumerate(plot.series):
        color, shape = PALETTE[s % len(PALETTE)], SHAPES[s % len(SHAPES)]
        attrs = plot.series_attrs.get(name, "")
        parts.append(
            f"<g{attrs}>{_marker(shape, x + 5, 14, color, False)}"
            f'<text x="{x + 14:.1f}" y="18">{escape_html(name)}</text></g>'
        )
        x += 30 + LABEL_CHAR * len(name)
    if plot.reference is not None:
        parts.append(
            f'<path d="M{x:.1f},14h18" class="limit"/>'
            f'<text x="{x + 24:.1f}" y="18">{escape_html(plot.reference_label)}</text>'
        )
    return "".join(parts)


def _panel(
    plot: Plot, panel: Panel, x0: float, width: float, low: int, high: int, height: int
) -> str:
    def x_of(value: float) -> float:
        value = min(max(value, 10.0**low), 10.0**high)
        return x0 + width * (math.log10(value) - low) / (high - low)

    bottom = height - BOTTOM
    clamped = any(
        v is not None and math.isfinite(v) and v > 10.0**high
        for p in panel.points.values()
        for v in (p.value, p.high)
    )
    out = []
    if len(plot.panels) > 1:
        out.append(
            f'<text x="{x0 + width / 2:.1f}" y="38" text-anchor="middle" class="panel">'
            f"{escape_html(panel.title)}</text>"
        )
    if plot.reference is not None:
        xr = x_of(plot.reference)
        out.append(
            f'<rect x="{xr:.1f}" y="{TOP}" width="{x0 + width + OVER - xr:.1f}" '
            f'height="{bottom - TOP}" class="over"/>'
        )
    for k in range(low, high + 1):
        x = x_of(10.0**k)
        out.append(f'<path d="M{x:.1f},{TOP}V{bottom}" class="grid"/>')
        label = plot.tick_label(10.0**k)
        if k == high and clamped:
            label = "≥" + label
        out.append(
            f'<text x="{x:.1f}" y="{bottom + 16}" text-anchor="middle">{escape_html(label)}</text>'
        )
    out.append(f'<path d="M{x0:.1f},{bottom}H{x0 + width:.1f}" class="axis"/>')
    if plot.reference is not None:
        xr = x_of(plot.reference)
        out.append(f'<path d="M{xr:.1f},{TOP - 4}V{bottom}" class="limit"/>')
    n = len(plot.series)
    for s, name in enumerate(plot.series):
        color, shape = PALETTE[s % len(PALETTE)], SHAPES[s % len(SHAPES)]
        offset = (s - (n - 1) / 2) * min(4.0, 10.0 / max(n, 1))
        group = [f"<g{plot.series_attrs.get(name, '')}>"]
        for i, row in enumerate(plot.rows):
            point = panel.points.get((row, name))
            if point is None:
                continue
            y = TOP + ROW * i + ROW / 2 + offset
            group.append(f"<g><title>{escape_html(point.tip)}</title>")
            if point.low is not None and point.high is not None and point.high > point.low:
                group.append(
                    f'<path d="M{x_of(point.low):.1f},{y:.1f}H{x_of(point.high):.1f}" '
                    f'stroke="{color}" stroke-width="1.5" opacity="0.6"/>'
                )
            if point.value is None or not math.isfinite(point.value):
                group.append(_cross(x0 + width + OVER / 2, y, "#a00"))
            else:
                group.append(_marker(shape, x_of(point.value), y, color, point.bad))
            group.append("</g>")
        group.append("</g>")
        out.append("".join(group))
    return "\n".join(out)


def decade_label(value: float) -> str:
    """``0.001``, ``0.1``, ``1``, ``100``, ``1e4``: a power of ten for an axis."""
    k = round(math.log10(value))
    return f"{value:g}" if -3 <= k <= 3 else f"1e{k}"


def spread(values: Sequence[float | None]) -> tuple[float | None, float | None]:
    """Smallest and largest finite value, or (None, None)."""
    finite = [v for v in values if v is not None and math.isfinite(v)]
    return (min(finite), max(finite)) if finite else (None, None)
