"""The engine's diagnosis of failing checks: named in the message and kept in the result,
only for numeric and gradient failures, never a claim without a match, never fatal."""

from __future__ import annotations

import numpy as np

from conformance import Backend, Kernel, diagnosis
from conformance.engine import CheckRequest, run_check
from conformance.results.model import Status
from implementations.numpy_vectorized import lstm

CELL = lstm.KERNELS["lstm.cell"]


def swapped_gates(a):
    return CELL.forward({**a, "W_f": a["W_i"], "W_i": a["W_f"]})


def test_a_failing_numeric_check_names_the_variant_that_explains_it(check_kernel):
    result = check_kernel("lstm.cell", "numeric", swapped_gates, dtype="float32")
    assert result.status is Status.FAIL
    assert "— matches lstm.cell with W_f and W_i swapped (max error " in result.message
    found = result.extra["diagnosis"]
    assert found["matches"][0]["variant"] == "lstm.cell with W_f and W_i swapped"
    assert found["matches"][0]["tol_fraction"] <= 1 and 0 < found["tried"] <= 200
    assert found["seconds"] > 0


def test_a_passing_check_is_not_diagnosed(check_kernel):
    result = check_kernel("lstm.cell", "numeric", CELL.forward)
    assert result.status is Status.PASS and "diagnosis" not in result.extra


def test_only_numeric_and_gradient_failures_are_diagnosed(check_kernel):
    def bad_dtype(a):
        return {k: v.astype(np.float64) for k, v in swapped_gates(a).items()}

    result = check_kernel("lstm.cell", "dtype", bad_dtype, dtype="float32")
    assert result.status is Status.FAIL and "diagnosis" not in result.extra
    result = check_kernel(
        "lstm.cell", "invariants", lambda a: {**swapped_gates(a), "h": 2 + a["x"][:, :4]}
    )
    assert result.status is Status.FAIL and "diagnosis" not in result.extra


def test_no_match_is_no_claim(check_kernel):
    def off(a):
        out = CELL.forward(a)
        return {**out, "h": out["h"] + 1e-3 * np.sin(7 * out["c"])}

    result = check_kernel("lstm.cell", "numeric", off)
    assert result.status is Status.FAIL
    assert " — matches" not in result.message
    assert result.extra["diagnosis"]["matches"] == []
    assert result.extra["diagnosis"]["tried"] > 50


def test_diagnosis_can_be_turned_off(catalog, oracle):
    backend = Backend("swapped", {"lstm.cell": Kernel(swapped_gates)})
    request = CheckRequest(catalog.get("lstm.cell"), backend, "float64", "numeric")
    result = run_check(request, oracle, diagnose=False)
    assert result.status is Status.FAIL and "diagnosis" not in result.extra
    assert " — matches" not in result.message


def test_a_diagnosis_that_breaks_is_recorded_and_the_verdict_kept(catalog, oracle, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("rule exploded")

    monkeypatch.setattr(diagnosis, "diagnose", broken)
    backend = Backend("swapped", {"lstm.cell": Kernel(swapped_gates)})
    result = run_check(
        CheckRequest(catalog.get("lstm.cell"), backend, "float64", "numeric"), oracle
    )
    assert result.status is Status.FAIL
    assert result.extra["diagnosis"]["error"].startswith("RuntimeError: rule exploded")


def test_a_gradient_failure_with_a_right_forward_searches_backward_mistakes_only(check_kernel):
    def vjp(a, ct):
        grads = dict(CELL.vjp(a, ct))
        return {**grads, "b_c": 2 * grads["b_c"]}

    result = check_kernel("lstm.cell", "gradient", CELL.forward, vjp)
    assert result.status is Status.FAIL
    assert "— matches lstm.cell with grad b_c × 2" in result.message
    assert "wrong gradient for 'b_c' (1 of 11 compared)" in result.message


def test_a_search_out_of_time_says_so_and_keeps_what_it_found(check_kernel, monkeypatch):
    from conformance.diagnosis import search

    monkeypatch.setattr(search, "BUDGET_SECONDS", 0.0)
    result = check_kernel("lstm.cell", "numeric", swapped_gates)
    assert result.status is Status.FAIL
    assert result.extra["diagnosis"]["out_of_time"] is True
    assert result.extra["diagnosis"]["tried"] == 0 and " — matches" not in result.message


def test_a_gradient_failure_with_nothing_wrong_among_the_compared_is_not_explained(
    check_kernel,
):
    def vjp(a, ct):
        grads = dict(CELL.vjp(a, ct))
        return {**grads, "b_f": np.ones((len(a["x"]), *grads["b_f"].shape))}  # not summed

    result = check_kernel("lstm.cell", "gradient", CELL.forward, vjp)
    assert result.status is Status.FAIL
    assert "grad['b_f'].shape=(3, 4), but should be (4,)" in result.message
    assert " — matches" not in result.message  # the ten it compared are right: no claim


def test_a_gradient_of_the_wrong_shape_that_is_right_once_summed_is_named(check_kernel):
    def vjp(a, ct):
        """∂b_f left per row: ∂c ⊙ c_{t-1} ⊙ f(1 − f), never summed over the batch."""
        z = np.concatenate([a["h_prev"], a["x"]], axis=-1)
        f, o = (1 / (1 + np.exp(-(z @ a[W].T + a[b]))) for W, b in (("W_f", "b_f"), ("W_o", "b_o")))
        dc = ct["c"] + ct["h"] * o * (1 - np.tanh(CELL.forward(a)["c"]) ** 2)
        return {**CELL.vjp(a, ct), "b_f": dc * a["c_prev"] * f * (1 - f)}

    result = check_kernel("lstm.cell", "gradient", CELL.forward, vjp)
    assert result.status is Status.FAIL
    assert "grad['b_f'].shape=(3, 4), but should be (4,)" in result.message
    assert "— matches lstm.cell with grad b_f not summed over its leading axis" in result.message
