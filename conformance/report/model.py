"""What a report shows, independent of how it is drawn: matrix, timings, failures, environment.

:func:`build_report` digests a :class:`~conformance.results.files.ResultSet` into
plain rows and cells that the terminal, Markdown and HTML renderers only format.
A cell aggregates results (all dtypes and checks of a spec, or all dtypes of one
check): ✓ when every implemented check passes, ✗ when any fails or errors, — when
none is implemented. Its number is the worst error as a fraction of the tolerance
(16 × the element's expected rounding), so a ✓ 0.93 is a barely passing backend.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from statistics import median

from conformance.results.files import ResultSet, Run, SpecInfo
from conformance.results.model import CheckResult, Status

BASELINE = "numpy-loops"
"""Speedups are measured against this backend on the same machine and dtype."""
WARN_FRACTION = 0.5
"""A pass using more than this fraction of the tolerance is shown amber."""
PASS, FAIL, NOT_IMPLEMENTED = "✓", "✗", "—"
LEGEND = (
    f"{PASS} pass, {FAIL} fail or error, {NOT_IMPLEMENTED} not implemented; "
    "the number is the worst error as a fraction of the tolerance, 16 × each element's "
    "expected rounding in the dtype, derived from the spec at the case's sizes (1 is the "
    f"limit, above {WARN_FRACTION} is close to it)"
)


@dataclass(frozen=True)
class Column:
    """One backend on one machine; labelled ``backend@machine`` when machines differ."""

    backend: str
    machine: str
    label: str


@dataclass(frozen=True)
class Cell:
    """The verdict of a group of results.

    :ivar state: ``pass``, ``warn`` (passing above half the tolerance), ``fail``,
        or ``na`` (not implemented): the HTML class of the cell.
    """

    state: str
    symbol: str
    fraction: float | None = None
    missing: tuple[str, ...] = ()
    detail: str = ""
    """A longer description (the HTML cell's tooltip)."""
    restrictions: tuple[str, ...] = ()
    """What the kernel declared it takes only, e.g. ``with h_0 = 0 only``."""

    @property
    def text(self) -> str:
        """``✓ 0.42``, ``✗ 3.1e+03``, ``✗ error``, ``—``, ``✓ 0.1 (no gradient)``,
        ``✓ 0.1 (with h_0 = 0 only)``."""
        parts = [self.symbol]
        if self.fraction is not None:
            parts.append(format_fraction(self.fraction))
        elif self.state == "fail":
            parts.append("error" if "error" in self.detail else "fail")
        notes = [f"no {', '.join(self.missing)}"] if self.missing else []
        if notes or self.restrictions:
            parts.append(f"({'; '.join([*notes, *self.restrictions])})")
        return " ".join(parts)


@dataclass(frozen=True)
class SpecRow:
    spec: SpecInfo
    cells: dict[str, Cell]
    """By column label."""


@dataclass(frozen=True)
class Family:
    id: str
    title: str
    rows: list[SpecRow]


@dataclass(frozen=True)
class Timing:
    """Median seconds per forward call of one spec and dtype, with speedups over the baseline."""

    spec: str
    dtype: str
    seconds: dict[str, float]
    speedup: dict[str, float]


@dataclass(frozen=True)
class Summary:
    """Counts per status for one column, and whether it conforms."""

    column: Column
    counts: dict[Status, int]

    @property
    def conforms(self) -> bool:
        return not (self.counts.get(Status.FAIL) or self.counts.get(Status.ERROR))


@dataclass
class Report:
    """Everything a renderer draws."""

    columns: list[Column]
    families: list[Family]
    checks: list[str]
    detail: dict[tuple[str, str], dict[str, Cell]]
    """(spec, check) → column label → cell, dtypes aggregated."""
    timings: list[Timing]
    failures: list[CheckResult]
    summaries: list[Summary]
    runs: list[Run]
    plugin_problems: list[dict[str, str]]
    seeds: list[int] = field(default_factory=list)
    profiles: list[str] = field(default_factory=list)
    """The sizes the results ran at (``quick``, ``realistic``, explicit ones), in order; a
    shrunk failure counts at the profile it was found at."""
    shrunk: int = 0
    """How many failures were shrunk to smaller sizes than their profile's."""
    dtypes: list[str] = field(default_factory=list)
    incomplete: list[str] = field(default_factory=list)
    """``incomplete: interrupted after 312 of 1242 checks``, one per run that did not end."""

    @property
    def conforms(self) -> bool:
        return all(s.conforms for s in self.summaries)


def format_fraction(value: float) -> str:
    """A fraction of the tolerance for a cell: ``0.42``, ``<0.01``, ``3.1e+03``, ``inf``."""
    if value != value:  # NaN
        return "nan"
    if value == float("inf"):
        return "inf"
    if 0 < value < 0.01:
        return "<0.01"
    return f"{value:.2g}" if value < 10 else f"{value:.2g}".replace("e+0", "e+")


def format_seconds(seconds: float) -> str:
    """``812 ns``, ``12.3 µs``, ``4.5 ms``, ``1.2 s``."""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def format_speedup(ratio: float) -> str:
    """``2.1×``, ``0.8×``, ``130×``."""
    return f"{ratio:.1f}×" if ratio < 100 else f"{ratio:.0f}×"


def cell_of(results: Iterable[CheckResult]) -> Cell:
    """Aggregate a group of results into one cell (see the module docstring)."""
    results = list(results)
    if not results:
        return Cell("na", "", detail="not run")
    bad: list[CheckResult] = []
    ran: list[CheckResult] = []
    unimplemented: list[CheckResult] = []
    restricted: dict[str, None] = {}
    for r in results:
        restricted.update(dict.fromkeys(r.extra.get("restrictions", ())))
        if r.status is Status.PASS:
            ran.append(r)
        elif r.status is Status.NOT_IMPLEMENTED:
            unimplemented.append(r)
        elif r.status in (Status.FAIL, Status.ERROR):
            bad.append(r)
    if bad:
        fractions = [r.tol_fraction for r in bad if r.tol_fraction is not None]
        detail = "; ".join(f"{r.check} {r.dtype}: {r.status.value}" for r in bad)
        worst = max(fractions) if fractions else None
        return Cell("fail", FAIL, worst, detail=detail, restrictions=tuple(restricted))
    checked, dtypes = {r.check for r in ran}, dict.fromkeys(r.dtype for r in ran)
    missing = dict.fromkeys(r.check for r in unimplemented if r.check not in checked)
    if ran and len(dtypes) < len({r.dtype for r in results}):  # a dtype not declared
        restricted[f"{', '.join(dtypes)} only"] = None
    gradients = dict.fromkeys(n for r in ran for n in r.extra.get("missing_gradients", []))
    if gradients and "gradient" not in missing:
        missing[f"gradient of {', '.join(gradients)}"] = None
    if not ran:
        return Cell(
            "na", NOT_IMPLEMENTED, detail="; ".join(dict.fromkeys(r.message for r in results))
        )
    fractions = [r.tol_fraction for r in ran if r.tol_fraction is not None]
    worst = max(fractions) if fractions else None
    state = "warn" if worst is not None and worst > WARN_FRACTION else "pass"
    detail = f"{len(ran)} checks pass" + (
        f"; not implemented: {', '.join(missing)}" if missing else ""
    )
    return Cell(state, PASS, worst, tuple(missing), detail, tuple(restricted))


def columns_of(results: list[CheckResult]) -> list[Column]:
    """One column per (backend, machine), the baseline first, else in order of appearance."""
    machines = list(dict.fromkeys(r.machine for r in results))
    pairs = list(dict.fromkeys((r.backend, r.machine) for r in results))
    pairs.sort(key=lambda p: p[0] != BASELINE)
    return [Column(b, m, f"{b}@{m}" if len(machines) > 1 and m else b) for b, m in pairs]


def build_report(results: ResultSet) -> Report:
    """Digest ``results`` into the rows and cells every renderer draws."""
    records = results.results
    columns = columns_of(records)
    label = {(c.backend, c.machine): c.label for c in columns}
    spec_ids = list(dict.fromkeys([*(s for s in results.specs), *(r.spec for r in records)]))
    present = {r.spec for r in records}
    spec_ids = [s for s in spec_ids if s in present]
    checks = list(dict.fromkeys(r.check for r in records))

    by_spec: dict[tuple[str, str], list[CheckResult]] = {}
    by_check: dict[tuple[str, str, str], list[CheckResult]] = {}
    for r in records:
        by_spec.setdefault((r.spec, label[r.backend, r.machine]), []).append(r)
        by_check.setdefault((r.spec, r.check, label[r.backend, r.machine]), []).append(r)

    families: dict[str, Family] = {}
    for spec_id in spec_ids:
        info = results.specs.get(spec_id) or SpecInfo(spec_id, family=spec_id.split(".")[0])
        family = families.setdefault(info.family, Family(info.family, info.family_title, []))
        cells = {c.label: cell_of(by_spec.get((spec_id, c.label), [])) for c in columns}
        family.rows.append(SpecRow(info, cells))

    detail = {
        (s, k): {c.label: cell_of(by_check.get((s, k, c.label), [])) for c in columns}
        for s in spec_ids
        for k in checks
        if any((s, k, c.label) in by_check for c in columns)
    }
    counts: dict[str, dict[Status, int]] = {c.label: {} for c in columns}
    for r in records:
        column_counts = counts[label[r.backend, r.machine]]
        column_counts[r.status] = column_counts.get(r.status, 0) + 1
    summaries = [Summary(column, counts[column.label]) for column in columns]
    return Report(
        columns=columns,
        families=list(families.values()),
        checks=checks,
        detail=detail,
        timings=_timings(records, columns, spec_ids),
        failures=[r for r in records if r.status in (Status.FAIL, Status.ERROR)],
        summaries=summaries,
        runs=list(results.runs.values()),
        plugin_problems=_plugin_problems(results.runs.values()),
        seeds=sorted({r.seed for r in records}),
        profiles=list(dict.fromkeys(found_at(r) for r in records)),
        shrunk=sum("shrunk_from" in r.extra for r in records),
        dtypes=list(dict.fromkeys(r.dtype for r in records)),
        incomplete=results.incomplete(),
    )


def _timings(
    records: list[CheckResult], columns: list[Column], spec_ids: list[str]
) -> list[Timing]:
    seconds: dict[tuple[str, str, str, str], list[float]] = {}
    for r in records:
        if r.seconds is not None and r.status is Status.PASS:
            seconds.setdefault((r.spec, r.dtype, r.backend, r.machine), []).append(r.seconds)
    dtypes = list(dict.fromkeys(r.dtype for r in records))
    rows = []
    for spec in spec_ids:
        for dtype in dtypes:
            times = {
                c.label: median(seconds[spec, dtype, c.backend, c.machine])
                for c in columns
                if (spec, dtype, c.backend, c.machine) in seconds
            }
            if not times:
                continue
            speedup = {}
            for c in columns:
                base = seconds.get((spec, dtype, BASELINE, c.machine))
                if c.label in times and base and times[c.label] > 0:
                    speedup[c.label] = median(base) / times[c.label]
            rows.append(Timing(spec, dtype, times, speedup))
    return rows


def _plugin_problems(runs: Iterable[Run]) -> list[dict[str, str]]:
    problems: dict[tuple[str, str], dict[str, str]] = {}
    for run in runs:
        for plugin in run.plugins:
            if plugin.get("state") not in (None, "loaded"):
                key = (run.environment.machine, str(plugin.get("name")))
                problems[key] = {
                    "machine": run.environment.machine,
                    "name": str(plugin.get("name", "")),
                    "source": str(plugin.get("source", "")),
                    "state": str(plugin.get("state", "")),
                    "reason": str(plugin.get("reason", "")),
                }
    return list(problems.values())


def found_at(result: CheckResult) -> str:
    """The profile a result ran at, or a shrunk failure was found at."""
    shrunk = result.extra.get("shrunk_from")
    if isinstance(shrunk, dict) and isinstance(shrunk.get("profile"), str):
        return str(shrunk["profile"])
    return result.profile or "quick"
