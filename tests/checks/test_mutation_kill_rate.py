"""The kill rate of the mutation corpus (``tests/mutants``): every mutant of the built-in
NumPy backends is caught by the check kind it names, at every size profile and dtype it
names, and the correct kernel it was derived from passes that same check there.

A surviving mutant is a bug of the harness (a check too weak, a tolerance too loose); a
correct kernel flagged is one too (a check too strict). The test prints the kill rate and
the narrowest margin: how far past its limit the weakest numeric or gradient catch is, and
how close to its limit the closest correct pass comes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np
import pytest

from conformance import Backend, Kernel
from conformance.engine import CheckRequest, run_check
from conformance.results.model import CheckResult, Status
from conformance.spec.draw import shape_of
from conformance.spec.model import Spec
from conformance.spec.profiles import SizeChoice, at_sizes

mutants = pytest.importorskip("mutants", reason="tests/mutants is not in this checkout")

MARGIN_CHECKS = ("numeric", "gradient")
"""The checks whose catches the margin line measures in units of the tolerance."""


@dataclass(frozen=True)
class Trial:
    """One mutant at one profile and dtype: its result, and the correct kernel's."""

    mutant: mutants.Mutant
    profile: str
    dtype: str
    result: CheckResult
    correct: CheckResult

    @property
    def where(self) -> str:
        """``numeric, float32, realistic``: the check, dtype and profile of the trial."""
        return f"{self.mutant.caught_by}, {self.dtype}, {self.profile}"

    @property
    def label(self) -> str:
        return f"{self.mutant.id} ({self.where})"

    @property
    def caught(self) -> bool:
        """Failed, or (for a mutant whose bug is a crash) ended in an error."""
        status = self.result.status
        return status is Status.FAIL or (self.mutant.crash and status is Status.ERROR)


def _elements(spec: Spec, sizes: dict[str, int]) -> int:
    return sum(int(np.prod(shape_of(s, sizes))) for s in spec.input_symbols)


def at_profile(spec: Spec, profile: str) -> Spec:
    """``spec`` at the profile's sizes. At ``realistic`` only its smallest realistic case
    (by input elements), to keep the suite's time bounded: every realistic case of a
    spec has the properties the real-size mutants need (B past 8 and never a multiple of
    it, T past 8, trees of more than 32 nodes)."""
    if profile == "quick":
        return spec
    realistic = at_sizes(spec, SizeChoice("realistic"))
    smallest = min(realistic.sizes, key=lambda sizes: _elements(spec, sizes))
    return replace(realistic, sizes=(smallest,))


def run_all(catalog, oracle) -> list[Trial]:
    """Every mutant at every profile and dtype it names, with the correct kernel's result
    for the same (spec, check, dtype, profile) (each of those run once)."""
    trials: list[Trial] = []
    correct: dict[tuple, CheckResult] = {}
    for m in mutants.corpus():
        for profile in m.profiles:
            spec = at_profile(catalog.get(m.spec), profile)
            for dtype in m.dtypes or ("float64",):
                request = CheckRequest(spec, m.backend(spec), dtype, m.caught_by)
                result = run_check(request, oracle, diagnose=False)
                key = (m.source, m.spec, m.companions, m.caught_by, dtype, profile)
                if key not in correct:
                    original = CheckRequest(spec, m.original_backend(), dtype, m.caught_by)
                    correct[key] = run_check(original, oracle, diagnose=False)
                trials.append(Trial(m, profile, dtype, result, correct[key]))
    return trials


def margin_line(trials: list[Trial]) -> str:
    """``narrowest margin: weakest catch 88× the tolerance (…), closest correct pass 0.35
    (…)``: the smallest tol_fraction of a numeric or gradient catch by its values (not
    by a shape or dtype), and the largest tol_fraction of any correct pass."""
    catches = [
        t
        for t in trials
        if t.caught
        and t.mutant.caught_by in MARGIN_CHECKS
        and t.result.tol_fraction is not None
        and t.result.tol_fraction > 1
    ]
    passes = [t for t in trials if t.correct.ok and t.correct.tol_fraction is not None]
    parts = []
    if catches:
        weakest = min(catches, key=lambda t: t.result.tol_fraction or 0.0)
        parts.append(
            f"weakest catch {weakest.result.tol_fraction:.3g}× the tolerance "
            f"({weakest.mutant.id}, {weakest.where})"
        )
    if passes:
        closest = max(passes, key=lambda t: t.correct.tol_fraction or 0.0)
        parts.append(
            f"closest correct pass {closest.correct.tol_fraction:.2g} "
            f"({closest.mutant.source} {closest.mutant.spec}, {closest.where})"
        )
    return "narrowest margin: " + ", ".join(parts)


def test_every_mutant_is_caught_and_no_correct_kernel_is(catalog, oracle, capsys):
    start = time.perf_counter()
    trials = run_all(catalog, oracle)
    seconds = time.perf_counter() - start
    corpus = mutants.corpus()
    survivors = [t for t in trials if not t.caught]
    killed = len({t.mutant.id for t in trials} - {t.mutant.id for t in survivors})
    crashes = [t.label for t in trials if t.caught and t.result.status is Status.ERROR]
    with capsys.disabled():
        print(
            f"\nkill rate: {killed}/{len(corpus)} ({killed / len(corpus):.0%}) "
            f"over {len(trials)} runs in {seconds:.0f} s"
        )
        print(margin_line(trials))
        if crashes:
            print(f"caught by an error (their bug is a crash): {', '.join(crashes)}")
    flagged = [
        f"{t.mutant.source} {t.mutant.spec} ({t.where}): "
        f"{t.correct.status.value}: {t.correct.message}"
        for t in trials
        if t.correct.status is not Status.PASS
    ]
    assert not flagged, "correct built-in kernels flagged:\n" + "\n".join(dict.fromkeys(flagged))
    assert not survivors, "surviving mutants:\n" + "\n".join(
        f"{t.label}: {t.result.status.value}: {t.result.message or '(no message)'}"
        for t in survivors
    )


def test_the_corpus_covers_every_family_and_check_kind():
    from conformance.checks import CHECKS

    corpus = mutants.corpus()
    assert len(corpus) >= 45
    assert {m.spec.split(".")[0] for m in corpus} == {"lstm", "bilstm", "ctc", "rnn", "slstm"}
    assert {m.caught_by for m in corpus} == set(CHECKS)
    assert any(m.profiles == mutants.REALISTIC for m in corpus)


@pytest.mark.parametrize(
    "mutant",
    [m for m in mutants.corpus() if m.caught_by in ("layout", "stateless")],
    ids=lambda m: m.id,
)
def test_layout_and_stateless_bugs_pass_numeric(mutant, catalog, oracle):
    """A kernel right only for C-contiguous inputs, or one that keeps weights or state by
    shape between calls, gets every ordinary call right: only the layout and stateless
    checks catch it."""
    spec = catalog.get(mutant.spec)
    for check, status in (("numeric", Status.PASS), (mutant.caught_by, Status.FAIL)):
        request = CheckRequest(spec, mutant.backend(spec), "float64", check)
        result = run_check(request, oracle, diagnose=False)
        assert result.status is status, f"{check}: {result.message}"


@pytest.mark.parametrize(
    "mutant",
    [m for m in mutants.corpus() if "quick" not in m.profiles],
    ids=lambda m: m.id,
)
def test_real_size_bugs_pass_the_quick_sizes(mutant, catalog, oracle):
    """What the realistic profile is for: these bugs hide at every quick case."""
    spec = catalog.get(mutant.spec)
    for dtype in mutant.dtypes or ("float64",):
        request = CheckRequest(spec, mutant.backend(spec), dtype, mutant.caught_by)
        result = run_check(request, oracle, diagnose=False)
        assert result.status is Status.PASS, result.message


def test_a_doubled_ctc_loss_fails_at_the_largest_realistic_case(catalog, oracle):
    """The rounding estimate of a logsumexp recursion once grew 2× a frame (1e24 u at T=100)."""
    spec = at_sizes(catalog.get("ctc.loss"), SizeChoice("realistic"))
    spec = replace(spec, sizes=spec.sizes[:1])
    forward = mutants.builtin("ctc.loss").forward
    kernel = Kernel(lambda a: {"loss": 2 * forward(a)["loss"]})
    backend = Backend("doubled-loss", {"ctc.loss": kernel})
    result = run_check(CheckRequest(spec, backend, "float64", "numeric"), oracle, diagnose=False)
    assert result.status is Status.FAIL, result.message


@pytest.mark.parametrize(
    "mutant",
    [
        m
        for m in mutants.corpus()
        if m.spec == "ctc.loss" and m.caught_by in ("numeric", "gradient", "layout", "stateless")
    ],
    ids=lambda m: m.id,
)
def test_ctc_loss_mutants_are_caught_at_realistic_sizes_in_float32(mutant, catalog, oracle):
    spec = at_profile(catalog.get(mutant.spec), "realistic")
    request = CheckRequest(spec, mutant.backend(spec), "float32", mutant.caught_by)
    result = run_check(request, oracle, diagnose=False)
    assert result.status is Status.FAIL, result.message
