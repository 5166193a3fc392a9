"""Evaluating a variant with the oracle: its outputs (float64) and its directional
derivatives (complex step), on the failing case's inputs."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from conformance.diagnosis.functions import FUNCTIONS
from conformance.diagnosis.variants import Variant
from conformance.oracle.evaluate import COMPLEX_STEP, Oracle
from conformance.spec.model import Spec
from conformance.typing import Array, Arrays, Sizes


class VariantOracle:
    """Evaluates the failing spec, or a variant of it, on one case's inputs."""

    def __init__(self, spec: Spec, specs: Mapping[str, Spec], sizes: Sizes) -> None:
        self.spec, self.specs, self.sizes = spec, specs, sizes
        self._plain = Oracle(specs, functions=FUNCTIONS)

    def outputs(self, variant: Variant | None, inputs: Arrays) -> dict[str, Array]:
        """The outputs of ``variant`` (None: the spec itself) for ``inputs``.

        Raises whatever the evaluation raises: a variant whose shapes do not fit (a
        softmax over an axis the array lacks) is simply not a candidate.
        """
        oracle = self._plain if variant is None or not variant.replaced else None
        if oracle is None:
            assert variant is not None
            oracle = Oracle({**self.specs, **variant.replaced}, functions=FUNCTIONS)
        spec = oracle.specs[self.spec.id]
        with np.errstate(all="ignore"):
            values = oracle.evaluate(spec, inputs)
            if variant is not None and variant.outputs is not None:
                values = variant.outputs(dict(values), self.sizes)
        return dict(values)

    def project(
        self, variant: Variant | None, inputs: Arrays, tangents: Arrays, cotangents: Arrays
    ) -> float:
        """uᵀ J v: the derivative of ⟨u, outputs⟩ along ``tangents``, by complex step."""
        perturbed = {
            n: np.asarray(v, np.float64) if np.issubdtype(np.asarray(v).dtype, np.floating) else v
            for n, v in inputs.items()
        }
        for name, v in tangents.items():
            perturbed[name] = perturbed[name] + 1j * COMPLEX_STEP * v
        values = self.outputs(variant, perturbed)
        return float(
            sum(
                np.vdot(np.asarray(u, np.float64), np.imag(values[n]) / COMPLEX_STEP)
                for n, u in cotangents.items()
            )
        )
