"""The HTML page's structure: links between cells and failures, ids, title, charts, policy."""

from __future__ import annotations

import base64
import hashlib
import re
from html.parser import HTMLParser

import pytest

from conformance.report import render
from conformance.report.charts import error_plot, timing_plot
from conformance.report.html import page_title
from conformance.report.model import build_report
from conformance.results.files import merge
from conformance.results.model import Status

VOID = {"meta", "br", "input", "link", "img", "hr", "wbr", "source", "col", "area", "base"}
SVG_LEAVES = {"circle", "rect", "path", "polygon"}


class Tree(HTMLParser):
    """Elements with their attributes, unbalanced tags, and the text of scripts and styles."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.stack: list[str] = []
        self.unbalanced: list[str] = []
        self.raw: dict[str, list[str]] = {"script": [], "style": []}

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, {k: v or "" for k, v in attrs}))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.elements.append((tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.unbalanced.append(f"</{tag}> inside {self.stack[-3:]}")
            return
        self.stack.pop()

    def handle_data(self, data):
        if self.stack and self.stack[-1] in self.raw:
            self.raw[self.stack[-1]].append(data)

    def having(self, tag: str, **attrs: str) -> list[dict[str, str]]:
        return [
            a for t, a in self.elements
            if t == tag and all(a.get(k.replace("_", "-")) == v for k, v in attrs.items())
        ]  # fmt: skip


def parse(html: str) -> Tree:
    tree = Tree()
    tree.feed(html)
    tree.close()
    assert tree.unbalanced == [] and tree.stack == [], (tree.unbalanced, tree.stack)
    return tree


@pytest.fixture
def failing(make_result, make_result_set):
    """numpy-loops passes; broken fails numeric in float32 and raises in gradient."""
    return make_result_set(
        make_result("numpy-loops", seconds=4e-5),
        make_result("numpy-loops", dtype="float64", seconds=5e-5),
        make_result("broken", status=Status.FAIL, tol_fraction=4.7e3, message="f[0, 0] off"),
        make_result(
            "broken",
            check="gradient",
            status=Status.ERROR,
            tol_fraction=None,
            seconds=None,
            message="broken raised ValueError",
        ),
    )


def test_failing_cells_link_to_their_failure_blocks_and_back(failing):
    tree = parse(render(failing, "html"))
    ids = [a["id"] for _, a in tree.elements if "id" in a]
    assert len(ids) == len(set(ids))  # valid HTML: every id once
    blocks = {a["id"] for a in tree.having("li") if "failure" in a.get("class", "")}
    assert blocks == {
        "lstm.forget_gate-broken-float32-numeric",
        "lstm.forget_gate-broken-float32-gradient",
    }
    links = {a["href"][1:] for a in tree.having("a") if a.get("href", "").startswith("#")}
    assert links <= set(ids)  # no link leads nowhere
    assert "lstm.forget_gate-broken-float32-numeric" in links  # the matrix cell's link
    assert "lstm.forget_gate-broken-float32-gradient" in links  # the check row's link
    assert {"m-lstm.forget_gate-broken", "d-lstm.forget_gate-gradient-broken"} <= links  # back


def test_one_block_for_the_same_error_in_both_dtypes_keeps_an_anchor_for_each(
    make_result, make_result_set
):
    same = dict(status=Status.ERROR, tol_fraction=None, seconds=None, message="kernel raised")
    results = make_result_set(
        make_result("broken", dtype="float32", **same),
        make_result("broken", dtype="float64", **same),
    )
    html = render(results, "html")
    tree = parse(html)
    (block,) = [a for a in tree.having("li") if "failure" in a.get("class", "")]
    assert block["id"] == "lstm.forget_gate-broken-float32-numeric"
    assert tree.having("a", id="lstm.forget_gate-broken-float64-numeric")  # inside the block
    assert "occurs in" in html


def test_every_matrix_is_shown_and_every_backend_column_can_be_filtered(failing):
    html = render(failing, "html")
    tree = parse(html)
    assert "<details open>" in html  # the per-check matrix is not folded
    for css in ("matrix", "detail", "timing"):
        (table,) = [a for a in tree.having("table") if css in a.get("class", "").split()]
        assert "sortable" in table["class"] and table["data-cols"] in ("1", "2")
    heads = [a["data-b"] for a in tree.having("th") if "data-b" in a]
    assert heads == ["numpy-loops", "broken"] * 3
    (form,) = tree.having("form")
    assert "hidden" in form  # without script there are no controls that do nothing
    names = [a["name"] for a in tree.having("select")]
    assert names == ["backend", "family", "status"]  # one machine: no machine filter


def test_page_runs_only_its_own_script_and_style_and_fetches_nothing(failing):
    html = render(failing, "html")
    tree = parse(html)
    (policy,) = tree.having("meta", http_equiv="Content-Security-Policy")
    rules = dict(r.strip().split(" ", 1) for r in policy["content"].split(";"))
    assert rules["default-src"] == "'none'"

    def digest(text: str) -> str:
        return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"

    (script,), (style,) = tree.raw["script"], tree.raw["style"]
    assert rules["script-src"] == digest(script) and rules["style-src"] == digest(style)
    assert not [a for _, a in tree.elements if "src" in a or any(k.startswith("on") for k in a)]
    assert not [a for _, a in tree.elements if "style" in a]  # the policy would block it


def test_title_names_the_machines_and_the_dates(make_result, make_result_set):
    cpu = make_result_set(make_result(), started="2026-11-30T23:00:00+00:00")
    gpu = make_result_set(
        make_result(machine="gpu-box", run="run-g"),
        run="run-g",
        machine="gpu-box",
        started="2026-12-01T08:00:00+00:00",
    )
    merged = merge([cpu, gpu])
    assert page_title(build_report(merged)) == (
        "Conformance report · cpu-box, gpu-box · 2026-11-30 – 2026-12-01"
    )
    html = render(merged, "html")
    assert "<title>Conformance report · cpu-box, gpu-box · 2026-11-30 – 2026-12-01</title>" in html
    assert [a["name"] for a in parse(html).having("select")][1] == "machine"
    many = merge(
        make_result_set(make_result(machine=f"m{i}", run=f"r{i}"), run=f"r{i}", machine=f"m{i}")
        for i in range(5)
    )
    assert page_title(build_report(many)) == (
        "Conformance report · m0, m1, m2 and 2 more machines · 2026-01-01"
    )


def test_anchors_of_many_machines_name_the_machine(make_result, make_result_set):
    sets = [
        make_result_set(
            make_result(status=Status.FAIL, tol_fraction=3.0, machine=m, run=m), run=m, machine=m
        )
        for m in ("cpu box", "gpu-box")
    ]
    tree = parse(render(merge(sets), "html"))
    blocks = [a["id"] for a in tree.having("li") if "failure" in a.get("class", "")]
    assert blocks == [
        "lstm.forget_gate-numpy-loops-float32-numeric@cpu~20~box",  # a space is no id
        "lstm.forget_gate-numpy-loops-float32-numeric@gpu-box",
    ]


def test_error_chart_draws_each_backend_with_the_limit_on_a_log_axis(failing):
    html = render(failing, "html")
    tree = parse(html)
    svgs = tree.having("svg")
    assert len(svgs) == 2 and all(a["role"] == "img" for a in svgs)
    plot = error_plot(build_report(failing))
    assert plot is not None and plot.reference == 1.0 and plot.series == ["numpy-loops", "broken"]
    (panel,) = plot.panels
    point = panel.points["lstm.forget_gate", "broken"]
    assert point.value == pytest.approx(4.7e3) and point.bad  # the matrix cell's number
    assert panel.points["lstm.forget_gate", "numpy-loops"].value == pytest.approx(0.1)
    assert 'class="limit"' in html and "≥" not in html  # nothing beyond the axis
    ticks = re.findall(r'text-anchor="middle">([^<]+)</text>', html)
    assert {"0.1", "1", "10", "1e4"} <= set(ticks)


def test_error_chart_puts_an_error_past_the_axis_and_clamps_huge_errors(
    make_result, make_result_set
):
    results = make_result_set(
        make_result("raises", status=Status.ERROR, tol_fraction=None, message="raised"),
        make_result("huge", status=Status.FAIL, tol_fraction=7e10),
    )
    plot = error_plot(build_report(results))
    assert plot is not None
    (panel,) = plot.panels
    assert panel.points["lstm.forget_gate", "raises"].value is None
    html = render(results, "html")
    assert "≥1e4" in html  # 7e10 drawn at the axis's end, which says so
    assert "✗ 7e+10" in html  # and its tooltip has the number


def test_timing_chart_has_a_panel_per_dtype_and_a_range_over_machines(make_result, make_result_set):
    sets = [
        make_result_set(
            make_result(machine=m, run=m, seconds=s), make_result(machine=m, run=m,
            dtype="float64", seconds=2 * s), run=m, machine=m,
        )
        for m, s in (("a", 1e-5), ("b", 4e-5), ("c", 2e-5))
    ]  # fmt: skip
    plot = timing_plot(build_report(merge(sets)))
    assert plot is not None and [p.title for p in plot.panels] == ["float32", "float64"]
    assert plot.series == ["numpy-loops"]  # one series per backend, not per machine
    point = plot.panels[0].points["lstm.forget_gate", "numpy-loops"]
    assert (point.value, point.low, point.high) == pytest.approx((2e-5, 1e-5, 4e-5))
    assert "median of 3 machines" in point.tip


def test_strings_from_result_files_are_escaped_everywhere(make_result, make_result_set):
    hostile = '<img src=x onerror="alert(1)">'
    results = make_result_set(
        make_result(hostile, status=Status.FAIL, tol_fraction=2.0, message="</script>" + hostile),
        machine=hostile,
    )
    results.results[0].machine = hostile
    html = render(results, "html")
    tree = parse(html)
    assert tree.having("img") == [] and len(tree.raw["script"]) == 1
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html
