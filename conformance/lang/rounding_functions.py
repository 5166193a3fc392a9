"""The NumPy functions a :class:`~conformance.lang.rounding.Rounded` value supports,
each with how it rounds: reductions (sum, mean, max), and the exact moves (stack,
concatenate, where, flip, slices along axes) that carry each element's variance along.

These are what the primitives, the CTC recursion and the recurrences call; a NumPy
function outside this table raises :class:`RoundingModelError` when it meets a Rounded.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from conformance.lang.primitives import logsumexp as exact_logsumexp
from conformance.lang.primitives import sigmoid as exact_sigmoid
from conformance.lang.rounding import (
    FUNCTION_RULES,
    ROUNDING_VARIANCE,
    Rounded,
    parts,
    summation_variance,
)
from conformance.typing import Array


def _pair(items: Sequence[Any]) -> tuple[list[Array], list[Array]]:
    values, variances = [], []
    for item in items:
        value, var = parts(item)
        values.append(value)
        variances.append(np.broadcast_to(var, np.shape(value)))
    return values, variances


def _moved(move: Callable[..., Array]) -> Callable[..., Rounded]:
    """An exact rearrangement of one array: the same move on the values and the variances."""

    def apply(a: Any, *args: Any, **kwargs: Any) -> Rounded:
        value, var = parts(a)
        return Rounded(
            move(value, *args, **kwargs), move(np.broadcast_to(var, value.shape), *args, **kwargs)
        )

    return apply


def _joined(join: Callable[..., Array]) -> Callable[..., Rounded]:
    """stack / concatenate: exact; each element keeps its variance."""

    def apply(arrays: Sequence[Any], axis: int = 0, **kwargs: Any) -> Rounded:
        values, variances = _pair(list(arrays))
        return Rounded(join(values, axis=axis, **kwargs), join(variances, axis=axis, **kwargs))

    return apply


def _where(condition: Any, x: Any, y: Any) -> Rounded:
    """Exact: each element takes the value and the variance of the branch chosen."""
    mask = parts(condition)[0]
    (a, va), (b, vb) = parts(x), parts(y)
    return Rounded(np.where(mask, a, b), np.where(mask, va, vb))


def _take_along_axis(arr: Any, indices: Array, axis: int | None = None) -> Rounded:
    value, var = parts(arr)
    var = np.broadcast_to(var, value.shape)
    return Rounded(
        np.take_along_axis(value, indices, axis=axis), np.take_along_axis(var, indices, axis=axis)
    )


def _count(shape: tuple[int, ...], axis: int | Sequence[int] | None) -> int:
    if axis is None:
        return math.prod(shape)
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    return math.prod(shape[a] for a in axes)


def _sum(a: Any, axis: Any = None, keepdims: bool = False, **kwargs: Any) -> Rounded:
    """Σ over ``axis``, accumulated one term at a time: see ``summation_variance``."""
    if kwargs:
        raise TypeError(f"sum of a Rounded value takes no {', '.join(kwargs)}")
    value, var = parts(a)
    var = np.broadcast_to(var, value.shape)
    total = np.sum(value, axis=axis, keepdims=keepdims)
    squares = np.sum(np.square(value), axis=axis, keepdims=keepdims)
    n = _count(value.shape, axis)
    carried = np.sum(var, axis=axis, keepdims=keepdims)
    return Rounded(total, carried + ROUNDING_VARIANCE * summation_variance(n, total, squares))


def _mean(a: Any, axis: Any = None, keepdims: bool = False, **kwargs: Any) -> Rounded:
    """Σ / n: the sum's variance over n², and one rounding of the division."""
    total = _sum(a, axis=axis, keepdims=keepdims, **kwargs)
    n = _count(parts(a)[0].shape, axis)
    mean = total.value / n
    return Rounded(mean, total.var / n**2 + ROUNDING_VARIANCE * np.square(mean))


def _max(a: Any, axis: int | None = None, keepdims: bool = False, **kwargs: Any) -> Rounded:
    """Exact: the largest element, with its own variance."""
    if kwargs:
        raise TypeError(f"max of a Rounded value takes no {', '.join(kwargs)}")
    value, var = parts(a)
    var = np.broadcast_to(var, value.shape)
    if axis is None:
        flat = int(np.argmax(value))
        out = Rounded(value.reshape(-1)[flat], var.reshape(-1)[flat])
        return out.reshape((1,) * value.ndim) if keepdims else out
    index = np.expand_dims(np.argmax(value, axis=axis), axis)
    out = _take_along_axis(Rounded(value, var), index, axis=axis)
    return out if keepdims else _moved(np.squeeze)(out, axis=axis)


def _on_values(func: Callable[..., Any]) -> Callable[..., Any]:
    """Functions of the values alone (shapes, indices, constants): no variance to carry."""

    def apply(a: Any, *args: Any, **kwargs: Any) -> Any:
        return func(parts(a)[0], *args, **kwargs)

    return apply


FUNCTION_RULES.update({
    np.sum: _sum,
    np.mean: _mean,
    np.max: _max,
    np.amax: _max,
    np.stack: _joined(np.stack),
    np.concatenate: _joined(np.concatenate),
    np.where: _where,
    np.take_along_axis: _take_along_axis,
    np.flip: _moved(np.flip),
    np.swapaxes: _moved(np.swapaxes),
    np.squeeze: _moved(np.squeeze),
    np.expand_dims: _moved(np.expand_dims),
    np.transpose: _moved(np.transpose),
    np.reshape: _moved(np.reshape),
    np.real: lambda a: a,
    np.argmax: _on_values(np.argmax),
    np.shape: _on_values(np.shape),
    np.ndim: _on_values(np.ndim),
    np.size: _on_values(np.size),
    np.iscomplexobj: _on_values(np.iscomplexobj),
    np.zeros_like: _on_values(np.zeros_like),
    np.ones_like: _on_values(np.ones_like),
})  # fmt: skip


def sigmoid(z: Any) -> Any:
    """σ(z) with the rounding of either way a correct kernel computes it.

    From exp (1/(1 + e^(−z)): three roundings, relative accuracy in both tails) or as
    ½(1 + tanh(z/2)) (no overflow, but tanh's rounding is absolute: about u/2 where σ is
    near 0, so the lower tail keeps only absolute accuracy). The estimate allows the
    larger of the two at every element: 2σ² + t²/4 roundings, t = 2σ − 1.
    """
    if not isinstance(z, Rounded):
        return exact_sigmoid(z)
    y = exact_sigmoid(z.value)
    t = 2.0 * y - 1.0
    carried = np.square(y * (1.0 - y)) * z.var
    return Rounded(y, carried + ROUNDING_VARIANCE * (2.0 * np.square(y) + np.square(t) / 4.0))


def logsumexp(a: Any, axis: int = -1, keepdims: bool = False) -> Any:
    """ln Σ exp(a) with its rounding as one function, not as the operations it is written
    with: the shift by the max appears twice (m + ln Σ exp(a − m)) and cancels exactly,
    which propagated operation by operation counts as two independent errors, so that a
    recursion of logsumexps (CTC's forward variables over T frames) would double its
    estimate at every step (1e24 expected roundings at T = 100).

    Carried: each term's error weighted by its softmax weight w_i = exp(a_i − y), which
    sum to 1, so a recursion never amplifies. Made: the final addition of the shift (one
    rounding of y) and the log of a sum of n rounded exponentials (about n + 1 roundings
    of a number near 1, in absolute terms).
    """
    if not isinstance(a, Rounded):
        return exact_logsumexp(a, axis=axis, keepdims=keepdims)
    value, var = a.value, np.broadcast_to(a.var, a.value.shape)
    y = exact_logsumexp(value, axis=axis, keepdims=True)
    with np.errstate(all="ignore"):
        weights = np.exp(value - y)
    carried = np.sum(np.square(weights) * var, axis=axis, keepdims=True)
    made = ROUNDING_VARIANCE * (np.square(y) + value.shape[axis] + 1)
    out = Rounded(y, carried + made)
    return out if keepdims else Rounded(np.squeeze(y, axis=axis), np.squeeze(out.var, axis=axis))


PRIMITIVE_RULES: dict[str, Callable[..., Any]] = {"sigmoid": sigmoid, "logsumexp": logsumexp}
"""Functions of the language whose rounding is more than that of the operations they are
written with here: the rounding estimate calls these instead."""
