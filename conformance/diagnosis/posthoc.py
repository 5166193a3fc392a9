"""Mistakes in a VJP's bookkeeping, found from the spec's own derivatives: an input's
gradient scaled (by 2, ½, −1, B or 1/B: a sum taken as a mean), zero (a gradient never
accumulated), or two inputs' gradients returned in each other's place; and a gradient of
the wrong shape that is the right one before a reduction or a transpose (a bias gradient
not summed over the batch rows)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from conformance.checks.context import Evidence
from conformance.diagnosis.evaluate import VariantOracle
from conformance.diagnosis.judge import GradientJudge
from conformance.diagnosis.model import Match
from conformance.spec.model import Spec, Tolerance
from conformance.typing import Array

Reshaping = tuple[str, Callable[[Array], Array]]


def _reshapings(have: tuple[int, ...], want: tuple[int, ...]) -> list[Reshaping]:
    """The ways a gradient of shape ``have`` may be the one of shape ``want`` unreduced."""
    found: list[Reshaping] = []
    if have[1:] == want:
        found += [("not summed over its leading axis", lambda g: g.sum(axis=0))]
        found += [("averaged over its leading axis", lambda g: g.mean(axis=0))]
    if have[:-1] == want:
        found += [("not summed over its trailing axis", lambda g: g.sum(axis=-1))]
    if len(have) == 2 and have == want[::-1]:
        found += [("transposed", lambda g: g.T)]
    return found


def reshaped_matches(
    oracle: VariantOracle,
    evidence: Evidence,
    tolerance: Tolerance,
    rng: np.random.Generator,
) -> list[Match]:
    """Misshapen gradients that are right once reduced or transposed."""
    found = []
    for name, g in (evidence.misshapen or {}).items():
        want = np.shape(evidence.inputs[name])
        for how, reshape in _reshapings(np.shape(g), want):
            fixed = np.asarray(reshape(np.asarray(g, np.float64)))
            if fixed.shape != want:
                continue
            v = {name: rng.normal(0.0, 1.0, want)}
            judge = GradientJudge(oracle, evidence, {name: fixed}, v, tolerance)
            fraction, error = judge.fraction([name], judge.spec_along(name, name))
            if fraction <= 1:
                change = f"grad {name} {how} (shape {np.shape(g)} for {want})"
                found.append(Match(f"{oracle.spec.id} with {change}", "gradient", error, fraction))
    return found


def posthoc_matches(judge: GradientJudge, spec: Spec) -> list[Match]:
    """The bookkeeping mistakes that explain every wrong gradient at once."""
    wrong = [n for n in judge.grads if judge.fraction([n], judge.spec_along(n, n))[0] > 1]
    if not wrong:
        return []
    B = judge.oracle.sizes.get("B")
    factors: list[tuple[str, float]] = [("0", 0.0), ("2", 2.0), ("1/2", 0.5), ("−1", -1.0)]
    if B and B > 1:
        factors += [("B", float(B)), ("1/B", 1.0 / B)]
    names = ", ".join(wrong)
    found = []
    for text, k in factors:
        checks = [judge.fraction([n], k * judge.spec_along(n, n)) for n in wrong]
        if all(f <= 1 for f, _ in checks):
            change = f"grad {names} = 0" if k == 0 else f"grad {names} × {text}"
            found.append(
                Match(
                    f"{spec.id} with {change}",
                    "gradient",
                    max(e for _, e in checks),
                    max(f for f, _ in checks),
                )
            )
    if len(wrong) == 2:
        a, b = wrong
        if judge.grads[a].shape == judge.grads[b].shape:
            checks = [
                judge.fraction([a], judge.spec_along(b, a)),
                judge.fraction([b], judge.spec_along(a, b)),
            ]
            if all(f <= 1 for f, _ in checks):
                found.append(
                    Match(
                        f"{spec.id} with grad {a} and grad {b} swapped",
                        "gradient",
                        max(e for _, e in checks),
                        max(f for f, _ in checks),
                    )
                )
    return found
