"""Where a run's spec files come from: the shipped ones, folders the user names, plugins.

In loading order: the shipped ``specs/*.toml``; every entry of
``$CONFORMANCE_SPEC_PATH`` (separated by ``os.pathsep``); every ``--spec-dir``
(``--conformance-spec-dir`` in pytest); then the paths plugins contribute through
``conformance_spec_paths``, plugin by plugin. Each entry is a spec file or a folder
whose ``*.toml`` files are read in name order; a file reached twice is read once.
All of them go through the same loader and the same checks as the shipped specs.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from conformance.errors import PluginError, SpecError, UsageError
from conformance.oracle.verify import load_checked_catalog
from conformance.plugins.registry import Registry
from conformance.spec.catalog import Catalog, default_spec_paths, spec_files

SPEC_PATH_ENV_VAR = "CONFORMANCE_SPEC_PATH"
SHIPPED = "shipped"


@dataclass(frozen=True)
class SpecSource:
    """One spec file and why it is loaded.

    :ivar origin: ``shipped``, ``--spec-dir DIR``, ``$CONFORMANCE_SPEC_PATH`` or
        ``plugin 'name'``: how error messages and ``conformance list`` name it.
    :ivar spec_dir: the ``--spec-dir`` value that loads the file again (for re-run
        commands); empty when no option is needed (shipped, or from a plugin).
    """

    file: Path
    origin: str
    spec_dir: str = ""


def gather_spec_sources(
    spec_dirs: Iterable[str],
    registry: Registry,
    environ: Mapping[str, str] | None = None,
) -> list[SpecSource]:
    """Every spec file of a run, in loading order (see the module docstring).

    A folder or file named by the user that is missing is a UsageError naming the
    option or variable; one contributed by a plugin, a PluginError naming the plugin.
    """
    environ = os.environ if environ is None else environ
    sources = [SpecSource(path, SHIPPED) for path in default_spec_paths()]
    entries = [e for e in environ.get(SPEC_PATH_ENV_VAR, "").split(os.pathsep) if e.strip()]
    for entry in entries:
        sources += _expand(entry, f"${SPEC_PATH_ENV_VAR}", entry, UsageError)
    for spec_dir in spec_dirs:
        sources += _expand(spec_dir, f"--spec-dir {spec_dir}", spec_dir, UsageError)
    for contributed in registry.spec_paths:
        origin = f"plugin {contributed.plugin!r}"
        sources += _expand(str(contributed.path), origin, "", PluginError)
    seen: set[Path] = set()
    unique = []
    for source in sources:
        key = source.file.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(source)
    return unique


def _expand(
    path: str, origin: str, spec_dir: str, error: type[UsageError] | type[PluginError]
) -> list[SpecSource]:
    try:
        files = spec_files(path)
    except SpecError as exc:
        raise error(f"{origin}: {exc}") from None
    return [SpecSource(file, origin, spec_dir) for file in files]


def load_spec_sources(sources: list[SpecSource]) -> Catalog:
    """Load and check every source's file as one catalog (specs may call across files).

    A SpecError in a file that is not shipped says where the file came from.
    """
    try:
        return load_checked_catalog([s.file for s in sources])
    except SpecError as exc:
        origin = _origin_of(exc.file, sources)
        if origin in ("", SHIPPED):
            raise
        hint = f"{exc.hint}; " if exc.hint else ""
        raise _with_hint(exc, f"{hint}spec file from {origin}") from None


def _origin_of(file: str, sources: list[SpecSource]) -> str:
    if not file:
        return ""
    target = Path(file).resolve()
    return next((s.origin for s in sources if s.file.resolve() == target), "")


def _with_hint(exc: SpecError, hint: str) -> SpecError:
    """The same error at the same place, with another hint."""
    return type(exc)(exc.problem, where=exc.where, hint=hint)
