"""The in-memory form of a spec: symbols, equations, tolerances, sizes.

Built by :mod:`conformance.spec_loader` from the TOML files in ``specs/``; read by
the oracle, the input generator and the checks. Plain frozen data.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from conformance.expr import Statement

Role = Literal["input", "state", "parameter", "output"]
ROLES: tuple[Role, ...] = ("input", "state", "parameter", "output")
DTYPES = ("float32", "float64")


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


@dataclass(frozen=True)
class Tolerance:
    """Elementwise bound |actual − reference| ≤ atol + rtol·|reference|."""

    atol: float
    rtol: float

    def bound(self, reference: object) -> object:
        import numpy as np

        return self.atol + self.rtol * np.abs(reference)


@dataclass(frozen=True)
class Invariant:
    """A property every correct output satisfies, e.g. ``0 <= f <= 1``."""

    source: str
    expr: ast.expr


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
