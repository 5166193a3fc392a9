"""The gradient check: a backend's VJP against complex-step derivatives of the oracle."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from conformance.checks.compare import Discrepancy, compare
from conformance.checks.context import (
    CheckContext,
    Measurement,
    verdict_from_problems,
    verdict_from_worst,
)
from conformance.spec.draw import case_rng
from conformance.spec.model import Tolerance
from conformance.typing import Array, Arrays, Sizes

FULL_GRADIENT_LIMIT = 400
"""Up to this many differentiable input elements, gradients are compared element by element."""
DIRECTIONS = 3
"""Random directions per input for the directional gradient check on larger cases."""


def check_gradient(ctx: CheckContext, case: int, sizes: Sizes) -> Measurement:
    """The backend's VJP matches complex-step derivatives of the oracle.

    Small cases compare every element of every gradient; larger ones compare
    ⟨g, v⟩ with uᵀJv along random directions v, one input at a time.
    """
    spec, tol = ctx.spec, ctx.spec.gradient_tolerance[ctx.dtype]
    inputs = ctx.inputs(case, sizes)
    cotangents = ctx.cotangents(case, sizes)
    grads = ctx.vjp(inputs, cotangents)
    problems = []
    for name in spec.differentiable:
        if name not in grads:
            returned = ", ".join(map(repr, grads)) or "nothing"
            problems.append(f"vjp returned no gradient for {name!r} (returned {returned})")
            continue
        have, want = np.shape(grads[name]), inputs[name].shape
        if have != want:
            problems.append(f"grad[{name!r}].shape={have}, but should be {want} like {name!r}")
        elif np.asarray(grads[name]).dtype != np.dtype(ctx.dtype):
            problems.append(
                f"grad[{name!r}].dtype={np.asarray(grads[name]).dtype}, but should be {ctx.dtype}"
            )
    if problems:
        return verdict_from_problems(ctx, problems, sizes)
    elements = sum(inputs[n].size for n in spec.differentiable)
    if elements <= FULL_GRADIENT_LIMIT:
        reference = ctx.reference_vjp(case, inputs, cotangents)
        found = [compare(f"grad {n}", grads[n], reference[n], tol) for n in spec.differentiable]
    else:
        found = _directional(ctx, inputs, cotangents, grads, tol, case)
    return verdict_from_worst(ctx, found, sizes)


def _directional(
    ctx: CheckContext,
    inputs: Arrays,
    cotangents: Arrays,
    grads: Mapping[str, Array],
    tol: Tolerance,
    case: int,
) -> list[Discrepancy]:
    directions = _directions(ctx, inputs, case)
    key = ("directional", *ctx._memo_key(case, inputs))
    references = ctx.oracle.memo(
        key,
        lambda: {
            (name, k): ctx.oracle.project(ctx.oracle.jvp(ctx.spec, inputs, {name: v}), cotangents)
            for (name, k), v in directions.items()
        },
    )
    found = []
    for name in ctx.spec.differentiable:
        g = np.asarray(grads[name], np.float64)
        for k in range(DIRECTIONS):
            v, expected = directions[name, k], references[name, k]
            actual = float(np.vdot(g, v))
            # The inner product sums n terms: scale the elementwise tolerance accordingly.
            scale = Tolerance(
                tol.atol * float(np.abs(v).sum()),
                tol.rtol * float(np.abs(g * v).sum()) / max(abs(expected), 1e-300),
            )
            found.append(
                compare(f"⟨grad {name}, v{k}⟩", np.array(actual), np.array(expected), scale)
            )
    return found


def _directions(ctx: CheckContext, inputs: Arrays, case: int) -> dict[tuple[str, int], Array]:
    """The seeded random directions v, ``DIRECTIONS`` per differentiable input."""
    rng = case_rng(ctx.seed, ctx.spec.id, case, "directions")
    return {
        (name, k): rng.normal(0.0, 1.0, np.shape(inputs[name]))
        for name in ctx.spec.differentiable
        for k in range(DIRECTIONS)
    }
