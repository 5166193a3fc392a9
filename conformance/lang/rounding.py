"""Rounded values: arrays that carry the variance of the rounding error a correct
implementation of the same arithmetic would make in a floating-point dtype.

The model (first-order probabilistic error analysis, Higham 2002, ch. 2–4):

- every operation rounds its result y to ``y·(1 + δ)``, δ independent of every other
  rounding, of mean 0 and variance ``ROUNDING_VARIANCE·u²`` (a relative error uniform on
  [−u, u]; u = 2^-24 in float32, 2^-53 in float64); moves, slices, negation, ``abs``,
  ``max`` and ``where`` are exact;
- a sum of n terms (``@``, ``sum``, ``mean``) is accumulated one term at a time, so each
  of its n − 1 partial sums s_k rounds: the variance it adds is Σ_k s_k², estimated from
  the sum C and the squares Q = Σ t_k² without forming the partial sums (see
  :func:`summation_variance`), and each product of a matmul rounds too;
- an error already in an operand passes on to first order: y = f(a, b) carries
  f_a²·var(a) + f_b²·var(b), the errors of different operands taken as independent.

``var`` is kept in units of u², so one propagation serves every dtype: the expected
rounding error of an element in float32 is 2^-24·sqrt(var). A :class:`Rounded` speaks
NumPy's dispatch protocols (``__array_ufunc__``, ``__array_function__``), so the
primitives of :mod:`conformance.lang.primitives` and the CTC recursion, written for plain
arrays, run on it unchanged. Anything without a rule raises :class:`RoundingModelError`,
and so does ``np.asarray(rounded)``: the variance is never dropped silently.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
from numpy.lib.mixins import NDArrayOperatorsMixin

from conformance.errors import RoundingModelError
from conformance.typing import Array

ROUNDING_VARIANCE = 1.0 / 3.0
"""Variance of one rounding's relative error, in units of u²: δ uniform on [−u, u]."""

UNIT_ROUNDOFF = {"float32": 2.0**-24, "float64": 2.0**-53}
"""u of each dtype: half the distance from 1 to the next float."""
MANTISSA_BITS = {"float32": 24, "float64": 53}
"""Significand bits of each dtype, the implicit leading bit included."""


def summation_variance(n: Array | int, total: Array, squares: Array) -> Array:
    """Variance (units u², before ROUNDING_VARIANCE) added by summing n terms one at a time.

    Recursive summation rounds each partial sum s_2 … s_n, so it adds Σ_{k≥2} s_k². For
    terms of any signs that end at ``total`` = C with ``squares`` = Q = Σ t_k², the
    partial sums are taken as a line to C plus a random walk pinned at both ends (a
    Brownian bridge): E s_k² = (k/n)²C² + k(n − k)/n²·Q. Summed over k = 2 … n:
    a(n)·C² + b(n)·Q, exact for n ≤ 2 (no rounding; one rounding of C) and ≈ n·(C²/3 +
    Q/6) for large n: same-sign terms give n³t²/3, zero-mean terms n·Q/2.
    """
    n = np.asarray(n, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        s1, s2 = n * (n + 1) / 2, n * (n + 1) * (2 * n + 1) / 6
        a = np.where(n >= 1, (s2 - 1) / n**2, 0.0)
        b = np.where(n >= 1, (n * s1 - s2 - (n - 1)) / n**2, 0.0)
    return a * np.square(total) + b * squares


def parts(x: Any) -> tuple[Array, Array | float]:
    """(value, variance) of a Rounded or of a plain (exact) operand."""
    if isinstance(x, Rounded):
        return x.value, x.var
    return np.asarray(x), 0.0


def _rounding(y: Array) -> Array:
    """The variance one rounding of ``y`` adds."""
    return ROUNDING_VARIANCE * np.square(y)


def _plain(ufunc: np.ufunc, *inputs: Any) -> Array:
    return ufunc(*(parts(x)[0] for x in inputs))


class Rounded(NDArrayOperatorsMixin):
    """An exact value (float64) and the variance of its rounding error (units u², ≥ 0).

    :ivar value: the result in exact (float64) arithmetic.
    :ivar var: per element, the variance of the error a float evaluation carries.
    """

    __slots__ = ("value", "var")

    def __init__(self, value: Any, var: Any = 0.0) -> None:
        self.value = np.asarray(value)
        if np.iscomplexobj(self.value):
            raise RoundingModelError(
                "the rounding estimate works on real values; complex values reach it only "
                "by mistake (complex step belongs to the oracle's derivatives)"
            )
        self.value = self.value.astype(np.float64, copy=False)
        self.var = np.broadcast_to(np.asarray(var, dtype=np.float64), self.value.shape)

    # --- what makes it look like an array -------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return self.value.shape

    @property
    def ndim(self) -> int:
        return self.value.ndim

    @property
    def size(self) -> int:
        return self.value.size

    @property
    def dtype(self) -> np.dtype:
        return self.value.dtype

    @property
    def T(self) -> Rounded:
        return Rounded(self.value.T, self.var.T)

    @property
    def real(self) -> Rounded:
        return self

    @property
    def std(self) -> Array:
        """The expected rounding error of each element, in units of u."""
        return np.sqrt(self.var)

    def __len__(self) -> int:
        return len(self.value)

    def __iter__(self) -> Iterator[Rounded]:
        return (self[i] for i in range(len(self)))

    def __getitem__(self, index: Any) -> Rounded:
        return Rounded(self.value[index], self.var[index])

    def reshape(self, *shape: Any) -> Rounded:
        return Rounded(self.value.reshape(*shape), self.var.reshape(*shape))

    def __repr__(self) -> str:
        return f"Rounded(value={self.value!r}, std={self.std!r})"

    def __array__(self, dtype: Any = None, copy: Any = None) -> Array:
        raise RoundingModelError(
            "a Rounded value was turned into a plain array, which would drop its rounding "
            "estimate: the code on the way needs a rule in conformance/lang/rounding.py"
        )

    # --- NumPy's dispatch -----------------------------------------------------------------------
    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        if method != "__call__" or kwargs:
            raise RoundingModelError(
                f"no rounding rule for numpy.{ufunc.__name__}.{method} with {sorted(kwargs)}"
            )
        if ufunc in PREDICATES:
            return _plain(ufunc, *inputs)
        rule = UFUNC_RULES.get(ufunc)
        if rule is None:
            raise RoundingModelError(
                f"no rounding rule for numpy.{ufunc.__name__}: add one to UFUNC_RULES in "
                "conformance/lang/rounding.py"
            )
        return rule(*inputs)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        rule = FUNCTION_RULES.get(func)
        if rule is None:
            raise RoundingModelError(
                f"no rounding rule for numpy.{func.__name__}: add one to FUNCTION_RULES in "
                "conformance/lang/rounding_functions.py"
            )
        return rule(*args, **kwargs)


def _unary(
    ufunc: np.ufunc, derivative: Callable[[Array, Array], Array], exact: bool = False
) -> Callable[[Any], Rounded]:
    """The rule of y = f(a): var(y) = f'(a)²·var(a), plus one rounding unless f is exact."""

    def apply(a: Any) -> Rounded:
        x, v = parts(a)
        with np.errstate(all="ignore"):
            y = ufunc(x)
            var = np.square(derivative(x, y)) * v
        return Rounded(y, var if exact else var + _rounding(y))

    return apply


def _one(x: Array, y: Array) -> Array:
    return np.ones_like(x)


def _add(sign: float) -> Callable[[Any, Any], Rounded]:
    def apply(a: Any, b: Any) -> Rounded:
        (x, vx), (y, vy) = parts(a), parts(b)
        out = x + sign * y
        return Rounded(out, vx + vy + _rounding(out))

    return apply


def _multiply(a: Any, b: Any) -> Rounded:
    (x, vx), (y, vy) = parts(a), parts(b)
    out = x * y
    return Rounded(out, np.square(y) * vx + np.square(x) * vy + _rounding(out))


def _divide(a: Any, b: Any) -> Rounded:
    (x, vx), (y, vy) = parts(a), parts(b)
    with np.errstate(all="ignore"):
        out = x / y
        var = vx / np.square(y) + np.square(out / y) * vy
    return Rounded(out, var + _rounding(out))


def _power(a: Any, b: Any) -> Rounded:
    (x, vx), (p, vp) = parts(a), parts(b)
    with np.errstate(all="ignore"):
        out = x**p
        var = np.square(p * x ** (p - 1)) * vx
        if not np.all(np.asarray(vp) == 0):
            var = var + np.square(np.log(x) * out) * vp
    return Rounded(out, var + _rounding(out))


def _matmul(a: Any, b: Any) -> Rounded:
    """C = A @ B: each of the n products rounds, and so does each partial sum."""
    (x, vx), (y, vy) = parts(a), parts(b)
    out = x @ y
    x2, y2 = np.square(x), np.square(y)
    squares = x2 @ y2
    var = ROUNDING_VARIANCE * (summation_variance(np.shape(x)[-1], out, squares) + squares)
    if np.any(vx):  # exact operands (inputs, weights) skip their matmul
        var = var + np.ascontiguousarray(vx) @ y2
    if np.any(vy):
        var = var + x2 @ np.ascontiguousarray(vy)
    return Rounded(out, var)


def _select(ufunc: np.ufunc) -> Callable[[Any, Any], Rounded]:
    """maximum / minimum: exact; the variance of the operand chosen."""

    def apply(a: Any, b: Any) -> Rounded:
        (x, vx), (y, vy) = parts(a), parts(b)
        out = ufunc(x, y)
        return Rounded(out, np.where(out == x, vx, vy))

    return apply


UFUNC_RULES: dict[np.ufunc, Callable[..., Any]] = {
    np.add: _add(1.0),
    np.subtract: _add(-1.0),
    np.multiply: _multiply,
    np.true_divide: _divide,
    np.power: _power,
    np.matmul: _matmul,
    np.maximum: _select(np.maximum),
    np.minimum: _select(np.minimum),
    np.negative: _unary(np.negative, _one, exact=True),
    np.positive: _unary(np.positive, _one, exact=True),
    np.absolute: _unary(np.absolute, _one, exact=True),
    np.exp: _unary(np.exp, lambda x, y: y),
    np.log: _unary(np.log, lambda x, y: 1.0 / x),
    np.tanh: _unary(np.tanh, lambda x, y: 1.0 - y * y),
    np.sqrt: _unary(np.sqrt, lambda x, y: 0.5 / y),
}
"""Each ufunc the primitives use on float values, with how it rounds and propagates."""

PREDICATES = frozenset({
    np.sign, np.isfinite, np.isnan, np.isinf, np.greater, np.greater_equal, np.less,
    np.less_equal, np.equal, np.not_equal, np.logical_and, np.logical_or, np.logical_not,
})  # fmt: skip
"""Ufuncs whose results are masks or signs: computed on the values, exact, plain arrays."""

FUNCTION_RULES: dict[Callable[..., Any], Callable[..., Any]] = {}
"""Each NumPy function a Rounded value supports, with how its variance follows: filled
by :mod:`conformance.lang.rounding_functions`, which the package imports."""
