"""Diagnosis from the spec: which plausible mistake explains a failing check.

The spec is an expression tree, so the harness can ask what a backend with one
typical bug would compute. When a numeric or gradient check fails, the engine hands
the failing case's evidence (the inputs, and what the backend returned) to
:func:`diagnose`, which evaluates variants of the spec with the oracle: inputs swapped
or transposed, an activation replaced, a concatenation reversed, a state not carried,
a term dropped, a derivative taken at the wrong point… (:mod:`.variants` and the rule
modules). A variant that matches the backend within the tolerance, where the spec does
not, names the bug: "matches lstm.cell with W_f and W_i swapped (max error 2e-08)".

May import: :mod:`conformance.checks` (evidence, comparison), :mod:`conformance.oracle`,
:mod:`conformance.spec`, :mod:`conformance.lang`, errors, typing.
"""

from __future__ import annotations

from collections.abc import Mapping

from conformance.checks.context import Evidence
from conformance.diagnosis.model import Diagnosis, Match
from conformance.diagnosis.search import diagnose_gradient, diagnose_numeric
from conformance.diagnosis.variants import MAX_VARIANTS, Variant
from conformance.spec.model import Spec, Tolerance

__all__ = ["DIAGNOSED", "MAX_VARIANTS", "Diagnosis", "Match", "Variant", "diagnose"]

DIAGNOSED = ("numeric", "gradient")
"""The check kinds whose failures are diagnosed."""


def diagnose(
    check: str,
    spec: Spec,
    specs: Mapping[str, Spec],
    dtype: str,
    evidence: Evidence,
    *,
    seed: int = 0,
    tolerance: Tolerance | None = None,
    gradient_tolerance: Tolerance | None = None,
) -> Diagnosis | None:
    """The variants of ``spec`` that explain a failing ``check`` on ``evidence``, or None
    when the check is not one that is diagnosed or the evidence cannot be judged.

    Variants are compared by explicit ``atol``/``rtol`` tolerances: the engine passes ones
    as loose as the derived tolerance on this case
    (:func:`conformance.checks.equivalent.equivalent_tolerances`); by default the spec's
    explicit floors alone.
    """
    tolerance = tolerance or spec.tolerance[dtype]
    gradient_tolerance = gradient_tolerance or spec.gradient_tolerance[dtype]
    if check == "numeric" and evidence.outputs is not None:
        return diagnose_numeric(spec, specs, evidence, tolerance)
    if check == "gradient" and evidence.gradients is not None:
        return diagnose_gradient(spec, specs, evidence, tolerance, gradient_tolerance, seed)
    return None
