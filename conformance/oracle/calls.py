"""A spec called from another spec's equations, and the sizes its inputs imply.

:class:`SpecFunction` is how ``lstm.forget_gate()`` inside ``lstm.cell`` is evaluated:
it binds the callee's inputs and asks the evaluator (the oracle) for its outputs.
The evaluator is seen only through the :class:`Evaluator` protocol, so
that the recurrences below it need not import the oracle.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import numpy as np

from conformance.errors import EvaluationError
from conformance.lang.interpreter import Interpreter
from conformance.spec.model import Spec
from conformance.typing import Array, Arrays


class Evaluator(Protocol):
    """What a spec call needs of the oracle: a spec's outputs for given inputs."""

    def evaluate(self, spec: Spec, inputs: Arrays) -> dict[str, Array]: ...


def infer_dims(spec: Spec, inputs: Arrays) -> dict[str, int]:
    """The dimension sizes implied by the inputs' shapes, checked against every symbolic shape."""
    interpreter = Interpreter({}, {})
    dims: dict[str, int] = {}
    for symbol in spec.input_symbols:
        if symbol.name not in inputs:
            raise EvaluationError(f"{spec.id}: missing input {symbol.name!r}")
        shape = np.shape(inputs[symbol.name])
        if len(shape) != len(symbol.shape):
            raise EvaluationError(
                f"{spec.id}: {symbol.name}.shape={shape}, but should have {len(symbol.shape)} "
                f"axes ({', '.join(symbol.shape)})"
            )
        for expr, size in zip(symbol.shape, shape, strict=True):
            if expr.isidentifier():
                dims.setdefault(expr, size)
    for symbol in spec.input_symbols:
        have = np.shape(inputs[symbol.name])
        if all(dims.get(expr) == size for expr, size in zip(symbol.shape, have, strict=True)):
            continue  # every axis a plain dimension that agrees: nothing to evaluate
        want = tuple(interpreter.eval(node, dims) for node in symbol.shape_ast)
        if want != have:
            raise EvaluationError(
                f"{spec.id}: {symbol.name}.shape={have}, but should be {want} = "
                f"({', '.join(symbol.shape)}) with {dims}"
            )
    return dims


class SpecFunction:
    """A spec called from another spec's equations: keyword inputs → outputs.

    Inputs not passed as keywords are taken from the caller's scope by name. Returns
    the single output, or a tuple of outputs in the spec's declared order.
    """

    takes_scope = True

    def __init__(self, spec: Spec, oracle: Evaluator) -> None:
        self.spec, self.oracle = spec, oracle

    def bind(self, scope: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
        """The callee's inputs: ``given`` keywords, the rest by name from ``scope``."""
        unknown = set(given) - set(self.spec.inputs)
        if unknown:
            raise EvaluationError(f"{self.spec.id} has no input(s) {', '.join(sorted(unknown))}")
        missing = [n for n in self.spec.inputs if n not in given and n not in scope]
        if missing:
            raise EvaluationError(
                f"call to {self.spec.id}: no value for input(s) {', '.join(missing)} "
                "(pass them as keywords or have them in scope under the same name)"
            )
        return {n: given[n] if n in given else scope[n] for n in self.spec.inputs}

    def __call__(self, *, _scope: Mapping[str, Any], **given: Any) -> Any:
        outputs = self.oracle.evaluate(self.spec, self.bind(_scope, given))
        values = tuple(outputs[n] for n in self.spec.outputs)
        return values[0] if len(values) == 1 else values
