"""How a check calls a backend's kernels: one :class:`Call` in, one :class:`Reply` back.

A check never calls a kernel function itself. It hands a :class:`Call` to the
:class:`KernelCalls` of its context, which runs it in the backend's worker process
(:mod:`conformance.isolation`) or, for debugging, in this process. Both run the call
the same way and answer with a :class:`Reply`: the returned arrays, the kernel's own
wall time, the arguments it wrote into, and the outputs that alias memory they must
not. A kernel that raises, returns something unusable, dies or hangs makes ``call``
raise a :class:`~conformance.errors.KernelFault`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Literal, Protocol

import numpy as np

from conformance.typing import Array

Op = Literal["forward", "vjp"]


@dataclass(frozen=True)
class Call:
    """One kernel call: ``forward(inputs)`` or ``vjp(inputs, cotangents)`` of ``spec``.

    :ivar repeats: run the call this many times and report the median wall time.
    :ivar watch: report the arguments the call wrote into (``input 'x'``).
    :ivar track: a label for this call (``row 0 alone``): report every output that
        shares memory with one of its inputs or with an output of an earlier tracked
        call (a buffer reused across calls). Empty: not tracked.
    :ivar track_reset: forget the earlier tracked calls first.
    :ivar quiet: run under ``numpy.errstate(all="ignore")`` (saturating inputs overflow
        by design; their warnings would only be noise).
    :ivar order: the memory order the kernel gets its inputs in, made where it runs (a
        view does not survive the trip to a worker): ``""`` as drawn (C-contiguous),
        ``fortran`` (column-major copies), ``strided`` (views of every other element of a
        buffer twice as wide).
    """

    spec: str
    op: Op
    arrays: tuple[dict[str, Array], ...]
    repeats: int = 1
    watch: bool = False
    track: str = ""
    track_reset: bool = False
    quiet: bool = False
    order: str = ""

    @property
    def during(self) -> str:
        """``forward of lstm.cell``: the call, for messages."""
        return f"{self.op} of {self.spec}"


@dataclass(frozen=True)
class Reply:
    """What one call returned, measured where it ran.

    :ivar values: outputs (forward) or gradients (vjp) by name, as NumPy arrays.
    :ivar seconds: median wall time of the kernel call itself, without any transport.
    :ivar modified: arguments the call wrote into: ``input 'x'``, ``cotangent 'h'``.
    :ivar aliases: for a tracked call, each output that shares memory with an input
        or with an earlier tracked call's output, said in words.
    """

    values: dict[str, Array]
    seconds: float = 0.0
    modified: tuple[str, ...] = ()
    aliases: tuple[str, ...] = field(default=())


def call_key(call: Call) -> bytes:
    """A digest of everything a call's reply depends on: its spec, op, flags and arrays."""
    flags = (
        call.spec, call.op, call.repeats, call.watch, call.track, call.track_reset, call.quiet,
        call.order,
    )  # fmt: skip
    h = hashlib.blake2b(repr(flags).encode(), digest_size=20)
    for arrays in call.arrays:
        for name, array in arrays.items():
            h.update(f"\0{name}\0{array.dtype.str}{array.shape}".encode())
            h.update(np.ascontiguousarray(array).data)
    return h.digest()


class KernelCalls(Protocol):
    """One backend's kernels, callable from a check (in its worker, or in this process)."""

    def call(self, calls: list[Call]) -> list[Reply]:
        """Run ``calls`` in order, in one round trip; one reply each. Raises KernelFault
        when a kernel raised, returned something unusable, or its worker died or hung
        (the calls after it do not run)."""
        ...


def during(calls: list[Call]) -> str:
    """``forward of lstm.cell``, ``forward or vjp of lstm.cell``: a batch, for messages."""
    ops = " or ".join(dict.fromkeys(c.op for c in calls))
    return f"{ops} of {' or '.join(dict.fromkeys(c.spec for c in calls))}"
