"""The function table of the equation language: every function a spec may call.

Each primitive works on float64 *and* complex128 arrays and is analytic where the
math is differentiable, so that complex-step differentiation of the interpreter
gives exact derivatives. Hence σ(z) = ½(1 + tanh(z/2)) rather than 1/(1 + e^(−z))
(which turns into NaN at z = −1000 on complex input), and every max, abs or
comparison looks at the real part only.
"""

from __future__ import annotations

import numpy as np

from conformance.typing import Array


def as_array(a: Array) -> Array:
    """``a`` as an array: numbers and lists through ``np.asarray``, while values that speak
    NumPy's protocols themselves (a :class:`~conformance.lang.rounding.Rounded`) pass as
    they are, so that the rounding estimate runs through the same primitives."""
    return a if hasattr(a, "__array_function__") else np.asarray(a)


def _real(a: Array) -> Array:
    return a.real if np.iscomplexobj(a) else a


def sigmoid(z: Array) -> Array:
    """σ(z) = 1 / (1 + e^(−z)), accurate in both tails and finite for complex z.

    With e = exp(−z) for Re z ≥ 0 and exp(z) below (each branch analytic), σ = 1/(1 + e) for
    Re z ≥ 0 and e/(1 + e) below: |e| ≤ 1, so nothing overflows, and the lower tail
    keeps full relative accuracy (σ(−40) ≈ 4.2e−18, not 0). The textbook form turns
    into NaN at z = −1000 on complex input.
    """
    z = as_array(z)
    upper = _real(z) >= 0
    e = np.exp(np.where(upper, -z, z))
    return np.where(upper, 1.0 / (1.0 + e), e / (1.0 + e))


def concat(*arrays: Array, axis: int = -1) -> Array:
    """[a, b, …] joined along ``axis`` (the last by default, as in [h_{t−1}, x_t])."""
    return np.concatenate(arrays, axis=axis)


def amax(a: Array, axis: int | None = None, keepdims: bool = False) -> Array:
    """max over ``axis``, chosen on the real part (the value, not only its real part)."""
    a = as_array(a)
    if not np.iscomplexobj(a):
        return np.max(a, axis=axis, keepdims=keepdims)
    if axis is None:
        value = a.reshape(-1)[np.argmax(a.real)]
        return np.full((1,) * a.ndim, value) if keepdims else value
    index = np.expand_dims(np.argmax(a.real, axis=axis), axis)
    out = np.take_along_axis(a, index, axis=axis)
    return out if keepdims else np.squeeze(out, axis=axis)


def cabs(a: Array) -> Array:
    """|a|, as a · sign(Re a), so that it stays analytic away from 0."""
    return a * np.sign(_real(a)) if np.iscomplexobj(a) else np.abs(a)


def logsumexp(a: Array, axis: int = -1, keepdims: bool = False) -> Array:
    """log Σ exp(a) over ``axis``, shifted by the (real) max so that it never overflows."""
    m = np.max(_real(a), axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    out = m + np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True))
    return out if keepdims else np.squeeze(out, axis=axis)


def log_softmax(a: Array, axis: int = -1) -> Array:
    """log softmax(a) = a − logsumexp(a), overflow-free."""
    return a - logsumexp(a, axis=axis, keepdims=True)


def softmax(a: Array, axis: int = -1) -> Array:
    """exp(a_k) / Σ_k' exp(a_k') over ``axis``, shifted by the (real) max."""
    e = np.exp(a - np.max(_real(a), axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def flip(a: Array, axis: int = 0) -> Array:
    """a reversed along ``axis`` (time, by default)."""
    return np.flip(a, axis=axis)


def allclose(a: Array, b: Array, atol: float = 0.0, rtol: float = 0.0) -> bool:
    """Whether |a − b| ≤ atol + rtol·|b| everywhere (for invariants)."""
    return bool(np.all(np.abs(_real(a) - _real(b)) <= atol + rtol * np.abs(_real(b))))
