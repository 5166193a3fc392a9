"""The oracle: a spec's equations interpreted in float64, and differentiated by complex step.

The reference value of a spec is its equations run by the
:class:`~conformance.lang.interpreter.Interpreter` on float64 arrays. Reference
derivatives come from the same interpreter on complex128: the directional derivative
J·v = Im f(x + i·h·v) / h with h = 1e-20 is exact to rounding (no subtractive
cancellation), so no gradient is ever written by hand.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import Any, NamedTuple, TypeVar

import numpy as np

from conformance.errors import ExpressionError, Location
from conformance.lang.functions import FUNCTIONS
from conformance.lang.interpreter import Interpreter
from conformance.oracle.calls import SpecFunction, infer_dims
from conformance.oracle.recurrences import scan, tree
from conformance.oracle.rounding import RoundingEstimator
from conformance.spec.model import Spec
from conformance.typing import Array, Arrays

COMPLEX_STEP = 1e-20
T = TypeVar("T")


class Oracle:
    """Evaluates specs (float64 or complex128) and their reference derivatives."""

    def __init__(
        self,
        specs: Mapping[str, Spec],
        *,
        memo_size: int = 4096,
        functions: Mapping[str, Callable[..., Any]] | None = None,
    ) -> None:
        """:param functions: more functions for the equations, beside the language's own
        (the diagnosis's variants call some that no spec may)."""
        self.specs = specs
        self.interpreter = Interpreter(
            {**FUNCTIONS, "scan": scan, "tree": tree, **(functions or {})},
            {spec_id: SpecFunction(spec, self) for spec_id, spec in specs.items()},
        )
        self._memo: OrderedDict[Hashable, Any] = OrderedDict()
        self._memo_size = memo_size
        self._rounding = RoundingEstimator(specs)

    def memo(self, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()``, remembered under ``key`` (least recently used entries go first).

        The checks key references by (kind, spec, seed, case, dtype, stream): the inputs
        are a pure function of those, so every backend is compared with one reference
        instead of recomputing it (the element-wise gradient reference costs one oracle
        run per input element). Arrays are stored read-only.
        """
        if key in self._memo:
            self._memo.move_to_end(key)
            return self._memo[key]
        value = compute()
        for array in value.values() if isinstance(value, dict) else ():
            if isinstance(array, np.ndarray):
                array.flags.writeable = False
        self._memo[key] = value
        if len(self._memo) > self._memo_size:
            self._memo.popitem(last=False)
        return value

    def evaluate(self, spec: Spec, inputs: Arrays) -> dict[str, Array]:
        """The spec's outputs for ``inputs`` (float inputs are taken in at least float64).

        An equation that fails is an :class:`ExpressionError` located at the spec and the
        equation (``spec 'lstm.cell': equations[4]: 'c = …': …``).
        """
        dims = infer_dims(spec, inputs)
        env: dict[str, Any] = {name: _widen(np.asarray(inputs[name])) for name in spec.inputs}
        env.update(dims)
        try:
            self.interpreter.execute(spec.equations, env)
        except ExpressionError as exc:
            where = Location(spec=spec.id, field=exc.where.field)
            raise ExpressionError(exc.problem, where=where, hint=exc.hint) from None
        return {name: env[name] for name in spec.outputs}

    def rounding(self, spec: Spec, inputs: Arrays) -> dict[str, Array]:
        """Per float output, each element's expected rounding error in units of u: what a
        correct implementation of the spec in a float dtype is expected to err by
        (:mod:`conformance.oracle.rounding`), at these inputs' sizes."""
        return self._rounding.estimate(spec, inputs)

    def jvp(self, spec: Spec, inputs: Arrays, tangents: Arrays) -> dict[str, Array]:
        """J·v for every float output: the derivative of the outputs along ``tangents``."""
        perturbed = dict(inputs)
        for name, v in tangents.items():
            perturbed[name] = np.asarray(inputs[name], np.float64) + 1j * COMPLEX_STEP * v
        outputs = self.evaluate(spec, perturbed)
        return {
            name: np.imag(value) / COMPLEX_STEP
            for name, value in outputs.items()
            if spec.symbols[name].kind == "float"
        }

    def vjp(
        self, spec: Spec, inputs: Arrays, cotangents: Arrays, wrt: Iterable[str]
    ) -> dict[str, Array]:
        """uᵀJ for each input in ``wrt``, element by element (one oracle run per element)."""
        terms = self.vjp_terms(spec, inputs, cotangents, wrt)
        return {name: projection.value for name, projection in terms.items()}

    def vjp_terms(
        self, spec: Spec, inputs: Arrays, cotangents: Arrays, wrt: Iterable[str]
    ) -> dict[str, Projection]:
        """uᵀJ for each input in ``wrt``, element by element, with the terms each element
        sums (what its expected rounding follows)."""
        out = {}
        cotangents = {n: np.asarray(c, np.float64) for n, c in cotangents.items()}
        for name in wrt:
            x = np.asarray(inputs[name])
            value, squares, terms = np.zeros(x.shape), np.zeros(x.shape), np.zeros(x.shape)
            for index in np.ndindex(x.shape):
                e = np.zeros(x.shape)
                e[index] = 1.0
                p = self.project_terms(self.jvp(spec, inputs, {name: e}), cotangents)
                value[index], squares[index], terms[index] = p
            out[name] = Projection(value, squares, terms)
        return out

    @staticmethod
    def project(jv: Mapping[str, Array], cotangents: Arrays) -> float:
        """uᵀ(J·v): the scalar both sides of a directional gradient check must agree on."""
        return float(sum(np.vdot(np.asarray(cotangents[n], np.float64), jv[n]) for n in cotangents))

    @staticmethod
    def project_terms(jv: Mapping[str, Array], cotangents: Arrays) -> Projection:
        """uᵀ(J·v) with the sum of its terms' squares and how many are not zero."""
        terms = np.concatenate(
            [(np.asarray(cotangents[n], np.float64) * jv[n]).ravel() for n in cotangents]
        )
        return Projection(float(terms.sum()), float(terms @ terms), float(np.count_nonzero(terms)))


class Projection(NamedTuple):
    """A sum uᵀ(J·v) (or an array of them), the sum of its terms' squares, and how many
    terms are not zero: what the rounding of computing it follows."""

    value: Any
    squares: Any
    terms: Any


def _widen(value: Array) -> Array:
    if np.issubdtype(value.dtype, np.floating) and value.dtype != np.float64:
        return value.astype(np.float64)
    return value
