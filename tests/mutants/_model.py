"""What a mutant is: one bug in one built-in kernel, and the check kind that must catch it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from conformance import Backend, Kernel
from conformance.spec.model import Spec
from mutants._origin import builtin

PROFILES = ("quick", "realistic")
"""Where an ordinary bug must be caught: at the tiny sizes and at real ones."""
REALISTIC = ("realistic",)
"""Where a bug that only real sizes show must be caught (B past 8, T past 8, B > 16 …)."""
QUICK = ("quick",)
"""For a bug caught at the quick sizes whose check is not run at realistic sizes: a
realistic gradient reference of ``lstm.sequence`` or ``slstm.tree`` costs 25–60 s, and
a shape bug of size-1 axes cannot show where no axis is 1."""


@dataclass(frozen=True)
class Mutant:
    """A built-in kernel with exactly one bug.

    :ivar name: the bug's short name, unique within its spec.
    :ivar spec: the spec id whose kernel is mutated.
    :ivar caught_by: the check kind that must fail the mutant.
    :ivar bug: the bug in one sentence, for people.
    :ivar make: builds the mutated kernel for the spec (a fresh one per call, so that a
        mutant that keeps state between calls starts with none).
    :ivar profiles: the size profiles at which the check must catch it.
    :ivar dtypes: the dtypes to try it at; ``()`` means float64 only.
    :ivar source: the built-in package it was derived from (``numpy_vectorized``,
        ``numpy_loops``, ``fused_gate``), whose unmutated kernel must pass the same check.
    :ivar companions: other specs whose unmutated kernels (of ``source``) the check calls
        too: the BiLSTM's reversal identity runs the backend's own ``lstm.sequence``.
    :ivar crash: the bug is a crash (an exception at some sizes), so an ``error`` result
        counts as caught.
    """

    name: str
    spec: str
    caught_by: str
    bug: str
    make: Callable[[Spec], Kernel]
    profiles: tuple[str, ...] = PROFILES
    dtypes: tuple[str, ...] = ()
    source: str = "numpy_vectorized"
    companions: tuple[str, ...] = ()
    crash: bool = False

    @property
    def id(self) -> str:
        """``lstm.cell:swapped_gates``."""
        return f"{self.spec}:{self.name}"

    def original(self) -> Kernel:
        """The correct built-in kernel the mutant was derived from."""
        return builtin(self.spec, self.source)

    def backend(self, spec: Spec) -> Backend:
        """A backend holding the mutated kernel and its unmutated companions."""
        kernels = {name: builtin(name, self.source) for name in self.companions}
        return Backend(f"mutant-{self.name}", {**kernels, self.spec: self.make(spec)})

    def original_backend(self) -> Backend:
        """The same backend with the correct kernel in the mutant's place."""
        kernels = {name: builtin(name, self.source) for name in (*self.companions, self.spec)}
        return Backend(f"{self.source.replace('_', '-')}", kernels)
