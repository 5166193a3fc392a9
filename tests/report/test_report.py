"""The report: cells and symbols, timing and speedups, failures, and the HTML page's structure."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from conformance.errors import UsageError
from conformance.frontends.reproduce import time_step
from conformance.oracle.verify import load_checked_catalog
from conformance.report import format_for_path, render
from conformance.report.model import build_report, cell_of, format_fraction
from conformance.results.files import merge
from conformance.results.model import Status

RERUN = (
    "conformance run --backend broken --spec lstm.forget_gate --dtype float32 --check numeric"
    " --seed 0"
)


@pytest.fixture
def mixed(make_result, make_result_set):
    """numpy-loops passes, fused-gate barely passes, broken fails, partial lacks the spec."""
    return make_result_set(
        make_result("numpy-loops", seconds=4e-5),
        make_result("numpy-loops", check="gradient", tol_fraction=0.01, seconds=None),
        make_result("fused-gate", tol_fraction=0.93, seconds=1e-5),
        make_result(
            "fused-gate", check="gradient", status=Status.NOT_IMPLEMENTED, tol_fraction=None
        ),
        make_result(
            "broken",
            status=Status.FAIL,
            tol_fraction=4.7e3,
            max_abs=0.013,
            max_rel=0.0855,
            worst="f[0, 0]",
            message="f[0, 0] = 0.13, but should be 0.12",
            rerun=RERUN,
            seconds=None,
        ),
        make_result("partial", status=Status.NOT_IMPLEMENTED, tol_fraction=None, seconds=None),
    )


def test_cell_of_aggregates_to_the_worst_verdict(make_result):
    assert cell_of([make_result(), make_result(status=Status.FAIL, tol_fraction=2.0)]).text == "✗ 2"
    assert (
        cell_of([make_result(status=Status.ERROR, tol_fraction=None, message="x")]).text
        == "✗ error"
    )
    assert cell_of([make_result(status=Status.NOT_IMPLEMENTED)]).text == "—"
    partial = cell_of(
        [
            make_result(tol_fraction=0.6),
            make_result(check="gradient", status=Status.NOT_IMPLEMENTED),
        ]
    )
    assert (partial.state, partial.text) == ("warn", "✓ 0.6 (no gradient)")
    assert cell_of([make_result(tol_fraction=0.5)]).state == "pass"


@pytest.mark.parametrize(
    ("value", "text"),
    [(0.0, "0"), (0.004, "<0.01"), (0.42, "0.42"), (4700.0, "4.7e+3"), (float("inf"), "inf")],
)
def test_format_fraction_reads_at_a_glance(value, text):
    assert format_fraction(value) == text


def test_markdown_report_shows_pass_fail_and_not_implemented(mixed):
    text = render(mixed, "markdown")
    assert "| **lstm — LSTM**" in text
    matrix_row = next(line for line in text.splitlines() if line.startswith("| lstm.forget_gate "))
    assert "✓ 0.1" in matrix_row and "✓ 0.93 (no gradient)" in matrix_row
    assert "✗ 4.7e+3" in matrix_row and "—" in matrix_row
    assert "| broken " in text and "FAILS" in text
    assert f"   {RERUN}" in text and "```sh" in text
    assert "where: `case 0 (B=3, D=5, H=4), seed 0`" in text  # f[0, 0] is in the message
    assert "by how much: `max abs err 0.013; max rel err 0.0855; 4.7e+3× the tolerance`" in text
    assert "tolerance: `atol=1e-06, rtol=1e-05`" in text


def test_terminal_report_shows_symbols_timing_and_rerun(mixed):
    text = render(mixed, "terminal")
    assert "✓ 0.1" in text and "✗ 4.7e+3" in text and "—" in text
    assert f"re-run: {RERUN}" in text
    timing = next(
        line for line in text.splitlines() if line.startswith("lstm.forget_gate  float32")
    )
    assert "40 µs" in timing and "10 µs (4.0×)" in timing  # speedup over numpy-loops
    assert "\x1b[" not in text
    assert "\x1b[32m✓ 0.1\x1b[0m" in render(mixed, "terminal", color=True)


def test_report_without_baseline_shows_times_without_speedup(make_result, make_result_set):
    text = render(make_result_set(make_result("fused-gate", seconds=2e-3)), "terminal")
    assert "2 ms" in text and "×)" not in text


def test_report_names_the_time_step_of_a_sequence_failure(make_result, make_result_set):
    spec = load_checked_catalog().get("rnn.sequence")
    assert time_step(spec, "hs[3, 1, 0]") == 3
    assert time_step(spec, "grad xs[2, 0, 1]") == 2
    assert time_step(spec, "h_T[1, 0]") is None  # not a sequence
    failing = make_result(spec="rnn.sequence", status=Status.FAIL, worst="hs[3, 1, 0]", time_step=3)
    assert "hs[3, 1, 0], time step t=3, case 0" in render(make_result_set(failing), "markdown")


def test_report_labels_backends_by_machine_when_merged_from_two(make_result, make_result_set):
    gpu = make_result_set(
        make_result(machine="gpu-box", run="run-g"), run="run-g", machine="gpu-box"
    )
    text = render(merge([make_result_set(make_result()), gpu]), "markdown")
    assert "numpy-loops@cpu-box" in text and "numpy-loops@gpu-box" in text


class _Page(HTMLParser):
    """Records tags, cell classes, URLs and scripts of an HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.cells: list[tuple[str, str]] = []
        self.urls: list[str] = []
        self._cell: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append(tag)
        self.urls += [v for k, v in attrs.items() if k in ("href", "src") and v]
        if tag == "td" and "cell" in (attrs.get("class") or "").split():
            self._cell = attrs["class"]

    def handle_data(self, data):
        if self._cell is not None:
            self.cells.append((self._cell, data))
            self._cell = None


def test_html_report_is_one_self_contained_page_with_coloured_cells(mixed):
    page = _Page()
    html = render(mixed, "html")
    page.feed(html)
    assert page.tags[0] == "html" and "style" in page.tags and "table" in page.tags
    assert "link" not in page.tags and "img" not in page.tags and "iframe" not in page.tags
    assert all(url.startswith("#") for url in page.urls) and "://" not in html  # no network
    classes = {cls.split()[1] for cls, _ in page.cells}
    assert classes == {"pass", "warn", "fail", "na"}
    assert ("cell warn", "✓ 0.93 (no gradient)") in page.cells
    assert ("cell fail", "✗ 4.7e+3") in page.cells
    assert "td.warn" in html and "td.fail" in html  # coloured by inline CSS
    assert 'class="failures"' in html and RERUN in html


def test_html_report_links_the_failing_inputs_relative_to_it(
    tmp_path, make_result, make_result_set
):
    failing = make_result(status=Status.FAIL, inputs_file=str(tmp_path / "r.inputs" / "x.npz"))
    page = _Page()
    page.feed(render(make_result_set(failing), "html", base_dir=tmp_path))
    assert [url for url in page.urls if not url.startswith("#")] == ["r.inputs/x.npz"]


def test_report_summary_says_whether_each_backend_conforms(mixed):
    report = build_report(mixed)
    verdicts = {s.column.label: s.conforms for s in report.summaries}
    assert verdicts == {"numpy-loops": True, "fused-gate": True, "broken": False, "partial": True}
    assert not report.conforms


@pytest.mark.parametrize(
    ("path", "fmt"),
    [("r.md", "markdown"), ("r.html", "html"), ("r.json", "json"), ("r.txt", "terminal")],
)
def test_format_for_path_follows_the_suffix(path, fmt):
    assert format_for_path(path) == fmt


def test_format_for_path_rejects_an_unknown_suffix():
    with pytest.raises(UsageError, match=r"cannot tell the report format of 'r\.pdf'"):
        format_for_path("r.pdf")


def test_failure_says_why_its_inputs_were_not_saved(make_result, make_result_set):
    failing = make_result(
        status=Status.FAIL,
        message="f[0, 1] is off",
        extra={"inputs_error": "SpecError: no such spec"},
    )
    text = render(make_result_set(failing), "markdown")
    assert "inputs not saved: SpecError: no such spec" in text


def test_environment_row_names_the_frameworks_a_backend_reported(make_result, make_result_set):
    results = make_result_set(make_result())
    results.runs["run-a"].environment.extra.update({"torch": "2.13.0", "torch threads": "2"})
    text = render(results, "markdown")
    assert "torch 2.13.0; torch threads 2" in text
