"""The catalog: every loaded spec by id, and where spec files are found."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from conformance.errors import SpecError
from conformance.lang.parse import unknown_name_error
from conformance.spec.model import Spec


@dataclass
class Catalog:
    """Every loaded spec by id, in file order."""

    specs: dict[str, Spec] = field(default_factory=dict)
    families: dict[str, Mapping[str, Any]] = field(default_factory=dict)

    def get(self, spec_id: str) -> Spec:
        """The spec ``spec_id``, or a SpecError suggesting the nearest id."""
        if spec_id not in self.specs:
            raise unknown_name_error(spec_id, self.specs, kind="spec", where="")
        return self.specs[spec_id]

    def select(self, patterns: Iterable[str] | None = None) -> list[Spec]:
        """Specs whose id matches any glob in ``patterns`` (all specs when empty)."""
        wanted = list(patterns or [])
        if not wanted:
            return list(self.specs.values())
        chosen = [
            s for s in self.specs.values() if any(fnmatch.fnmatchcase(s.id, p) for p in wanted)
        ]
        if not chosen:
            raise SpecError(
                f"no spec matches {', '.join(map(repr, wanted))}",
                hint=f"known ids: {', '.join(self.specs)}",
            )
        return chosen


def default_spec_paths() -> list[Path]:
    """The TOML files shipped in the ``specs`` package, sorted by name."""
    root = resources.files("specs")
    return sorted(Path(str(p)) for p in root.iterdir() if p.name.endswith(".toml"))


def spec_files(path: Path | str) -> list[Path]:
    """The spec files at ``path``: the file itself, or a folder's ``*.toml`` sorted by name.

    A SpecError names a path that does not exist, or a folder without spec files.
    """
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix == ".toml" and p.is_file())
        if not files:
            raise SpecError("no *.toml spec files in this folder", file=str(path))
        return files
    if not path.exists():
        raise SpecError("no such file or folder", file=str(path))
    return [path]
