"""Checks on a kernel's forward outputs: shape, dtype, numeric, stability, invariants,
inputs left unmodified."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from conformance.checks.calls import Call
from conformance.checks.compare import compare
from conformance.checks.context import (
    CheckContext,
    Evidence,
    Measurement,
    compare_outputs,
    largest,
    largest_case,
    shape_problems,
    verdict_from_problems,
)
from conformance.typing import Sizes

TIMING_REPEATS = 5


def plan_forward(ctx: CheckContext, case: int, sizes: Sizes) -> list[Call]:
    """The one call of shape, dtype and invariants: forward of the case's inputs."""
    return [ctx.forward_call(ctx.inputs(case, sizes))]


def check_shape(ctx: CheckContext, case: int, sizes: Sizes) -> Measurement:
    """Every output is present with the spec's shape at these sizes, and no other is returned."""
    outputs = ctx.forward(ctx.inputs(case, sizes))
    problems = shape_problems(ctx, outputs, sizes)
    extra = [name for name in outputs if name not in ctx.spec.outputs]
    if extra:
        problems.append(
            f"returned {', '.join(map(repr, extra))}, which {ctx.spec.id} does not output "
            f"(its outputs: {', '.join(ctx.spec.outputs)})"
        )
    return verdict_from_problems(ctx, problems, sizes)


def check_dtype(ctx: CheckContext, case: int, sizes: Sizes) -> Measurement:
    """Float outputs come back in the dtype they were given: no silent upcast or downcast."""
    outputs = ctx.forward(ctx.inputs(case, sizes))
    problems = []
    for symbol in ctx.spec.output_symbols:
        if symbol.name not in outputs:
            continue
        have = np.asarray(outputs[symbol.name]).dtype
        want = np.dtype(ctx.dtype) if symbol.kind == "float" else np.dtype(np.int64)
        if have != want:
            problems.append(f"out[{symbol.name!r}].dtype={have}, but should be {want}")
    return verdict_from_problems(ctx, problems, sizes)


def plan_numeric(ctx: CheckContext, case: int, sizes: Sizes) -> list[Call]:
    """Forward of the case's inputs; at the largest case also timed, where the kernel runs."""
    inputs = ctx.inputs(case, sizes)
    calls = [ctx.forward_call(inputs)]
    if case == largest_case(ctx.spec):
        calls.append(ctx.forward_call(inputs, repeats=TIMING_REPEATS))
    return calls


def check_numeric(ctx: CheckContext, case: int, sizes: Sizes) -> Measurement:
    """Outputs match the oracle: each element within the tolerance's multiple (16) of its
    expected rounding in the dtype, derived from the spec at these sizes. At the largest
    case, the median time of one forward call, measured around the call where it runs."""
    inputs = ctx.inputs(case, sizes)
    replies = ctx.call_all(plan_numeric(ctx, case, sizes))
    outputs = replies[0].values
    reference, rounding = ctx.reference(case, inputs), ctx.reference_rounding(case, inputs)
    measured = compare_outputs(ctx, outputs, reference, rounding, sizes)
    if not measured.ok and measured.discrepancy is not None:  # shapes right: worth a diagnosis
        return measured.with_evidence(Evidence(case, sizes, inputs, outputs=dict(outputs)))
    if not measured.ok or len(replies) < 2:
        return measured
    return Measurement(True, discrepancy=measured.discrepancy, seconds=replies[1].seconds)


def plan_stability(ctx: CheckContext, case: int, sizes: Sizes) -> list[Call]:
    """Forward of the saturating inputs (NumPy's warnings off where the kernel runs: they
    overflow by design), and of the case's ordinary inputs."""
    saturating = ctx.inputs(case, sizes, domains=ctx.spec.stability)
    return [ctx.forward_call(saturating, quiet=True), ctx.forward_call(ctx.inputs(case, sizes))]


def check_stability(ctx: CheckContext, case: int, sizes: Sizes) -> Measurement:
    """At saturating inputs (|z| ≈ 1e3) outputs stay finite where the math is, and correct.

    Stability judges what the numeric check cannot. Finite: an output that is non-finite
    where the oracle's is finite fails, always. Correct: the outputs at saturation are
    compared with the oracle only when the backend agrees with it on the same case's
    ordinary inputs; a backend that is already wrong there (a wrong initial state, a
    swapped gate) is a numeric failure, and saying so twice would point at a saturation
    bug that is not there. The comparison allows each element's expected rounding,
    derived at these inputs: a float32 pre-activation summed from terms of size 1e3 is
    only good to about 1e3·u, which the estimate carries through to the gates (a
    saturated gate barely feels it, one near its middle does). An overflow or a wrong
    saturation is off by O(1).
    """
    inputs = ctx.inputs(case, sizes, domains=ctx.spec.stability)
    outputs = ctx.call(plan_stability(ctx, case, sizes)[0]).values
    reference = ctx.reference(case, inputs, stability=True)
    problems = shape_problems(ctx, outputs, sizes)
    for name in [] if problems else ctx.spec.outputs:
        lost = np.isfinite(reference[name]) & ~np.isfinite(np.asarray(outputs[name], np.float64))
        if lost.any():
            index = tuple(int(i) for i in np.argwhere(lost)[0])
            at = f"{name}[{', '.join(map(str, index))}]" if index else name
            problems.append(
                f"{at} = {np.asarray(outputs[name])[index]}, but should be finite "
                f"({reference[name][index]:.9g})"
            )
    if problems:
        return verdict_from_problems(ctx, problems, sizes)
    ordinary = ctx.inputs(case, sizes)
    at_ordinary = (ctx.reference(case, ordinary), ctx.reference_rounding(case, ordinary))
    if not compare_outputs(ctx, ctx.forward(ordinary), *at_ordinary, sizes).ok:
        return Measurement(True, extra={"stability": NOT_COMPARED})
    rounding = ctx.reference_rounding(case, inputs, stability=True)
    return compare_outputs(ctx, outputs, reference, rounding, sizes)


NOT_COMPARED = (
    "finite; values at saturation not compared, since the outputs at ordinary inputs "
    "already differ from the oracle (a numeric failure)"
)
"""What a stability pass says when only finiteness could be judged."""


def check_invariants(ctx: CheckContext, case: int, sizes: Sizes) -> Measurement:
    """The spec's invariants (``0 <= f <= 1``, rows sum to 1, …) hold on the backend's outputs."""
    inputs = ctx.inputs(case, sizes)
    outputs = ctx.forward(inputs)
    problems = shape_problems(ctx, outputs, sizes)
    if problems:
        return verdict_from_problems(ctx, problems, sizes)
    env = {
        **{k: np.asarray(v, np.float64) if v.dtype.kind == "f" else v for k, v in inputs.items()},
        **{k: np.asarray(outputs[k], np.float64) for k in ctx.spec.outputs},
        **sizes,
        **ctx.tolerance.invariant_names(ctx.dtype),  # atol, rtol: 16·u unless widened
    }
    interpreter = ctx.oracle.interpreter  # invariants may call specs, like equations
    for invariant in ctx.spec.invariants:
        holds = np.asarray(interpreter.eval(invariant.expr, env))
        if not holds.all():
            index = tuple(int(i) for i in np.argwhere(~holds)[0]) if holds.ndim else ()
            where = f" first at index {list(index)}" if index else ""
            return Measurement(
                False, f"invariant {invariant.source!r} does not hold{where} {ctx.label(sizes)}"
            )
    return Measurement(True)


def plan_inputs_unmodified(ctx: CheckContext, case: int, sizes: Sizes) -> list[Call]:
    """Forward, and the VJP when there is one, each watched for writes into its arguments."""
    inputs = ctx.inputs(case, sizes)
    calls = [ctx.forward_call(inputs, watch=True)]
    if ctx.kernel.vjp is not None:
        calls.append(ctx.vjp_call(inputs, ctx.cotangents(case, sizes), watch=True))
    return calls


def check_inputs_unmodified(ctx: CheckContext, case: int, sizes: Sizes) -> Measurement:
    """Neither forward nor VJP writes into the arrays it was given.

    Each call's arguments are compared with copies taken before it, where it ran (in
    the backend's worker, the arrays it received), so that the message says which call
    modified which array, and where: ``vjp modified cotangent 'f' in place (f[0, 2] was
    0.25, is 0)``.
    """
    calls = plan_inputs_unmodified(ctx, case, sizes)
    problems = [
        f"{call.op} modified {modified}"
        for call, reply in zip(calls, ctx.call_all(calls), strict=True)
        for modified in reply.modified
    ]
    return verdict_from_problems(ctx, problems, sizes)


def plan_batch_independence(ctx: CheckContext, case: int, sizes: Sizes) -> list[Call]:
    """The whole batch, then every row alone (all before any comparison, so reused buffers
    show), each tracked for outputs that alias what they must not."""
    if sizes.get("B", 1) < 2:
        return []
    inputs = ctx.inputs(case, sizes)
    calls = [ctx.forward_call(inputs, track="the whole batch", track_reset=True)]
    shapes = {n: ctx.spec.symbols[n].shape for n in inputs}
    for b in range(sizes["B"]):
        row = {n: _row(v, shapes[n], b) for n, v in inputs.items()}
        calls.append(ctx.forward_call(row, track=f"row {b} alone"))
    return calls


def check_batch_independence(ctx: CheckContext, case: int, sizes: Sizes) -> Measurement:
    """Each batch row's outputs equal those of that row run alone, in memory of their own.

    The whole batch runs first, then every row on its own. No output may share memory
    with its inputs or with an earlier call's output (a buffer the kernel reuses across
    calls, per shape or not): that is checked where the kernel runs. Then each row run
    alone must equal that row of the batch: a kernel that mixes rows fails here even
    when each single call is right. Inputs and outputs without a ``B`` axis (weights,
    tree links) are passed whole.
    Both sides are rounded results, each allowed the numeric check's bound, so they may
    differ by twice it: this check never trips before ``numeric`` would.
    """
    if sizes.get("B", 1) < 2:
        return Measurement(True)
    inputs = ctx.inputs(case, sizes)
    replies = ctx.call_all(plan_batch_independence(ctx, case, sizes))
    whole = replies[0].values
    problems = shape_problems(ctx, whole, sizes)
    if problems:
        return verdict_from_problems(ctx, problems, sizes)
    aliases = [alias for reply in replies for alias in reply.aliases]
    if aliases:
        more = f"; and {len(aliases) - 3} more" if len(aliases) > 3 else ""
        problem = f"outputs alias memory they must not: {'; '.join(aliases[:3])}{more}"
        return verdict_from_problems(ctx, [problem], sizes)
    alone = [{n: np.array(v, copy=True) for n, v in reply.values.items()} for reply in replies[1:]]
    batched = [n for n in ctx.spec.outputs if "B" in ctx.spec.symbols[n].shape]
    rounding, reference = ctx.reference_rounding(case, inputs), ctx.reference(case, inputs)
    found = []
    for b in range(sizes["B"]):
        for name in batched:
            if name not in alone[b]:
                continue
            shape = ctx.spec.symbols[name].shape
            axis = shape.index("B")
            allowance = ctx.allowance(
                _row(rounding[name], shape, b) if name in rounding else 0.0,
                results=2,
                scale=largest(reference[name]),  # the batch's, as in the numeric check
            )
            d = compare(name, _row(np.asarray(whole[name]), shape, b), alone[b][name], allowance)
            index = (*d.index[:axis], b, *d.index[axis + 1 :]) if d.index else d.index
            found.append((replace(d, index=index), b))
    if not found:
        return Measurement(True)
    bad, b = max(found, key=lambda item: item[0].tol_fraction)
    if bad.ok:
        return Measurement(True, discrepancy=bad)
    return Measurement(
        False,
        f"{bad.where} = {bad.actual:.9g} in the batch, but {bad.expected:.9g} when row {b} "
        f"runs alone ({bad.amount()}) {ctx.label(sizes)}",
        bad,
    )


def _row(value: np.ndarray, shape: tuple[str, ...], b: int) -> np.ndarray:
    """Batch row ``b`` of ``value`` with its ``B`` axis kept (size 1), or ``value`` itself."""
    if "B" not in shape:
        return value
    return np.take(value, [b], axis=shape.index("B"))
