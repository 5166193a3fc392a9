"""Functions that only the diagnosis's variants call: mistakes a backend makes in its
backward pass, written so that complex-step differentiation of the interpreter sees them.

Complex step reads a derivative from the imaginary part: f(x + i·h·v) = f(x) + i·h·J v.
A function that keeps the real part and rescales the imaginary part therefore has the
right value and a chosen derivative, which is how a VJP's mistakes become specs:
:func:`stop_gradient` (the value, no derivative), activations whose value is right but
whose slope is taken at the wrong point, and recurrences whose carried state passes its
value on but not its derivative. On real input each is the plain function, so a
gradient-only variant leaves the forward outputs alone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from conformance.errors import EvaluationError
from conformance.lang.primitives import sigmoid
from conformance.oracle.calls import SpecFunction
from conformance.oracle.recurrences import scan_carrying, tree_linking
from conformance.typing import Array


def stop_gradient(a: Array) -> Array:
    """``a`` with no derivative: its value passes, its derivative does not."""
    return np.real(a) if np.iscomplexobj(a) else a


def _with_slope(value: Callable[[Array], Array], slope: Callable[[Array], Array]) -> Callable:
    """A function with ``value``'s value and the derivative ``slope(z)`` (elementwise)."""

    def f(z: Array) -> Array:
        z = np.asarray(z)
        if not np.iscomplexobj(z):
            return value(z)
        real = z.real
        return value(real) + 1j * z.imag * slope(real)

    return f


def _sigmoid_slope(s: Array) -> Array:
    return s * (1 - s)


SLOPES: dict[str, Callable] = {
    # σ′ taken at σ(z): the slope s(1 − s) of s = σ(σ(z)), the activated value activated again.
    "sigmoid_slope_at_output": _with_slope(sigmoid, lambda z: _sigmoid_slope(sigmoid(sigmoid(z)))),
    # σ′ written as z(1 − z) but fed the pre-activation z instead of σ(z).
    "sigmoid_slope_of_input": _with_slope(sigmoid, lambda z: _sigmoid_slope(z)),
    # tanh′ taken at tanh(z): 1 − tanh(tanh(z))².
    "tanh_slope_at_output": _with_slope(np.tanh, lambda z: 1 - np.tanh(np.tanh(z)) ** 2),
    # tanh′ written as 1 − z² of the pre-activation z.
    "tanh_slope_of_input": _with_slope(np.tanh, lambda z: 1 - z * z),
}
"""Activations with the right value and a slope taken where a hand-written VJP takes it."""


def scan_variant(
    step: SpecFunction,
    *,
    _scope: Mapping[str, Any],
    variant: str,
    state: str = "",
    reverse: bool = False,
    **given: Any,
) -> tuple:
    """``scan`` with one mistake, by ``variant``:

    - ``uncarried``: ``state`` is never carried: every step gets its initial value;
    - ``stuck``: ``state`` never changes: every step gets its initial value, and so does
      the final state returned;
    - ``late``: each step stores the states it started from, not those it made (the
      stacked outputs one step behind, the initial state first);
    - ``detached``: ``state`` is carried, its derivative is not, from the initial value
      on (BPTT that drops that state's gradient between steps);
    - ``last_step``: every state detached and only the last step's outputs differentiated
      (BPTT truncated to one step);
    - ``unaligned``: the stacked outputs of a reversed scan left in processing order.
    """
    if not isinstance(step, SpecFunction):
        raise EvaluationError("scan_variant: the first argument must be a spec")
    count = len(step.spec.outputs)
    bound = step.bind(_scope, given)
    if variant in ("uncarried", "stuck"):
        out = scan_carrying(
            step, lambda n, first, new: first if n == state else new,
            _scope={}, reverse=reverse, **bound,
        )  # fmt: skip
        if variant == "uncarried":
            return out
        states = [s.name for s in step.spec.input_symbols if s.role == "state"]
        finals = [bound[n] if n == state else v for n, v in zip(states, out[count:], strict=True)]
        return (*out[:count], *finals)
    if variant == "late":
        out = scan_carrying(step, None, _scope={}, reverse=reverse, **bound)
        carried = {s.next: s.name for s in step.spec.input_symbols if s.role == "state"}
        stacked = []
        for name, value in zip(step.spec.outputs, out[:count], strict=True):
            if name not in carried:
                raise EvaluationError(f"scan_variant: {name} is no state's next")
            first = np.asarray(bound[carried[name]])[None]
            shifted = (
                np.concatenate([first, value[:-1]])
                if not reverse
                else np.concatenate([value[1:], first])
            )
            stacked.append(shifted)
        return (*stacked, *out[count:])
    if variant == "detached":
        bound[state] = stop_gradient(bound[state])
        return scan_carrying(
            step, lambda n, first, new: stop_gradient(new) if n == state else new,
            _scope={}, reverse=reverse, **bound,
        )  # fmt: skip
    if variant == "last_step":
        out = scan_carrying(
            step, lambda n, first, new: stop_gradient(new), _scope={}, reverse=reverse, **bound
        )
        last = 0 if reverse else -1
        stacked = []
        for value in out[:count]:
            cut = stop_gradient(value).astype(value.dtype)
            cut[last] = value[last]
            stacked.append(cut)
        return (*stacked, *out[count:])
    if variant == "unaligned":
        out = scan_carrying(step, None, _scope={}, reverse=reverse, **bound)
        return (*(np.flip(v, axis=0) for v in out[:count]), *out[count:])
    raise EvaluationError(f"scan_variant: unknown variant {variant!r}")


scan_variant.takes_scope = True  # type: ignore[attr-defined]


def tree_variant(
    step: SpecFunction, *, _scope: Mapping[str, Any], variant: str, side: str, **given: Any
) -> tuple:
    """``tree`` with one mistake: ``variant="detached"`` passes the values of the ``side``
    child's states (``h_R``, ``c_R`` for ``"R"``) to its parent but not their derivatives
    (a backward pass that never reaches that subtree)."""
    if not isinstance(step, SpecFunction):
        raise EvaluationError("tree_variant: the first argument must be a spec")
    if variant != "detached" or side not in ("L", "R"):
        raise EvaluationError(f"tree_variant: unknown variant {variant!r} or side {side!r}")
    states = [s for s in step.spec.input_symbols if s.role == "state"]
    carried = dict.fromkeys(s.next for s in states)
    pairs = [[s.name for s in states if s.next == o] for o in carried]
    chosen = {pair[0 if side == "L" else 1] for pair in pairs if len(pair) == 2}
    return tree_linking(
        step, lambda n, value: stop_gradient(value) if n in chosen else value,
        _scope=_scope, **given,
    )  # fmt: skip


tree_variant.takes_scope = True  # type: ignore[attr-defined]


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "stop_gradient": stop_gradient,
    **SLOPES,
    "scan_variant": scan_variant,
    "tree_variant": tree_variant,
}
"""The functions variants may call, beside the language's own."""
