"""Judging a candidate explanation of a gradient failure along seeded directions.

For each compared input n the backend's VJP gives ⟨g_n, v_n⟩ for a random direction
v_n; a candidate (the spec, a variant, or the spec's own derivative transformed) gives
uᵀ J_n v_n by complex step. The two agree within the gradient tolerance scaled to an
inner product: atol·Σ|v| + rtol·Σ|g ⊙ v|.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

from conformance.checks.context import Evidence
from conformance.diagnosis.evaluate import VariantOracle
from conformance.diagnosis.variants import Variant
from conformance.spec.model import Tolerance
from conformance.typing import Array


class GradientJudge:
    """Compares a candidate's derivatives with the backend's gradients along directions."""

    def __init__(
        self,
        oracle: VariantOracle,
        evidence: Evidence,
        grads: Mapping[str, Array],
        v: Mapping[str, Array],
        tolerance: Tolerance,
    ) -> None:
        self.oracle, self.evidence, self.grads, self.v = oracle, evidence, grads, v
        self.backend = {n: float(np.vdot(grads[n], v[n])) for n in grads}
        self.bounds = {
            n: tolerance.atol * float(np.abs(v[n]).sum())
            + tolerance.rtol * float(np.abs(grads[n] * v[n]).sum())
            for n in grads
        }
        self._spec: dict[tuple[str, str], float] = {}

    def project(self, variant: Variant | None, tangents: Mapping[str, Array]) -> float:
        assert self.evidence.cotangents is not None
        return self.oracle.project(
            variant, self.evidence.inputs, tangents, self.evidence.cotangents
        )

    def spec_along(self, name: str, direction_of: str) -> float:
        """uᵀ J[name] v[direction_of] of the spec itself, remembered."""
        key = (name, direction_of)
        if key not in self._spec:
            self._spec[key] = self.project(None, {name: self.v[direction_of]})
        return self._spec[key]

    def fraction(self, names: Iterable[str], expected: float) -> tuple[float, float]:
        """(fraction of the tolerance, abs error) of Σ ⟨g_n, v_n⟩ against ``expected``."""
        names = list(names)
        actual = sum(self.backend[n] for n in names)
        bound = sum(self.bounds[n] for n in names)
        error = abs(actual - expected)
        return (error / bound if bound > 0 else (0.0 if error == 0 else np.inf)), error

    def explains(self, variant: Variant | None) -> bool:
        """Whether ``variant`` (None: the spec) agrees with every gradient compared."""
        return self.variant(variant)[0] <= 1

    def variant(self, variant: Variant | None) -> tuple[float, float]:
        """The worst fraction of the tolerance over the joint direction and each input."""
        joint, error = self.fraction(self.grads, self.project(variant, self.v))
        if joint > 1:
            return joint, error
        worst, worst_error = joint, error
        for n in self.grads:
            fraction, error = self.fraction([n], self.project(variant, {n: self.v[n]}))
            if fraction > 1:
                return fraction, error
            worst, worst_error = max(worst, fraction), max(worst_error, error)
        return worst, worst_error
