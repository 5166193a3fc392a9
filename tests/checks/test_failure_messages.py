"""Every fault once, precisely: each wrong gradient named, relative errors that mean
something, and messages that say which call did what, where."""

from __future__ import annotations

import numpy as np
import pytest

from conformance.checks.compare import compare
from conformance.results.model import Status
from conformance.spec.model import Tolerance
from implementations.numpy_vectorized import lstm as vectorized_lstm
from implementations.numpy_vectorized import lstm_sequence

CELL = vectorized_lstm.KERNELS["lstm.cell"]
SEQUENCE = lstm_sequence.KERNELS["lstm.sequence"]


def test_gradient_names_every_wrong_input_with_its_worst_element(check_kernel):
    def vjp(inputs, cotangents):
        grads = dict(CELL.vjp(inputs, cotangents))
        grads["W_f"] = grads["W_f"] * 1.5  # two wrong inputs, the others right
        grads["x"] = grads["x"] + 0.25
        return grads

    result = check_kernel("lstm.cell", "gradient", CELL.forward, vjp)
    assert result.status is Status.FAIL
    assert "wrong gradient for 'x', 'W_f' (2 of 11 compared)" in result.message
    assert "grad x[" in result.message and "grad W_f[" in result.message
    assert "the other gradients are right (h_prev, c_prev, W_i, " in result.message
    verdicts = {v["input"]: v for v in result.extra["gradients"]}
    assert len(verdicts) == 11
    assert [n for n, v in verdicts.items() if not v["ok"]] == ["x", "W_f"]
    assert verdicts["x"]["tol_fraction"] > 1 and verdicts["W_i"]["tol_fraction"] <= 1
    assert verdicts["x"]["worst"].startswith("grad x[")
    assert verdicts["x"]["actual"] == pytest.approx(verdicts["x"]["expected"] + 0.25)


def test_gradient_compares_what_it_got_when_one_gradient_is_missing(check_kernel):
    def vjp(inputs, cotangents):
        return {k: v for k, v in CELL.vjp(inputs, cotangents).items() if k != "x"}

    result = check_kernel("lstm.cell", "gradient", CELL.forward, vjp)
    assert result.status is Status.FAIL
    assert "vjp returned no gradient for 'x'" in result.message
    assert "the gradients compared are right (h_prev, c_prev, W_f, " in result.message
    assert result.extra["missing_gradients"] == ["x"]
    assert len(result.extra["gradients"]) == 10
    assert all(v["ok"] for v in result.extra["gradients"])


def test_gradient_with_a_missing_and_a_wrong_gradient_says_both(check_kernel):
    def vjp(inputs, cotangents):
        grads = {k: v for k, v in CELL.vjp(inputs, cotangents).items() if k != "x"}
        return {**grads, "b_o": -grads["b_o"]}

    result = check_kernel("lstm.cell", "gradient", CELL.forward, vjp)
    assert result.status is Status.FAIL
    assert "wrong gradient for 'b_o' (1 of 10 compared): grad b_o[" in result.message
    assert "vjp returned no gradient for 'x'" in result.message
    assert result.worst.startswith("grad b_o[")


def test_gradient_not_declared_by_the_kernel_is_listed_not_failed(catalog, oracle):
    from conformance import Backend, Kernel
    from conformance.engine import CheckRequest, run_check

    def vjp(inputs, cotangents):
        return {k: v for k, v in CELL.vjp(inputs, cotangents).items() if k in ("W_f", "b_f")}

    kernel = Kernel(CELL.forward, vjp, gradients=("W_f", "b_f"))
    backend = Backend("partial", {"lstm.cell": kernel})
    request = CheckRequest(catalog.get("lstm.cell"), backend, "float64", "gradient")
    result = run_check(request, oracle)
    assert result.status is Status.PASS, result.message
    assert "x" in result.extra["missing_gradients"]


def test_relative_error_is_that_of_the_element_shown_and_only_where_it_means_something():
    tolerance = Tolerance(atol=1e-12, rtol=1e-10)
    expected = np.array([1e-98, 2.0, 0.5])
    actual = np.array([4.49e209, 2.0, 0.75])  # nonsense at a negligible reference, and a real error
    d = compare("y", actual, expected, tolerance)
    assert d.where == "y[0]"  # the largest fraction of the tolerance
    assert d.rel_err is None  # its reference is below atol: no relative error to speak of
    assert d.max_rel == pytest.approx(0.5)  # from y[2], the only meaningful element
    assert "rel err" not in d.describe()
    d = compare("y", np.array([1e-98, 2.0, 0.75]), expected, tolerance)
    assert d.where == "y[2]" and d.rel_err == pytest.approx(0.5) and d.abs_err == 0.25
    assert "(abs err 0.25, rel err 0.5, " in d.describe()


def test_inputs_unmodified_says_which_call_modified_which_array_and_where(check_kernel):
    def vjp(inputs, cotangents):
        grads = {k: v.copy() for k, v in CELL.vjp(inputs, cotangents).items()}
        cotangents["c"][1, 2] = 0.0  # the bug: the VJP scribbles on a cotangent
        return grads

    result = check_kernel("lstm.cell", "inputs_unmodified", CELL.forward, vjp)
    assert result.status is Status.FAIL
    assert "vjp modified cotangent 'c' in place (c[1, 2] was " in result.message
    assert ", is 0)" in result.message
    assert "forward modified" not in result.message

    def forward(inputs):
        out = CELL.forward(inputs)
        inputs["W_f"][0, 3] = 7.0
        return out

    result = check_kernel("lstm.cell", "inputs_unmodified", forward, CELL.vjp)
    assert "forward modified input 'W_f' in place (W_f[0, 3] was " in result.message
    assert ", is 7)" in result.message and "vjp modified" not in result.message


def test_stability_does_not_repeat_a_wrong_initial_state_that_numeric_reports(check_kernel):
    def from_zeros(inputs):
        zeros = {"h_0": np.zeros_like(inputs["h_0"]), "c_0": np.zeros_like(inputs["c_0"])}
        return SEQUENCE.forward({**inputs, **zeros})

    for dtype in ("float32", "float64"):
        assert check_kernel("lstm.sequence", "numeric", from_zeros, dtype=dtype).status is (
            Status.FAIL
        )
        result = check_kernel("lstm.sequence", "stability", from_zeros, dtype=dtype)
        assert result.status is Status.PASS, result.message
        assert "values at saturation not compared" in result.extra["stability"]


def test_stability_still_judges_finiteness_of_a_backend_that_fails_numeric(check_kernel):
    def naive_and_wrong(inputs):
        z = np.concatenate([inputs["h_prev"], inputs["x"]], axis=-1)
        with np.errstate(all="ignore"):
            e = np.exp(2 * (z @ inputs["W_c"].T + inputs["b_c"]))
            return {"g": (e - 1) / (e + 1) + 0.01}  # off everywhere, NaN at saturation

    assert check_kernel("lstm.candidate", "numeric", naive_and_wrong).status is Status.FAIL
    result = check_kernel("lstm.candidate", "stability", naive_and_wrong)
    assert result.status is Status.FAIL
    assert "but should be finite" in result.message


def test_gradient_of_a_kernel_that_declares_none_it_returns_is_not_implemented(catalog, oracle):
    from conformance import Backend, Kernel
    from conformance.engine import CheckRequest, run_check

    kernel = Kernel(CELL.forward, lambda a, ct: {}, gradients=())
    request = CheckRequest(catalog.get("lstm.cell"), Backend("none", {"lstm.cell": kernel}),
                           "float64", "gradient")  # fmt: skip
    result = run_check(request, oracle)
    assert result.status is Status.NOT_IMPLEMENTED
    assert "declares no gradient of 'lstm.cell'" in result.message
