"""The expected rounding error of a spec's outputs: the spec interpreted on Rounded values.

The same equations, primitives, spec calls and recurrences as the oracle, run on
:class:`~conformance.lang.rounding.Rounded` values: every operation of the spec rounds
once, as in a straightforward implementation of it in the dtype, every step of a
``scan`` or ``tree`` included, and the estimate follows the computation at whatever
sizes it runs. The inputs are exact (the backend receives exactly the rounded values
that the oracle reads), so their variance is zero.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from conformance.lang.functions import FUNCTIONS
from conformance.lang.interpreter import Interpreter
from conformance.lang.rounding import Rounded
from conformance.lang.rounding_functions import PRIMITIVE_RULES
from conformance.oracle.calls import SpecFunction, infer_dims
from conformance.oracle.recurrences import scan, tree
from conformance.spec.model import Spec
from conformance.typing import Array, Arrays


class RoundingEstimator:
    """Evaluates specs on Rounded values (an :class:`~conformance.oracle.calls.Evaluator`)."""

    def __init__(self, specs: Mapping[str, Spec]) -> None:
        self.specs = specs
        self.interpreter = Interpreter(
            {**FUNCTIONS, **PRIMITIVE_RULES, "scan": scan, "tree": tree},
            {spec_id: SpecFunction(spec, self) for spec_id, spec in specs.items()},
        )

    def evaluate(self, spec: Spec, inputs: Arrays) -> dict[str, Any]:
        """The spec's outputs as Rounded values (int outputs as plain arrays)."""
        dims = infer_dims(spec, inputs)
        env: dict[str, Any] = {name: _exact(inputs[name]) for name in spec.inputs}
        env.update(dims)
        self.interpreter.execute(spec.equations, env)
        return {name: env[name] for name in spec.outputs}

    def estimate(self, spec: Spec, inputs: Arrays) -> dict[str, Array]:
        """Per float output, each element's expected rounding error in units of the unit
        roundoff u: multiply by 2^-24 for float32, by 2^-53 for float64."""
        outputs = self.evaluate(spec, inputs)
        estimate = {}
        for name, value in outputs.items():
            if spec.symbols[name].kind != "float":
                continue
            if isinstance(value, Rounded):
                std = np.sqrt(np.asarray(value.var, dtype=np.float64))
            else:  # a constant output (zeros_like): exact
                std = np.zeros(np.shape(value))
            estimate[name] = np.where(np.isnan(std), np.inf, std)
        return estimate


def _exact(value: Any) -> Any:
    """An input as the estimate takes it: float arrays exact (variance 0), others as given."""
    if isinstance(value, Rounded):
        return value
    array = np.asarray(value)
    if np.issubdtype(array.dtype, np.floating):
        return Rounded(array.astype(np.float64))
    return array
