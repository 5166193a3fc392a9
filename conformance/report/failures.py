"""One failure told the same way by every renderer: what, by how much, where, how to re-run."""

from __future__ import annotations

from dataclasses import dataclass

from conformance.report.model import format_fraction
from conformance.results.model import CheckResult


@dataclass(frozen=True)
class FailureFacts:
    """One failure, told the same way by every renderer."""

    status: str
    """``fail`` or ``error``."""
    title: str
    message: str
    amount: str
    where: str
    rerun: str
    inputs_file: str | None


def failure_facts(result: CheckResult, *, machine_label: bool = False) -> FailureFacts:
    """What failed, by how much, where, and how to re-run it."""
    backend = f"{result.backend}@{result.machine}" if machine_label else result.backend
    version = f" v{result.backend_version}" if result.backend_version not in ("", "0") else ""
    title = f"{result.spec} · {backend}{version} · {result.dtype} · {result.check}"
    amount = []
    if result.max_abs is not None:
        amount.append(f"max abs err {result.max_abs:.3g}")
    if result.max_rel is not None:
        amount.append(f"max rel err {result.max_rel:.3g}")
    if result.tol_fraction is not None:
        amount.append(f"{format_fraction(result.tol_fraction)}× the tolerance")
    if result.tolerance:
        amount.append(", ".join(f"{k}={v:g}" for k, v in result.tolerance.items()))
    where = []
    if result.worst:
        where.append(result.worst)
    if result.time_step is not None:
        where.append(f"time step t={result.time_step}")
    if result.case is not None:
        sizes = ", ".join(f"{k}={v}" for k, v in (result.sizes or {}).items())
        where.append(f"case {result.case} ({sizes})")
    where.append(f"seed {result.seed}")
    if result.extra.get("inputs_error"):
        where.append(f"inputs not saved: {result.extra['inputs_error']}")
    return FailureFacts(
        status=result.status.value,
        title=title,
        message=result.message,
        amount="; ".join(amount) or "—",
        where=", ".join(where),
        rerun=result.rerun,
        inputs_file=result.inputs_file,
    )
