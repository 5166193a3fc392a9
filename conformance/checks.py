"""The check kinds: each asks one question of a backend's kernel for one spec case.

A check receives a :class:`CheckContext` (spec, kernel, dtype, seed, oracle) and one
case (index and sizes), and returns a :class:`Measurement`. The engine runs it over
every case of the spec and keeps the worst. Checks raise nothing on a wrong answer;
an exception from the backend propagates and becomes an ``error`` result.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from conformance.backend import Backend, Kernel
from conformance.compare import Discrepancy, compare, worst
from conformance.expr import Interpreter, free_names
from conformance.inputs import case_rng, draw_inputs, shape_of
from conformance.oracle import Oracle
from conformance.primitives import FUNCTIONS
from conformance.spec import Spec, Tolerance
from conformance.typing import Array, Arrays, Sizes

FULL_GRADIENT_LIMIT = 400
"""Up to this many differentiable input elements, gradients are compared element by element."""
DIRECTIONS = 3
"""Random directions per input for the directional gradient check on larger cases."""
TIMING_REPEATS = 5


class NotImplementedByBackend(Exception):  # noqa: N818
    """The backend does not offer what this check needs (no kernel, no VJP)."""


@dataclass(frozen=True)
class Measurement:
    """The outcome of one check on one case."""

    ok: bool
    message: str = ""
    discrepancy: Discrepancy | None = None
    seconds: float | None = None


@dataclass(frozen=True)
class CheckContext:
    """Everything a check needs besides the case."""

    spec: Spec
    backend: Backend
    kernel: Kernel
    dtype: str
    seed: int
    oracle: Oracle

    def inputs(
        self, case: int, sizes: Sizes, domains: Mapping[str, str] | None = None
    ) -> dict[str, Array]:
        """The case's inputs in the dtype under test: the same for every backend."""
        rng = case_rng(self.seed, self.spec.id, case, "stability" if domains else "inputs")
        return draw_inputs(self.spec, sizes, dtype=self.dtype, rng=rng, domains=domains)

    def cotangents(self, case: int, sizes: Sizes) -> dict[str, Array]:
        rng = case_rng(self.seed, self.spec.id, case, "cotangents")
        return {
            s.name: rng.normal(0.0, 1.0, shape_of(s, sizes)).astype(self.dtype)
            for s in self.spec.output_symbols
            if s.kind == "float"
        }

    def reference(self, case: int, inputs: Arrays, *, stability: bool = False) -> dict[str, Array]:
        """The oracle's outputs for this case's inputs, computed once for all backends."""
        stream = "stability" if stability else "inputs"
        key = ("evaluate", stream, *self._memo_key(case, inputs))
        return self.oracle.memo(key, lambda: self.oracle.evaluate(self.spec, inputs))

    def reference_vjp(self, case: int, inputs: Arrays, cotangents: Arrays) -> dict[str, Array]:
        """uᵀJ for every differentiable input, element by element, computed once."""
        key = ("vjp", *self._memo_key(case, inputs))
        spec = self.spec
        return self.oracle.memo(
            key, lambda: self.oracle.vjp(spec, inputs, cotangents, spec.differentiable)
        )

    def _memo_key(self, case: int, inputs: Arrays) -> tuple:
        """What a case's reference is a pure function of: the spec's equations and domains,
        the seed, the case and the shapes drawn."""
        spec = self.spec
        shapes = tuple((name, np.shape(value)) for name, value in inputs.items())
        definition = (
            tuple(st.source for st in spec.equations),
            tuple((s.name, s.domain) for s in spec.input_symbols),
            tuple(sorted(spec.stability.items())),
        )
        return (spec.id, definition, self.seed, case, self.dtype, shapes)

    def label(self, sizes: Sizes) -> str:
        """``[lstm.cell(B=3, D=5, H=4), fused-gate, float32, seed=0]`` for messages."""
        case = self.spec.describe_sizes(sizes)
        return f"[{case}, {self.backend.name}, {self.dtype}, seed={self.seed}]"

    @property
    def tolerance(self) -> Tolerance:
        return self.spec.tolerance[self.dtype]

    def forward(self, inputs: Arrays) -> Mapping[str, Array]:
        """The kernel's outputs for a private copy of ``inputs``."""
        result = self.kernel.forward({k: v.copy() for k, v in inputs.items()})
        if not isinstance(result, Mapping):
            raise TypeError(
                f"backend {self.backend.name!r}: forward for {self.spec.id!r} returned "
                f"{type(result).__name__}, not a mapping of output names to arrays"
            )
        return result

    def vjp(self, inputs: Arrays, cotangents: Arrays) -> Mapping[str, Array]:
        if self.kernel.vjp is None:
            raise NotImplementedByBackend(f"{self.backend.name!r} has no VJP for {self.spec.id!r}")
        result = self.kernel.vjp(
            {k: v.copy() for k, v in inputs.items()}, {k: v.copy() for k, v in cotangents.items()}
        )
        if not isinstance(result, Mapping):
            raise TypeError(
                f"backend {self.backend.name!r}: vjp for {self.spec.id!r} returned "
                f"{type(result).__name__}, not a mapping of input names to gradients"
            )
        return result


def _problems(ctx: CheckContext, problems: list[str], sizes: Sizes) -> Measurement:
    """A pass when ``problems`` is empty, else a failure listing them, labelled with the case."""
    if not problems:
        return Measurement(True)
    return Measurement(False, "; ".join(problems) + f" {ctx.label(sizes)}")


def _worst_of(ctx: CheckContext, found: list[Discrepancy], sizes: Sizes) -> Measurement:
    """A pass carrying the worst discrepancy when every one is within tolerance, else a failure."""
    bad = worst(found)
    if bad is None or bad.ok:
        return Measurement(True, discrepancy=bad)
    return Measurement(False, f"{bad.describe()} {ctx.label(sizes)}", bad)


def _shape_problems(ctx: CheckContext, outputs: Mapping[str, Array], sizes: Sizes) -> list[str]:
    problems = []
    for symbol in ctx.spec.output_symbols:
        want = shape_of(symbol, sizes)
        if symbol.name not in outputs:
            got = ", ".join(map(repr, outputs)) or "nothing"
            problems.append(f"output {symbol.name!r} is missing (returned {got})")
            continue
        have = np.shape(outputs[symbol.name])
        if have != want:
            problems.append(
                f"out[{symbol.name!r}].shape={have}, but should be {want} = "
                f"({', '.join(symbol.shape)})"
            )
    return problems


def check_shape(ctx: CheckContext, case: int, sizes: Sizes) -> Measurement:
    """Every output is present with the spec's shape at these sizes."""
    problems = _shape_problems(ctx, ctx.forward(ctx.inputs(case, sizes)), sizes)
    return _problems(ctx, problems, sizes)


def check_dtype(ctx: CheckContext, case: int, sizes: Sizes) -> Measurement:
    """Float outputs come back in the dtype they were given: no silent upcast or downcast."""
    outputs = ctx.forward(ctx.inputs(case, sizes))
    problems = []
    for symbol in ctx.spec.output_symbols:
        if symbol.name not in outputs:
            continue
        have = np.asarray(outputs[symbol.name]).dtype
        want = np.dtype(ctx.dtype) if symbol.kind == "float" else np.dtype(np.int64)
        if have != want:
            problems.append(f"out[{symbol.name!r}].dtype={have}, but should be {want}")
    return _problems(ctx, problems, sizes)


def _compare_outputs(
    ctx: CheckContext, outputs: Mapping[str, Array], reference: Mapping[str, Array], sizes: Sizes
) -> Measurement:
    problems = _shape_problems(ctx, outputs, sizes)
    if problems:
        return _problems(ctx, problems, sizes)
    found = [compare(n, outputs[n], reference[n], ctx.tolerance) for n in ctx.spec.outputs]
    return _worst_of(ctx, found, sizes)


def check_numeric(ctx: CheckContext, case: int, sizes: Sizes) -> Measurement:
    """Outputs match the oracle within the spec's tolerance for the dtype."""
    inputs = ctx.inputs(case, sizes)
    outputs = ctx.forward(inputs)
    measured = _compare_outputs(ctx, outputs, ctx.reference(case, inputs), sizes)
    if not measured.ok or case != _largest_case(ctx.spec):
        return measured
    times = []
    for _ in range(TIMING_REPEATS):
        start = time.perf_counter()
        ctx.kernel.forward(inputs)
        times.append(time.perf_counter() - start)
    return Measurement(True, discrepancy=measured.discrepancy, seconds=float(np.median(times)))


def check_stability(ctx: CheckContext, case: int, sizes: Sizes) -> Measurement:
    """At saturating inputs (|z| ≈ 1e3) outputs stay finite where the math is, and correct.

    Correct means within the dtype's tolerance with atol scaled by the inputs' magnitude
    S: a float32 pre-activation summed from terms of size S is only good to about S·eps,
    which no backend can beat. An overflow, a NaN or a wrong saturation is off by O(1).
    """
    inputs = ctx.inputs(case, sizes, domains=ctx.spec.stability)
    with np.errstate(all="ignore"):
        outputs = ctx.forward(inputs)
    reference = ctx.reference(case, inputs, stability=True)
    problems = _shape_problems(ctx, outputs, sizes)
    for name in [] if problems else ctx.spec.outputs:
        lost = np.isfinite(reference[name]) & ~np.isfinite(np.asarray(outputs[name], np.float64))
        if lost.any():
            index = [int(i) for i in np.argwhere(lost)[0]]
            problems.append(
                f"{name}{index} = {np.asarray(outputs[name])[tuple(index)]}, but should be finite "
                f"({reference[name][tuple(index)]:.9g})"
            )
    if problems:
        return _problems(ctx, problems, sizes)
    # Rounding the pre-activations of inputs of size S costs about S·eps: scale atol by S.
    scale = max(1.0, max(float(np.max(np.abs(inputs[n]))) for n in ctx.spec.stability))
    tol = Tolerance(ctx.tolerance.atol * scale, ctx.tolerance.rtol)
    found = [compare(n, outputs[n], reference[n], tol) for n in ctx.spec.outputs]
    return _worst_of(ctx, found, sizes)


def check_invariants(ctx: CheckContext, case: int, sizes: Sizes) -> Measurement:
    """The spec's invariants (``0 <= f <= 1``, rows sum to 1, …) hold on the backend's outputs."""
    inputs = ctx.inputs(case, sizes)
    outputs = ctx.forward(inputs)
    problems = _shape_problems(ctx, outputs, sizes)
    if problems:
        return _problems(ctx, problems, sizes)
    tol = ctx.tolerance
    env = {
        **{k: np.asarray(v, np.float64) if v.dtype.kind == "f" else v for k, v in inputs.items()},
        **{k: np.asarray(outputs[k], np.float64) for k in ctx.spec.outputs},
        **sizes,
        "atol": tol.atol,
        "rtol": tol.rtol,
    }
    interpreter = ctx.oracle.interpreter  # invariants may call specs, like equations
    for invariant in ctx.spec.invariants:
        holds = np.asarray(interpreter.eval(invariant.expr, env))
        if not holds.all():
            index = tuple(int(i) for i in np.argwhere(~holds)[0]) if holds.ndim else ()
            where = f" first at index {list(index)}" if index else ""
            return Measurement(
                False, f"invariant {invariant.source!r} does not hold{where} {ctx.label(sizes)}"
            )
    return Measurement(True)


def check_inputs_unmodified(ctx: CheckContext, case: int, sizes: Sizes) -> Measurement:
    """Neither forward nor VJP writes into the arrays it was given."""
    inputs = ctx.inputs(case, sizes)
    given = {k: v.copy() for k, v in inputs.items()}
    ctx.kernel.forward(given)
    calls = "forward"
    if ctx.kernel.vjp is not None:
        cotangents = ctx.cotangents(case, sizes)
        given_cot = {k: v.copy() for k, v in cotangents.items()}
        ctx.kernel.vjp(given, given_cot)
        calls = "forward or vjp"
        changed = [
            f"cotangent {k!r}"
            for k in cotangents
            if not np.array_equal(cotangents[k], given_cot[k], equal_nan=True)
        ]
    else:
        changed = []
    changed += [
        f"input {k!r}" for k in inputs if not np.array_equal(inputs[k], given[k], equal_nan=True)
    ]
    if changed:
        return Measurement(
            False, f"{calls} modified {', '.join(changed)} in place {ctx.label(sizes)}"
        )
    return Measurement(True)


def check_gradient(ctx: CheckContext, case: int, sizes: Sizes) -> Measurement:
    """The backend's VJP matches complex-step derivatives of the oracle.

    Small cases compare every element of every gradient; larger ones compare
    ⟨g, v⟩ with uᵀJv along random directions v, one input at a time.
    """
    spec, tol = ctx.spec, ctx.spec.gradient_tolerance[ctx.dtype]
    inputs = ctx.inputs(case, sizes)
    cotangents = ctx.cotangents(case, sizes)
    grads = ctx.vjp(inputs, cotangents)
    problems = []
    for name in spec.differentiable:
        if name not in grads:
            returned = ", ".join(map(repr, grads)) or "nothing"
            problems.append(f"vjp returned no gradient for {name!r} (returned {returned})")
            continue
        have, want = np.shape(grads[name]), inputs[name].shape
        if have != want:
            problems.append(f"grad[{name!r}].shape={have}, but should be {want} like {name!r}")
        elif np.asarray(grads[name]).dtype != np.dtype(ctx.dtype):
            problems.append(
                f"grad[{name!r}].dtype={np.asarray(grads[name]).dtype}, but should be {ctx.dtype}"
            )
    if problems:
        return _problems(ctx, problems, sizes)
    elements = sum(inputs[n].size for n in spec.differentiable)
    if elements <= FULL_GRADIENT_LIMIT:
        reference = ctx.reference_vjp(case, inputs, cotangents)
        found = [compare(f"grad {n}", grads[n], reference[n], tol) for n in spec.differentiable]
    else:
        found = _directional(ctx, inputs, cotangents, grads, tol, case)
    return _worst_of(ctx, found, sizes)


def _directional(
    ctx: CheckContext,
    inputs: Arrays,
    cotangents: Arrays,
    grads: Mapping[str, Array],
    tol: Tolerance,
    case: int,
) -> list[Discrepancy]:
    directions = _directions(ctx, inputs, case)
    key = ("directional", *ctx._memo_key(case, inputs))
    references = ctx.oracle.memo(
        key,
        lambda: {
            (name, k): ctx.oracle.project(ctx.oracle.jvp(ctx.spec, inputs, {name: v}), cotangents)
            for (name, k), v in directions.items()
        },
    )
    found = []
    for name in ctx.spec.differentiable:
        g = np.asarray(grads[name], np.float64)
        for k in range(DIRECTIONS):
            v, expected = directions[name, k], references[name, k]
            actual = float(np.vdot(g, v))
            # The inner product sums n terms: scale the elementwise tolerance accordingly.
            scale = Tolerance(
                tol.atol * float(np.abs(v).sum()),
                tol.rtol * float(np.abs(g * v).sum()) / max(abs(expected), 1e-300),
            )
            found.append(
                compare(f"⟨grad {name}, v{k}⟩", np.array(actual), np.array(expected), scale)
            )
    return found


def check_chunking(ctx: CheckContext, case: int, sizes: Sizes) -> Measurement:
    """Two chunks, the second started from the first's carried state, equal one run.

    With every role-"input" input split at a seeded step k (0 < k < T) along time:
    stacked outputs of the chunks, concatenated, equal one run's, and so do the second
    chunk's carried outputs (h_T, c_T). Both sides are the backend's own: a kernel that
    ignores or resets the state it is given, or mixes time steps, breaks the identity.
    """
    chunking = ctx.spec.chunking
    assert chunking is not None
    T = sizes[chunking.time]
    if T < 2:
        return Measurement(True)  # one step cannot be split; the loader ensures a case with T ≥ 2
    k = int(case_rng(ctx.seed, ctx.spec.id, case, "chunking").integers(1, T))
    sequences = [s.name for s in ctx.spec.input_symbols if s.role == "input"]
    inputs = ctx.inputs(case, sizes)
    whole = ctx.forward(inputs)
    first = ctx.forward({**inputs, **{n: inputs[n][:k] for n in sequences}})
    problems = _shape_problems(ctx, whole, sizes)
    problems += [
        f"{p} (first chunk)" for p in _shape_problems(ctx, first, {**sizes, chunking.time: k})
    ]
    if not problems:
        carried = {
            state: np.asarray(first[out]).astype(inputs[state].dtype, copy=False)
            for state, out in chunking.carry.items()
        }
        second = ctx.forward({**inputs, **{n: inputs[n][k:] for n in sequences}, **carried})
        rest = {**sizes, chunking.time: T - k}
        problems += [f"{p} (second chunk)" for p in _shape_problems(ctx, second, rest)]
    how = f"two chunks ({chunking.time} = {k} + {T - k}" + "".join(
        f", {state} ← {out}" for state, out in chunking.carry.items()
    )
    if problems:
        return Measurement(False, f"{how}): {'; '.join(problems)} {ctx.label(sizes)}")
    found = [
        compare(n, np.concatenate([first[n], second[n]]), whole[n], ctx.tolerance)
        for n in chunking.stacked
    ]
    found += [
        compare(out, second[out], whole[out], ctx.tolerance) for out in chunking.carry.values()
    ]
    bad = worst(found)
    if bad is None or bad.ok:
        return Measurement(True, discrepancy=bad)
    return Measurement(
        False, f"{how}) differ from one run: {bad.describe()} {ctx.label(sizes)}", bad
    )


def check_reversal(ctx: CheckContext, case: int, sizes: Sizes) -> Measurement:
    """Outputs equal the backend's own kernel for another spec on transformed inputs.

    For the BiLSTM: the backward direction equals the backend's ``lstm.sequence`` run on
    ``flip(xs)`` with the backward weights, flipped back. Not implemented when the
    backend has no kernel for that spec.
    """
    reversal = ctx.spec.reversal
    assert reversal is not None
    other = ctx.backend.kernel(reversal.spec)
    if other is None:
        raise NotImplementedByBackend(
            f"{ctx.backend.name} has no kernel for {reversal.spec}, which the reversal "
            f"identity of {ctx.spec.id} runs"
        )
    inputs = ctx.inputs(case, sizes)
    outputs = ctx.forward(inputs)
    problems = _shape_problems(ctx, outputs, sizes)
    interpreter, env = Interpreter(FUNCTIONS, {}), {**inputs, **sizes}
    given = {
        name: np.array(interpreter.eval(reversal.inputs[name].expr, env))
        if name in reversal.inputs
        else inputs[name].copy()
        for name in ctx.oracle.specs[reversal.spec].inputs
    }
    theirs = other.forward(given)
    renamed = [f"{k}={e.source}" for k, e in reversal.inputs.items() if e.source != k]
    shown = ", ".join(renamed[:3]) + (", …" if len(renamed) > 3 else "")
    call = f"{ctx.backend.name}'s {reversal.spec}({shown})"
    needed = sorted({n for e in reversal.outputs.values() for n in free_names(e.expr)} - set(sizes))
    problems += [f"{call} returned no {n!r}" for n in needed if n not in theirs]
    if problems:
        return _problems(ctx, problems, sizes)
    env = {**{n: np.asarray(v) for n, v in theirs.items()}, **sizes}
    expected = {name: interpreter.eval(e.expr, env) for name, e in reversal.outputs.items()}
    problems += [
        f"{e.source} of {call} has shape {np.shape(expected[name])}, {name} has "
        f"{np.shape(outputs[name])}"
        for name, e in reversal.outputs.items()
        if np.shape(expected[name]) != np.shape(outputs[name])
    ]
    if problems:
        return _problems(ctx, problems, sizes)
    found = [compare(n, outputs[n], expected[n], ctx.tolerance) for n in reversal.outputs]
    bad = worst(found)
    if bad is None or bad.ok:
        return Measurement(True, discrepancy=bad)
    source = reversal.outputs[bad.name].source
    return Measurement(
        False,
        f"{bad.describe()}: {bad.name} should equal {source} of {call} {ctx.label(sizes)}",
        bad,
    )


def _directions(ctx: CheckContext, inputs: Arrays, case: int) -> dict[tuple[str, int], Array]:
    """The seeded random directions v, ``DIRECTIONS`` per differentiable input."""
    rng = case_rng(ctx.seed, ctx.spec.id, case, "directions")
    return {
        (name, k): rng.normal(0.0, 1.0, np.shape(inputs[name]))
        for name in ctx.spec.differentiable
        for k in range(DIRECTIONS)
    }


def _largest_case(spec: Spec) -> int:
    return max(range(len(spec.sizes)), key=lambda i: np.prod(list(spec.sizes[i].values())))


@dataclass(frozen=True)
class CheckKind:
    """A named check, when it applies, and what it runs per case."""

    name: str
    run: Callable[[CheckContext, int, Sizes], Measurement]
    applies: Callable[[Spec], bool]
    description: str


CHECKS: dict[str, CheckKind] = {
    kind.name: kind
    for kind in (
        CheckKind(
            "shape", check_shape, lambda s: True, "every output present, with the spec's shape"
        ),
        CheckKind("dtype", check_dtype, lambda s: True, "outputs in the input dtype"),
        CheckKind("numeric", check_numeric, lambda s: True, "outputs match the oracle"),
        CheckKind(
            "gradient",
            check_gradient,
            lambda s: bool(s.differentiable),
            "VJP matches complex-step derivatives",
        ),
        CheckKind(
            "invariants",
            check_invariants,
            lambda s: bool(s.invariants),
            "the spec's invariants hold",
        ),
        CheckKind(
            "stability",
            check_stability,
            lambda s: bool(s.stability),
            "finite and correct at |z| ≈ 1e3",
        ),
        CheckKind(
            "inputs_unmodified", check_inputs_unmodified, lambda s: True, "inputs left as they were"
        ),
        CheckKind(
            "chunking",
            check_chunking,
            lambda s: s.chunking is not None,
            "two chunks with the carried state equal one run",
        ),
        CheckKind(
            "reversal",
            check_reversal,
            lambda s: s.reversal is not None,
            "equals the backend's own kernel on time-reversed inputs",
        ),
    )
}
"""Every check kind by name, in report order."""
