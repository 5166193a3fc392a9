"""Failures told the same way by every renderer: what, where it occurs, how to re-run it.

Each failure's figures appear once. The message (written by the engine) already names
the element, its value, the reference, the errors and the case; a block adds only what
the message does not say: the tolerance, the time step, and whatever an older or
hand-written message lacks. Failures that differ only in their check and dtype (one
exception in a kernel fails every check in both dtypes) are one block that lists where
they occur.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from conformance.checks.compare import precision_lost
from conformance.report.model import format_fraction
from conformance.results.model import CheckResult

_LABEL = re.compile(r"\s*\[[^\[\]]*, seed=-?\d+\]$")
"""The trailing ``[lstm.cell(B=3, …), backend, float32, seed=0]`` of an engine message."""


@dataclass(frozen=True)
class FailureFacts:
    """One failure block, told the same way by every renderer."""

    status: str
    """``fail`` or ``error``."""
    title: str
    message: str
    amount: str
    """The figures of the error when the message lacks them (an older or hand-written
    message); empty when the message has them."""
    tolerance: str
    """``16× the expected float32 rounding`` (and a spec's widening, with its reason) for a
    failure with figures; empty for an error."""
    where: str
    """Where the worst element sits, beyond what the message says; may be empty."""
    rerun: str
    inputs_file: str | None
    occurs: str = ""
    """``float32: numeric, gradient; float64: numeric`` when the block stands for several."""
    gradients: str = ""
    """``✗ x 2.3e+3, ✗ W_f 41, ✓ h_prev 0.02; missing: b_o``: each input's verdict."""
    ids: tuple[str, ...] = ()
    """The check ids (``lstm.cell-x-float32-numeric``) of every result in the block."""


def failure_facts(result: CheckResult, *, machine_label: bool = False) -> FailureFacts:
    """What failed, what the message does not already say, and how to re-run it."""
    return failure_block([result], machine_label=machine_label)


def failure_blocks(
    failures: list[CheckResult], *, machine_label: bool = False
) -> list[FailureFacts]:
    """One block per distinct failure: results that differ only by check and dtype merge."""
    return [failure_block(group, machine_label=machine_label) for group in failure_groups(failures)]


def failure_groups(failures: list[CheckResult]) -> list[list[CheckResult]]:
    """The results of each block, in order of first appearance (see :func:`failure_blocks`)."""
    groups: dict[tuple, list[CheckResult]] = {}
    for result in failures:
        groups.setdefault(_identity(result), []).append(result)
    return list(groups.values())


def failure_block(results: list[CheckResult], *, machine_label: bool = False) -> FailureFacts:
    """The block for ``results`` (the same failure), told by the first of them."""
    result = results[0]
    backend = f"{result.backend}@{result.machine}" if machine_label else result.backend
    version = f" v{result.backend_version}" if result.backend_version not in ("", "0") else ""
    if len(results) == 1:
        title = f"{result.spec} · {backend}{version} · {result.dtype} · {result.check}"
    else:
        title = f"{result.spec} · {backend}{version} · {len(results)} checks"
    message = result.message
    return FailureFacts(
        status=result.status.value,
        title=title,
        message=message,
        amount=_amount(result, message),
        tolerance=_tolerance(result),
        where=_where(result, message),
        rerun=result.rerun,
        inputs_file=result.inputs_file,
        occurs=_occurrences(results) if len(results) > 1 else "",
        gradients=_gradients(result),
        ids=tuple(r.id for r in results),
    )


def fact_lines(facts: FailureFacts) -> list[tuple[str, str]]:
    """The labelled lines of a block beyond its message, the empty ones left out."""
    lines = [
        ("by how much", facts.amount),
        ("tolerance", facts.tolerance),
        ("where", facts.where),
        ("occurs in", facts.occurs),
        ("gradients (× tolerance)", facts.gradients),
    ]
    return [(label, value) for label, value in lines if value]


def _identity(result: CheckResult) -> tuple:
    """What makes two failures the same one: everything but the check, the dtype and the
    dtype's mention in the message's label."""
    message = _LABEL.sub("", result.message)
    if not message:  # nothing to go by: keep it on its own
        return (result.id, result.machine, result.run_id)
    sizes = tuple(sorted((result.sizes or {}).items()))
    return (result.status, result.spec, result.backend, result.machine, result.case, sizes, message)


def _occurrences(results: list[CheckResult]) -> str:
    """``float32, float64: shape, numeric`` or ``float32: numeric; float64: gradient``."""
    by_dtype: dict[str, list[str]] = {}
    for r in results:
        by_dtype.setdefault(r.dtype, []).append(r.check)
    checks = {tuple(c) for c in by_dtype.values()}
    if len(checks) == 1:
        return f"{', '.join(by_dtype)}: {', '.join(checks.pop())}"
    return "; ".join(f"{dtype}: {', '.join(c)}" for dtype, c in by_dtype.items())


def _amount(result: CheckResult, message: str) -> str:
    """The figures themselves, when the message does not give them."""
    if result.status.value != "fail" or result.tol_fraction is None:
        return ""
    if result.worst and result.worst in message and "tolerance" in message:
        return ""
    amount = []
    if result.max_abs is not None:
        amount.append(f"max abs err {result.max_abs:.3g}")
    if result.max_rel is not None:
        amount.append(f"max rel err {result.max_rel:.3g}")
    if result.rounding is not None and result.units:
        amount.append(f"{result.rounding:.3g}× the {result.units}")
        limit = (result.tolerance or {}).get("limit")
        if limit and result.rounding > limit and math.isfinite(result.rounding):
            amount.append(precision_lost(math.log2(result.rounding), result.dtype))
    amount.append(f"{format_fraction(result.tol_fraction)}× the tolerance")
    return "; ".join(amount)


def _tolerance(result: CheckResult) -> str:
    """``16× the expected float32 rounding``, or an older file's ``atol=1e-06, rtol=1e-05``:
    what the figures of a failure are measured against, with a spec's widening and why."""
    if result.status.value != "fail" or result.tol_fraction is None or not result.tolerance:
        return ""
    tol = result.tolerance
    if "limit" not in tol or not result.units:
        return ", ".join(f"{k}={v:g}" for k, v in tol.items())
    text = f"{tol['limit']:g}× the {result.units}"
    if tol.get("atol") or tol.get("rtol"):
        text += f", or atol={tol.get('atol', 0):g} + rtol={tol.get('rtol', 0):g}·|reference|"
    if result.tolerance_reason:
        text += f" (widened: {result.tolerance_reason})"
    return text


def _where(result: CheckResult, message: str) -> str:
    """The worst element, its time step, the case and the seed, less what the message says."""
    where = []
    if result.worst and result.worst not in message:
        where.append(result.worst)
    if result.time_step is not None:
        where.append(f"time step t={result.time_step}")
    sizes = ", ".join(f"{k}={v}" for k, v in (result.sizes or {}).items())
    if result.case is not None and not (sizes and f"({sizes})" in message):
        where.append(f"case {result.case} ({sizes})")
    if f"seed={result.seed}" not in message:
        where.append(f"seed {result.seed}")
    if result.extra.get("inputs_error"):
        where.append(f"inputs not saved: {result.extra['inputs_error']}")
    return ", ".join(where)


def _gradients(result: CheckResult) -> str:
    """Each input's gradient verdict in units of the tolerance, and the missing ones."""
    verdicts = result.extra.get("gradients") or []
    if not isinstance(verdicts, list) or (
        len(verdicts) < 2 and not result.extra.get("missing_gradients")
    ):
        return ""
    parts = [
        f"{'✓' if v.get('ok') else '✗'} {v.get('input')} "
        f"{format_fraction(float(v.get('tol_fraction', float('nan'))))}"
        for v in verdicts
        if isinstance(v, dict)
    ]
    text = ", ".join(parts)
    missing = result.extra.get("missing_gradients")
    if missing:
        text += ("; " if text else "") + f"missing: {', '.join(map(str, missing))}"
    return text
