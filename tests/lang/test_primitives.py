"""The function table: each primitive against plain NumPy, and complex-step safety."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from conformance.lang.functions import FUNCTIONS
from conformance.lang.primitives import (
    allclose,
    amax,
    cabs,
    concat,
    flip,
    log_softmax,
    logsumexp,
    sigmoid,
    softmax,
)

H = 1e-20
"""The complex step: Im f(z + i·H·v) / H is the directional derivative, exact to rounding."""


def complex_step(f, z: np.ndarray, v: np.ndarray | None = None) -> np.ndarray:
    """The derivative of ``f`` at ``z`` along ``v`` (ones by default), by complex step."""
    z = np.asarray(z, np.float64)
    v = np.ones_like(z) if v is None else v
    return np.imag(f(z + 1j * H * v)) / H


def sigmoid_derivative(z: np.ndarray) -> np.ndarray:
    """σ'(z) = σ(z)(1 − σ(z)) = e^(−|z|) / (1 + e^(−|z|))², written to stay exact in the tails."""
    e = np.exp(-np.abs(z))
    return e / (1.0 + e) ** 2


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20240601)


# --- each primitive against plain NumPy ------------------------------------------------------


def test_sigmoid_matches_logistic_function(rng: np.random.Generator) -> None:
    z = rng.uniform(-15, 15, size=(4, 7))
    np.testing.assert_allclose(sigmoid(z), 1.0 / (1.0 + np.exp(-z)), rtol=1e-12, atol=1e-16)
    assert sigmoid(np.float64(0.0)) == 0.5


def test_sigmoid_is_symmetric(rng: np.random.Generator) -> None:
    z = rng.normal(0, 5, size=50)
    np.testing.assert_allclose(sigmoid(z) + sigmoid(-z), 1.0, rtol=0, atol=1e-15)


@pytest.mark.parametrize("z", [-30.0, -40.0, -100.0])
def test_sigmoid_lower_tail_keeps_relative_accuracy(z: float) -> None:
    exact = np.exp(z) / (1.0 + np.exp(z))
    np.testing.assert_allclose(sigmoid(np.float64(z)), exact, rtol=1e-12)


@pytest.mark.parametrize(
    ("name", "reference"),
    [
        pytest.param("tanh", np.tanh, id="tanh"),
        pytest.param("exp", np.exp, id="exp"),
        pytest.param("log", lambda a: np.log(np.abs(a) + 0.1), id="log"),
        pytest.param("sqrt", lambda a: np.sqrt(np.abs(a) + 0.1), id="sqrt"),
        pytest.param("abs", np.abs, id="abs"),
        pytest.param("sum", np.sum, id="sum"),
        pytest.param("mean", np.mean, id="mean"),
        pytest.param("zeros_like", lambda a: np.zeros(a.shape), id="zeros_like"),
        pytest.param("ones_like", lambda a: np.ones(a.shape), id="ones_like"),
    ],
)
def test_function_table_unary_matches_numpy(name: str, reference, rng) -> None:
    a = rng.normal(size=(3, 4))
    arg = np.abs(a) + 0.1 if name in ("log", "sqrt") else a
    np.testing.assert_allclose(FUNCTIONS[name](arg), reference(a), rtol=1e-15)


def test_every_function_the_readme_documents_is_in_the_table() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    listed = re.search(r"calls to a fixed table of functions \((.*?)…\)", readme, re.S)
    assert listed is not None, "the README no longer lists the function table"
    names = re.findall(r"`(\w+)`", listed.group(1))
    assert len(names) >= 5 and set(names) <= set(FUNCTIONS), set(names) - set(FUNCTIONS)


def test_concat_joins_along_last_axis_by_default(rng: np.random.Generator) -> None:
    h, x = rng.normal(size=(3, 4)), rng.normal(size=(3, 5))
    out = concat(h, x)
    assert out.shape == (3, 9)
    np.testing.assert_array_equal(out, np.hstack([h, x]))
    np.testing.assert_array_equal(concat(h, h, axis=0), np.vstack([h, h]))


def test_flip_reverses_time_axis_by_default() -> None:
    a = np.arange(12.0).reshape(3, 4)
    np.testing.assert_array_equal(flip(a), a[::-1])
    np.testing.assert_array_equal(flip(a, axis=1), a[:, ::-1])


def test_stack_and_swapaxes_match_numpy(rng: np.random.Generator) -> None:
    a, b = rng.normal(size=(2, 3)), rng.normal(size=(2, 3))
    np.testing.assert_array_equal(FUNCTIONS["stack"]([a, b]), np.array([a, b]))
    np.testing.assert_array_equal(FUNCTIONS["swapaxes"](a, 0, 1), a.T)


@pytest.mark.parametrize(
    ("axis", "keepdims"),
    [(None, False), (0, False), (1, False), (-1, True), (0, True)],
    ids=lambda p: f"{p}",
)
def test_max_on_real_matches_numpy(axis, keepdims, rng: np.random.Generator) -> None:
    a = rng.normal(size=(3, 5))
    out = amax(a, axis=axis, keepdims=keepdims)
    np.testing.assert_array_equal(out, np.max(a, axis=axis, keepdims=keepdims))


def test_abs_on_real_matches_numpy(rng: np.random.Generator) -> None:
    a = rng.normal(size=(4, 4))
    np.testing.assert_array_equal(cabs(a), np.abs(a))


def test_softmax_matches_closed_form(rng: np.random.Generator) -> None:
    a = rng.normal(0, 3, size=(4, 6))
    e = np.exp(a)
    np.testing.assert_allclose(softmax(a), e / e.sum(-1, keepdims=True), rtol=1e-13)
    np.testing.assert_allclose(softmax(a, axis=0), e / e.sum(0, keepdims=True), rtol=1e-13)


@pytest.mark.parametrize("scale", [1.0, 30.0, 1000.0], ids=lambda s: f"scale={s:g}")
def test_softmax_rows_sum_to_one(scale: float, rng: np.random.Generator) -> None:
    a = rng.normal(0, scale, size=(5, 7))
    s = softmax(a)
    assert np.all(np.isfinite(s))
    assert np.all(s >= 0)
    np.testing.assert_allclose(s.sum(-1), 1.0, rtol=0, atol=1e-14)


def test_log_softmax_matches_closed_form(rng: np.random.Generator) -> None:
    a = rng.normal(0, 3, size=(4, 6))
    np.testing.assert_allclose(
        log_softmax(a), a - np.log(np.exp(a).sum(-1, keepdims=True)), rtol=1e-13, atol=1e-14
    )
    np.testing.assert_allclose(np.exp(log_softmax(a)), softmax(a), rtol=1e-13)


@pytest.mark.parametrize(
    ("axis", "keepdims", "shape"),
    [(-1, False, (4,)), (0, False, (6,)), (-1, True, (4, 1)), (None, False, ())],
    ids=["last", "first", "keepdims", "all"],
)
def test_logsumexp_matches_closed_form(axis, keepdims, shape, rng: np.random.Generator) -> None:
    a = rng.normal(0, 3, size=(4, 6))
    out = logsumexp(a, axis=axis, keepdims=keepdims)
    assert np.shape(out) == shape
    expected = np.log(np.sum(np.exp(a), axis=axis, keepdims=keepdims))
    np.testing.assert_allclose(out, expected, rtol=1e-13)


def test_logsumexp_handles_infinities() -> None:
    assert logsumexp(np.array([-np.inf, 0.0])) == 0.0
    with np.errstate(divide="ignore"):
        assert logsumexp(np.array([-np.inf, -np.inf])) == -np.inf


def test_allclose_bounds_atol_plus_rtol() -> None:
    b = np.array([1.0, -2.0, 100.0])
    assert allclose(b + 0.25, b, atol=0.25)  # the bound is inclusive (exact in binary)
    assert not allclose(b + 0.5, b, atol=0.25)
    assert allclose(b * 1.25, b, rtol=0.25)
    assert not allclose(b * 1.5, b, rtol=0.25)
    assert allclose(b + 0.5 + 0.25 * np.abs(b), b, atol=0.5, rtol=0.25)
    assert not allclose(b + 0.75 + 0.25 * np.abs(b), b, atol=0.5, rtol=0.25)
    assert allclose(b, b)
    assert allclose(b + 1e-9j, b)


# --- complex safety ---------------------------------------------------------------------------

EXTREMES = pytest.mark.parametrize("z0", [-1000.0, -40.0, -1.0, 0.0, 2.5, 40.0, 1000.0])


@EXTREMES
def test_sigmoid_complex_step_is_finite_and_exact(z0: float) -> None:
    z = np.array([z0]) + 1j * H
    value = sigmoid(z)
    assert np.all(np.isfinite(value.real)) and np.all(np.isfinite(value.imag))
    e = np.exp(-abs(z0))
    logistic = 1.0 / (1.0 + e) if z0 >= 0 else e / (1.0 + e)
    np.testing.assert_allclose(value.real, [logistic], rtol=0, atol=1e-16)
    np.testing.assert_allclose(
        complex_step(sigmoid, np.array([z0])),
        sigmoid_derivative(np.array([z0])),
        rtol=1e-14,
        atol=0,
    )


@pytest.mark.parametrize("z0", [-8.0, -1.0, 0.0, 2.5, 8.0])
def test_sigmoid_complex_step_matches_central_difference(z0: float) -> None:
    step = 1e-6
    central = (1 / (1 + np.exp(-(z0 + step))) - 1 / (1 + np.exp(-(z0 - step)))) / (2 * step)
    np.testing.assert_allclose(complex_step(sigmoid, np.array([z0])), central, rtol=1e-6)


def _softmax_reference(a: np.ndarray) -> np.ndarray:
    e = np.exp(a - a.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


SATURATING = [
    pytest.param(np.array([[1000.0, 999.0, -1000.0]]), id="plus-minus-1000"),
    pytest.param(np.array([[-1000.0, -999.0, -1001.0]]), id="all-minus-1000"),
    pytest.param(np.array([[1000.0, 1000.0, 1000.0]]), id="all-plus-1000"),
    pytest.param(np.array([[0.3, -1.2, 2.0], [5.0, 5.0, -5.0]]), id="moderate"),
]


@pytest.mark.parametrize("a", SATURATING)
def test_softmax_family_on_complex_is_finite(a: np.ndarray) -> None:
    z = a + 1j * H * np.random.default_rng(0).normal(size=a.shape)
    for f in (softmax, log_softmax, logsumexp, sigmoid):
        value = f(z)
        assert np.all(np.isfinite(value.real)), f.__name__
        assert np.all(np.isfinite(value.imag)), f.__name__


@pytest.mark.parametrize("a", SATURATING)
def test_softmax_family_real_part_matches_float(a: np.ndarray) -> None:
    z = a + 1j * H
    s = _softmax_reference(a)
    np.testing.assert_allclose(softmax(z).real, s, rtol=1e-14)
    np.testing.assert_allclose(softmax(a), s, rtol=1e-14)
    np.testing.assert_allclose(
        logsumexp(z).real, a.max(-1) + np.log(np.exp(a - a.max(-1, keepdims=True)).sum(-1))
    )
    np.testing.assert_allclose(log_softmax(z).real, a - logsumexp(a, keepdims=True))


@pytest.mark.parametrize("a", SATURATING)
def test_softmax_family_complex_step_derivatives(a: np.ndarray) -> None:
    v = np.random.default_rng(1).normal(size=a.shape)
    s = _softmax_reference(a)
    sv = np.sum(s * v, axis=-1, keepdims=True)
    np.testing.assert_allclose(complex_step(softmax, a, v), s * (v - sv), rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(complex_step(log_softmax, a, v), v - sv, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(complex_step(logsumexp, a, v), sv[..., 0], rtol=1e-12, atol=1e-15)


def test_max_on_complex_chooses_by_real_part() -> None:
    a = np.array([[1 + 9j, 3 - 1j, 2 + 0j], [-5 + 0j, -4 + 7j, -6 - 8j]])
    np.testing.assert_array_equal(amax(a, axis=-1), [3 - 1j, -4 + 7j])
    np.testing.assert_array_equal(amax(a, axis=0), [1 + 9j, 3 - 1j, 2 + 0j])
    np.testing.assert_array_equal(amax(a, axis=0, keepdims=True), [[1 + 9j, 3 - 1j, 2 + 0j]])
    assert amax(a) == 3 - 1j


def test_max_complex_step_is_one_hot_at_argmax(rng: np.random.Generator) -> None:
    a, v = rng.normal(size=(3, 5)), rng.normal(size=(3, 5))
    derivative = complex_step(lambda z: amax(z, axis=-1), a, v)
    np.testing.assert_array_equal(derivative, v[np.arange(3), a.argmax(-1)])


def test_max_keepdims_without_axis_has_same_shape_on_complex(rng: np.random.Generator) -> None:
    a = rng.normal(size=(3, 5))
    assert np.shape(amax(a + 0j, keepdims=True)) == np.shape(amax(a, keepdims=True)) == (1, 1)


def test_abs_on_complex_chooses_sign_by_real_part() -> None:
    z = np.array([-2 + 0.1j, 3 - 0.5j, -1e-3 - 2j])
    np.testing.assert_array_equal(cabs(z), [2 - 0.1j, 3 - 0.5j, 1e-3 + 2j])


def test_abs_complex_step_is_sign(rng: np.random.Generator) -> None:
    a = rng.normal(size=20)
    np.testing.assert_array_equal(complex_step(cabs, a), np.sign(a))


@pytest.mark.parametrize(
    ("name", "derivative"),
    [
        pytest.param("tanh", lambda x: 1 / np.cosh(x) ** 2, id="tanh"),
        pytest.param("exp", np.exp, id="exp"),
        pytest.param("log", lambda x: 1 / x, id="log"),
        pytest.param("sqrt", lambda x: 0.5 / np.sqrt(x), id="sqrt"),
    ],
)
def test_elementary_complex_step_matches_closed_form(name: str, derivative, rng) -> None:
    x = rng.uniform(0.1, 3.0, size=10)
    np.testing.assert_allclose(complex_step(FUNCTIONS[name], x), derivative(x), rtol=1e-14)
