"""The in-memory form of a spec: symbols, equations, tolerances, sizes.

Built by :mod:`conformance.spec.loader` from the TOML files in ``specs/``; read by
the oracle, the input generator and the checks. Plain frozen data.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from conformance.lang.parse import Statement
from conformance.lang.rounding import UNIT_ROUNDOFF

Role = Literal["input", "state", "parameter", "output"]
ROLES: tuple[Role, ...] = ("input", "state", "parameter", "output")


@dataclass(frozen=True)
class Symbol:
    """One named array of a spec.

    :ivar shape: symbolic dimensions, each an expression over the dimension symbols
        (``("B", "H + D")``).
    :ivar role: input, state (carried through a recurrence), parameter or output.
    :ivar kind: ``"float"`` arrays follow the dtype under test; ``"int"`` arrays
        (labels, lengths, indices) are always int64.
    :ivar domain: expression drawing the values, e.g. ``normal(0, 0.5)``.
    :ivar next: for a state, the output that carries its value to the next step.
    """

    name: str
    shape: tuple[str, ...]
    role: Role
    kind: Literal["float", "int"] = "float"
    domain: str = "normal(0, 1)"
    meaning: str = ""
    next: str | None = None
    shape_ast: tuple[ast.expr, ...] = field(default=(), compare=False, repr=False)


ROUNDING_LIMIT = 16.0
"""A correct result may err by this many times its expected rounding error (see README,
"Tolerances that follow the computation": correct float32 kernels reach about 0.3 of it)."""


@dataclass(frozen=True)
class Tolerance:
    """How far a correct result may be from the reference in one dtype, and why.

    Each element may differ by ``limit`` times its expected rounding error (derived from
    the spec at the case's sizes, :mod:`conformance.oracle.rounding`), or by
    ``atol + rtol·|reference|`` where that is larger. The defaults derive everything;
    a spec widens with ``factor`` (a multiple of the derived limit) or an explicit
    ``atol``/``rtol`` floor, and says why in ``reason``.
    """

    factor: float = 1.0
    atol: float = 0.0
    rtol: float = 0.0
    reason: str = ""

    @property
    def limit(self) -> float:
        """The largest allowed multiple of the expected rounding error."""
        return ROUNDING_LIMIT * self.factor

    def invariant_names(self, dtype: str) -> dict[str, float]:
        """``atol`` and ``rtol`` as invariants name them: the limit in units of the dtype's
        unit roundoff (16·u), or the explicit widening where that is larger."""
        unit = self.limit * UNIT_ROUNDOFF[dtype]
        return {"atol": max(unit, self.atol), "rtol": max(unit, self.rtol)}

    @property
    def widened(self) -> bool:
        """Whether the spec widened the derived tolerance."""
        return self.factor != 1.0 or self.atol > 0 or self.rtol > 0


@dataclass(frozen=True)
class Invariant:
    """A property every correct output satisfies, e.g. ``0 <= f <= 1``."""

    source: str
    expr: ast.expr


@dataclass(frozen=True)
class Expression:
    """A parsed expression of the equation language and its source, e.g. ``flip(xs)``."""

    source: str
    expr: ast.expr


@dataclass(frozen=True)
class Chunking:
    """The recurrence identity: two chunks, the second started from the first's carried
    state, equal one run.

    Every role-"input" input is split at a step k along its first axis, ``time``; the
    first chunk runs from the given inputs, the second from ``carry``'s outputs of the
    first. The chunks' ``stacked`` outputs, concatenated along time, and the second
    chunk's carried outputs equal those of one run over the whole sequence.

    :ivar carry: state input → the output that carries it into the next chunk
        (``h_0 → h_T``); by default every role-"state" input's ``next``.
    :ivar stacked: outputs with one entry per step along the time axis (``hs``).
    :ivar time: the name of the dimension that is split (``T``).
    """

    carry: Mapping[str, str]
    stacked: tuple[str, ...]
    time: str


@dataclass(frozen=True)
class Reversal:
    """The identity: some outputs equal another spec's kernel, from the same backend, on
    transformed inputs (the BiLSTM's backward direction is the forward sequence run on
    the time-reversed input, reversed back).

    :ivar spec: id of the spec whose kernel runs (``lstm.sequence``).
    :ivar inputs: that spec's input → expression over this spec's inputs
        (``xs = flip(xs)``, ``W_f = W_f_bwd``); unlisted inputs are passed by name.
    :ivar outputs: this spec's output → expression over that spec's outputs
        (``h_bwd = flip(hs)``).
    """

    spec: str
    inputs: Mapping[str, Expression]
    outputs: Mapping[str, Expression]


@dataclass(frozen=True)
class Spec:
    """One equation (or one composed computation) of a family."""

    id: str
    title: str
    family: str
    file: str
    source: str
    latex: str
    symbols: Mapping[str, Symbol]
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    equations: tuple[Statement, ...]
    differentiable: tuple[str, ...]
    invariants: tuple[Invariant, ...]
    sizes: tuple[Mapping[str, int], ...]
    tolerance: Mapping[str, Tolerance]
    gradient_tolerance: Mapping[str, Tolerance]
    stability: Mapping[str, str]
    """Domains that replace the normal ones in the stability check (inputs at |z| ≈ 1e3)."""
    dims: tuple[str, ...]
    description: str = ""
    chunking: Chunking | None = None
    """Two chunks with the carried state equal one run (the ``chunking`` check), if declared."""
    reversal: Reversal | None = None
    """Outputs equal to another spec's kernel on reversed inputs (the ``reversal`` check)."""
    profiles: Mapping[str, tuple[Mapping[str, int], ...]] = field(default_factory=dict)
    """Sizes by profile beyond the quick ``sizes`` (``realistic``), as the file declares."""
    profile: str = "quick"
    """The profile ``sizes`` come from (:mod:`conformance.spec.profiles`): ``quick``,
    ``realistic``, ``awkward``, or explicit sizes (``B=17,H=33``)."""

    @property
    def input_symbols(self) -> list[Symbol]:
        return [self.symbols[n] for n in self.inputs]

    @property
    def output_symbols(self) -> list[Symbol]:
        return [self.symbols[n] for n in self.outputs]

    def describe_sizes(self, sizes: Mapping[str, int]) -> str:
        """``lstm.cell(B=3, D=5, H=4)``: how failure messages name a case."""
        inner = ", ".join(f"{k}={v}" for k, v in sizes.items())
        return f"{self.id}({inner})"
