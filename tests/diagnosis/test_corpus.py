"""The diagnosis measured on a corpus of broken backends (``diagnosis_corpus.py``): every
failure names each wrong input or output, and the share of bugs the diagnosis names is
printed and held above a floor."""

from __future__ import annotations

import numpy as np
import pytest
from diagnosis_corpus import MUTANTS, Mutant

from conformance import Backend, Kernel
from conformance.checks import CheckContext
from conformance.checks.compare import Allowance, compare
from conformance.checks.context import largest
from conformance.checks.gradient import forward_level, gradient_rounding
from conformance.engine import CheckRequest, run_check
from conformance.results.model import CheckResult, Status

NAMED_FLOOR = 0.8
"""The share of the corpus the diagnosis must name (46 of 48 today: all but the two
marked unnameable)."""


_RESULTS: dict[str, CheckResult] = {}


def run_mutant(mutant: Mutant, catalog, oracle) -> CheckResult:
    """The mutant's check, run once per session."""
    if mutant.name not in _RESULTS:
        backend = Backend(mutant.name, {mutant.spec: Kernel(mutant.forward, mutant.vjp)})
        request = CheckRequest(catalog.get(mutant.spec), backend, mutant.dtype, mutant.check)
        _RESULTS[mutant.name] = run_check(request, oracle)
    return _RESULTS[mutant.name]


def diagnosis_of(result: CheckResult) -> str:
    """The diagnosis sentence of a failure message, or ""."""
    return result.message.split(" — ", 1)[1] if " — " in result.message else ""


def names_the_bug(mutant: Mutant, result: CheckResult) -> bool:
    return any(name in diagnosis_of(result) for name in mutant.names)


def wrong_by_hand(mutant: Mutant, result: CheckResult, catalog, oracle) -> set[str]:
    """The outputs (numeric) or gradients (gradient) that differ from the oracle on the
    failing case, found apart from the check (the references come from the memo)."""
    spec = catalog.get(mutant.spec)
    kernel = Kernel(mutant.forward, mutant.vjp)
    ctx = CheckContext(
        spec, Backend(mutant.name, {spec.id: kernel}), kernel, mutant.dtype, 0, oracle
    )
    case = result.case
    assert case is not None
    inputs = ctx.inputs(case, spec.sizes[case])
    if mutant.check == "numeric":
        got, want = mutant.forward(dict(inputs)), ctx.reference(case, inputs)
        rounding = ctx.reference_rounding(case, inputs)
        allowed = {n: ctx.allowance(rounding.get(n, 0.0)) for n in want}
    else:
        assert mutant.vjp is not None
        cotangents = ctx.cotangents(case, spec.sizes[case])
        got = mutant.vjp(dict(inputs), cotangents)
        terms = ctx.reference_vjp_terms(case, inputs, cotangents)
        want = {n: t.value for n, t in terms.items()}
        level = forward_level(ctx.reference(case, inputs), ctx.reference_rounding(case, inputs))
        scale = max(largest(w) for w in want.values())
        tol = spec.gradient_tolerance[mutant.dtype]
        allowed = {
            n: Allowance(gradient_rounding(t, level), tol, mutant.dtype, 1, scale)
            for n, t in terms.items()
        }
    return {n for n in want if not compare(n, np.asarray(got[n]), want[n], allowed[n]).ok}


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.name)
def test_every_failure_names_each_wrong_input(mutant, catalog, oracle):
    result = run_mutant(mutant, catalog, oracle)
    assert result.status is Status.FAIL, result.message
    wrong = wrong_by_hand(mutant, result, catalog, oracle)
    assert wrong, "the mutant should differ from the oracle on its failing case"
    named = result.message.split(" — ")[0]
    if mutant.check == "gradient":
        reported = {v["input"] for v in result.extra["gradients"] if not v["ok"]}
        assert reported == wrong
        assert all(f"'{n}'" in named for n in wrong), named
    else:
        assert all(f"{n}[" in named or f"{n} " in named for n in wrong), (wrong, named)


@pytest.mark.parametrize("mutant", [m for m in MUTANTS if m.names], ids=lambda m: m.name)
def test_diagnosis_names_the_bug(mutant, catalog, oracle):
    result = run_mutant(mutant, catalog, oracle)
    assert names_the_bug(mutant, result), result.message
    diagnosis = result.extra["diagnosis"]
    assert diagnosis["matches"] and diagnosis["tried"] <= 200
    assert diagnosis["matches"][0]["tol_fraction"] <= 1


def test_diagnosis_share_of_the_corpus_is_printed_and_above_the_floor(catalog, oracle, capsys):
    named = [m.name for m in MUTANTS if names_the_bug(m, run_mutant(m, catalog, oracle))]
    share = len(named) / len(MUTANTS)
    with capsys.disabled():
        print(f"\ndiagnosis: {len(named)}/{len(MUTANTS)} ({share:.0%}) named")
    assert share >= NAMED_FLOOR
    unnamed = {m.name for m in MUTANTS if not m.names}
    assert not unnamed & set(named)  # a bug marked unnameable that gets named: update the corpus
