"""Finding plugins and collecting the spec files and backends they contribute.

Plugins come from the ``conformance.backends`` entry-point group (the built-ins
included), from modules named with ``--plugin``, and from objects registered
directly (tests). ``CONFORMANCE_BLOCK_PLUGINS=name,name`` blocks plugins by name.
One plugin that fails to import, to name its spec files or to register never stops
the others: its failure is kept in :attr:`Registry.health` and shown by
``conformance list``. The registry only gathers spec paths; loading them is the
catalog's job, a layer down, called by the front ends.
"""

from __future__ import annotations

import functools
import importlib
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import pluggy

from conformance.errors import BackendUnavailable, PluginError
from conformance.plugins import hookspecs
from conformance.plugins.backend import Backend, BackendRegistry, kernel_problem
from conformance.plugins.markers import ENTRY_POINT_GROUP, PROJECT

if TYPE_CHECKING:
    from conformance.spec.model import Spec

BLOCK_ENV_VAR = "CONFORMANCE_BLOCK_PLUGINS"

PluginState = Literal["loaded", "failed", "blocked", "unavailable"]
"""``unavailable``: the plugin's framework is not installed (it raised BackendUnavailable)."""


@dataclass(frozen=True)
class PluginHealth:
    """How one plugin fared: where it came from, and whether it loaded."""

    name: str
    source: str
    state: PluginState
    reason: str = ""
    backends: tuple[str, ...] = ()


@dataclass(frozen=True)
class SpecPath:
    """A spec file, or a folder of them, contributed by a plugin's ``conformance_spec_paths``."""

    plugin: str
    path: Path


@dataclass(frozen=True)
class Recipe:
    """How a fresh process loads a backend again: the plugin that registered it
    (:mod:`conformance.isolation.fresh` starts workers from it).

    :ivar kind: ``entry point`` (``target`` is the entry point's value,
        ``implementations.torch_backend``) or ``module`` (``target`` is the module a
        ``--plugin`` named).
    :ivar plugin: the plugin's name, as the registry knows it.
    :ivar backend: the backend's name.
    """

    kind: Literal["entry point", "module"]
    target: str
    plugin: str
    backend: str


@dataclass
class Registry:
    """The loaded plugins, their health, the backends they registered and their spec paths."""

    backends: dict[str, Backend] = field(default_factory=dict)
    health: list[PluginHealth] = field(default_factory=list)
    spec_paths: list[SpecPath] = field(default_factory=list)
    recipes: dict[str, Recipe] = field(default_factory=dict)
    """Backend name → how a fresh process loads it again; none for a backend registered
    directly."""

    def recipe(self, backend: Backend) -> Recipe | None:
        """How a fresh process loads ``backend`` again, if it is this registry's own
        (not a copy changed since) and its plugin can be loaded by name."""
        if self.backends.get(backend.name) is not backend:
            return None
        return self.recipes.get(backend.name)

    def select(self, names: Iterable[str] | None) -> list[Backend]:
        """The backends named (all when ``names`` is empty), failing on an unknown name."""
        wanted = list(names or [])
        if not wanted:
            return list(self.backends.values())
        unknown = [n for n in wanted if n not in self.backends]
        if unknown:
            known = ", ".join(sorted(self.backends)) or "none"
            raise PluginError(f"unknown backend(s) {', '.join(unknown)}; registered: {known}")
        return [self.backends[n] for n in wanted]

    def reject_unknown_kernels(self, specs: Mapping[str, Spec]) -> None:
        """Fail every plugin with a backend whose kernels the catalog does not know
        (:func:`~conformance.plugins.backend.kernel_problem`), and drop its backends: a
        misspelled kernel id must never make a backend "conform" with nothing checked."""
        for position, health in enumerate(self.health):
            problems = [
                problem
                for name in health.backends
                if name in self.backends and (problem := kernel_problem(self.backends[name], specs))
            ]
            if problems:
                for name in health.backends:
                    self.backends.pop(name, None)
                self.health[position] = replace(
                    health, state="failed", reason="; ".join(problems), backends=()
                )


def blocked_plugins(environ: dict[str, str] | None = None) -> set[str]:
    """Plugin names listed in ``CONFORMANCE_BLOCK_PLUGINS`` (comma separated)."""
    raw = (environ if environ is not None else os.environ).get(BLOCK_ENV_VAR, "")
    return {name.strip() for name in raw.split(",") if name.strip()}


def get_plugin_manager() -> pluggy.PluginManager:
    """A plugin manager that knows the harness's hook specifications and nothing else."""
    pm = pluggy.PluginManager(PROJECT)
    pm.add_hookspecs(hookspecs)
    return pm


def load_registry(
    plugin_modules: Iterable[str] = (),
    *,
    extra_plugins: Iterable[tuple[str, object]] = (),
    use_entry_points: bool = True,
    environ: dict[str, str] | None = None,
) -> Registry:
    """Discover, load and register every plugin, isolating each one's failures.

    :param plugin_modules: dotted module names to import and register (``--plugin``).
    :param extra_plugins: ``(name, plugin object)`` pairs registered directly.
    :param use_entry_points: whether to load the ``conformance.backends`` group.
    :param environ: environment for the block list (defaults to ``os.environ``).
    """
    pm = get_plugin_manager()
    blocked = blocked_plugins(environ)
    health: dict[str, PluginHealth] = {}
    loadable: dict[str, tuple[Literal["entry point", "module"], str]] = {}  # plugin → its origin

    def register(name: str, source: str, load: Callable[[], object]) -> None:
        if name in blocked:
            pm.set_blocked(name)
            health[name] = PluginHealth(name, source, "blocked", f"listed in {BLOCK_ENV_VAR}")
            return
        try:
            plugin = load()
            if pm.is_registered(plugin):
                return
            pm.register(plugin, name=name)
        except BackendUnavailable as exc:  # an optional framework that is not installed
            health[name] = PluginHealth(name, source, "unavailable", str(exc))
            return
        except Exception as exc:  # a broken plugin must not stop the others
            health[name] = PluginHealth(name, source, "failed", f"{type(exc).__name__}: {exc}")
            return
        try:  # a misspelled hook name fails loudly, for this plugin only
            pm.check_pending()
        except pluggy.PluginValidationError as exc:
            pm.unregister(plugin)
            health[name] = PluginHealth(name, source, "failed", str(exc))
            return
        health[name] = PluginHealth(name, source, "loaded")

    if use_entry_points:
        for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
            loadable.setdefault(ep.name, ("entry point", ep.value))
            register(ep.name, f"entry point {ep.value}", ep.load)
    for module in plugin_modules:
        loadable.setdefault(module, ("module", module))
        register(module, "--plugin", functools.partial(importlib.import_module, module))
    for name, plugin in extra_plugins:
        register(name, "direct", functools.partial(_identity, plugin))

    spec_paths: list[SpecPath] = []
    for impl in pm.hook.conformance_spec_paths.get_hookimpls():
        try:
            paths = _spec_paths(impl.function())
        except Exception as exc:
            health[impl.plugin_name] = replace(
                health[impl.plugin_name],
                state="failed",
                reason=f"conformance_spec_paths: {type(exc).__name__}: {exc}",
            )
            pm.unregister(impl.plugin)  # a plugin that failed registers no backends either
            continue
        spec_paths += [SpecPath(impl.plugin_name, path) for path in paths]

    collected = BackendRegistry()
    for impl in pm.hook.conformance_register_backends.get_hookimpls():
        collected._plugin = impl.plugin_name
        before = set(collected.backends)
        try:
            impl.function(register=collected)
        except BackendUnavailable as exc:
            health[impl.plugin_name] = replace(
                health[impl.plugin_name], state="unavailable", reason=str(exc)
            )
            continue
        except Exception as exc:
            health[impl.plugin_name] = replace(
                health[impl.plugin_name],
                state="failed",
                reason=f"conformance_register_backends raised {type(exc).__name__}: {exc}",
            )
            continue
        added = tuple(sorted(set(collected.backends) - before))
        health[impl.plugin_name] = replace(health[impl.plugin_name], backends=added)
    recipes = {
        name: Recipe(*loadable[backend.plugin], backend.plugin, name)
        for name, backend in collected.backends.items()
        if backend.plugin in loadable and health[backend.plugin].source != "direct"
    }
    return Registry(
        backends=collected.backends,
        health=list(health.values()),
        spec_paths=spec_paths,
        recipes=recipes,
    )


def _spec_paths(returned: object) -> list[Path]:
    """The paths a ``conformance_spec_paths`` implementation returned, each one existing."""
    if isinstance(returned, str | os.PathLike) or not isinstance(returned, Iterable):
        raise PluginError(f"returned {returned!r}, not a list of paths")
    paths = []
    for item in returned:
        if not isinstance(item, str | os.PathLike):
            raise PluginError(f"returned {item!r}, which is not a path")
        path = Path(item)
        if not path.exists():
            raise PluginError(f"spec path {str(path)!r} does not exist")
        paths.append(path)
    return paths


def _identity(plugin: object) -> object:
    """``plugin`` itself: the loader of a plugin object registered directly."""
    return plugin
