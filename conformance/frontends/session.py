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
from conformance.errors import PluginError, SpecError, UsageError
from conformance.frontends.spec_sources import (
    SpecSource,
    gather_spec_sources,
    load_spec_sources,
)
from conformance.isolation import DEFAULT_TIMEOUT, InProcess, KernelHost, WorkerPool
from conformance.oracle.evaluate import Oracle
from conformance.plugins.registry import Registry, load_registry
from conformance.spec.catalog import Catalog
from conformance.spec.profiles import SizeChoice, catalog_at, parse_sizes
from conformance.typing import DTYPES


@dataclass(frozen=True)
class Selection:
    """The user's choice of what to check, and how; empty tuples mean everything.

    :ivar timeout: seconds of kernel time one check may take before its worker is
        killed and the check is an error.
    :ivar in_process: run the kernels in the harness's own process (for ``pdb``),
        giving up the protection of a worker process.
    """

    backends: tuple[str, ...] = ()
    specs: tuple[str, ...] = ()
    dtypes: tuple[str, ...] = ()
    checks: tuple[str, ...] = ()
    plugins: tuple[str, ...] = ()
    seed: int = 0
    spec_dirs: tuple[str, ...] = ()
    """Spec files or folders of them, loaded after the shipped ones (``--spec-dir``)."""
    timeout: float = DEFAULT_TIMEOUT
    """Seconds of kernel time one check may take before its worker is killed."""
    in_process: bool = False
    """Run the kernels in the harness's own process (for ``pdb``), unprotected."""
    sizes: str = "quick"
    """The sizes to check at (``--sizes``): ``quick``, ``realistic``, ``awkward`` or explicit
    sizes such as ``B=17,H=33`` (:mod:`conformance.spec.profiles`)."""

    def validate(self) -> None:
        """UsageError for a seed or a timeout that no run can use, before anything runs (a
        bad seed must never be blamed on the first backend to be checked)."""
        seed = self.seed
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise UsageError(f"--seed {seed}: a seed is an integer >= 0")
        if not (isinstance(self.timeout, int | float) and 0 < self.timeout < float("inf")):
            raise UsageError(
                f"the per-check timeout must be a positive number, got {self.timeout!r}"
            )
        parse_sizes(self.sizes)

    @property
    def size_choice(self) -> SizeChoice:
        """The parsed ``sizes``."""
        return parse_sizes(self.sizes)


@dataclass
class Session:
    """Catalog, registry and oracle for one run, and the plan the selection implies."""

    selection: Selection
    catalog: Catalog
    registry: Registry
    spec_sources: list[SpecSource] = field(default_factory=list)
    oracle: Oracle = field(init=False)
    _host: KernelHost | None = field(default=None, init=False, repr=False)

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

        The seed and timeout are checked first (:meth:`Selection.validate`); a backend
        with a kernel the catalog does not know fails its plugin
        (:meth:`~conformance.plugins.registry.Registry.reject_unknown_kernels`).
        """
        selection.validate()
        registry = load_registry(
            selection.plugins, environ=dict(environ) if environ is not None else None
        )
        sources = gather_spec_sources(selection.spec_dirs, registry, environ)
        catalog = load_spec_sources(sources)
        registry.reject_unknown_kernels(catalog.specs)
        catalog = catalog_at(
            catalog, selection.size_choice, selection.seed, strict=selected_ids(catalog, selection)
        )
        named_failures = [
            h for h in registry.health if h.state == "failed" and h.name in selection.plugins
        ]
        if named_failures and named_plugins_must_load:
            raise PluginError(
                "; ".join(f"plugin {h.name!r} failed to load: {h.reason}" for h in named_failures)
            )
        return cls(selection, catalog, registry, sources)

    def spec_dirs_for(self, spec_id: str) -> list[str]:
        """The ``--spec-dir`` values a command needs to load ``spec_id`` again (often none)."""
        spec = self.catalog.specs.get(spec_id)
        if spec is None:
            return []
        target = Path(spec.file).resolve()
        return [s.spec_dir for s in self.spec_sources if s.spec_dir and s.file.resolve() == target]

    def host(self) -> KernelHost:
        """Where this session's kernels run: a worker process per backend, started on first
        use, or this process with ``in_process``. Closed by :meth:`close`."""
        if self._host is None:
            self._host = (
                InProcess()
                if self.selection.in_process
                else WorkerPool(self.selection.timeout, self.registry)
            )
        return self._host

    def close(self) -> None:
        """Stop the kernels' worker processes, if any were started."""
        if self._host is not None:
            self._host.close()
            self._host = None

    def requests(self) -> list[CheckRequest]:
        """The (spec, backend, dtype, check) cells to run; UsageError when empty."""
        return plan(
            self.catalog.select(self.selection.specs),
            self.registry.select(self.selection.backends),
            self.selection.dtypes or DTYPES,
            self.selection.checks or None,
        )


def selected_ids(catalog: Catalog, selection: Selection) -> list[str]:
    """The ids of the specs ``selection`` names (none when it names none that exist: that
    is said when the run is planned)."""
    try:
        return [spec.id for spec in catalog.select(selection.specs)]
    except SpecError:
        return []


def split_csv(values: Iterable[str] | None) -> tuple[str, ...]:
    """``["a,b", "c"]`` → ``("a", "b", "c")``: options may repeat or take comma lists."""
    return tuple(v.strip() for value in values or () for v in value.split(",") if v.strip())
