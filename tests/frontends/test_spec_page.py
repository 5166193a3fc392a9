"""``conformance show ID`` and ``conformance list --spec``: one spec written out in full."""

from __future__ import annotations

import pytest

from conformance.frontends.cli import main
from conformance.frontends.spec_page import spec_page


def show(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["show", *args])
    out, err = capsys.readouterr()
    return code, out, err


def rows_of(page: str, heading: str) -> list[list[str]]:
    """The rows (split on runs of 2+ spaces) of the table under ``heading``."""
    lines = page[page.index(f"\n{heading}\n") + len(heading) + 2 :].splitlines()
    rows = []
    for line in lines[2:]:  # after the header and the rule
        if not line.strip():
            break
        rows.append([cell for cell in line.split("  ") if cell.strip()])
    return [[cell.strip() for cell in row] for row in rows]


def test_show_writes_out_symbols_equations_tolerances_sizes_and_checks(capsys):
    code, page, err = show(capsys, "lstm.forget_gate")
    assert code == 0 and err == ""
    assert page.startswith("lstm.forget_gate — Forget gate\n")
    assert "family: lstm (Long short-term memory)" in page and "file: specs/lstm.toml" in page
    assert "Hochreiter & Schmidhuber (1997)" in page
    symbols = {row[0]: row for row in rows_of(page, "Symbols")}
    assert symbols["W_f"] == [
        "W_f", "parameter", "(H, H + D)", "float", "normal(0, 1.5 / (H + D) ** 0.5)",
        "forget-gate weights on [h_{t-1}, x_t]",
    ]  # fmt: skip
    assert symbols["h_prev"][:5] == ["h_prev", "state", "(B, H)", "float", "uniform(-1, 1)"]
    assert symbols["f"] == ["f", "output", "(B, H)", "float", "f_t, the forget gate"]
    assert "\nEquations\n  f = sigmoid(concat(h_prev, x) @ W_f.T + b_f)\n" in page
    assert "\nLaTeX\n  f_t = \\sigma(W_f [h_{t-1}, x_t] + b_f)\n" in page
    assert "0 <= f <= 1" in page and "x = extreme(1000)" in page
    heading = "Tolerances (limit x each element's expected rounding, or a widening)"
    tolerances = rows_of(page, heading)
    assert ["outputs", "float32", "16", "0", "0", "-"] in tolerances
    assert ["gradients", "float64", "16", "0", "0", "-"] in tolerances
    assert rows_of(page, "Sizes (one case each)") == [
        ["quick", "0", "3", "5", "4"], ["quick", "1", "1", "1", "1"],
        ["quick", "2", "2", "3", "6"], ["realistic", "0", "20", "64", "128"],
        ["realistic", "1", "50", "256", "512"],
    ]  # fmt: skip
    assert (
        "Checks that apply: shape, dtype, numeric, gradient, invariants, stability,\n"
        "  inputs_unmodified, batch_independence"
        in page
        or "Checks that apply: shape, dtype, numeric, gradient, invariants, stability, "
        "inputs_unmodified, batch_independence"
        in page
    )
    assert "chunking (no chunking identity)" in page and "reversal (no reversal identity)" in page


def test_show_says_the_recurrence_identities(capsys):
    code, page, _ = show(capsys, "bilstm.sequence", "lstm.sequence")
    assert code == 0
    assert "Reversal identity (the backend's own lstm.sequence on transformed inputs)" in page
    assert "xs=flip(xs)" in page and "h_bwd=flip(hs)" in page
    assert "Chunking identity" in page and "split along T" in page and "h_0 -> h_T" in page
    assert page.rstrip().endswith("(2 specs: bilstm.sequence, lstm.sequence)")


def test_list_spec_pattern_shows_every_matching_spec(capsys):
    assert main(["list", "--spec", "rnn.*"]) == 0
    out = capsys.readouterr().out
    titles = [line for line in out.splitlines() if line.startswith("rnn.") and " — " in line]
    assert [t.split(" — ")[0] for t in titles] == [
        "rnn.cell", "rnn.sequence", "rnn.classifier", "rnn.sequence_classifier",
    ]  # fmt: skip


def test_show_unknown_spec_is_a_usage_error_naming_the_known(capsys):
    code, out, err = show(capsys, "lstm.forget")
    assert code == 2 and out == ""
    assert err.startswith("conformance: error: no spec matches 'lstm.forget'")


@pytest.mark.parametrize("width", [60, 80, 200])
def test_spec_page_fits_its_width(catalog, width):
    for spec_id in ("bilstm.sequence", "ctc.loss", "slstm.tree"):
        page = spec_page(catalog.get(spec_id), catalog, width)
        assert max(len(line) for line in page.splitlines()) <= width, spec_id
