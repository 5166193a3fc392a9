"""What a diagnosis found: the variants that explain a failure, and what it cost."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Match:
    """A variant that explains the failure, and how closely."""

    description: str
    """``lstm.cell with W_f and W_i swapped``."""
    rule: str
    max_abs: float
    tol_fraction: float


@dataclass(frozen=True)
class Diagnosis:
    """What the search found for one failure."""

    matches: tuple[Match, ...]
    tried: int
    """How many variants were evaluated."""
    seconds: float
    out_of_time: bool = False
    """The search stopped at its time budget before trying every candidate."""

    def sentence(self) -> str:
        """``matches lstm.cell with W_f and W_i swapped (max error 2e-08)``, or ""."""
        if not self.matches:
            return ""
        best = self.matches[0]
        text = f"matches {best.description} (max error {best.max_abs:.1g})"
        others = [m.description for m in self.matches[1:]]
        if others:
            shown = "; ".join(others[:2]) + ("; …" if len(others) > 2 else "")
            text += f"; so do {len(others)} other variant{'s' * (len(others) > 1)}: {shown}"
        return text

    def to_dict(self) -> dict[str, Any]:
        """The plain data kept in the result's ``extra["diagnosis"]``."""
        return {
            "matches": [
                {"variant": m.description, "rule": m.rule, "max_abs": m.max_abs,
                 "tol_fraction": m.tol_fraction}
                for m in self.matches
            ],
            "tried": self.tried,
            "seconds": self.seconds,
            **({"out_of_time": True} if self.out_of_time else {}),
        }  # fmt: skip
