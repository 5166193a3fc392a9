"""Scalar tolerances as loose as the derived ones on one case.

For comparisons that have no rounding estimate of their own: the diagnosis compares a
backend's outputs with many variants of the spec, and estimating the rounding of every
variant would cost more than the search. On the failing case, the largest error the
derived tolerance allows anywhere becomes an ``atol`` (and, for gradients, the relative
rounding each term may carry an ``rtol``); a spec's own widening is kept where larger.
"""

from __future__ import annotations

import numpy as np

from conformance.checks.context import CheckContext, Evidence, largest
from conformance.checks.gradient import GRADIENT_LEVEL, forward_level
from conformance.lang.rounding import UNIT_ROUNDOFF
from conformance.spec.model import Tolerance


def equivalent_tolerances(ctx: CheckContext, evidence: Evidence) -> tuple[Tolerance, Tolerance]:
    """(outputs, gradients) explicit tolerances for ``evidence``'s case."""
    spec, dtype, u = ctx.spec, ctx.dtype, UNIT_ROUNDOFF[ctx.dtype]
    reference = ctx.reference(evidence.case, evidence.inputs)
    rounding = ctx.reference_rounding(evidence.case, evidence.inputs)
    tol, gtol = spec.tolerance[dtype], spec.gradient_tolerance[dtype]
    widest = max(
        (float(np.max(r, initial=0.0)) + largest(reference[n]) for n, r in rounding.items()),
        default=0.0,
    )
    outputs = Tolerance(tol.factor, max(tol.atol, tol.limit * u * widest), tol.rtol, tol.reason)
    relative = gtol.limit * u * GRADIENT_LEVEL * forward_level(reference, rounding)
    scale = max((largest(g) for g in (evidence.gradients or {}).values()), default=0.0)
    gradients = Tolerance(
        gtol.factor, max(gtol.atol, relative * scale), max(gtol.rtol, relative), gtol.reason
    )
    return outputs, gradients
