"""Running one kernel call, the same way in a worker process and in this process.

:func:`execute` calls the kernel, times it, and checks what came back: a mapping of
names to arrays of numbers, which arguments it wrote into (when asked), and which
outputs share memory with an input or an earlier call's output (when tracked). What
it finds wrong is the backend's fault and raised as a
:class:`~conformance.errors.KernelFault`; the kernel's own exception becomes a
:class:`~conformance.errors.KernelRaised` that describes it.
"""

from __future__ import annotations

import contextlib
import statistics
import time
import traceback
from collections.abc import Mapping
from typing import Any

import numpy as np

from conformance.checks.calls import Call, Reply
from conformance.errors import HarnessError, KernelFault, KernelRaised
from conformance.plugins.backend import Backend
from conformance.typing import Array

Tracked = list[tuple[str, dict[str, Array]]]
"""The outputs of the tracked calls so far, each with its call's label, as returned."""

ARGUMENTS = ("input", "cotangent")
"""What the arrays of a call are, in order: forward(inputs), vjp(inputs, cotangents)."""


def execute(backend: Backend, call: Call, tracked: Tracked, *, catch_exit: bool) -> Reply:
    """Run ``call`` on ``backend``'s kernel and describe what came back.

    :param tracked: earlier tracked outputs; a tracked call is checked against them,
        then added.
    :param catch_exit: turn the kernel's ``sys.exit`` into KernelRaised (in this
        process) instead of letting it end the process (in a worker).
    """
    kernel = backend.kernel(call.spec)
    function = None if kernel is None else kernel.forward if call.op == "forward" else kernel.vjp
    if function is None:
        raise HarnessError(f"a check called {call.during} of {backend.name}, which has none")
    before = [{k: v.copy() for k, v in a.items()} for a in call.arrays] if call.watch else None
    arguments = call.arrays
    if call.order:  # the kernel gets other arrays with the same values
        arguments = tuple({k: in_order(v, call.order) for k, v in a.items()} for a in arguments)
    times = []
    for _ in range(max(1, call.repeats)):
        quiet = np.errstate(all="ignore") if call.quiet else contextlib.nullcontext()
        start = time.perf_counter()
        try:
            with quiet:
                result = function(*arguments)
        except Exception as exc:
            raise KernelRaised(describe_exception(exc)) from exc
        except SystemExit as exc:
            if not catch_exit:
                raise
            raise KernelRaised(f"SystemExit: {exc.code} (the kernel called sys.exit)") from exc
        times.append(time.perf_counter() - start)
    values = _values(call, result)
    modified = () if before is None else _modified(before, call.arrays)
    aliases = _aliases(call, values, tracked) if call.track else ()
    return Reply(values, statistics.median(times), modified, aliases)


def in_order(array: Array, order: str) -> Array:
    """``array``'s values in the memory ``order`` a :class:`Call` asks for: as it is
    (``""``), as a column-major copy (``fortran``), or as a view of every other element of
    a buffer twice as wide along the last axis (``strided``: no axis contiguous)."""
    if not order or array.ndim == 0:
        return array
    if order == "fortran":
        return np.asfortranarray(array)
    if order == "strided":
        wide = np.zeros((*array.shape[:-1], 2 * array.shape[-1]), array.dtype)
        view = wide[..., ::2]
        view[...] = array
        return view
    raise HarnessError(f"unknown memory order {order!r} (known: fortran, strided)")


def describe_exception(exc: BaseException) -> str:
    """``ValueError: shapes (3,4) and (5,) not aligned (at fused_gate.py:41)``."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" (at {frames[-1].filename.rsplit('/', 1)[-1]}:{frames[-1].lineno})" if frames else ""
    return f"{type(exc).__name__}: {exc}{where}"


def _values(call: Call, result: Any) -> dict[str, Array]:
    """The returned mapping as NumPy arrays of numbers; KernelFault for anything else."""
    names = "output names" if call.op == "forward" else "input names"
    if not isinstance(result, Mapping):
        raise KernelFault(
            f"{call.during} returned {type(result).__name__}, not a mapping of {names} to arrays"
        )
    values = {}
    for name, value in result.items():
        if not isinstance(name, str):
            raise KernelFault(f"{call.during} returned the key {name!r}, not one of its {names}")
        try:
            array = value if isinstance(value, np.ndarray) else np.asarray(value)
        except Exception as exc:
            raise KernelFault(
                f"{call.during} returned {name!r} as {type(value).__name__}, which NumPy cannot "
                f"turn into an array ({type(exc).__name__}: {exc})"
            ) from exc
        if array.dtype.kind not in "biufc":
            raise KernelFault(
                f"{call.during} returned {name!r} as an array of {array.dtype}, not of numbers"
            )
        values[name] = array
    return values


def _modified(before: list[dict[str, Array]], after: tuple[dict[str, Array], ...]) -> tuple:
    """``input 'x' in place (x[0, 2] was 0.53, is 0)``: each argument that differs from its
    copy taken before the call, and where."""
    found = []
    for kind, old, new in zip(ARGUMENTS, before, after, strict=False):
        for name, was in old.items():
            now = new.get(name)
            if now is None:
                found.append(f"{kind} {name!r} in place (removed from its mapping)")
                continue
            if np.array_equal(was, now, equal_nan=True):
                continue
            if np.shape(was) != np.shape(now):
                where = f"shape {np.shape(was)} became {np.shape(now)}"
            else:
                changed = was != now
                if np.issubdtype(np.asarray(was).dtype, np.floating):
                    changed &= ~(np.isnan(was) & np.isnan(now))
                index = tuple(int(i) for i in np.argwhere(changed)[0]) if changed.ndim else ()
                at = f"{name}[{', '.join(map(str, index))}]" if index else name
                where = f"{at} was {was[index]:.9g}, is {now[index]:.9g}"
            found.append(f"{kind} {name!r} in place ({where})")
    return tuple(found)


def _aliases(call: Call, values: dict[str, Array], tracked: Tracked) -> tuple[str, ...]:
    """Each output of ``call`` that shares memory with one of its arguments or with an
    output of an earlier tracked call, said in words; then remembers ``values``."""
    if call.track_reset:
        tracked.clear()
    found = []
    for name, out in values.items():
        found += [
            f"output {name!r} of {call.track} shares memory with its {ARGUMENTS[i]} {arg!r}"
            for i, arrays in enumerate(call.arrays)
            for arg, array in arrays.items()
            if _shares_memory(out, array)
        ]
        found += [
            f"output {name!r} of {call.track} shares memory with output {earlier!r} of {label} "
            "(a buffer reused across calls)"
            for label, outputs in tracked
            for earlier, array in outputs.items()
            if _shares_memory(out, array)
        ]
    tracked.append((call.track, values))
    return tuple(found)


def _shares_memory(a: Array, b: Array) -> bool:
    """Whether ``a`` and ``b`` overlap: bounds first (cheap), then exactly."""
    return bool(np.may_share_memory(a, b)) and bool(np.shares_memory(a, b))
