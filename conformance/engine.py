"""The engine: runs check kinds for (spec, backend, dtype) and returns plain results.

It knows nothing of pytest or the terminal: the pytest suite and the command line
are thin front ends over :func:`run_check` and :func:`plan`, so a result means the
same thing wherever it was produced. A backend that raises never stops the run: its
exception becomes an ``error`` result naming the backend.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from conformance import diagnosis
from conformance.checks import CHECKS, CheckContext, Measurement
from conformance.checks.equivalent import equivalent_tolerances
from conformance.diagnosis import DIAGNOSED
from conformance.errors import NotDeclared, UsageError
from conformance.oracle.evaluate import Oracle
from conformance.plugins.backend import Backend
from conformance.results.model import CheckResult, Status
from conformance.spec.model import Spec
from conformance.typing import DTYPES


@dataclass(frozen=True)
class CheckRequest:
    """One cell of the conformance matrix."""

    spec: Spec
    backend: Backend
    dtype: str
    check: str

    @property
    def id(self) -> str:
        """``lstm.forget_gate-fused-gate-float32-gradient``: the pytest id."""
        return f"{self.spec.id}-{self.backend.name}-{self.dtype}-{self.check}"


def plan(
    specs: Iterable[Spec],
    backends: Iterable[Backend],
    dtypes: Iterable[str] = DTYPES,
    checks: Iterable[str] | None = None,
) -> list[CheckRequest]:
    """Every applicable (spec, backend, dtype, check), spec-major, in report order.

    Raises UsageError when nothing would be checked: a green run that checked nothing
    is the worst failure a conformance harness can have.
    """
    backends, specs, dtypes = list(backends), list(specs), list(dtypes)
    names = list(checks) if checks else list(CHECKS)
    for name in names:
        if name not in CHECKS:
            raise UsageError(f"unknown check {name!r}; known: {', '.join(CHECKS)}")
    for dtype in dtypes:
        if dtype not in DTYPES:
            raise UsageError(f"unknown dtype {dtype!r}; known: {', '.join(DTYPES)}")
    if not backends:
        raise UsageError(
            "no backend selected: install or name a backend plugin (--backend, --plugin), "
            "or unblock one (CONFORMANCE_BLOCK_PLUGINS)"
        )
    if not specs:
        raise UsageError("no spec selected")
    return [
        CheckRequest(spec, backend, dtype, name)
        for spec in specs
        for backend in backends
        for dtype in dtypes
        for name in names
        if CHECKS[name].applies(spec)
    ]


def run_check(
    request: CheckRequest, oracle: Oracle, *, seed: int = 0, diagnose: bool = True
) -> CheckResult:
    """Run one check over every case of the spec: the first failure, or else the worst pass.

    A failing numeric or gradient check is diagnosed (``diagnose=False`` skips it): the
    variants of the spec that explain it are named in the message and kept in
    ``extra["diagnosis"]``.
    """
    spec, backend, dtype, check = request.spec, request.backend, request.dtype, request.check
    result = CheckResult(
        spec=spec.id,
        backend=backend.name,
        backend_version=backend.version,
        dtype=dtype,
        check=check,
        status=Status.PASS,
        seed=seed,
    )
    _describe_tolerance(result, spec, dtype, check)
    kernel = backend.kernel(spec.id)
    if kernel is None:
        result.status = Status.NOT_IMPLEMENTED
        result.message = f"{backend.name} has no kernel for {spec.id}"
        return result
    start = time.perf_counter()
    ctx = CheckContext(spec, backend, kernel, dtype, seed, oracle)
    worst: Measurement | None = None
    notes: dict[str, Any] = {}  # every case's extra; the worst case's own win below
    for case, sizes in enumerate(spec.sizes):
        try:
            measured = CHECKS[check].measure(ctx, case, sizes)
        except (NotDeclared, NotImplementedError) as exc:
            result.status, result.message = Status.NOT_IMPLEMENTED, str(exc) or "not implemented"
            break
        except Exception as exc:  # the backend's fault, reported, never fatal
            result.status = Status.ERROR
            result.message = f"{backend.name} raised {_describe_exception(exc)} {ctx.label(sizes)}"
            result.sizes, result.case = dict(sizes), case
            break
        notes.update(measured.extra)
        if measured.seconds is not None:
            result.seconds = measured.seconds
        if not measured.ok:
            result.status, result.message = Status.FAIL, measured.message
            worst = measured
            result.sizes, result.case = dict(sizes), case
            break
        if measured.discrepancy is not None and (
            worst is None
            or worst.discrepancy is None
            or measured.discrepancy.tol_fraction > worst.discrepancy.tol_fraction
        ):
            worst = measured
            result.sizes, result.case = dict(sizes), case
    result.extra.update(notes)
    if worst is not None:
        result.extra.update(worst.extra)
    if worst is not None and worst.discrepancy is not None:
        d = worst.discrepancy
        result.max_abs, result.max_rel, result.tol_fraction = d.max_abs, d.max_rel, d.tol_fraction
        result.worst, result.rounding = d.where, d.rounding
        if result.tolerance is not None and d.limit:
            result.tolerance["limit"] = d.limit  # twice it where two rounded results meet
    if diagnose and worst is not None and result.status is Status.FAIL:
        _diagnose(result, worst, ctx, oracle)
    result.duration = time.perf_counter() - start
    return result


def _diagnose(result: CheckResult, failed: Measurement, ctx: CheckContext, oracle: Oracle) -> None:
    """Name the variant of the spec that explains ``failed``, if one does."""
    if failed.evidence is None or result.check not in DIAGNOSED:
        return
    try:
        outputs, gradients = equivalent_tolerances(ctx, failed.evidence)
        found = diagnosis.diagnose(
            result.check,
            ctx.spec,
            oracle.specs,
            ctx.dtype,
            failed.evidence,
            seed=ctx.seed,
            tolerance=outputs,
            gradient_tolerance=gradients,
        )
    except Exception as exc:  # the harness's own fault: say so, keep the verdict
        result.extra["diagnosis"] = {"error": _describe_exception(exc)}
        return
    if found is None:
        return
    result.extra["diagnosis"] = found.to_dict()
    if found.matches:
        result.message += f" — {found.sentence()}"


def run_requests(
    requests: Iterable[CheckRequest],
    oracle: Oracle,
    *,
    seed: int = 0,
    progress: Callable[[CheckRequest, CheckResult], None] | None = None,
    diagnose: bool = True,
) -> Iterator[CheckResult]:
    """Run every request in order, yielding each result as soon as it exists."""
    for request in requests:
        result = run_check(request, oracle, seed=seed, diagnose=diagnose)
        if progress is not None:
            progress(request, result)
        yield result


def _describe_tolerance(result: CheckResult, spec: Spec, dtype: str, check: str) -> None:
    """The tolerance the check applies, in the result: its limit, floors, units, reason."""
    tol = (spec.gradient_tolerance if check == "gradient" else spec.tolerance)[dtype]
    result.tolerance = {"limit": tol.limit, "atol": tol.atol, "rtol": tol.rtol}
    result.units = f"expected {dtype} rounding"
    result.tolerance_reason = tol.reason


def _describe_exception(exc: BaseException) -> str:
    """``ValueError: shapes (3,4) and (5,) not aligned (at fused_gate.py:41)``."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" (at {frames[-1].filename.rsplit('/', 1)[-1]}:{frames[-1].lineno})" if frames else ""
    return f"{type(exc).__name__}: {exc}{where}"
