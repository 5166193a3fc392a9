"""Matrix cells say what a kernel's declarations restricted: zero inputs, missing gradients."""

from __future__ import annotations

from conformance.report.model import cell_of
from conformance.results.model import Status


def test_a_cell_says_the_inputs_its_kernel_takes_only_as_zeros(make_result):
    restricted = {"restrictions": ["with h_0 = 0, c_0 = 0 only"]}
    cell = cell_of([make_result(extra=restricted), make_result(check="shape", extra=restricted)])
    assert cell.text == "✓ 0.1 (with h_0 = 0, c_0 = 0 only)"


def test_a_cell_says_the_gradients_its_vjp_lacks(make_result):
    cell = cell_of(
        [
            make_result(tol_fraction=0.2),
            make_result(check="gradient", extra={"missing_gradients": ["x", "h_prev"]}),
        ]
    )
    assert cell.text == "✓ 0.2 (no gradient of x, h_prev)"


def test_a_failing_cell_keeps_its_restrictions(make_result):
    extra = {"restrictions": ["with h_0 = 0 only"]}
    cell = cell_of([make_result(status=Status.ERROR, tol_fraction=None, extra=extra)])
    assert cell.text == "✗ error (with h_0 = 0 only)"


def test_a_cell_says_the_dtypes_its_kernel_declares_only(make_result):
    cell = cell_of(
        [
            make_result(dtype="float32"),
            make_result(dtype="float32", check="shape", tol_fraction=None),
            make_result(dtype="float64", status=Status.NOT_IMPLEMENTED, tol_fraction=None),
            make_result(dtype="float64", check="shape", status=Status.NOT_IMPLEMENTED),
            make_result(dtype="float32", check="gradient", status=Status.NOT_IMPLEMENTED),
        ]
    )
    assert cell.text == "✓ 0.1 (no gradient; float32 only)"
