"""Checks on how a kernel may be called: inputs in any memory order, and calls that
depend on nothing but their own inputs.

Both ask a question the numeric check cannot: it sends each case's freshly drawn,
C-contiguous inputs once. A kernel that reads raw buffers as row-major (a ctypes or
CUDA wrapper that skips ``np.ascontiguousarray``) passes it, and so does one that
caches its packed weights by shape and never notices new weights of the same shape.
Each compares only when the kernel is right on the case's ordinary inputs: a kernel
that is wrong there is the numeric check's failure, and saying it again here would
point at a bug that is not there.
"""

from __future__ import annotations

from dataclasses import replace

from conformance.checks.calls import Call
from conformance.checks.context import CheckContext, Measurement, compare_outputs
from conformance.typing import Sizes

ORDERS = {
    "fortran": "column-major (Fortran-ordered)",
    "strided": "strided (every other element of a wider buffer)",
}
"""The memory orders the layout check sends inputs in, and how a message says them."""
SECOND = "second"
"""The stream of the stateless check's other draw at the same sizes."""
NOT_COMPARED = "not compared: the outputs at the case's ordinary inputs already differ (numeric)"


def plan_layout(ctx: CheckContext, case: int, sizes: Sizes) -> list[Call]:
    """Forward of the case's inputs as drawn, then in each of :data:`ORDERS`."""
    inputs = ctx.inputs(case, sizes)
    return [ctx.forward_call(inputs), *(ctx.forward_call(inputs, order=o) for o in ORDERS)]


def check_layout(ctx: CheckContext, case: int, sizes: Sizes) -> Measurement:
    """The outputs are right whatever the memory order of the inputs: the same values as
    column-major copies and as strided views must give outputs within the numeric
    tolerance of the oracle."""
    inputs = ctx.inputs(case, sizes)
    plain, *ordered = ctx.call_all(plan_layout(ctx, case, sizes))
    reference, rounding = ctx.reference(case, inputs), ctx.reference_rounding(case, inputs)
    if not compare_outputs(ctx, plain.values, reference, rounding, sizes).ok:
        return Measurement(True, extra={"layout": NOT_COMPARED})
    worst: Measurement | None = None
    for words, reply in zip(ORDERS.values(), ordered, strict=True):
        measured = compare_outputs(ctx, reply.values, reference, rounding, sizes)
        if not measured.ok:
            return replace(measured, message=f"with {words} inputs: {measured.message}")
        if worst is None or _fraction(measured) > _fraction(worst):
            worst = measured
    return worst or Measurement(True)


def plan_stateless(ctx: CheckContext, case: int, sizes: Sizes) -> list[Call]:
    """Forward of the case's inputs, of another draw at the same sizes, then of the
    case's inputs again (watched, so that it really runs rather than being answered
    from the replies kept for identical calls)."""
    first, second = ctx.inputs(case, sizes), ctx.inputs(case, sizes, stream=SECOND)
    return [ctx.forward_call(first), ctx.forward_call(second), ctx.forward_call(first, watch=True)]


def check_stateless(ctx: CheckContext, case: int, sizes: Sizes) -> Measurement:
    """Each call depends on its own inputs only: after a call on the case's inputs, a
    call on other inputs of the same shapes (other weights) gets its own right answer,
    and the first inputs again get theirs (no weights, states or buffers kept from an
    earlier call)."""
    first, second = ctx.inputs(case, sizes), ctx.inputs(case, sizes, stream=SECOND)
    plain, other, again = ctx.call_all(plan_stateless(ctx, case, sizes))
    reference, rounding = ctx.reference(case, first), ctx.reference_rounding(case, first)
    if not compare_outputs(ctx, plain.values, reference, rounding, sizes).ok:
        return Measurement(True, extra={"stateless": NOT_COMPARED})
    other_reference = ctx.reference(case, second, stream=SECOND)
    other_rounding = ctx.reference_rounding(case, second, stream=SECOND)
    measured = compare_outputs(ctx, other.values, other_reference, other_rounding, sizes)
    if not measured.ok:
        said = "after a call with other inputs of the same shapes, a second call"
        return replace(measured, message=f"{said} got a wrong answer: {measured.message}")
    repeated = compare_outputs(ctx, again.values, reference, rounding, sizes)
    if not repeated.ok:
        said = "the case's inputs, sent again after a call with other inputs, got"
        return replace(repeated, message=f"{said} another answer: {repeated.message}")
    return max((measured, repeated), key=_fraction)


def _fraction(measured: Measurement) -> float:
    d = measured.discrepancy
    return d.tol_fraction if d is not None else 0.0
