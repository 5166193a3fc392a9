"""Rendering result sets: terminal, Markdown, HTML, or the merged JSON itself.

``render(results, "markdown")`` returns the page; ``write_report(path, results)``
picks the format from the suffix (``.md``, ``.html``, ``.json``, else terminal
text) and writes it, with links to failing inputs relative to the report.

May import: :mod:`conformance.results`, errors, typing. A report needs result files
only, never the specs or the backends that produced them.
"""

from __future__ import annotations

from pathlib import Path

from conformance.errors import UsageError
from conformance.report.html import render_html
from conformance.report.markdown import render_markdown
from conformance.report.model import Report, build_report
from conformance.report.text import render_terminal
from conformance.results.files import ResultSet, dumps, write_results

FORMATS = ("terminal", "markdown", "html", "json")
SUFFIXES = {".md": "markdown", ".markdown": "markdown", ".html": "html", ".htm": "html",
            ".json": "json", ".txt": "terminal"}  # fmt: skip

__all__ = ["FORMATS", "Report", "build_report", "format_for_path", "render", "write_report"]


def format_for_path(path: Path | str) -> str:
    """The format a report path asks for by its suffix; UsageError for an unknown one."""
    suffix = Path(path).suffix.lower()
    if suffix not in SUFFIXES:
        known = ", ".join(SUFFIXES)
        raise UsageError(f"cannot tell the report format of {str(path)!r}; use one of {known}")
    return SUFFIXES[suffix]


def render(
    results: ResultSet,
    fmt: str,
    *,
    base_dir: Path | None = None,
    color: bool = False,
    detail: bool = False,
    width: int | None = None,
) -> str:
    """``results`` drawn as ``fmt`` (one of :data:`FORMATS`); the terminal page fits ``width``."""
    if fmt == "json":
        return dumps(results.to_json())
    report = build_report(results)
    if fmt == "terminal":
        return render_terminal(report, color=color, detail=detail, base_dir=base_dir, width=width)
    if fmt == "markdown":
        return render_markdown(report, base_dir=base_dir)
    if fmt == "html":
        return render_html(report, base_dir=base_dir)
    raise UsageError(f"unknown report format {fmt!r}; known: {', '.join(FORMATS)}")


def write_report(
    path: Path | str, results: ResultSet, fmt: str | None = None, *, detail: bool = False
) -> Path:
    """Write ``results`` to ``path`` as ``fmt`` (by default from the suffix)."""
    path = Path(path)
    fmt = fmt or format_for_path(path)
    if fmt == "json":
        return write_results(path, results)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(results, fmt, base_dir=path.parent, detail=detail), encoding="utf-8")
    return path
