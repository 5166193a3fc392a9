"""Hostile result files rendered: HTML and Markdown show every string from the results as
text (no markup, no scripts, no broken tables), and link only to files in the report's folder."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conformance.report import render, write_report
from conformance.report.escape import (
    escape_markdown,
    markdown_block,
    markdown_code,
    safe_link,
)
from conformance.report.html_assets import SCRIPT as PAGE_SCRIPT
from conformance.results.files import SpecInfo, dumps, read_results
from conformance.results.model import Status

SCRIPT = "<script>alert(1)</script>"
MARKDOWN = "| col | *bold* _em_ [link](javascript:alert(2)) `code` ~~gone~~"
CLEAR_SCREEN = "\x1b[2J\x1b[H"
UNSAFE_TARGETS = ["javascript:alert(3)", "/etc/passwd", "../../secret.npz", "r.inputs/../../x.npz"]


@pytest.fixture
def hostile(tmp_path: Path, make_result, make_result_set) -> Path:
    """A result file whose every string is hostile; one failure links a real file beside it."""
    failures = [
        make_result(
            f"{SCRIPT}{i}",
            status=Status.FAIL,
            message=f"{SCRIPT} {MARKDOWN}\n# not a heading {CLEAR_SCREEN}",
            worst="h[`0`, ``1``]",
            dtype=f"float32{SCRIPT}",
            check=f"numeric|{SCRIPT}",
            rerun="conformance run ```\n--backend x",
            inputs_file=target,
            sizes={f"B{SCRIPT}": 3},
            tolerance={f"atol{SCRIPT}": 1e-6},
            backend_version=MARKDOWN,
        )
        for i, target in enumerate([*UNSAFE_TARGETS, "r.inputs/ok file#1.npz"])
    ]
    results = make_result_set(make_result(MARKDOWN), *failures)
    results.specs["lstm.forget_gate"] = SpecInfo(
        "lstm.forget_gate", title=SCRIPT, family="lstm", family_title=MARKDOWN, source=SCRIPT
    )
    run = next(iter(results.runs.values()))
    run.plugins.append({"name": SCRIPT, "source": MARKDOWN, "state": "failed", "reason": SCRIPT})
    data = results.to_json()
    data["runs"][0]["environment"]["machine"] = SCRIPT
    for record, failure in zip(data["results"][1:], failures, strict=True):
        record["inputs_file"] = failure.inputs_file  # verbatim, as a hostile file would hold
    path = tmp_path / "hostile.json"
    path.write_text(dumps(data), encoding="utf-8")
    return path


class Page(HTMLParser):
    """Every element and every link target of an HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.hrefs: list[str] = []
        self.attributes: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes += [name for name, _ in attrs]
        self.hrefs += [value or "" for name, value in attrs if name == "href"]


def test_html_report_shows_hostile_strings_as_text_and_links_only_inside_its_folder(
    tmp_path: Path, hostile: Path
) -> None:
    page_path = write_report(tmp_path / "report.html", read_results(hostile))
    html = page_path.read_text(encoding="utf-8")
    page = Page()
    page.feed(html)
    assert page.tags.count("script") == 1 and html.count("<script") == 1  # the page's own
    assert f"<script>{PAGE_SCRIPT}</script>" in html
    assert not [a for a in page.attributes if a.startswith("on")]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert [h for h in page.hrefs if not h.startswith("#")] == ["r.inputs/ok%20file%231.npz"]
    for target in UNSAFE_TARGETS[:1]:
        assert f"<code>{target}</code> (not linked" in html
    assert "/etc/passwd</code> (not linked" in html


def without_code_spans(text: str) -> str:
    """``text`` without its inline code spans (whose content Markdown shows verbatim)."""
    return re.sub(r"(?<!`)(`+)(?!`).*?(?<!`)\1(?!`)", "", text)


def test_terminal_report_lets_only_its_own_colours_reach_the_terminal(hostile: Path) -> None:
    results = read_results(hostile)
    results.results[0].backend = f"evil{CLEAR_SCREEN}"
    text = render(results, "terminal", color=True)
    assert "\x1b[2J" not in text and "\x1b[H" not in text
    assert "\x1b[32m" in text  # the pass colour of the report's own cells
    assert "evil [2J [H" in text


def markdown_columns(line: str) -> int:
    """The number of cells of a GitHub table row: its unescaped pipes, minus one."""
    return len(re.findall(r"(?<!\\)\|", line)) - 1


def test_markdown_report_escapes_hostile_strings_and_keeps_its_tables(
    tmp_path: Path, hostile: Path
) -> None:
    text = write_report(tmp_path / "report.md", read_results(hostile)).read_text("utf-8")
    assert "<script>" not in without_code_spans(text)
    assert "\\<script\\>alert(1)\\</script\\>" in text
    assert "*bold*" not in text.replace("\\*bold\\*", "")
    assert "](javascript:" not in text.replace("\\](javascript:", "")
    tables: list[list[str]] = []
    for line in text.splitlines():
        if line.startswith("|"):
            if not tables or not tables[-1]:
                tables.append([])
            tables[-1].append(line)
        elif tables and tables[-1]:
            tables.append([])
    for table in filter(None, tables):
        assert len({markdown_columns(row) for row in table}) == 1, table
    links = re.findall(r"\]\((?!javascript)([^)]*)\)", text)
    assert links == ["r.inputs/ok%20file%231.npz"]
    assert "inputs: `javascript:alert(3)` (not linked" in text
    assert not re.search(r"^#+ not a heading", text, re.MULTILINE)
    assert "```` sh" not in text and "````sh" in text  # a fence longer than the rerun's ```


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("a|b", "a\\|b"),
        ("*x* and **y**", "\\*x\\* and \\*\\*y\\*\\*"),
        ("_x_ but forget_gate", "\\_x\\_ but forget_gate"),
        ("<b>", "\\<b\\>"),
        ("`code`", "\\`code\\`"),
        ("[a](b)", "\\[a\\](b)"),
        ("# h", "\\# h"),
        ("1. item", "1\\. item"),
        ("- item", "\\- item"),
        ("two\nlines", "two lines"),
        ("back\\slash", "back\\\\slash"),
    ],
)
def test_escape_markdown_escapes_what_would_render_as_markup(text: str, escaped: str) -> None:
    assert escape_markdown(text) == escaped


def test_markdown_code_and_block_fence_longer_than_any_backtick_run() -> None:
    assert markdown_code("a") == "`a`"
    assert markdown_code("a ` b") == "``a ` b``"
    assert markdown_code("`x`") == "`` `x` ``"
    assert markdown_block("run ```x```", "sh") == ["````sh", "run ```x```", "````"]


@pytest.mark.parametrize(
    ("target", "link"),
    [
        ("javascript:alert(3)", None),
        ("data:text/html,<b>", None),
        ("/etc/passwd", None),
        ("../up.npz", None),
        ("a/../../up.npz", None),
        ("a\\..\\up.npz", None),
        ("x\n.npz", None),
        ("", None),
        ("r.inputs/x.npz", "r.inputs/x.npz"),
        ("r.inputs/a b?c#d.npz", "r.inputs/a%20b%3Fc%23d.npz"),
        ("{base}/r.inputs/x.npz", "r.inputs/x.npz"),
        ("{base}/../x.npz", None),
    ],
)
def test_safe_link_only_links_files_inside_the_report_folder(
    tmp_path: Path, target: str, link: str | None
) -> None:
    assert safe_link(target.format(base=tmp_path), tmp_path) == link


def test_the_result_file_itself_stays_valid_json_with_hostile_strings(hostile: Path) -> None:
    assert json.loads(hostile.read_text("utf-8"))["results"][1]["backend"] == f"{SCRIPT}0"
