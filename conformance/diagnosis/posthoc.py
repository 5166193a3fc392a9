"""Mistakes in a VJP's bookkeeping, found from the spec's own derivatives: an input's
gradient scaled (by 2, ½, −1, B or 1/B: a sum taken as a mean), zero (a gradient never
accumulated), or two inputs' gradients returned in each other's place."""

from __future__ import annotations

from conformance.diagnosis.judge import GradientJudge
from conformance.diagnosis.model import Match
from conformance.spec.model import Spec


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
