"""Tables drawn to fit a width: free text wraps, and columns too many for one table split.

:func:`fit_table` draws a tabulate ``simple`` table no wider than ``width`` columns
(no limit when ``width`` is None, as for a file). First the columns of free text
wrap, down to a floor; then headers wider than their column's cells break in two
(``numpy-`` over ``vectorized``); then, if the table is still too wide, the columns
after the first ``keep`` are dealt into several tables, each repeating the key
columns, one under the other, like a wide data frame. *Banner* rows (a family's title in the
matrix) are drawn as one line across the table rather than as cells.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable, Mapping, Sequence

from tabulate import tabulate

_wcswidth: Callable[[str], int] | None
try:  # tabulate measures with wcwidth when it is installed; so do we
    from wcwidth import wcswidth as _wcswidth
except ImportError:  # pragma: no cover - depends on the environment
    _wcswidth = None

ANSI = re.compile(r"\x1b\[[0-9;]*m")
SEPARATOR = 2
"""Spaces between the columns of a ``simple`` table."""
HEADER_PADDING = 2
"""tabulate pads every header by this much."""
MIN_WRAP = 12
"""A wrapping column is never made narrower than this."""


def visible_width(text: str) -> int:
    """The width of ``text``'s longest line on a terminal, colour codes excluded."""
    widths = [0]
    for line in ANSI.sub("", text).split("\n"):
        measured = _wcswidth(line) if _wcswidth is not None else -1
        widths.append(measured if measured >= 0 else len(line))
    return max(widths)


def cut(text: str, width: int) -> str:
    """``text`` shortened to ``width`` columns with an ellipsis (plain text only)."""
    if visible_width(text) <= width:
        return text
    return text[: max(width - 1, 0)] + "…"


def wrap(text: str, width: int | None, indent: str = "") -> str:
    """``text`` wrapped to ``width`` columns, continuation lines indented by ``indent``."""
    if width is None or visible_width(text) <= width:
        return text
    return textwrap.fill(
        text,
        width=max(width, len(indent) + MIN_WRAP),
        initial_indent="",
        subsequent_indent=indent,
        break_long_words=False,
        break_on_hyphens=False,
    )


def fit_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[object]],
    width: int | None,
    *,
    keep: int = 1,
    wrap_columns: Sequence[int] = (),
    banners: Mapping[int, str] | None = None,
) -> str:
    """A ``simple`` table of ``rows`` no wider than ``width`` (see the module docstring).

    :param keep: how many leading columns identify a row (repeated in every split table).
    :param wrap_columns: indices of the columns of free text that may wrap (between
        words, never narrower than their longest word or :data:`MIN_WRAP`).
    :param banners: row index → a line drawn across the table in place of that row
        (its cells are ignored).
    """
    banners = dict(banners or {})
    cells = [["" if i in banners else str(v) for v in row] for i, row in enumerate(rows)]
    headers = [str(h) for h in headers]
    wrap_columns = [c for c in wrap_columns if c < len(headers)]
    if width is None or _table_width(headers, cells) <= width:
        return _draw(headers, cells, banners, None, width)
    limits = _wrapped_widths(headers, cells, width, wrap_columns)
    if _table_width(headers, cells, limits) <= width:
        return _draw(headers, cells, banners, limits, width)
    headers = _broken_headers(headers, cells, keep)
    limits = _wrapped_widths(headers, cells, width, wrap_columns)
    if _table_width(headers, cells, limits) <= width or len(headers) <= keep + 1:
        return _draw(headers, cells, banners, limits, width)
    floors = [_floor(headers, cells, c) if c in wrap_columns else None for c in range(len(headers))]
    tables = []
    for group in _column_groups(headers, cells, width, keep, floors):
        columns = [*range(keep), *group]
        sub_headers = [headers[c] for c in columns]
        sub_cells = [[row[c] for c in columns] for row in cells]
        sub_wrap = [i for i, c in enumerate(columns) if c in wrap_columns]
        sub_limits = _wrapped_widths(sub_headers, sub_cells, width, sub_wrap)
        tables.append(_draw(sub_headers, sub_cells, banners, sub_limits, width))
    return "\n\n".join(tables)


BREAKS = "-@_ "
"""Where a header may break: after one of these."""


def _broken_headers(headers: Sequence[str], cells: Sequence[Sequence[str]], keep: int) -> list[str]:
    """Headers after the first ``keep`` that are wider than their cells, broken in two
    after a ``-``, ``@``, ``_`` or space, as evenly as they can be."""
    broken = list(headers)
    for column in range(keep, len(headers)):
        header = headers[column]
        cell_width = max([0, *(visible_width(row[column]) for row in cells)])
        if "\n" in header or visible_width(header) + HEADER_PADDING <= cell_width:
            continue
        splits = [i + 1 for i, char in enumerate(header[:-1]) if char in BREAKS]
        if splits:
            at = min(splits, key=lambda i: (max(len(header[:i].rstrip()), len(header[i:])), -i))
            broken[column] = f"{header[:at].rstrip()}\n{header[at:]}"
    return broken


def _column_width(headers: Sequence[str], cells: Sequence[Sequence[str]], column: int) -> int:
    return max(
        [visible_width(headers[column]) + HEADER_PADDING]
        + [visible_width(row[column]) for row in cells]
    )


def _table_width(
    headers: Sequence[str],
    cells: Sequence[Sequence[str]],
    max_widths: Sequence[int | None] | None = None,
) -> int:
    widths = []
    for column in range(len(headers)):
        natural = _column_width(headers, cells, column)
        limit = max_widths[column] if max_widths else None
        header = visible_width(headers[column]) + HEADER_PADDING
        widths.append(min(natural, max(limit, header)) if limit else natural)
    return sum(widths) + SEPARATOR * (len(widths) - 1)


def _floor(headers: Sequence[str], cells: Sequence[Sequence[str]], column: int) -> int:
    """The narrowest a wrapping column may get: its longest word, and at least MIN_WRAP."""
    words = [len(w) for row in cells for w in ANSI.sub("", row[column]).split()]
    natural = _column_width(headers, cells, column)
    return min(natural, max([MIN_WRAP, visible_width(headers[column]), *words]))


def _wrapped_widths(
    headers: Sequence[str], cells: Sequence[Sequence[str]], width: int, wrap_columns: Sequence[int]
) -> list[int | None]:
    """Limits for the wrapping columns that bring the table within ``width`` if they can."""
    limits: list[int | None] = [None] * len(headers)
    natural = [_column_width(headers, cells, c) for c in range(len(headers))]
    floors = {c: _floor(headers, cells, c) for c in wrap_columns}
    for _ in range(400):  # shrink the widest wrapping column, a step at a time
        excess = _table_width(headers, cells, limits) - width
        candidates = [c for c in wrap_columns if (limits[c] or natural[c]) > floors[c]]
        if excess <= 0 or not candidates:
            break
        widest = max(candidates, key=lambda c: limits[c] or natural[c])
        current = limits[widest] or natural[widest]
        limits[widest] = max(floors[widest], current - max(1, min(excess, current // 4)))
    return limits


def _column_groups(
    headers: Sequence[str],
    cells: Sequence[Sequence[str]],
    width: int,
    keep: int,
    floors: Sequence[int | None],
) -> list[list[int]]:
    """The columns after the first ``keep``, dealt in order into groups that fit ``width``
    (a wrapping column counted at its floor)."""

    def column_width(column: int) -> int:
        return floors[column] or _column_width(headers, cells, column)

    key_width = sum(column_width(c) + SEPARATOR for c in range(keep))
    groups: list[list[int]] = []
    group: list[int] = []
    used = key_width
    for column in range(keep, len(headers)):
        need = column_width(column) + SEPARATOR
        if group and used + need - SEPARATOR > width:
            groups.append(group)
            group, used = [], key_width
        group.append(column)
        used += need
    return [*groups, group] if group else groups


def _draw(
    headers: Sequence[str],
    cells: Sequence[Sequence[str]],
    banners: Mapping[int, str],
    max_widths: Sequence[int | None] | None,
    width: int | None,
) -> str:
    text = tabulate(
        cells,
        headers=headers,
        tablefmt="simple",
        disable_numparse=True,
        maxcolwidths=list(max_widths) if max_widths and any(max_widths) else None,
    )
    if not banners:
        return text
    if max_widths and any(max_widths):
        raise ValueError("banner rows need one line per row: do not wrap a table with banners")
    lines = text.split("\n")
    offset = max(h.count("\n") for h in headers) + 2  # the header's lines and the rule
    for index, banner in banners.items():
        while len(lines) <= offset + index:  # tabulate may drop an empty last row
            lines.append("")
        lines[offset + index] = cut(banner, width) if width else banner
    return "\n".join(lines)
