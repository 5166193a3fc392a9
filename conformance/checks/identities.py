"""The recurrence-identity checks: a backend against itself, as the spec's ``chunking``
and ``reversal`` fields declare."""

from __future__ import annotations

import numpy as np

from conformance.checks.compare import compare, worst
from conformance.checks.context import (
    CheckContext,
    Measurement,
    shape_problems,
    verdict_from_problems,
)
from conformance.errors import NotDeclared
from conformance.lang.functions import FUNCTIONS
from conformance.lang.interpreter import Interpreter
from conformance.lang.parse import free_names
from conformance.spec.draw import case_rng
from conformance.typing import Sizes


def check_chunking(ctx: CheckContext, case: int, sizes: Sizes) -> Measurement:
    """Two chunks, the second started from the first's carried state, equal one run.

    With every role-"input" input split at a seeded step k (0 < k < T) along time:
    stacked outputs of the chunks, concatenated, equal one run's, and so do the second
    chunk's carried outputs (h_T, c_T). Both sides are the backend's own, each a rounded
    result, so they may differ by twice the numeric bound of one run; a kernel that
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
    problems = shape_problems(ctx, whole, sizes)
    problems += [
        f"{p} (first chunk)" for p in shape_problems(ctx, first, {**sizes, chunking.time: k})
    ]
    if not problems:
        carried = {
            state: np.asarray(first[out]).astype(inputs[state].dtype, copy=False)
            for state, out in chunking.carry.items()
        }
        second = ctx.forward({**inputs, **{n: inputs[n][k:] for n in sequences}, **carried})
        rest = {**sizes, chunking.time: T - k}
        problems += [f"{p} (second chunk)" for p in shape_problems(ctx, second, rest)]
    how = f"two chunks ({chunking.time} = {k} + {T - k}" + "".join(
        f", {state} ← {out}" for state, out in chunking.carry.items()
    )
    if problems:
        return Measurement(False, f"{how}): {'; '.join(problems)} {ctx.label(sizes)}")
    rounding = ctx.reference_rounding(case, inputs)  # of one run; each side carries its own
    found = [
        compare(
            n,
            np.concatenate([first[n], second[n]]),
            whole[n],
            ctx.allowance(rounding.get(n, 0.0), results=2),
        )
        for n in chunking.stacked
    ]
    found += [
        compare(out, second[out], whole[out], ctx.allowance(rounding.get(out, 0.0), results=2))
        for out in chunking.carry.values()
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
        raise NotDeclared(
            f"{ctx.backend.name} has no kernel for {reversal.spec}, which the reversal "
            f"identity of {ctx.spec.id} runs"
        )
    inputs = ctx.inputs(case, sizes)
    outputs = ctx.forward(inputs)
    problems = shape_problems(ctx, outputs, sizes)
    interpreter, env = Interpreter(FUNCTIONS, {}), {**inputs, **sizes}
    given = {
        name: np.array(interpreter.eval(reversal.inputs[name].expr, env))
        if name in reversal.inputs
        else inputs[name].copy()
        for name in ctx.oracle.specs[reversal.spec].inputs
    }
    theirs = other.forward(given)
    renamed = [f"{k}={e.source}" for k, e in reversal.inputs.items() if e.source != k]
    call = f"{ctx.backend.name}'s {reversal.spec}({', '.join(renamed)})"
    needed = sorted({n for e in reversal.outputs.values() for n in free_names(e.expr)} - set(sizes))
    problems += [f"{call} returned no {n!r}" for n in needed if n not in theirs]
    if problems:
        return verdict_from_problems(ctx, problems, sizes)
    env = {**{n: np.asarray(v) for n, v in theirs.items()}, **sizes}
    expected = {name: interpreter.eval(e.expr, env) for name, e in reversal.outputs.items()}
    problems += [
        f"{e.source} of {call} has shape {np.shape(expected[name])}, {name} has "
        f"{np.shape(outputs[name])}"
        for name, e in reversal.outputs.items()
        if np.shape(expected[name]) != np.shape(outputs[name])
    ]
    if problems:
        return verdict_from_problems(ctx, problems, sizes)
    rounding = ctx.reference_rounding(case, inputs)  # each side carries its own rounding
    found = [
        compare(n, outputs[n], expected[n], ctx.allowance(rounding.get(n, 0.0), results=2))
        for n in reversal.outputs
    ]
    bad = worst(found)
    if bad is None or bad.ok:
        return Measurement(True, discrepancy=bad)
    source = reversal.outputs[bad.name].source
    return Measurement(
        False,
        f"{bad.describe()}: {bad.name} should equal {source} of {call} {ctx.label(sizes)}",
        bad,
    )
