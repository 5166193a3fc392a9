"""The rounding model's rules, one by one: each propagates a known input variance the way
Monte Carlo perturbation of the same operation does, adds its own rounding, and never
drops a variance silently."""

from __future__ import annotations

import numpy as np
import pytest

from conformance.errors import RoundingModelError
from conformance.lang.functions import FUNCTIONS
from conformance.lang.primitives import logsumexp, softmax
from conformance.lang.rounding import (
    ROUNDING_VARIANCE,
    Rounded,
    summation_variance,
)
from conformance.lang.rounding_functions import PRIMITIVE_RULES

SAMPLES = 4000


def monte_carlo_variance(f, values: list[np.ndarray], variances: list[np.ndarray]) -> np.ndarray:
    """Var of f(x + δ) with δ ~ N(0, var), first order: small perturbations, rescaled."""
    rng = np.random.default_rng(0)
    scale = 1e-6
    exact = f(*values)
    total = np.zeros(np.shape(exact))
    for _ in range(SAMPLES):
        moved = [
            x + scale * np.sqrt(v) * rng.normal(size=np.shape(x))
            for x, v in zip(values, variances, strict=True)
        ]
        total += np.square((f(*moved) - exact) / scale)
    return total / SAMPLES


def carried(r: Rounded, own: np.ndarray) -> np.ndarray:
    """The variance a rule carried from its operands: its total less its own rounding."""
    return r.var - own


@pytest.mark.parametrize(
    "name, f, domain",
    [
        ("exp", np.exp, (-2, 2)),
        ("log", np.log, (0.5, 3)),
        ("tanh", np.tanh, (-2, 2)),
        ("sqrt", np.sqrt, (0.5, 3)),
    ],
)
def test_unary_rule_carries_the_variance_monte_carlo_measures(name, f, domain) -> None:
    rng = np.random.default_rng(1)
    x, v = rng.uniform(*domain, 50), rng.uniform(0.5, 2.0, 50)
    y = f(Rounded(x, v))
    want = monte_carlo_variance(f, [x], [v])
    np.testing.assert_allclose(carried(y, ROUNDING_VARIANCE * f(x) ** 2), want, rtol=0.12)


@pytest.mark.parametrize(
    "op",
    [np.add, np.subtract, np.multiply, np.true_divide],
    ids=["add", "subtract", "multiply", "divide"],
)
def test_binary_rule_carries_both_operands_variance(op) -> None:
    rng = np.random.default_rng(2)
    a, b = rng.uniform(0.5, 2, 40), rng.uniform(0.5, 2, 40)
    va, vb = rng.uniform(0.5, 2, 40), rng.uniform(0.5, 2, 40)
    y = op(Rounded(a, va), Rounded(b, vb))
    want = monte_carlo_variance(op, [a, b], [va, vb])
    np.testing.assert_allclose(carried(y, ROUNDING_VARIANCE * op(a, b) ** 2), want, rtol=0.12)


def test_matmul_carries_variance_and_rounds_each_product_and_partial_sum() -> None:
    rng = np.random.default_rng(3)
    A, B = rng.normal(size=(3, 7)), rng.normal(size=(7, 2))
    vA, vB = rng.uniform(0.5, 2, A.shape), rng.uniform(0.5, 2, B.shape)
    y = Rounded(A, vA) @ Rounded(B, vB)
    C, Q = A @ B, (A * A) @ (B * B)
    own = ROUNDING_VARIANCE * (summation_variance(7, C, Q) + Q)
    want = monte_carlo_variance(np.matmul, [A, B], [vA, vB])
    np.testing.assert_allclose(carried(y, own), want, rtol=0.12)


def test_summation_variance_is_exact_for_one_and_two_terms() -> None:
    assert summation_variance(1, np.array(3.0), np.array(9.0)) == 0  # nothing is added
    assert summation_variance(2, np.array(3.0), np.array(5.0)) == 9  # one rounding of C


def test_summation_variance_of_equal_terms_is_the_sum_of_squared_partial_sums() -> None:
    n, t = 50, 0.7
    partial = t * np.arange(2, n + 1)
    assert summation_variance(n, np.array(n * t), np.array(n * t * t)) == pytest.approx(
        np.sum(partial**2), rel=0.01
    )


def test_moves_are_exact_and_keep_each_elements_variance() -> None:
    r = Rounded(np.arange(6.0).reshape(2, 3), np.arange(6.0).reshape(2, 3) + 1)
    assert np.array_equal(np.flip(r, axis=0).var, np.flip(r.var, axis=0))
    assert np.array_equal(np.concatenate([r, r], axis=-1).var, np.concatenate([r.var, r.var], -1))
    assert np.array_equal(r.T.var, r.var.T)
    assert np.array_equal(r[1, ::2].var, r.var[1, ::2])
    assert np.array_equal((-r).var, r.var)
    assert np.array_equal(np.max(r, axis=1).var, r.var[:, 2])  # the largest element's own
    assert np.array_equal(np.where(r.value > 2, r, 0.0).var, np.where(r.value > 2, r.var, 0))


def test_masks_and_signs_come_back_as_plain_arrays() -> None:
    r = Rounded(np.array([-1.0, 2.0]))
    assert isinstance(r > 0, np.ndarray) and isinstance(np.isfinite(r), np.ndarray)


def test_shifted_primitives_run_on_rounded_values() -> None:
    a = np.array([[0.3, -1.2, 2.0], [5.0, 5.0, -3.0]])
    p, lse = softmax(Rounded(a)), logsumexp(Rounded(a), axis=-1)
    np.testing.assert_allclose(p.value, softmax(a))
    np.testing.assert_allclose(lse.value, logsumexp(a, axis=-1))
    assert np.all(p.var > 0) and np.all(lse.var > 0)


def test_sigmoid_allows_the_absolute_error_of_its_tanh_form_in_the_lower_tail() -> None:
    z = Rounded(np.array([-40.0, 0.0, 40.0]))
    std = PRIMITIVE_RULES["sigmoid"](z).std
    assert std[0] == pytest.approx(np.sqrt(ROUNDING_VARIANCE) / 2, rel=1e-6)  # u/2, not σ·u
    assert std[2] == pytest.approx(np.sqrt(ROUNDING_VARIANCE * 2.25), rel=1e-6)


def test_turning_a_rounded_value_into_a_plain_array_is_an_error() -> None:
    with pytest.raises(RoundingModelError, match="would drop its rounding estimate"):
        np.asarray(Rounded(np.ones(3)))


def test_a_numpy_function_without_a_rule_is_an_error_naming_it() -> None:
    with pytest.raises(RoundingModelError, match=r"no rounding rule for numpy\.cumsum"):
        np.cumsum(Rounded(np.ones(3)))
    with pytest.raises(RoundingModelError, match=r"no rounding rule for numpy\.sin"):
        np.sin(Rounded(np.ones(3)))


def test_complex_values_are_refused() -> None:
    with pytest.raises(RoundingModelError, match="real values"):
        Rounded(np.ones(2) + 1j)


def _arguments(rounded: bool) -> dict[str, tuple]:
    """Arguments for every function of the language, Rounded or plain."""
    rng = np.random.default_rng(4)
    x, positive = rng.normal(size=(3, 4)), rng.uniform(0.5, 2, (3, 4))
    log_p = np.log(softmax(rng.normal(size=(5, 2, 3))))
    wrap = Rounded if rounded else np.asarray
    x, positive, log_p = wrap(x), wrap(positive), wrap(log_p)
    labels, lengths = np.array([[1, 2], [2, 2]]), np.array([2, 1])
    one = {name: (x,) for name in (
        "sigmoid", "tanh", "exp", "abs", "max", "sum", "mean", "softmax", "log_softmax",
        "logsumexp", "flip", "zeros_like", "ones_like",
    )}  # fmt: skip
    return {
        **one,
        "log": (positive,),
        "sqrt": (positive,),
        "concat": (x, x),
        "stack": ((x, x),),
        "swapaxes": (x, 0, 1),
        "ctc_neg_log_likelihood": (log_p, labels, lengths),
    }


def test_every_function_of_the_language_runs_on_rounded_values() -> None:
    rounded, plain = _arguments(rounded=True), _arguments(rounded=False)
    assert set(rounded) | {"all", "allclose"} == set(FUNCTIONS)  # invariants only: never rounded
    table = {**FUNCTIONS, **PRIMITIVE_RULES}
    for name, args in rounded.items():
        out, want = table[name](*args), FUNCTIONS[name](*plain[name])
        if name in ("zeros_like", "ones_like"):
            assert isinstance(out, np.ndarray), name  # exact constants
            continue
        assert isinstance(out, Rounded), name
        np.testing.assert_allclose(out.value, want, err_msg=name)
        assert np.all(np.isfinite(out.var) & (out.var >= 0)), name
