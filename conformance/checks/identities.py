"""The recurrence-identity checks: a backend against itself, as the spec's ``chunking``
and ``reversal`` fields declare."""

from __future__ import annotations

import numpy as np

from conformance.checks.calls import Call
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
from conformance.typing import Arrays, Sizes


def _chunks(ctx: CheckContext, case: int, sizes: Sizes) -> tuple[int, Arrays, Arrays] | None:
    """(k, the whole inputs, the first chunk's inputs), or None when T < 2 (no split)."""
    chunking = ctx.spec.chunking
    assert chunking is not None
    zeroed = [state for state in chunking.carry if state in ctx.kernel.zero_inputs]
    if zeroed:
        reason = f": {ctx.kernel.reason}" if ctx.kernel.reason else ""
        raise NotDeclared(
            f"the chunking identity carries {', '.join(zeroed)} into the second chunk, but "
            f"{ctx.backend.name} takes {', '.join(f'{n} = 0' for n in zeroed)} only{reason}"
        )
    T = sizes[chunking.time]
    if T < 2:
        return None  # one step cannot be split; the loader ensures a case with T ≥ 2
    k = int(case_rng(ctx.seed, ctx.spec.id, case, "chunking").integers(1, T))
    inputs = ctx.inputs(case, sizes)
    sequences = [s.name for s in ctx.spec.input_symbols if s.role == "input"]
    return k, inputs, {**inputs, **{n: inputs[n][:k] for n in sequences}}


def plan_chunking(ctx: CheckContext, case: int, sizes: Sizes) -> list[Call]:
    """One run and the first chunk (the second chunk needs the first's carried state)."""
    chunks = _chunks(ctx, case, sizes)
    return [] if chunks is None else [ctx.forward_call(chunks[1]), ctx.forward_call(chunks[2])]


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
    chunks = _chunks(ctx, case, sizes)
    if chunks is None:
        return Measurement(True)
    k, inputs, first_inputs = chunks
    T = sizes[chunking.time]
    sequences = [s.name for s in ctx.spec.input_symbols if s.role == "input"]
    whole = ctx.forward(inputs)
    first = ctx.forward(first_inputs)
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


def _reversal_inputs(ctx: CheckContext, case: int, sizes: Sizes) -> tuple[Arrays, Arrays]:
    """(this spec's inputs, the other spec's inputs the identity derives from them);
    NotDeclared when the backend cannot run the other spec on them."""
    reversal = ctx.spec.reversal
    assert reversal is not None
    other = ctx.backend.kernel(reversal.spec)
    if other is None:
        raise NotDeclared(
            f"{ctx.backend.name} has no kernel for {reversal.spec}, which the reversal "
            f"identity of {ctx.spec.id} runs"
        )
    if ctx.dtype not in other.dtypes:
        raise NotDeclared(
            f"{ctx.backend.name} declares {reversal.spec}, which the reversal identity of "
            f"{ctx.spec.id} runs, for {', '.join(other.dtypes)} only"
        )
    inputs = ctx.inputs(case, sizes)
    interpreter, env = Interpreter(FUNCTIONS, {}), {**inputs, **sizes}
    given = {
        name: np.array(interpreter.eval(reversal.inputs[name].expr, env))
        if name in reversal.inputs
        else inputs[name].copy()
        for name in ctx.oracle.specs[reversal.spec].inputs
    }
    nonzero = [n for n in other.zero_inputs if n in given and np.any(given[n])]
    if nonzero:
        raise NotDeclared(
            f"the reversal identity of {ctx.spec.id} runs {ctx.backend.name}'s {reversal.spec} "
            f"with {', '.join(nonzero)} ≠ 0, which it declares it does not take"
        )
    return inputs, given


def plan_reversal(ctx: CheckContext, case: int, sizes: Sizes) -> list[Call]:
    """This spec's forward, and the other spec's on the derived inputs."""
    assert ctx.spec.reversal is not None
    inputs, given = _reversal_inputs(ctx, case, sizes)
    return [ctx.forward_call(inputs), Call(ctx.spec.reversal.spec, "forward", (dict(given),))]


def check_reversal(ctx: CheckContext, case: int, sizes: Sizes) -> Measurement:
    """Outputs equal the backend's own kernel for another spec on transformed inputs.

    For the BiLSTM: the backward direction equals the backend's ``lstm.sequence`` run on
    ``flip(xs)`` with the backward weights, flipped back. Not implemented when the
    backend has no kernel for that spec.
    """
    reversal = ctx.spec.reversal
    assert reversal is not None
    ours, theirs_call = plan_reversal(ctx, case, sizes)
    outputs, theirs = (reply.values for reply in ctx.call_all([ours, theirs_call]))
    inputs = ctx.inputs(case, sizes)
    problems = shape_problems(ctx, outputs, sizes)
    interpreter = Interpreter(FUNCTIONS, {})
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
