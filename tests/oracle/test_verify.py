"""Specs checked against their own oracle when they load: what no backend could pass is the
spec's error, naming the spec and the field, not a failure of every backend."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from conformance import Backend, Kernel
from conformance.engine import CheckRequest, run_check
from conformance.errors import SpecError
from conformance.oracle.evaluate import Oracle
from conformance.oracle.verify import load_checked_catalog
from conformance.results.model import Status

EQUATION = "y = sigmoid(x @ W.T + b)"
INVARIANT = 'invariants = ["0 <= y <= 1"]'

ROWS = [
    # (old fragment, new fragment, field, words of the problem)
    pytest.param(
        INVARIANT,
        'invariants = ["y >= 1e9"]',
        "invariants[0]",
        "'y >= 1e9' does not hold for the spec's own oracle at mini.gate(B=2, D=3, H=4), "
        "first at index [0, 0]",
        id="invariant-the-oracle-violates",
    ),
    pytest.param(
        INVARIANT,
        'invariants = ["0 <= y <= 1", "allclose(y, 0.5, atol=atol)"]',
        "invariants[1]",
        "'allclose(y, 0.5, atol=atol)' does not hold",
        id="second-invariant",
    ),
    pytest.param(
        INVARIANT,
        'invariants = ["y + 1"]',
        "invariants[0]",
        "'y + 1' is not a condition: it gives float64 values",
        id="invariant-not-a-condition",
    ),
    pytest.param(
        INVARIANT,
        'invariants = ["y <= 1 / 0"]',
        "invariants[0]",
        "'y <= 1 / 0' fails at mini.gate(B=2, D=3, H=4): ZeroDivisionError",
        id="invariant-raises",
    ),
    pytest.param(
        EQUATION,
        EQUATION + " + log(x[:, :1] - x[:, :1] - 1)",
        "equations",
        "the oracle gives NaN for y[0, 0] at mini.gate(B=2, D=3, H=4)",
        id="nan-output",
    ),
    pytest.param(
        EQUATION,
        EQUATION + " + 0 * exp(10 * x[:, :1]) * exp(-10 * x[:, :1])",
        "stability",
        "the oracle gives NaN for y[0, 0] at mini.gate(B=2, D=3, H=4) on its stability inputs",
        id="nan-at-stability-inputs",
    ),
    pytest.param(
        "[{ B = 2, D = 3, H = 4 }]",
        "[{ B = 2, D = 3, H = 4 }, { B = 1, D = 1, H = 1 }]",
        "equations[0]",
        "ZeroDivisionError: division by zero (at mini.gate(B=1, D=1, H=1))",
        id="second-size",
    ),
]


@pytest.mark.parametrize(("old", "new", "field", "problem"), ROWS)
def test_spec_its_own_oracle_cannot_pass_is_a_spec_error(
    tmp_path: Path, make_spec_text, old, new, field, problem
) -> None:
    text = make_spec_text(old, new)
    if "B = 1, D = 1" in new:  # fails only where D = 1
        text = text.replace(EQUATION, EQUATION + " + 0 / (D - 1)")
    path = tmp_path / "mini.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SpecError) as caught:
        load_checked_catalog([path])
    assert caught.value.where.spec == "mini.gate"
    assert caught.value.where.field == field
    assert str(caught.value).startswith(f"{caught.value.file}: spec 'mini.gate': {field}: ")
    assert problem in str(caught.value)


def test_an_error_inside_a_called_spec_quotes_both_equations(tmp_path: Path, make_spec_text):
    caller = """
[[spec]]
id = "mini.caller"
inputs = ["x", "W", "b"]
outputs = ["y"]
equations = ["y = mini.gate(x=x)"]
sizes = [{ B = 3, D = 3, H = 4 }]
"""
    gate = "y = sigmoid(x @ W.T + b) + 0 / (B - 3)"  # fine at its own B = 2, not at B = 3
    path = tmp_path / "mini.toml"
    path.write_text(make_spec_text(EQUATION, gate) + caller, encoding="utf-8")
    with pytest.raises(SpecError) as caught:
        load_checked_catalog([path])
    assert caught.value.where.spec == "mini.caller"
    assert caught.value.where.field == "equations[0]"
    assert (
        "spec 'mini.caller': equations[0]: 'y = mini.gate(x=x)': spec 'mini.gate': "
        f"equations[0]: '{gate}': ZeroDivisionError: division by zero" in str(caught.value)
    )


def test_with_the_invariant_fixed_every_backend_is_judged_on_its_own(
    tmp_path: Path, make_spec_text
):
    """The counterpart: a spec the oracle satisfies loads, and a correct kernel passes."""
    path = tmp_path / "mini.toml"
    path.write_text(make_spec_text(), encoding="utf-8")
    catalog = load_checked_catalog([path])
    spec = catalog.get("mini.gate")

    def forward(a):
        return {"y": 1 / (1 + np.exp(-(a["x"] @ a["W"].T + a["b"])))}

    backend = Backend("right", {spec.id: Kernel(forward)})
    result = run_check(CheckRequest(spec, backend, "float64", "invariants"), Oracle(catalog.specs))
    assert result.status is Status.PASS
