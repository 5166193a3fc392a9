"""The gradient check: a backend's VJP against complex-step derivatives of the oracle.

Every gradient the VJP returns is compared, each input on its own, so that one run names
every wrong input: a VJP that gets ``W_f`` right and ``x`` wrong says both, and one that
returns no gradient for ``x`` still has its other gradients checked.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from conformance.checks.calls import Call
from conformance.checks.compare import Allowance, Discrepancy, compare, worst
from conformance.checks.context import (
    CheckContext,
    Evidence,
    Measurement,
    largest,
    shape_problems,
)
from conformance.errors import NotDeclared
from conformance.lang.rounding import ROUNDING_VARIANCE, summation_variance
from conformance.oracle.evaluate import Projection
from conformance.spec.draw import case_rng
from conformance.spec.model import Tolerance
from conformance.typing import Array, Arrays, Sizes

FULL_GRADIENT_LIMIT = 400
"""Up to this many differentiable input elements, gradients are compared element by element."""
DIRECTIONS = 3
"""Random directions per input for the directional gradient check on larger cases."""
GRADIENT_LEVEL = 2.0
"""How many times the forward outputs' relative rounding each term of a gradient carries
(a backward pass runs the forward's sums again, transposed, on rounded activations)."""


@dataclass(frozen=True)
class GradientVerdict:
    """How one input's gradient compares: its worst element, in units of the tolerance."""

    input: str
    discrepancy: Discrepancy

    @property
    def ok(self) -> bool:
        return self.discrepancy.ok

    def to_dict(self) -> dict[str, Any]:
        """The plain data kept in the result's ``extra["gradients"]``."""
        d = self.discrepancy
        return {
            "input": self.input,
            "worst": d.where,
            "actual": d.actual,
            "expected": d.expected,
            "tol_fraction": d.tol_fraction,
            "ok": d.ok,
        }


def plan_gradient(ctx: CheckContext, case: int, sizes: Sizes) -> list[Call]:
    """The VJP of the case's inputs and cotangents (NotDeclared when there is none)."""
    return [ctx.vjp_call(ctx.inputs(case, sizes), ctx.cotangents(case, sizes))]


def check_gradient(ctx: CheckContext, case: int, sizes: Sizes) -> Measurement:
    """The backend's VJP matches complex-step derivatives of the oracle.

    Small cases compare every element of every gradient; larger ones compare
    ⟨g, v⟩ with uᵀJv along random directions v, one input at a time. Gradients that are
    missing, misshapen or of the wrong dtype are listed apart; the others are compared.
    A gradient the kernel does not declare (``Kernel.gradients``) and does not return is
    listed as not implemented, not as a failure. Each is allowed the tolerance's multiple
    of its expected rounding (:func:`gradient_rounding`).
    """
    spec, tol = ctx.spec, ctx.spec.gradient_tolerance[ctx.dtype]
    inputs = ctx.inputs(case, sizes)
    cotangents = ctx.cotangents(case, sizes)
    grads = ctx.vjp(inputs, cotangents)
    declared = ctx.kernel.gradients
    missing: list[str] = []
    undeclared: list[str] = []
    problems: list[str] = []
    usable: list[str] = []
    for name in spec.differentiable:
        if name not in grads:
            (missing if declared is None or name in declared else undeclared).append(name)
            continue
        have, want = np.shape(grads[name]), inputs[name].shape
        if have != want:
            problems.append(f"grad[{name!r}].shape={have}, but should be {want} like {name!r}")
        elif np.asarray(grads[name]).dtype != np.dtype(ctx.dtype):
            problems.append(
                f"grad[{name!r}].dtype={np.asarray(grads[name]).dtype}, but should be {ctx.dtype}"
            )
        else:
            usable.append(name)
    if undeclared and not (usable or missing or problems):
        raise NotDeclared(
            f"{ctx.backend.name!r} declares no gradient of {spec.id!r} that it returns"
        )
    verdicts = _verdicts(ctx, case, inputs, cotangents, grads, usable, tol)
    extra: dict[str, Any] = {"gradients": [v.to_dict() for v in verdicts]}
    if missing or undeclared:
        extra["missing_gradients"] = missing + undeclared
    bad = worst([v.discrepancy for v in verdicts])
    if not (missing or problems) and all(v.ok for v in verdicts):
        # A pass keeps only what is missing: per-input verdicts would grow every result file.
        said = _message(ctx, grads, verdicts, [], undeclared, []) if undeclared else ""
        return Measurement(True, said, bad, extra={k: extra[k] for k in extra if k != "gradients"})
    message = _message(ctx, grads, verdicts, missing, undeclared, problems)
    evidence = Evidence(
        case, sizes, inputs, outputs=_forward_outputs(ctx, inputs, sizes),
        cotangents=cotangents, gradients={n: grads[n] for n in usable},
        misshapen={
            n: np.asarray(grads[n]) for n in spec.differentiable
            if n in grads and np.shape(grads[n]) != inputs[n].shape
        },
    )  # fmt: skip
    return Measurement(False, f"{message} {ctx.label(sizes)}", bad, extra=extra, evidence=evidence)


def _forward_outputs(ctx: CheckContext, inputs: Arrays, sizes: Sizes) -> dict[str, Array] | None:
    """The forward outputs on a failing case, so that the diagnosis can tell a wrong
    backward pass from a wrong forward; None when the forward cannot give them."""
    try:
        outputs = ctx.forward(inputs)
    except Exception:  # the shape and numeric checks report it
        return None
    return None if shape_problems(ctx, outputs, sizes) else dict(outputs)


def _verdicts(
    ctx: CheckContext,
    case: int,
    inputs: Arrays,
    cotangents: Arrays,
    grads: Mapping[str, Array],
    names: list[str],
    tol: Tolerance,
) -> list[GradientVerdict]:
    """One verdict per input in ``names``: element by element, or along directions."""
    if not names:
        return []
    level = forward_level(ctx.reference(case, inputs), ctx.reference_rounding(case, inputs))
    elements = sum(inputs[n].size for n in ctx.spec.differentiable)
    if elements <= FULL_GRADIENT_LIMIT:
        reference = ctx.reference_vjp_terms(case, inputs, cotangents)
        scale = max(largest(reference[n].value) for n in ctx.spec.differentiable)
        return [
            GradientVerdict(
                n,
                compare(
                    f"grad {n}",
                    grads[n],
                    reference[n].value,
                    Allowance(gradient_rounding(reference[n], level), tol, ctx.dtype, 1, scale),
                ),
            )
            for n in names
        ]
    found = _directional(ctx, inputs, cotangents, grads, tol, level, case)
    return [GradientVerdict(n, worst(found[n]) or found[n][0]) for n in names]


def forward_level(reference: Mapping[str, Array], rounding: Mapping[str, Array]) -> float:
    """The rounding each term of a gradient carries from the forward outputs, in units of
    u (at least 1): per output, the RMS of its expected rounding over the RMS of its value
    when that is below 1 (relative), or the RMS of the rounding itself when the values
    are larger (absolute); the largest over outputs.

    Absolute for large outputs because those are the log-domain ones: a loss of 300 (a
    negative log-likelihood) is the log of a probability, and a backward pass through it
    (CTC's α·β/p, a softmax's exp) multiplies by exponentials of log-domain values whose
    absolute error is their relative error. With the relative level, correct CTC
    gradients at T = 100 exceeded the estimate thirteenfold.
    """
    level = 1.0
    for name, r in rounding.items():
        y = np.asarray(reference[name], np.float64)
        keep = np.isfinite(y) & np.isfinite(r)
        size = float(np.sqrt(np.mean(np.square(y[keep])))) if keep.any() else 0.0
        if size > 0:
            level = max(level, float(np.sqrt(np.mean(np.square(r[keep])))) / min(size, 1.0))
    return level


def gradient_rounding(sums: Projection, level: float) -> Array:
    """The expected rounding (units of u) of gradients that sum ``sums.terms`` terms ū·∂y/∂x.

    Each term carries ``GRADIENT_LEVEL`` times the forward's relative rounding ``level``
    (the backward pass repeats the forward's sums and reads its rounded activations), and
    the sum itself rounds as any sum of that many terms does. The floor (the case's
    largest gradient element) covers a backward pass that differentiates a saturated
    activation (1 − tanh², σ(1 − σ)) only to an absolute u.
    """
    carried = (GRADIENT_LEVEL * level) ** 2 * np.asarray(sums.squares)
    summed = ROUNDING_VARIANCE * summation_variance(sums.terms, sums.value, sums.squares)
    return np.sqrt(carried + summed)


def _message(
    ctx: CheckContext,
    grads: Mapping[str, Array],
    verdicts: list[GradientVerdict],
    missing: list[str],
    undeclared: list[str],
    problems: list[str],
) -> str:
    """Every wrong gradient with its worst element, then what is missing, then what is right."""
    wrong = [v for v in verdicts if not v.ok]
    right = [v.input for v in verdicts if v.ok]
    parts = []
    if wrong:
        names = ", ".join(repr(v.input) for v in wrong)
        parts.append(
            f"wrong gradient for {names} ({len(wrong)} of {len(verdicts)} compared): "
            + "; ".join(v.discrepancy.describe() for v in wrong)
        )
    if missing:
        returned = ", ".join(map(repr, grads)) or "nothing"
        parts.append(
            f"vjp returned no gradient for {', '.join(map(repr, missing))} (returned {returned})"
        )
    parts += problems
    if undeclared:
        parts.append(f"not implemented: gradient for {', '.join(map(repr, undeclared))}")
    if right:
        which = "the other gradients" if wrong else "the gradients compared"
        parts.append(f"{which} are right ({', '.join(right)})")
    return "; ".join(parts)


def _directional(
    ctx: CheckContext,
    inputs: Arrays,
    cotangents: Arrays,
    grads: Mapping[str, Array],
    tol: Tolerance,
    level: float,
    case: int,
) -> dict[str, list[Discrepancy]]:
    """⟨g, v⟩ against uᵀJv along ``DIRECTIONS`` seeded directions, per input."""
    directions = _directions(ctx, inputs, case)
    key = ("directional", *ctx._memo_key(case, inputs))
    references = ctx.oracle.memo(
        key,
        lambda: {
            (name, k): ctx.oracle.project_terms(
                ctx.oracle.jvp(ctx.spec, inputs, {name: v}), cotangents
            )
            for (name, k), v in directions.items()
        },
    )
    found: dict[str, list[Discrepancy]] = {}
    for name in ctx.spec.differentiable:
        if name not in grads or np.shape(grads[name]) != np.shape(inputs[name]):
            continue
        g = np.asarray(grads[name], np.float64)
        for k in range(DIRECTIONS):
            v, expected = directions[name, k], references[name, k]
            # Both inner products are the harness's, in float64; what rounds in the dtype is
            # each term: ū·(Jv) over the outputs, g·v over the input's elements.
            squares = expected.squares + float(np.sum(np.square(g * v)))
            rounding = GRADIENT_LEVEL * level * np.sqrt(squares)
            found.setdefault(name, []).append(
                compare(
                    f"⟨grad {name}, v{k}⟩",
                    np.array(np.vdot(g, v)),
                    np.array(expected.value),
                    Allowance(rounding, tol, ctx.dtype),
                )
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
