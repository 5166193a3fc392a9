"""The oracle: a spec's equations interpreted in float64, and differentiated by complex step.

The reference value of a spec is its equations run by :class:`~conformance.expr.Interpreter`
on float64 arrays. Reference derivatives come from the same interpreter on complex128:
the directional derivative J·v = Im f(x + i·h·v) / h with h = 1e-20 is exact to
rounding (no subtractive cancellation), so no gradient is ever written by hand.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import Any, TypeVar

import numpy as np

from conformance.errors import ConformanceError, SpecError
from conformance.expr import Interpreter
from conformance.primitives import FUNCTIONS
from conformance.spec import Spec
from conformance.typing import Array, Arrays

COMPLEX_STEP = 1e-20
T = TypeVar("T")


class EvaluationError(ConformanceError):
    """The oracle could not evaluate a spec on the given inputs (bad shapes, bad equation)."""


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

    def __init__(self, spec: Spec, oracle: Oracle) -> None:
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


def scan(
    step: SpecFunction, *, _scope: Mapping[str, Any], reverse: bool = False, **given: Any
) -> tuple:
    """Apply the ``step`` spec along axis 0 of its role-"input" arguments.

    Role-"state" inputs are carried: each state's ``next`` output feeds the next step.
    Parameters are constant. With ``reverse=True`` the steps run from the last index to
    the first, and each step's outputs are stored at that step's own index.

    :return: every output of ``step`` stacked over time (declared order), then the final
        value of every state (declared order).
    """
    if not isinstance(step, SpecFunction):
        raise EvaluationError("scan: the first argument must be a spec, e.g. scan(lstm.cell, ...)")
    spec = step.spec
    bound = step.bind(_scope, given)
    sequences = [s.name for s in spec.input_symbols if s.role == "input"]
    states = [s for s in spec.input_symbols if s.role == "state"]
    for s in states:
        if s.next not in spec.outputs:
            raise EvaluationError(
                f"scan({spec.id}): state {s.name!r} needs 'next' naming one of its outputs "
                f"({', '.join(spec.outputs)}), has {s.next!r}"
            )
    if not sequences:
        raise EvaluationError(
            f"scan({spec.id}): the step spec has no role-'input' symbol to scan over"
        )
    lengths = {np.shape(bound[n])[0] for n in sequences}
    if len(lengths) != 1:
        raise EvaluationError(f"scan({spec.id}): sequences of different lengths {sorted(lengths)}")
    steps = range(lengths.pop())
    carry = {s.name: bound[s.name] for s in states}
    stacked: dict[str, list[Array]] = {o: [] for o in spec.outputs}
    for t in reversed(steps) if reverse else steps:
        inputs = {**bound, **carry, **{n: bound[n][t] for n in sequences}}
        outputs = step.oracle.evaluate(spec, inputs)
        for name in spec.outputs:
            stacked[name].append(outputs[name])
        carry = {s.name: outputs[s.next] for s in states}
    order = slice(None, None, -1) if reverse else slice(None)
    return (
        *(np.stack(stacked[o][order]) for o in spec.outputs),
        *(carry[s.name] for s in states),
    )


scan.takes_scope = True  # type: ignore[attr-defined]


def tree(step: SpecFunction, *, _scope: Mapping[str, Any], children: Array, **given: Any) -> tuple:
    """Apply the ``step`` spec bottom-up over a binary tree (post-order).

    Nodes are numbered in one table: 0 … L−1 are the leaves, L + n is internal node n,
    and ``children[n] = (left, right)`` indexes that table with both children before
    their parent (left, right < L + n), so index order is post-order and the last node
    is the root. Each carried output o of ``step`` (the ``next`` of its role-"state"
    inputs) takes its leaf values from the keyword ``o=`` (shape (L, …)). Every carried
    output has exactly two states: the first declared takes it from the left child,
    the second from the right. Parameters are constant, bound by name from the scope.

    :return: every output of ``step`` stacked over the internal nodes (declared order).
    """
    if not isinstance(step, SpecFunction):
        raise EvaluationError("tree: the first argument must be a spec, e.g. tree(slstm.cell, ...)")
    spec = step.spec
    where = f"tree({spec.id})"
    states = [s for s in spec.input_symbols if s.role == "state"]
    carried = list(dict.fromkeys(s.next for s in states))
    pairs = {o: [s.name for s in states if s.next == o] for o in carried}
    if not states or any(len(p) != 2 for p in pairs.values()) or None in pairs:
        raise EvaluationError(
            f"{where}: needs two role-'state' inputs (left, right) per carried output, "
            f"has {', '.join(f'{s.name} -> {s.next}' for s in states) or 'none'}"
        )
    if any(s.role == "input" for s in spec.input_symbols):
        raise EvaluationError(f"{where}: role-'input' symbols are not supported in a tree step")
    missing = [o for o in carried if o not in given]
    if missing:
        raise EvaluationError(
            f"{where}: no leaf values for {', '.join(missing)} (pass {missing[0]}=...)"
        )
    leaves = {o: given.pop(o) for o in carried}
    pinned = {n: None for pair in pairs.values() for n in pair}  # bound per node below
    if set(given) & set(pinned):
        raise EvaluationError(
            f"{where}: {', '.join(sorted(set(given) & set(pinned)))} come(s) from the children; "
            f"pass leaf values as {', '.join(f'{o}=...' for o in carried)}"
        )
    params = step.bind({**_scope, **pinned}, given)
    table = {o: list(leaves[o]) for o in carried}
    links = _tree_links(np.asarray(children), len(table[carried[0]]), where)
    stacked: dict[str, list[Array]] = {o: [] for o in spec.outputs}
    for left, right in links:
        inputs = dict(params)
        for o, (to_left, to_right) in pairs.items():
            inputs[to_left], inputs[to_right] = table[o][left], table[o][right]
        outputs = step.oracle.evaluate(spec, inputs)
        for o in spec.outputs:
            stacked[o].append(outputs[o])
        for o in carried:
            table[o].append(outputs[o])
    return tuple(np.stack(stacked[o]) for o in spec.outputs)


tree.takes_scope = True  # type: ignore[attr-defined]


def _tree_links(children: Array, leaves: int, where: str) -> list[tuple[int, int]]:
    """``children`` as (left, right) pairs, after checking that it is one post-order tree."""
    if (
        children.ndim != 2
        or children.shape[1] != 2
        or not np.issubdtype(children.dtype, np.integer)
    ):
        raise EvaluationError(
            f"{where}: children should be integers of shape (N, 2), got {children.shape}"
        )
    N = children.shape[0]
    if N == 0 or leaves != N + 1:
        raise EvaluationError(
            f"{where}: {N} internal node(s) need {N + 1} leaves, got {leaves} (N ≥ 1, L = N + 1)"
        )
    seen: set[int] = set()
    for n, (left, right) in enumerate(children.tolist()):
        for child in (left, right):
            if not 0 <= child < leaves + n:
                raise EvaluationError(
                    f"{where}: children[{n}] = {[left, right]}: {child} is not a node before "
                    f"internal node {n} (table index {leaves + n})"
                )
            if child in seen:
                raise EvaluationError(f"{where}: node {child} is a child twice (at children[{n}])")
            seen.add(child)
    return [(int(left), int(right)) for left, right in children.tolist()]


class Oracle:
    """Evaluates specs (float64 or complex128) and their reference derivatives."""

    def __init__(self, specs: Mapping[str, Spec], *, memo_size: int = 4096) -> None:
        self.specs = specs
        self.interpreter = Interpreter(
            {**FUNCTIONS, "scan": scan, "tree": tree},
            {spec_id: SpecFunction(spec, self) for spec_id, spec in specs.items()},
        )
        self._memo: OrderedDict[Hashable, Any] = OrderedDict()
        self._memo_size = memo_size

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
        """The spec's outputs for ``inputs`` (float inputs are taken in at least float64)."""
        dims = infer_dims(spec, inputs)
        env: dict[str, Any] = {name: _widen(np.asarray(inputs[name])) for name in spec.inputs}
        env.update(dims)
        self.interpreter.run(spec.equations, env)
        return {name: env[name] for name in spec.outputs}

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
        grads = {}
        for name in wrt:
            x = np.asarray(inputs[name])
            grad = np.zeros(x.shape)
            for index in np.ndindex(x.shape):
                e = np.zeros(x.shape)
                e[index] = 1.0
                grad[index] = self.project(self.jvp(spec, inputs, {name: e}), cotangents)
            grads[name] = grad
        return grads

    @staticmethod
    def project(jv: Mapping[str, Array], cotangents: Arrays) -> float:
        """uᵀ(J·v): the scalar both sides of a directional gradient check must agree on."""
        return float(sum(np.vdot(np.asarray(cotangents[n], np.float64), jv[n]) for n in cotangents))


def _widen(value: Array) -> Array:
    if np.issubdtype(value.dtype, np.floating) and value.dtype != np.float64:
        return value.astype(np.float64)
    return value


def verify_catalog(catalog: Any) -> None:
    """Run every spec once at its first sizes: declared output shapes must come out.

    Catches equations whose shapes disagree with the symbol table at load time, with
    the file and spec named, rather than mid-run.
    """
    from conformance.inputs import case_rng, draw_inputs, shape_of

    oracle = Oracle(catalog.specs)
    for spec in catalog.specs.values():
        sizes = spec.sizes[0]
        inputs = draw_inputs(spec, sizes, rng=case_rng(0, spec.id, 0))
        try:
            outputs = oracle.evaluate(spec, inputs)
        except (ConformanceError, ValueError, TypeError, IndexError) as exc:
            raise SpecError(
                f"the equations fail at {spec.describe_sizes(sizes)}: {exc}",
                file=spec.file,
                field=f"spec {spec.id!r}",
            ) from None
        for symbol in spec.output_symbols:
            want = shape_of(symbol, sizes)
            have = np.shape(outputs[symbol.name])
            if have != want:
                raise SpecError(
                    f"the equations give {symbol.name}.shape={have}, but the symbol says "
                    f"({', '.join(symbol.shape)}) = {want} at {spec.describe_sizes(sizes)}",
                    file=spec.file,
                    field=f"spec {spec.id!r}",
                )
