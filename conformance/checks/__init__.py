"""The check kinds: each asks one question of a backend's kernel for one spec case.

A check receives a :class:`CheckContext` (spec, kernel, dtype, seed, oracle) and one
case (index and sizes), and returns a :class:`Measurement`. The engine runs it over
every case of the spec and keeps the worst. Checks raise nothing on a wrong answer;
an exception from the backend propagates and becomes an ``error`` result.

May import: :mod:`conformance.oracle`, :mod:`conformance.spec`, :mod:`conformance.lang`,
:mod:`conformance.plugins` (the backend types), errors, typing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from conformance.checks.calling import check_layout, check_stateless, plan_layout, plan_stateless
from conformance.checks.calls import Call
from conformance.checks.context import CheckContext, Measurement
from conformance.checks.gradient import check_gradient, plan_gradient
from conformance.checks.identities import (
    check_chunking,
    check_reversal,
    plan_chunking,
    plan_reversal,
)
from conformance.checks.outputs import (
    check_batch_independence,
    check_dtype,
    check_inputs_unmodified,
    check_invariants,
    check_numeric,
    check_shape,
    check_stability,
    plan_batch_independence,
    plan_forward,
    plan_inputs_unmodified,
    plan_numeric,
    plan_stability,
)
from conformance.errors import NotDeclared
from conformance.spec.model import Spec
from conformance.typing import Sizes

__all__ = ["CHECKS", "CheckContext", "CheckKind", "Measurement", "NotDeclared"]


Plan = Callable[[CheckContext, int, Sizes], list[Call]]


@dataclass(frozen=True)
class CheckKind:
    """A named check, when it applies, and what it runs per case.

    :ivar plan: the kernel calls ``measure`` will make at a case, known before it runs
        (those that depend on an earlier reply left out): the engine sends every case's
        in one round trip (:meth:`CheckContext.prefetch`).
    """

    name: str
    measure: Callable[[CheckContext, int, Sizes], Measurement]
    applies: Callable[[Spec], bool]
    description: str
    plan: Plan | None = None


CHECKS: dict[str, CheckKind] = {
    kind.name: kind
    for kind in (
        CheckKind(
            "shape",
            check_shape,
            lambda s: True,
            "every output present, with the spec's shape",
            plan_forward,
        ),
        CheckKind("dtype", check_dtype, lambda s: True, "outputs in the input dtype", plan_forward),
        CheckKind(
            "numeric", check_numeric, lambda s: True, "outputs match the oracle", plan_numeric
        ),
        CheckKind(
            "gradient",
            check_gradient,
            lambda s: bool(s.differentiable),
            "VJP matches complex-step derivatives",
            plan_gradient,
        ),
        CheckKind(
            "invariants",
            check_invariants,
            lambda s: bool(s.invariants),
            "the spec's invariants hold",
            plan_forward,
        ),
        CheckKind(
            "stability",
            check_stability,
            lambda s: bool(s.stability),
            "finite and correct at |z| ≈ 1e3",
            plan_stability,
        ),
        CheckKind(
            "inputs_unmodified",
            check_inputs_unmodified,
            lambda s: True,
            "inputs left as they were",
            plan_inputs_unmodified,
        ),
        CheckKind(
            "batch_independence",
            check_batch_independence,
            lambda s: "B" in s.dims and any(sizes.get("B", 1) > 1 for sizes in s.sizes),
            "each row's outputs equal the row run alone",
            plan_batch_independence,
        ),
        CheckKind(
            "layout",
            check_layout,
            lambda s: True,
            "right for Fortran-ordered and strided inputs",
            plan_layout,
        ),
        CheckKind(
            "stateless",
            check_stateless,
            lambda s: True,
            "each call depends on its own inputs only",
            plan_stateless,
        ),
        CheckKind(
            "chunking",
            check_chunking,
            lambda s: s.chunking is not None,
            "two chunks with the carried state equal one run",
            plan_chunking,
        ),
        CheckKind(
            "reversal",
            check_reversal,
            lambda s: s.reversal is not None,
            "equals the backend's own kernel on time-reversed inputs",
            plan_reversal,
        ),
    )
}
"""Every check kind by name, in report order."""
