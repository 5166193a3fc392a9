"""Measuring how far an array is from its reference, in units of the tolerance."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from conformance.spec.model import Tolerance
from conformance.typing import Array


@dataclass(frozen=True)
class Discrepancy:
    """Distance of ``actual`` from ``expected``, and where it is largest.

    :ivar max_abs: max over elements of |a − e|.
    :ivar max_rel: max of |a − e| / |e| over the elements where a relative error means
        something (:func:`relative_errors`); None when there is none.
    :ivar tol_fraction: max over elements of |a − e| / (atol + rtol·|e|); ≤ 1 passes.
        Infinite where a finite reference meets a non-finite value.
    :ivar index: the element with the largest ``tol_fraction``: the one shown.
    :ivar abs_err, rel_err: that element's own errors (``rel_err`` None where its
        reference is negligible against the tolerance).
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

    @property
    def ok(self) -> bool:
        return self.tol_fraction <= 1.0

    @property
    def where(self) -> str:
        """``h[2, 1]``: the array and index of the worst element."""
        return f"{self.name}[{', '.join(map(str, self.index))}]" if self.index else self.name

    def amount(self) -> str:
        """``abs err 0.344, rel err 0.483, 4.24e+04× tolerance``: the shown element's errors."""
        rel = f", rel err {self.rel_err:.3g}" if self.rel_err is not None else ""
        return f"abs err {self.abs_err:.3g}{rel}, {self.tol_fraction:.3g}× tolerance"

    def describe(self) -> str:
        """``h[2, 1] = 0.5, but should be 0.25 (abs err 0.25, rel err 1, 2.5e+05× tolerance)``."""
        return (
            f"{self.where} = {self.actual:.9g}, but should be {self.expected:.9g} "
            f"({self.amount()})"
        )


def compare(name: str, actual: Array, expected: Array, tolerance: Tolerance) -> Discrepancy:
    """How far ``actual`` is from ``expected`` (same shape), elementwise against ``tolerance``."""
    a = np.asarray(actual, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    if a.size == 0:
        return Discrepancy(name, 0.0, None, 0.0, (), float("nan"), float("nan"))
    same = (a == e) | (np.isnan(a) & np.isnan(e))  # equal infinities count as agreement
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        err = np.where(same, 0.0, np.abs(a - e))
        err = np.where(np.isnan(err), np.inf, err)
        fraction = err / (tolerance.atol + tolerance.rtol * np.where(np.isfinite(e), np.abs(e), 0))
    fraction = np.where(same, 0.0, np.where(np.isnan(fraction), np.inf, fraction))
    rel = relative_errors(err, e, tolerance)
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
    )


def relative_errors(err: Array, expected: Array, tolerance: Tolerance) -> Array:
    """|a − e| / |e| where it means something, NaN elsewhere.

    A relative error means something where the reference is not negligible against the
    tolerance: |e| > atol, and finite. A reference of 1e-98 under atol = 1e-12 is zero as
    far as the check can tell, and dividing by it only yields numbers like 4e+307.
    """
    magnitude = np.abs(expected)
    meaningful = np.isfinite(magnitude) & (magnitude > tolerance.atol) & (magnitude > 0)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        return np.where(meaningful, err / np.where(meaningful, magnitude, 1.0), np.nan)


def worst(discrepancies: list[Discrepancy]) -> Discrepancy | None:
    """The discrepancy with the largest fraction of its tolerance."""
    return max(discrepancies, key=lambda d: d.tol_fraction, default=None)
