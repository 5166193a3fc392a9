"""The engine: runs check kinds for (spec, backend, dtype) and returns plain results.

It knows nothing of pytest or the terminal: the pytest suite and the command line
are thin front ends over :func:`run_check` and :func:`plan`, so a result means the
same thing wherever it was produced. The kernels run where a
:class:`~conformance.isolation.KernelHost` puts them (a worker process per backend in
both front ends). A backend that raises, returns junk, dies or hangs never stops the
run: that becomes an ``error`` result naming the backend; an exception of the
harness's own code is an ``error`` that says it is the harness's.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from conformance import diagnosis
from conformance.checks import CHECKS, CheckContext, CheckKind, Measurement
from conformance.checks.context import restrictions
from conformance.checks.equivalent import equivalent_tolerances
from conformance.diagnosis import DIAGNOSED
from conformance.engine.shrinking import Measured, shrink_failure
from conformance.errors import (
    KernelFault,
    KernelRaised,
    KernelTimeout,
    NotDeclared,
    UsageError,
    WorkerLost,
)
from conformance.isolation import InProcess, KernelHost
from conformance.isolation.execute import describe_exception
from conformance.oracle.evaluate import Oracle
from conformance.plugins.backend import Backend
from conformance.results.model import CheckResult, Status
from conformance.spec.model import Spec
from conformance.typing import DTYPES, Sizes


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
    requests = [
        CheckRequest(spec, backend, dtype, name)
        for spec in specs
        for backend in backends
        for dtype in dtypes
        for name in names
        if CHECKS[name].applies(spec)
    ]
    if not any(implemented(r) for r in requests):
        shown = ", ".join(s.id for s in specs[:5]) + (", …" if len(specs) > 5 else "")
        raise UsageError(
            f"nothing to check: no selected backend ({', '.join(b.name for b in backends)}) "
            f"implements any selected spec ({shown}) in {', '.join(dtypes)}"
        )
    return requests


def implemented(request: CheckRequest) -> bool:
    """Whether the backend has a kernel for the spec that declares the dtype."""
    kernel = request.backend.kernel(request.spec.id)
    return kernel is not None and request.dtype in kernel.dtypes


def blank_result(request: CheckRequest, *, seed: int = 0) -> CheckResult:
    """The result of ``request`` before anything ran: a pass, with its tolerance."""
    spec, backend, dtype, check = request.spec, request.backend, request.dtype, request.check
    result = CheckResult(
        spec=spec.id,
        backend=backend.name,
        backend_version=backend.version,
        dtype=dtype,
        check=check,
        status=Status.PASS,
        seed=seed,
        profile=spec.profile,
    )
    _describe_tolerance(result, spec, dtype, check)
    return result


def run_check(
    request: CheckRequest,
    oracle: Oracle,
    *,
    seed: int = 0,
    diagnose: bool = True,
    host: KernelHost | None = None,
    shrink: bool = False,
) -> CheckResult:
    """Run one check over every case of the spec: the first failure, or else the worst pass.

    A failing numeric or gradient check is diagnosed (``diagnose=False`` skips it): the
    variants of the spec that explain it are named in the message and kept in
    ``extra["diagnosis"]``. With ``shrink``, a failure is first shrunk to the smallest
    sizes at which it still fails (:mod:`~conformance.engine.shrinking`), and the result
    is that case's, at explicit sizes its re-run command gives. ``host`` is where the
    kernels run (a :class:`~conformance.isolation.WorkerPool`); by default in this
    process. What a kernel does not declare (a dtype) is not implemented, with the
    kernel's reason.
    """
    start = time.perf_counter()
    host = host or InProcess()
    result, failed, ctx = _measure(request, oracle, seed, host)
    if shrink and result.status is Status.FAIL:
        smaller = shrink_failure(
            request.spec,
            result,
            lambda spec: _measure(replace(request, spec=spec), oracle, seed, host),
        )
        if smaller is not None:
            result, failed, ctx = smaller
    if diagnose and failed is not None and ctx is not None and result.status is Status.FAIL:
        _diagnose(result, failed, ctx, oracle)
    result.duration = time.perf_counter() - start
    return result


def _measure(request: CheckRequest, oracle: Oracle, seed: int, host: KernelHost) -> Measured:
    """The check over every case, undiagnosed: its result, the failing measurement (if it
    failed) and the context it ran in (None when nothing ran)."""
    spec, backend, dtype, check = request.spec, request.backend, request.dtype, request.check
    result = blank_result(request, seed=seed)
    kernel = backend.kernel(spec.id)
    if kernel is None:
        result.status = Status.NOT_IMPLEMENTED
        result.message = f"{backend.name} has no kernel for {spec.id}"
        return result, None, None
    if dtype not in kernel.dtypes:
        result.status = Status.NOT_IMPLEMENTED
        result.message = f"{backend.name} declares {spec.id} for {', '.join(kernel.dtypes)} only"
        result.message += f": {kernel.reason}" if kernel.reason else ""
        return result, None, None
    if restricted := restrictions(kernel):
        result.extra["restrictions"] = restricted
    start = time.perf_counter()
    ctx = CheckContext(spec, backend, kernel, dtype, seed, oracle, host.calls(backend))
    worst: Measurement | None = None
    try:
        _prefetch(ctx, CHECKS[check])
    except KernelTimeout as exc:  # the check's time is spent: the case in flight's error
        case = exc.case or 0
        _record_error(result, exc, ctx, check, case, spec.sizes[case])
        result.duration = time.perf_counter() - start
        return result, None, ctx
    except KernelFault:  # the cases run one by one, and the first to fail says how
        pass
    notes: dict[str, Any] = {}  # every case's extra; the worst case's own win below
    for case, sizes in enumerate(spec.sizes):
        try:
            measured = CHECKS[check].measure(ctx, case, sizes)
        except NotDeclared as exc:
            result.status, result.message = Status.NOT_IMPLEMENTED, str(exc) or "not implemented"
            break
        except Exception as exc:  # reported against its culprit, never fatal
            _record_error(result, exc, ctx, check, case, sizes)
            break
        notes.update(measured.extra)
        if measured.seconds is not None:
            result.seconds = measured.seconds
        if measured.message and measured.ok:
            result.message = measured.message
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
    result.duration = time.perf_counter() - start
    return result, worst if result.status is Status.FAIL else None, ctx


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
        result.extra["diagnosis"] = {"error": describe_exception(exc)}
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
    host: KernelHost | None = None,
    shrink: bool = False,
) -> Iterator[CheckResult]:
    """Run every request in order, yielding each result as soon as it exists (failures
    shrunk with ``shrink``, see :func:`run_check`)."""
    host = host or InProcess()
    for request in requests:
        result = run_check(request, oracle, seed=seed, diagnose=diagnose, host=host, shrink=shrink)
        if progress is not None:
            progress(request, result)
        yield result


def _describe_tolerance(result: CheckResult, spec: Spec, dtype: str, check: str) -> None:
    """The tolerance the check applies, in the result: its limit, floors, units, reason."""
    tol = (spec.gradient_tolerance if check == "gradient" else spec.tolerance)[dtype]
    result.tolerance = {"limit": tol.limit, "atol": tol.atol, "rtol": tol.rtol}
    result.units = f"expected {dtype} rounding"
    result.tolerance_reason = tol.reason


def _prefetch(ctx: CheckContext, kind: CheckKind) -> None:
    """Every case's kernel calls that ``kind`` knows ahead, in one round trip.

    When one of them raises or its worker dies, nothing is kept: the check then runs
    case by case, so that it stops at its first failing case, whatever failed in a
    later one. A timeout is final (the check's time is spent) and names its case. What
    the plan cannot offer (NotDeclared) is left to the check itself to say.
    """
    if kind.plan is None:
        return
    try:
        planned = [
            (case, call)
            for case, sizes in enumerate(ctx.spec.sizes)
            for call in kind.plan(ctx, case, sizes)
        ]
    except NotDeclared:
        return
    ctx.prefetch(planned)


def _record_error(
    result: CheckResult, exc: Exception, ctx: CheckContext, check: str, case: int, sizes: Sizes
) -> None:
    result.status = Status.ERROR
    result.message = _error_message(exc, ctx, check, case, sizes)
    if not isinstance(exc, KernelFault):
        result.extra["harness_error"] = describe_exception(exc)
    result.sizes, result.case = dict(sizes), case


def _error_message(exc: Exception, ctx: CheckContext, check: str, case: int, sizes: Sizes) -> str:
    """Whose fault, and what: the backend's (it raised, returned junk, died, hung) or the
    harness's own."""
    name, label = ctx.backend.name, ctx.label(sizes)
    if isinstance(exc, KernelRaised):
        return f"{name} raised {exc} {label}"
    if isinstance(exc, WorkerLost):
        restarted = "; the worker was replaced" if not isinstance(exc, KernelTimeout) else ""
        during = f"{exc.what} during {exc.during}, {ctx.dtype}, case {case}{exc.where}"
        return f"{during}{restarted} {label}"
    if isinstance(exc, KernelFault):
        return f"{name}: {exc} {label}"
    return (
        f"harness error in the {check} check: {describe_exception(exc)} {label} "
        f"(a bug of the harness, not of {name}; please report it)"
    )
