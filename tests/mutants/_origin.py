"""The correct built-in kernels the mutants start from, and ways to change one thing in them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from functools import cache

import numpy as np

from conformance import Kernel
from conformance.spec.model import Spec
from conformance.typing import ForwardFn, VjpFn
from implementations._common import family_kernels

Arrays = Mapping[str, np.ndarray]
Make = Callable[[Spec], Kernel]


@cache
def _kernels(source: str) -> dict[str, Kernel]:
    return family_kernels(f"implementations.{source}")


def builtin(spec: str, source: str = "numpy_vectorized") -> Kernel:
    """The built-in ``source`` backend's kernel for ``spec``."""
    return _kernels(source)[spec]


def with_forward(spec: str, forward: ForwardFn, source: str = "numpy_vectorized") -> Make:
    """The built-in kernel with ``forward`` in place of its own (its VJP kept)."""
    return lambda _spec: replace(builtin(spec, source), forward=forward)


def with_vjp(spec: str, vjp: VjpFn, source: str = "numpy_vectorized") -> Make:
    """The built-in kernel with ``vjp`` in place of its own (its forward kept)."""
    return lambda _spec: replace(builtin(spec, source), vjp=vjp)


def renamed(spec: str, source: str = "numpy_vectorized", **mapping: str) -> Make:
    """The built-in forward fed input ``mapping[name]`` as ``name``: inputs mixed up."""
    forward = builtin(spec, source).forward
    return with_forward(
        spec, lambda a: forward({**a, **{k: a[v] for k, v in mapping.items()}}), source
    )


def gradients_changed(
    spec: str, change: Callable[[dict, Arrays], dict], source: str = "numpy_vectorized"
) -> Make:
    """The built-in VJP with ``change(gradients, inputs)`` applied to what it returns."""
    vjp = builtin(spec, source).vjp
    assert vjp is not None
    return with_vjp(spec, lambda a, ct: change(dict(vjp(a, ct)), a), source)


def inputs_changed(
    spec: str, change: Callable[[np.ndarray], np.ndarray], source: str = "numpy_vectorized"
) -> Make:
    """The built-in forward fed every array input as ``change(array)`` (the kernel reads
    its inputs through ``change``, as a wrapper around a raw-memory kernel would)."""
    forward = builtin(spec, source).forward
    return with_forward(spec, lambda a: forward({k: change(v) for k, v in a.items()}), source)
