"""Measuring how far an array is from its reference, in units of the tolerance."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from conformance.spec.model import Tolerance
from conformance.typing import Array


@dataclass(frozen=True)
class Discrepancy:
    """Distance of ``actual`` from ``expected``, and where it is largest.

    :ivar tol_fraction: max over elements of |a − e| / (atol + rtol·|e|); ≤ 1 passes.
        Infinite where a finite reference meets a non-finite value.
    :ivar index: the element with the largest ``tol_fraction``.
    """

    name: str
    max_abs: float
    max_rel: float
    tol_fraction: float
    index: tuple[int, ...]
    actual: float
    expected: float

    @property
    def ok(self) -> bool:
        return self.tol_fraction <= 1.0

    @property
    def where(self) -> str:
        """``h[2, 1]``: the array and index of the worst element."""
        return f"{self.name}[{', '.join(map(str, self.index))}]" if self.index else self.name

    def describe(self) -> str:
        return (
            f"{self.where} = {self.actual:.9g}, but should be {self.expected:.9g} "
            f"(max abs err {self.max_abs:.3g}, max rel err {self.max_rel:.3g}, "
            f"{self.tol_fraction:.3g}× tolerance)"
        )


def compare(name: str, actual: Array, expected: Array, tolerance: Tolerance) -> Discrepancy:
    """How far ``actual`` is from ``expected`` (same shape), elementwise against ``tolerance``."""
    a = np.asarray(actual, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    if a.size == 0:
        return Discrepancy(name, 0.0, 0.0, 0.0, (), float("nan"), float("nan"))
    same = (a == e) | (np.isnan(a) & np.isnan(e))  # equal infinities count as agreement
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        err = np.where(same, 0.0, np.abs(a - e))
        err = np.where(np.isnan(err), np.inf, err)
        rel = np.where(same, 0.0, err / np.maximum(np.abs(e), np.finfo(np.float64).tiny))
        fraction = err / (tolerance.atol + tolerance.rtol * np.where(np.isfinite(e), np.abs(e), 0))
    fraction = np.where(same, 0.0, np.where(np.isnan(fraction), np.inf, fraction))
    flat = int(np.argmax(fraction))
    index = tuple(int(i) for i in np.unravel_index(flat, a.shape))
    return Discrepancy(
        name=name,
        max_abs=float(np.max(err)),
        max_rel=float(np.max(rel)),
        tol_fraction=float(fraction.reshape(-1)[flat]),
        index=index,
        actual=float(a.reshape(-1)[flat]),
        expected=float(e.reshape(-1)[flat]),
    )


def worst(discrepancies: list[Discrepancy]) -> Discrepancy | None:
    """The discrepancy with the largest fraction of its tolerance."""
    return max(discrepancies, key=lambda d: d.tol_fraction, default=None)
