"""What a run is about: the loaded catalog, registry and oracle, and the user's selection.

Shared by the pytest front end and the command line so that both select the same
specs, backends, dtypes and checks from the same options. Plugins load first, since
they may contribute spec files; then every spec file is loaded as one catalog.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from conformance.engine import CheckRequest, plan
from conformance.errors import PluginError, UsageError
from conformance.frontends.spec_sources import (
    SpecSource,
    gather_spec_sources,
    load_spec_sources,
)
from conformance.oracle.evaluate import Oracle
from conformance.plugins.registry import Registry, load_registry
from conformance.spec.catalog import Catalog
from conformance.typing import DTYPES


@dataclass(frozen=True)
class Selection:
    """The user's choice of what to check; empty tuples mean everything."""

    backends: tuple[str, ...] = ()
    specs: tuple[str, ...] = ()
    dtypes: tuple[str, ...] = ()
    checks: tuple[str, ...] = ()
    plugins: tuple[str, ...] = ()
    seed: int = 0
    spec_dirs: tuple[str, ...] = ()
    """Spec files or folders of them, loaded after the shipped ones (``--spec-dir``)."""


@dataclass
class Session:
    """Catalog, registry and oracle for one run, and the plan the selection implies."""

    selection: Selection
    catalog: Catalog
    registry: Registry
    spec_sources: list[SpecSource] = field(default_factory=list)
    oracle: Oracle = field(init=False)

    def __post_init__(self) -> None:
        self.oracle = Oracle(self.catalog.specs)

    @classmethod
    def load(
        cls,
        selection: Selection,
        environ: Mapping[str, str] | None = None,
        *,
        named_plugins_must_load: bool = True,
    ) -> Session:
        """Load plugins, then specs; raises SpecError, PluginError or UsageError, readably.

        :param environ: for ``CONFORMANCE_SPEC_PATH`` and the block list (default
            ``os.environ``).
        :param named_plugins_must_load: whether a ``--plugin`` module that fails to load
            is an error (to run checks) or only shown failed (to list the plugins).

        A seed that cannot seed every draw is a UsageError here, before anything runs, so
        that it is never blamed on the first backend to be checked.
        """
        seed = selection.seed
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise UsageError(f"--seed {seed}: a seed is an integer >= 0")
        registry = load_registry(
            selection.plugins, environ=dict(environ) if environ is not None else None
        )
        named_failures = [
            h for h in registry.health if h.state == "failed" and h.name in selection.plugins
        ]
        if named_failures and named_plugins_must_load:
            raise PluginError(
                "; ".join(f"plugin {h.name!r} failed to load: {h.reason}" for h in named_failures)
            )
        sources = gather_spec_sources(selection.spec_dirs, registry, environ)
        return cls(selection, load_spec_sources(sources), registry, sources)

    def spec_dirs_for(self, spec_id: str) -> list[str]:
        """The ``--spec-dir`` values a command needs to load ``spec_id`` again (often none)."""
        spec = self.catalog.specs.get(spec_id)
        if spec is None:
            return []
        target = Path(spec.file).resolve()
        return [s.spec_dir for s in self.spec_sources if s.spec_dir and s.file.resolve() == target]

    def requests(self) -> list[CheckRequest]:
        """The (spec, backend, dtype, check) cells to run; UsageError when empty."""
        return plan(
            self.catalog.select(self.selection.specs),
            self.registry.select(self.selection.backends),
            self.selection.dtypes or DTYPES,
            self.selection.checks or None,
        )


def split_csv(values: Iterable[str] | None) -> tuple[str, ...]:
    """``["a,b", "c"]`` → ``("a", "b", "c")``: options may repeat or take comma lists."""
    return tuple(v.strip() for value in values or () for v in value.split(",") if v.strip())
