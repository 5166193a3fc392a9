"""The runs of a result file: who produced the results, where, and how the run ended.

Each result names its run; a run carries the
:class:`~conformance.results.environment.Environment` it measured on, the selection,
plugin health, and whether it completed: a run interrupted, terminated, or cut short
while its results were being written says so, with how many of its planned checks ran.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from conformance.errors import ResultFileError
from conformance.results.codec import kind_of
from conformance.results.environment import Environment


@dataclass(frozen=True)
class Run:
    """One invocation that produced results: when, where, with what selection and plugins."""

    id: str
    environment: Environment
    started: str = ""
    """ISO 8601 UTC time the run started; orders runs when results are merged."""
    command: str = ""
    seed: int = 0
    selection: dict[str, list[str]] = field(default_factory=dict)
    plugins: list[dict[str, Any]] = field(default_factory=list)
    """Plugin health at load time: name, source, state (loaded/failed/blocked), reason, backends."""
    planned: int = 0
    """How many checks the run set out to do (0: not recorded)."""
    state: str = "complete"
    """How the run ended: one of :data:`RUN_STATES`. A file still saying ``running`` was
    cut short (the harness crashed or was killed) while results were written as they came."""
    note: str = ""
    """Why a run that did not complete stopped, when there is more to say."""
    seconds: float = 0.0
    """Wall time from the start of the run to its end (0: not recorded)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "started": self.started,
            "command": self.command,
            "seed": self.seed,
            "selection": self.selection,
            "plugins": self.plugins,
            "planned": self.planned,
            "state": self.state,
            "note": self.note,
            "seconds": self.seconds,
            "environment": self.environment.to_dict(),
        }

    def incomplete(self, done: int) -> str:
        """``incomplete: interrupted after 312 of 1242 checks``; empty for a complete run."""
        if self.state == "complete":
            return ""
        how = RUN_STATES.get(self.state, self.state)
        of = f" of {self.planned}" if self.planned else ""
        return f"incomplete: {how} after {done}{of} checks" + (
            f" ({self.note})" if self.note else ""
        )


RUN_STATES = {
    "complete": "complete",
    "running": "cut short (the harness crashed or was killed)",
    "interrupted": "interrupted",
    "terminated": "terminated",
    "stopped": "stopped",
    "failed": "stopped by an error of the harness",
}
"""How a run may end (the ``state`` of a run), and how a report says it."""


def parse_runs(raw: Any, file: str) -> list[Run]:
    """The ``runs`` of a decoded result file, validated; ResultFileError names the field."""
    if not isinstance(raw, list):
        raise ResultFileError(file, f"expected a list, got {kind_of(raw)}", "runs")
    runs = []
    for i, item in enumerate(raw):
        where = f"runs[{i}]"
        if not isinstance(item, dict):
            raise ResultFileError(file, f"expected an object, got {kind_of(item)}", where)
        if not isinstance(item.get("id"), str) or not item["id"]:
            raise ResultFileError(
                file, f"expected a non-empty string, got {item.get('id')!r}", f"{where}.id"
            )
        env = item.get("environment")
        if not isinstance(env, dict):
            raise ResultFileError(
                file, f"expected an object, got {kind_of(env)}", f"{where}.environment"
            )
        plugins = item.get("plugins", [])
        if not isinstance(plugins, list) or not all(isinstance(p, dict) for p in plugins):
            raise ResultFileError(file, "expected a list of objects", f"{where}.plugins")
        seed = item.get("seed", 0)
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ResultFileError(file, f"expected an integer, got {seed!r}", f"{where}.seed")
        planned = item.get("planned", 0)
        if isinstance(planned, bool) or not isinstance(planned, int) or planned < 0:
            raise ResultFileError(file, f"expected a count, got {planned!r}", f"{where}.planned")
        state = item.get("state", "complete")
        if not isinstance(state, str) or state not in RUN_STATES:
            raise ResultFileError(
                file, f"{state!r} is not one of {', '.join(RUN_STATES)}", f"{where}.state"
            )
        selection = item.get("selection") or {}
        if not isinstance(selection, dict) or not all(
            isinstance(v, list) and all(isinstance(x, str) for x in v) for v in selection.values()
        ):
            raise ResultFileError(
                file, "expected an object of lists of strings", f"{where}.selection"
            )
        extra = env.get("extra") or {}
        if not isinstance(extra, dict):
            raise ResultFileError(
                file, f"expected an object, got {kind_of(extra)}", f"{where}.environment.extra"
            )
        seconds = item.get("seconds", 0.0)
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not seconds >= 0:
            raise ResultFileError(
                file, f"expected a number of seconds >= 0, got {seconds!r}", f"{where}.seconds"
            )
        runs.append(
            Run(
                id=item["id"],
                environment=Environment.from_dict(env),
                started=str(item.get("started", "")),
                command=str(item.get("command", "")),
                seed=seed,
                selection={str(k): list(v) for k, v in selection.items()},
                plugins=list(plugins),
                planned=planned,
                state=state,
                note=str(item.get("note", "")),
                seconds=float(seconds),
            )
        )
    return runs
