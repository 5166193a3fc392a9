"""What a run is about: the loaded catalog, registry and oracle, and the user's selection.

Shared by the pytest front end and the command line so that both select the same
specs, backends, dtypes and checks from the same options.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from conformance.engine import CheckRequest, plan
from conformance.errors import PluginError, UsageError
from conformance.oracle.evaluate import Oracle
from conformance.oracle.verify import load_checked_catalog
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


@dataclass
class Session:
    """Catalog, registry and oracle for one run, and the plan the selection implies."""

    selection: Selection
    catalog: Catalog
    registry: Registry
    oracle: Oracle = field(init=False)

    def __post_init__(self) -> None:
        self.oracle = Oracle(self.catalog.specs)

    @classmethod
    def load(cls, selection: Selection) -> Session:
        """Load specs and plugins; raises SpecError or PluginError with a readable message.

        A seed that cannot seed every draw is a UsageError here, before anything runs, so
        that it is never blamed on the first backend to be checked.
        """
        seed = selection.seed
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise UsageError(f"--seed {seed}: a seed is an integer >= 0")
        catalog = load_checked_catalog()
        registry = load_registry(selection.plugins)
        named_failures = [
            h for h in registry.health if h.state == "failed" and h.name in selection.plugins
        ]
        if named_failures:
            raise PluginError(
                "; ".join(f"plugin {h.name!r} failed to load: {h.reason}" for h in named_failures)
            )
        return cls(selection, catalog, registry)

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
