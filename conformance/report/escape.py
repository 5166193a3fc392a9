"""Showing text from result files safely: HTML, Markdown, and links to files.

Everything a report shows from a result file or a backend (backend names, messages,
worst elements, sizes, plugin reasons, commands, paths) was written by someone else:
a result file can be edited, and a kernel's exception message is the kernel's. So the
renderers pass every such string through one of these helpers, and nothing else:

- :func:`escape_html` for HTML text and attribute values;
- :func:`escape_markdown` for Markdown text and table cells, :func:`markdown_code` for
  inline code and :func:`markdown_block` for a fenced block;
- :func:`safe_link` for the target of a link, which is only ever a relative path to a
  file inside the report's folder (never ``javascript:``, an absolute path or ``..``).
"""

from __future__ import annotations

import html
import re
from pathlib import Path, PurePosixPath
from urllib.parse import quote

_MARKDOWN_SPECIAL = re.compile(r"([\\`*\[\]<>|~]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9]))")
_LINE_START = re.compile(r"^(\s*)(?:([#+=-])|(\d+)([.)]))")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def one_line(value: object) -> str:
    """``value`` as text on one line: line breaks and other control characters as spaces."""
    return _CONTROL.sub(" ", str(value))


def escape_html(value: object) -> str:
    """``value`` as HTML text, safe in element content and in quoted attribute values."""
    return html.escape(str(value), quote=True)


def escape_markdown(value: object) -> str:
    """``value`` as Markdown text that renders as itself, on one line (a table cell).

    Backslash-escapes what would start emphasis, code, links, raw HTML, strikethrough or
    a table column (``\\ ` * _ [ ] < > | ~``; ``_`` only where it can, not inside a
    word such as ``forget_gate``), and what would start a heading or a list at the
    beginning of the text.
    """
    text = _MARKDOWN_SPECIAL.sub(r"\\\1", one_line(value))
    return _LINE_START.sub(_escape_line_start, text)


def _escape_line_start(match: re.Match[str]) -> str:
    space, marker, number, dot = match.groups()
    return f"{space}\\{marker}" if marker else f"{space}{number}\\{dot}"


def markdown_code(value: object) -> str:
    """``value`` as Markdown inline code, whatever backticks it holds."""
    text = one_line(value)
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def markdown_block(value: object, info: str = "") -> list[str]:
    """``value`` as the lines of a fenced Markdown code block (one line of content)."""
    text = one_line(value)
    fence = "`" * max(3, max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    return [f"{fence}{info}", text, fence]


def safe_link(target: str | None, base_dir: Path | None) -> str | None:
    """The URL of a link to the file ``target``, or None when it must not be linked.

    Only files inside ``base_dir`` (the report's folder) are linked, by a relative,
    percent-encoded path. ``javascript:alert(3)``, any other scheme, an absolute path
    outside ``base_dir``, a path with ``..`` and one with control characters are shown
    as text instead. Without ``base_dir`` only relative paths without ``..`` qualify.
    """
    if not target or _CONTROL.search(target) or "\\" in target:
        return None
    path = Path(target)
    if path.is_absolute():
        if base_dir is None:
            return None
        try:
            path = path.resolve().relative_to(base_dir.resolve())
        except (ValueError, OSError):
            return None
    relative = PurePosixPath(path.as_posix())
    if not relative.parts or ".." in relative.parts or _SCHEME.match(relative.as_posix()):
        return None
    return quote(relative.as_posix(), safe="/")
