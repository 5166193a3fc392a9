"""Which variant explains a failure: the search over a failing case's evidence.

A numeric failure is explained by a variant whose outputs match the backend's within the
tolerance where the spec's do not. A gradient failure is explained by a variant whose
complex-step derivatives match the backend's VJP along seeded random directions (one
joint direction to screen, one per input to confirm), or by a plain transformation of
the spec's own gradient (an input's gradient scaled, zero, or swapped with another's).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import replace

import numpy as np

from conformance.checks.compare import compare
from conformance.checks.context import Evidence
from conformance.diagnosis import expression_rules as ex
from conformance.diagnosis import gradient_rules as gr
from conformance.diagnosis import io_rules as io
from conformance.diagnosis import symbol_rules as sy
from conformance.diagnosis.evaluate import VariantOracle
from conformance.diagnosis.judge import GradientJudge
from conformance.diagnosis.model import Diagnosis, Match
from conformance.diagnosis.posthoc import posthoc_matches, reshaped_matches
from conformance.diagnosis.variants import MAX_VARIANTS, Rule, Variant, variants_of
from conformance.spec.draw import case_rng
from conformance.spec.model import Spec, Tolerance
from conformance.typing import Array

FORWARD_TIERS: tuple[tuple[Rule, ...], ...] = (
    (sy.group_swaps,),
    (sy.pair_swaps,),
    (sy.transposes,),
    (ex.concat_orders,),
    (ex.activations,),
    (ex.recurrences,),
    (ex.axes,),
    (io.rebound_values, io.rebound_groups),
    (io.outputs,),
    (ex.dropped_terms,),
    (ex.dropped_factors,),
    (sy.zeroed_states,),
    (sy.other_swaps,),
    (io.rebound_parameters,),
)
"""The rules for mistakes in the values, most common first: the cap cuts the last."""
GRADIENT_TIERS: tuple[tuple[Rule, ...], ...] = (
    (gr.slopes,),
    (gr.carried_gradients,),
    (gr.detached_terms,),
    (gr.detached_factors,),
)
"""The rules for mistakes only a backward pass makes."""
BUDGET_SECONDS = 10.0
"""The search stops trying variants after this long (a failure at realistic sizes, where
one evaluation of the spec takes long); what it found so far stands, and the diagnosis
says it ran out of time. The cases the quick profile runs finish far inside it."""


class _Clock:
    """Time since the search began, against :data:`BUDGET_SECONDS`."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.out = False

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.start

    def spent(self) -> bool:
        self.out = self.out or self.seconds > BUDGET_SECONDS
        return self.out


def forward_variants(
    spec: Spec, specs: Mapping[str, Spec], limit: int = MAX_VARIANTS
) -> list[Variant]:
    """The variants a numeric failure is searched over."""
    return _tiered(spec, specs, FORWARD_TIERS, limit)


def gradient_variants(
    spec: Spec, specs: Mapping[str, Spec], limit: int = MAX_VARIANTS
) -> list[Variant]:
    """The variants that change only derivatives."""
    return _tiered(spec, specs, GRADIENT_TIERS, limit)


def _tiered(spec: Spec, specs: Mapping[str, Spec], tiers, limit: int) -> list[Variant]:
    found: list[Variant] = []
    for number, tier in enumerate(tiers):
        made = variants_of(spec, specs, [tier], limit=limit - len(found))
        keys = {v.key for v in found}
        found += [replace(v, tier=number) for v in made if v.key not in keys]
        if len(found) >= limit:
            break
    return found


def diagnose_numeric(
    spec: Spec, specs: Mapping[str, Spec], evidence: Evidence, tolerance: Tolerance
) -> Diagnosis:
    """The variants whose outputs match what the backend returned on the failing case."""
    clock = _Clock()
    assert evidence.outputs is not None
    oracle = VariantOracle(spec, specs, evidence.sizes)
    variants = forward_variants(spec, specs)
    found, tried = _output_matches(oracle, variants, evidence.outputs, evidence, tolerance, clock)
    return Diagnosis(tuple(m for _, m in found), tried, clock.seconds, clock.out)


def _output_matches(
    oracle: VariantOracle,
    variants: list[Variant],
    outputs: Mapping[str, Array],
    evidence: Evidence,
    tolerance: Tolerance,
    clock: _Clock,
    *,
    whole_tier: bool = True,
) -> tuple[list[tuple[Variant, Match]], int]:
    """Variants whose outputs match ``outputs``: all of those in the first tier with one
    (or every match, with ``whole_tier=False``), and how many were evaluated."""
    spec = oracle.spec
    names = [n for n in spec.outputs if spec.symbols[n].kind == "float" and n in outputs]
    found: list[tuple[Variant, Match]] = []
    tried = 0
    for variant in variants:
        if (whole_tier and found and variant.tier != found[0][0].tier) or clock.spent():
            break
        tried += 1
        try:
            values = oracle.outputs(variant, evidence.inputs)
            ds = [compare(n, outputs[n], values[n], tolerance) for n in names]
        except Exception:  # a variant that does not fit these shapes is no candidate
            continue
        if ds and all(d.ok for d in ds):
            match = Match(
                variant.describe(spec.id),
                variant.rule,
                max(d.max_abs for d in ds),
                max(d.tol_fraction for d in ds),
            )
            found.append((variant, match))
    return found, tried


def diagnose_gradient(
    spec: Spec,
    specs: Mapping[str, Spec],
    evidence: Evidence,
    tolerance: Tolerance,
    gradient_tolerance: Tolerance,
    seed: int,
) -> Diagnosis:
    """The variants whose derivatives match the backend's VJP on the failing case.

    With the backend's forward outputs known: if they agree with the spec, only the
    variants that change derivatives alone are candidates; if not, the variants that
    explain the outputs are, and their derivatives are checked.
    """
    clock = _Clock()
    assert evidence.gradients is not None and evidence.cotangents is not None
    oracle = VariantOracle(spec, specs, evidence.sizes)
    rng = case_rng(seed, spec.id, evidence.case, "diagnosis")
    grads = {n: np.asarray(g, np.float64) for n, g in evidence.gradients.items()}
    v = {n: rng.normal(0.0, 1.0, g.shape) for n, g in grads.items()}
    reshaped = reshaped_matches(oracle, evidence, gradient_tolerance, rng)
    judge = GradientJudge(oracle, evidence, grads, v, gradient_tolerance)
    if not v or judge.explains(None):  # every gradient compared is right: nothing more
        return Diagnosis(tuple(reshaped), 0, clock.seconds)
    candidates, tried = _gradient_candidates(oracle, specs, evidence, tolerance, clock)
    matches = reshaped + posthoc_matches(judge, spec)
    first_tier = None
    for variant in candidates:
        if (first_tier is not None and variant.tier != first_tier) or clock.spent():
            break
        tried += 1
        try:
            fraction, error = judge.variant(variant)
        except Exception:
            continue
        if fraction <= 1:
            first_tier = variant.tier
            matches.append(Match(variant.describe(spec.id), variant.rule, error, fraction))
    return Diagnosis(tuple(matches), tried, clock.seconds, clock.out)


def _gradient_candidates(
    oracle: VariantOracle,
    specs: Mapping[str, Spec],
    evidence: Evidence,
    tolerance: Tolerance,
    clock: _Clock,
) -> tuple[list[Variant], int]:
    spec = oracle.spec
    if evidence.outputs is None:
        both = gradient_variants(spec, specs) + forward_variants(spec, specs)
        return both[:MAX_VARIANTS], 0
    reference = oracle.outputs(None, evidence.inputs)
    agree = all(
        compare(n, evidence.outputs[n], reference[n], tolerance).ok
        for n in spec.outputs
        if spec.symbols[n].kind == "float" and n in evidence.outputs
    )
    if agree:
        return gradient_variants(spec, specs), 0
    found, tried = _output_matches(
        oracle, forward_variants(spec, specs), evidence.outputs, evidence, tolerance, clock,
        whole_tier=False,
    )  # fmt: skip
    return [replace(variant, tier=0) for variant, _ in found], tried
