"""Measuring how far an array is from its reference, in units of its expected rounding.

Each element's error is divided by the rounding error a correct implementation is
expected to carry there (:mod:`conformance.oracle.rounding`), plus one unit roundoff of
the output's scale: "3.1× the expected float32 rounding" means the same at every size.
A check passes while every element stays within the tolerance's limit of that multiple
(or within an explicit ``atol + rtol·|reference|`` widening of the spec).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from conformance.lang.rounding import MANTISSA_BITS, UNIT_ROUNDOFF
from conformance.spec.model import Tolerance
from conformance.typing import Array


@dataclass(frozen=True)
class Allowance:
    """What a correct array may differ by from its reference, element by element.

    Each element's unit is u × (its expected rounding + the output's scale): one unit
    roundoff of the largest magnitude is the floor, never below the dtype's smallest
    normal number. The element passes within ``limit`` units, or within the spec's
    explicit ``atol + rtol·|reference|`` where that is larger.

    :ivar rounding: each element's expected rounding error in units of u (the estimate).
    :ivar tolerance: the spec's tolerance for this dtype (limit, explicit widenings).
    :ivar dtype: the dtype under test, whose unit roundoff u scales ``rounding``.
    :ivar results: how many rounded results are compared: 1 against the oracle, 2 for a
        backend against itself (two results, each carrying its own rounding).
    :ivar scale: a scale for the floor beside the reference's own largest magnitude (the
        batch's for one row of it; the case's largest gradient element for a gradient).
    """

    rounding: Array | float
    tolerance: Tolerance
    dtype: str
    results: int = 1
    scale: float = 0.0

    @property
    def limit(self) -> float:
        """The largest allowed multiple of the expected rounding."""
        return self.tolerance.limit * self.results

    @classmethod
    def explicit(cls, tolerance: Tolerance) -> Allowance:
        """Only ``atol + rtol·|reference|``: for comparisons with no rounding estimate
        (the diagnosis's variants), given a tolerance with those floors."""
        return cls(0.0, tolerance, "", results=0)


@dataclass(frozen=True)
class Discrepancy:
    """Distance of ``actual`` from ``expected``, and where it is largest.

    :ivar max_abs: max over elements of |a − e|.
    :ivar max_rel: max of |a − e| / |e| over the elements where a relative error means
        something (:func:`relative_errors`); None when there is none.
    :ivar tol_fraction: max over elements of error / allowed error; ≤ 1 passes.
        Infinite where a finite reference meets a non-finite value.
    :ivar index: the element with the largest ``tol_fraction``: the one shown.
    :ivar abs_err, rel_err: that element's own errors (``rel_err`` None where its
        reference is negligible against the tolerance).
    :ivar rounding: that element's error in multiples of its expected rounding.
    :ivar limit, dtype: the allowed multiple, and the dtype whose rounding is the unit
        (empty for an explicit-only comparison).
    """

    name: str
    max_abs: float
    max_rel: float | None
    tol_fraction: float
    index: tuple[int, ...]
    actual: float
    expected: float
    abs_err: float = 0.0
    rel_err: float | None = None
    rounding: float = 0.0
    limit: float = 0.0
    dtype: str = ""

    @property
    def ok(self) -> bool:
        return self.tol_fraction <= 1.0

    @property
    def where(self) -> str:
        """``h[2, 1]``: the array and index of the worst element."""
        return f"{self.name}[{', '.join(map(str, self.index))}]" if self.index else self.name

    @property
    def bits_lost(self) -> float:
        """log2 of the error in expected roundings: the mantissa bits it costs."""
        return math.log2(self.rounding) if self.rounding > 1 else 0.0

    def units(self) -> str:
        """``3.1× the expected float32 rounding, limit 16×`` (and the bits, when failing)."""
        if not self.dtype:
            return ""
        text = f"{self.rounding:.3g}× the expected {self.dtype} rounding, limit {self.limit:g}×"
        if not self.ok and math.isfinite(self.rounding):
            text += f": {precision_lost(self.bits_lost, self.dtype)}"
        return text

    def amount(self) -> str:
        """``abs err 0.344, rel err 0.483, 3.6e+06× the expected float32 rounding, limit
        16×: about 22 bits lost …, 2.2e+05× tolerance``: the shown element's errors."""
        rel = f", rel err {self.rel_err:.3g}" if self.rel_err is not None else ""
        units = f", {self.units()}" if self.dtype else ""
        return f"abs err {self.abs_err:.3g}{rel}{units}, {self.tol_fraction:.3g}× tolerance"

    def describe(self) -> str:
        """``h[2, 1] = 0.5, but should be 0.25 (abs err 0.25, rel err 1, …× tolerance)``."""
        return (
            f"{self.where} = {self.actual:.9g}, but should be {self.expected:.9g} ({self.amount()})"
        )


def precision_lost(bits: float, dtype: str) -> str:
    """``about 11 bits lost (computes like a 13-bit mantissa)``."""
    left = MANTISSA_BITS.get(dtype, 0) - bits
    if left >= 3:
        return f"about {bits:.0f} bits lost (computes like a {left:.0f}-bit mantissa)"
    return f"about {bits:.0f} bits lost: not lost precision but a wrong value"


def compare(
    name: str, actual: Array, expected: Array, allowance: Allowance | Tolerance
) -> Discrepancy:
    """How far ``actual`` is from ``expected`` (same shape), elementwise against
    ``allowance`` (a bare Tolerance: its explicit atol and rtol only)."""
    if isinstance(allowance, Tolerance):
        allowance = Allowance.explicit(allowance)
    a = np.asarray(actual, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    if a.size == 0:
        return Discrepancy(name, 0.0, None, 0.0, (), float("nan"), float("nan"))
    tol = allowance.tolerance
    finite = np.isfinite(e)
    scale = max(float(np.max(np.abs(e[finite]))) if finite.any() else 0.0, allowance.scale)
    if allowance.dtype:
        tiny = float(np.finfo(allowance.dtype).tiny)
        u = UNIT_ROUNDOFF[allowance.dtype]
        unit = np.maximum(u * (np.asarray(allowance.rounding, dtype=np.float64) + scale), tiny)
    else:
        unit = np.zeros(())
    same = (a == e) | (np.isnan(a) & np.isnan(e))  # equal infinities count as agreement
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        err = np.where(same, 0.0, np.abs(a - e))
        err = np.where(np.isnan(err), np.inf, err)
        multiple = np.where(same, 0.0, err / unit) if allowance.dtype else np.zeros(a.shape)
        explicit = tol.atol + tol.rtol * np.where(finite, np.abs(e), 0.0)
        allowed = np.maximum(allowance.limit * unit, explicit)
        fraction = err / allowed
    fraction = np.where(same, 0.0, np.where(np.isnan(fraction), np.inf, fraction))
    multiple = np.broadcast_to(np.where(np.isnan(multiple), np.inf, multiple), a.shape)
    rel = relative_errors(err, e, np.broadcast_to(allowed, a.shape))
    flat = int(np.argmax(fraction))
    index = tuple(int(i) for i in np.unravel_index(flat, a.shape))
    shown_rel = rel.reshape(-1)[flat]
    return Discrepancy(
        name=name,
        max_abs=float(np.max(err)),
        max_rel=float(np.nanmax(rel)) if not np.isnan(rel).all() else None,
        tol_fraction=float(fraction.reshape(-1)[flat]),
        index=index,
        actual=float(a.reshape(-1)[flat]),
        expected=float(e.reshape(-1)[flat]),
        abs_err=float(err.reshape(-1)[flat]),
        rel_err=None if np.isnan(shown_rel) else float(shown_rel),
        rounding=float(multiple.reshape(-1)[flat]),
        limit=allowance.limit,
        dtype=allowance.dtype,
    )


def relative_errors(err: Array, expected: Array, allowed: Array) -> Array:
    """|a − e| / |e| where it means something, NaN elsewhere.

    A relative error means something where the reference is not negligible against the
    error allowed there, and finite: a reference of 1e-98 allowed 1e-12 is zero as far as
    the check can tell, and dividing by it only yields numbers like 4e+307.
    """
    magnitude = np.abs(expected)
    meaningful = np.isfinite(magnitude) & (magnitude > allowed) & (magnitude > 0)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        return np.where(meaningful, err / np.where(meaningful, magnitude, 1.0), np.nan)


def worst(discrepancies: list[Discrepancy]) -> Discrepancy | None:
    """The discrepancy with the largest fraction of its tolerance."""
    return max(discrepancies, key=lambda d: d.tol_fraction, default=None)
