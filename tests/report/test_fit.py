"""Tables fitted to a width, plural forms, and the timing table's caption and note."""

from __future__ import annotations

import pytest

from conformance.report import render
from conformance.report.fit import cut, fit_table, visible_width, wrap
from conformance.report.model import build_report
from conformance.report.text import headline, plural, timing_notes
from conformance.results.model import Status

HEADERS = ["spec", *(f"backend{i}" for i in range(8))]  # nowhere to break
ROWS = [["lstm.forget_gate", *(f"✓ 0.0{i}" for i in range(8))], ["ctc.loss", *("—" * 8)]]


def lines_of(text: str) -> list[str]:
    return text.splitlines()


def test_fit_table_leaves_a_table_that_fits_alone():
    assert fit_table(HEADERS[:3], [r[:3] for r in ROWS], 200) == fit_table(
        HEADERS[:3], [r[:3] for r in ROWS], None
    )


@pytest.mark.parametrize("width", [40, 60, 80, 100])  # the whole table is 120 wide
def test_fit_table_splits_columns_keeping_the_key_column(width):
    text = fit_table(HEADERS, ROWS, width)
    assert max(visible_width(line) for line in lines_of(text)) <= width
    tables = text.split("\n\n")
    assert len(tables) > 1
    for table in tables:
        assert table.startswith("spec")  # every part repeats the key column
        assert "lstm.forget_gate" in table and "ctc.loss" in table
    shown = [h for table in tables for h in lines_of(table)[0].split() if h != "spec"]
    assert shown == HEADERS[1:]  # every backend, once, in order
    for i in range(8):
        assert f"✓ 0.0{i}" in text


def test_fit_table_breaks_wide_headers_before_splitting():
    headers = ["spec", "check", "numpy-loops", "fused-gate", "numpy-vectorized"]
    rows = [["lstm.forget_gate", "batch_independence", "✓ 0", "✓ 0.016", "✓ 0.016"]]
    assert visible_width(fit_table(headers, rows, None)) > 80
    text = fit_table(headers, rows, 80, keep=2)
    assert "\n\n" not in text and max(visible_width(line) for line in lines_of(text)) <= 80
    first, second = lines_of(text)[:2]
    assert first.split() == ["spec", "check", "numpy-", "fused-", "numpy-"]
    assert second.split() == ["loops", "gate", "vectorized"]


def test_fit_table_wraps_free_text_between_words():
    rows = [["numpy-loops", "entry point implementations.numpy_loops", "loaded"]]
    text = fit_table(["plugin", "source", "state"], rows, 55, wrap_columns=(1,))
    assert max(visible_width(line) for line in lines_of(text)) <= 55
    assert "implementations.numpy_loops" in text  # the long word is never broken
    assert "\n\n" not in text  # wrapping sufficed: one table


def test_fit_table_draws_banners_across_the_table_and_cuts_them():
    rows = [["", ""], ["lstm.cell", "✓"]]
    banner = "[lstm — Long short-term memory, a family title longer than the table]"
    text = fit_table(["spec", "b"], rows, 30, banners={0: banner})
    assert lines_of(text)[2] == cut(banner, 30) and lines_of(text)[2].endswith("…")
    assert visible_width(lines_of(text)[2]) == 30
    assert lines_of(fit_table(["spec", "b"], rows, None, banners={0: banner}))[2] == banner


def test_visible_width_ignores_colour_codes():
    assert visible_width("\x1b[32m✓ 0.1\x1b[0m") == 5


def test_wrap_indents_continuation_lines_and_keeps_short_text():
    text = wrap("  where: " + "word " * 30, 40, "    ")
    assert all(len(line) <= 40 for line in lines_of(text))
    assert all(line.startswith("    ") for line in lines_of(text)[1:])
    assert wrap("short", 40) == "short" and wrap("x " * 50, None) == "x " * 50


@pytest.mark.parametrize(
    ("count", "noun", "text"),
    [(1, "backend", "1 backend"), (3, "backend", "3 backends"), (0, "spec", "0 specs"),
     (1, "failing check", "1 failing check"), (2, "failing check", "2 failing checks")],
)  # fmt: skip
def test_plural_forms(count, noun, text):
    assert plural(count, noun) == text


def test_headline_counts_in_the_singular(make_result, make_result_set):
    failing = make_result("mine", status=Status.FAIL, tol_fraction=3.0)
    report = build_report(make_result_set(failing))
    assert headline(report) == "1 backend × 1 spec × float32, seed 0: 1 failing check"


def test_timing_caption_names_the_baseline_only_when_it_ran(make_result, make_result_set):
    with_baseline = build_report(
        make_result_set(make_result("numpy-loops", seconds=4e-5), make_result("mine"))
    )
    caption, note = timing_notes(with_baseline)
    assert "speedup over numpy-loops" in caption and note == ""
    alone = build_report(make_result_set(make_result("mine", seconds=2e-3)))
    caption, note = timing_notes(alone)
    assert "numpy-loops" not in caption and "speedup" not in caption and note == ""
    text = render(make_result_set(make_result("mine", seconds=2e-3)), "terminal")
    assert "numpy-loops" not in text


def test_blank_timing_cells_are_explained(make_result, make_result_set):
    results = make_result_set(
        make_result("numpy-loops", seconds=4e-5),
        make_result("broken", status=Status.FAIL, tol_fraction=9.0, seconds=None),
    )
    _, note = timing_notes(build_report(results))
    assert note.startswith("A blank cell: no time") and "not implemented, failed" in note
    for fmt in ("terminal", "markdown", "html"):
        assert "A blank cell: no time" in render(results, fmt)


def test_terminal_report_fits_80_and_200_columns(make_result, make_result_set):
    results = make_result_set(
        *(make_result(f"backend-number-{i}", seconds=1e-5 * (i + 1)) for i in range(6)),
        make_result("backend-number-0", check="gradient", status=Status.FAIL, tol_fraction=7.0,
                    message="f[0, 1] = 0.5, but should be 0.25 " + "(detail) " * 20),
    )  # fmt: skip
    whole = render(results, "terminal", width=None)
    assert max(visible_width(line) for line in lines_of(whole)) > 80
    for width in (80, 200):
        text = render(results, "terminal", width=width)
        long = [line for line in lines_of(text) if visible_width(line) > width]
        assert all(line.lstrip().startswith("re-run:") for line in long), long
        for i in range(6):
            assert f"backend-number-{i}" in text
