"""The function table of the equation language: every function a spec may call, by name.

NumPy functions enter the table through wrappers that take only what an equation needs:
never an ``out`` (which a ufunc also takes positionally: ``exp(x, x)`` would write into
``x``), never a ``shape`` or ``dtype`` (``ones_like(x, shape=(10**5, 10**5))`` would
allocate 80 GB). An equation computes new arrays from its inputs and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from conformance.lang.ctc import ctc_neg_log_likelihood
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
from conformance.typing import Array


def _elementwise(ufunc: np.ufunc) -> Callable[[Array], Array]:
    def apply(a: Array) -> Array:
        return ufunc(a)

    apply.__name__ = apply.__qualname__ = ufunc.__name__
    apply.__doc__ = f"NumPy's {ufunc.__name__} of one array (no ``out``)."
    return apply


def _reduction(reduce: Callable[..., Array]) -> Callable[..., Array]:
    def apply(a: Array, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Array:
        return reduce(a, axis=axis, keepdims=keepdims)

    apply.__name__ = apply.__qualname__ = reduce.__name__
    apply.__doc__ = f"NumPy's {reduce.__name__} over ``axis`` (no ``out``, no ``dtype``)."
    return apply


def stack(arrays: tuple[Array, ...], axis: int = 0) -> Array:
    """The arrays joined along a new ``axis`` (``stack((a, b))``)."""
    return np.stack(arrays, axis=axis)


def swapaxes(a: Array, axis1: int, axis2: int) -> Array:
    """``a`` with two axes exchanged."""
    return np.swapaxes(a, axis1, axis2)


def zeros_like(a: Array) -> Array:
    """Zeros of ``a``'s shape and dtype."""
    return np.zeros_like(a)


def ones_like(a: Array) -> Array:
    """Ones of ``a``'s shape and dtype."""
    return np.ones_like(a)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "sigmoid": sigmoid,
    "tanh": _elementwise(np.tanh),
    "exp": _elementwise(np.exp),
    "log": _elementwise(np.log),
    "sqrt": _elementwise(np.sqrt),
    "abs": cabs,
    "max": amax,
    "sum": _reduction(np.sum),
    "mean": _reduction(np.mean),
    "concat": concat,
    "stack": stack,
    "softmax": softmax,
    "log_softmax": log_softmax,
    "logsumexp": logsumexp,
    "flip": flip,
    "swapaxes": swapaxes,
    "zeros_like": zeros_like,
    "ones_like": ones_like,
    "all": _reduction(np.all),
    "allclose": allclose,
    "ctc_neg_log_likelihood": ctc_neg_log_likelihood,
}
"""Functions an equation may call, by name. Spec calls and ``scan`` are added by the oracle."""
