"""Check results as plain data: what was checked, how it went, by how much, how to redo it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    """How one check of one spec on one backend and dtype ended."""

    PASS = "pass"
    FAIL = "fail"
    ERROR = "error"
    """The backend raised, or returned something that could not be checked at all."""
    NOT_IMPLEMENTED = "not_implemented"


@dataclass(slots=True)
class CheckResult:
    """One (spec, backend, dtype, check) outcome, worst case over the spec's sizes.

    ``tol_fraction`` is the largest error as a fraction of the allowed error: ≤ 1 passes,
    and a value near 1 means "barely passing". ``rounding`` is that element's error in
    multiples of its expected rounding in the dtype (``units``), the same at every size;
    the allowed multiple is ``tolerance["limit"]``. ``worst`` names the array and index
    where it occurs, e.g. ``h[2, 1]`` or ``grad W_f[0, 3]``.
    """

    spec: str
    backend: str
    dtype: str
    check: str
    status: Status
    message: str = ""
    backend_version: str = ""
    max_abs: float | None = None
    max_rel: float | None = None
    tol_fraction: float | None = None
    worst: str | None = None
    tolerance: dict[str, float] | None = None
    """``{"limit", "atol", "rtol"}``: the allowed multiple of the expected rounding, and
    the spec's explicit floor (0 unless widened)."""
    rounding: float | None = None
    """The worst error in multiples of its expected rounding (see ``units``)."""
    units: str = ""
    """What ``rounding`` counts: ``expected float32 rounding``."""
    tolerance_reason: str = ""
    """Why the spec widened this tolerance, when it did."""
    sizes: dict[str, int] | None = None
    case: int | None = None
    seed: int = 0
    seconds: float | None = None
    """Median wall time of one forward call at the largest sizes (numeric check only)."""
    duration: float = 0.0
    """Wall time of the whole check."""
    extra: dict[str, Any] = field(default_factory=dict)
    machine: str = ""
    """Label of the machine that produced the result (:mod:`conformance.results.environment`)."""
    run_id: str = ""
    """Id of the run that produced it; the result file's ``runs`` table holds its environment."""
    plugin: str = ""
    """Plugin that registered the backend."""
    time_step: int | None = None
    """For sequence arrays (an axis named ``T``), the time step of ``worst``."""
    rerun: str = ""
    """One command line that re-runs exactly this check with the same seed and sizes."""
    profile: str = "quick"
    """The sizes it ran at (``--sizes``): ``quick``, ``realistic``, ``awkward`` or explicit
    sizes (``B=17,H=33``), as when a failure was shrunk."""
    inputs_file: str | None = None
    """``.npz`` of the inputs of the failing case, saved beside the report."""

    @property
    def ok(self) -> bool:
        """Whether the result counts as conforming (pass or not implemented)."""
        return self.status not in (Status.FAIL, Status.ERROR)

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.spec, self.backend, self.dtype, self.check)

    @property
    def id(self) -> str:
        """``lstm.forget_gate-fused-gate-float32-gradient``: the pytest id of the check."""
        return f"{self.spec}-{self.backend}-{self.dtype}-{self.check}"

    def to_dict(self) -> dict[str, Any]:
        """The result's fields as plain data, under the schema's names (``run_id`` is ``run``)."""
        data = asdict(self)
        data["status"] = str(self.status)
        data["run"] = data.pop("run_id")
        return data
