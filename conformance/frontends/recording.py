"""Turning a session's raw check results into a :class:`~conformance.results.files.ResultSet`.

Both front ends (the command line and pytest, xdist workers included) hand every
result to a :class:`Recorder`, which stamps it with the run and machine, the plugin
that registered the backend, the re-run command and the time step of the worst
element, and keeps the run's environment, selection and plugin health beside them.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import asdict, replace
from datetime import UTC, datetime

from conformance.frontends.reproduce import rerun_command, time_step
from conformance.frontends.session import Session
from conformance.results.environment import Environment, collect_environment
from conformance.results.files import ResultSet, Run, SpecInfo
from conformance.results.model import CheckResult
from conformance.spec.catalog import Catalog


def spec_infos(catalog: Catalog) -> dict[str, SpecInfo]:
    """Title, family and source of every spec, for reports that do not load the catalog."""
    infos = {}
    for spec in catalog.specs.values():
        family = catalog.families.get(spec.family, {})
        infos[spec.id] = SpecInfo(
            id=spec.id,
            title=spec.title,
            family=spec.family,
            family_title=str(family.get("title", "")),
            source=spec.source or str(family.get("source", "")),
        )
    return infos


class Recorder:
    """Collects one run's results, annotated, with the run's environment."""

    def __init__(
        self,
        session: Session,
        *,
        command: str = "",
        environment: Environment | None = None,
        machine: str | None = None,
    ) -> None:
        self.session = session
        selection = session.selection
        env = environment or collect_environment(machine)
        backends = session.registry.backends
        for name in session.selection.backends or tuple(backends):
            if name in backends:  # framework versions, threads, kernel path
                env.extra.update(backends[name].environment)
        self.run_info = Run(
            id=uuid.uuid4().hex[:12],
            environment=env,
            started=datetime.now(UTC).isoformat(timespec="seconds"),
            command=command,
            seed=selection.seed,
            selection={
                "backends": list(selection.backends),
                "specs": list(selection.specs),
                "dtypes": list(selection.dtypes),
                "checks": list(selection.checks),
                "plugins": list(selection.plugins),
                **({"spec_dirs": list(selection.spec_dirs)} if selection.spec_dirs else {}),
                "sizes": [selection.sizes],
            },
            plugins=[{**asdict(h), "backends": list(h.backends)} for h in session.registry.health],
        )
        self.results: list[CheckResult] = []
        self._began = time.monotonic()

    def record(self, result: CheckResult) -> CheckResult:
        """Annotate ``result`` in place, keep it, and return it."""
        backend = self.session.registry.backends.get(result.backend)
        result.machine = self.run_info.environment.machine
        result.run_id = self.run_info.id
        result.plugin = backend.plugin if backend is not None else result.plugin
        result.rerun = rerun_command(
            result, self.session.registry, self.session.spec_dirs_for(result.spec)
        )
        spec = self.session.catalog.specs.get(result.spec)
        if spec is not None and result.time_step is None:
            result.time_step = time_step(spec, result.worst)
        self.results.append(result)
        return result

    def plan(self, planned: int) -> None:
        """The run sets out to do ``planned`` checks; until :meth:`end` it is ``running``."""
        self.run_info = replace(self.run_info, planned=planned, state="running")

    def end(self, state: str = "complete", note: str = "") -> None:
        """How the run ended: one of :data:`~conformance.results.files.RUN_STATES`."""
        seconds = round(time.monotonic() - self._began, 1)
        self.run_info = replace(self.run_info, state=state, note=note, seconds=seconds)

    def result_set(self) -> ResultSet:
        """The recorded results with their run and the catalog's spec metadata."""
        specs = spec_infos(self.session.catalog)
        used = dict.fromkeys(r.spec for r in self.results)
        return ResultSet(
            results=list(self.results),
            runs={self.run_info.id: self.run_info},
            specs={k: specs[k] for k in used if k in specs},
        )
