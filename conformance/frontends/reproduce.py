"""Reproducing a failure: the command that re-runs one check, and the inputs it failed on.

Inputs are a pure function of (seed, spec id, case index), so re-running a spec with
the same seed redraws the same sizes and values, and the engine stops at the same
first failing case: ``conformance run --backend B --spec S --dtype D --check C
--seed N`` reproduces a failure exactly. The failing inputs are also saved as
``.npz`` (named after the check id) for debugging outside the harness.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from conformance.checks import CheckContext
from conformance.frontends.session import Session
from conformance.plugins.registry import Registry
from conformance.results.model import CheckResult, Status
from conformance.spec.model import Spec

TIME_AXIS = "T"
"""A symbol with an axis named ``T`` is a sequence: its index on that axis is the time step."""
_WORST = re.compile(r"^(?:grad )?(?P<name>\w+)\[(?P<index>[\d, ]+)\]$")


def rerun_command(
    result: CheckResult, registry: Registry | None = None, spec_dirs: Sequence[str] = ()
) -> str:
    """``conformance run --backend B --spec S --dtype D --check C --seed N [--plugin M]
    [--sizes P]``.

    ``--plugin`` is added when the backend's plugin came from ``--plugin MODULE``, and
    ``--spec-dir DIR`` for each of ``spec_dirs`` (where the spec's file was found);
    empty when the plugin was registered directly and no command line can reach it.
    """
    source = _plugin_source(result.plugin, registry)
    if source == "direct":
        return ""
    args = ["conformance", "run"]
    if source == "--plugin":
        args += ["--plugin", result.plugin]
    for spec_dir in spec_dirs:
        args += ["--spec-dir", spec_dir]
    args += ["--backend", result.backend, "--spec", result.spec, "--dtype", result.dtype]
    args += ["--check", result.check, "--seed", str(result.seed)]
    if result.profile not in ("", "quick"):
        args += ["--sizes", result.profile]
    return shlex.join(args)


def _plugin_source(plugin: str, registry: Registry | None) -> str:
    if registry is None or not plugin:
        return "entry point"
    for health in registry.health:
        if health.name == plugin:
            return health.source
    return "entry point"


def time_step(spec: Spec, worst: str | None) -> int | None:
    """The time step of ``worst`` (``hs[3, 1, 0]`` → 3) when its symbol has a ``T`` axis."""
    match = _WORST.match(worst or "")
    if not match or match["name"] not in spec.symbols:
        return None
    axes = [axis.strip() for axis in spec.symbols[match["name"]].shape]
    index = match["index"].split(",")
    if TIME_AXIS not in axes or len(index) != len(axes):
        return None
    return int(index[axes.index(TIME_AXIS)])


def inputs_of(result: CheckResult, session: Session) -> dict[str, np.ndarray]:
    """The arrays the check fed the backend in its failing case, redrawn from the seed.

    Inputs by symbol name; for the gradient check also ``cotangent.<output>``, and
    ``meta.json``, a string naming the spec, backend, dtype, check, case, sizes and seed.
    """
    if result.case is None or result.sizes is None:
        raise ValueError(f"{result.id} has no failing case to redraw")
    spec = session.catalog.get(result.spec)
    backend = session.registry.backends[result.backend]
    kernel = backend.kernel(spec.id)
    if kernel is None:
        raise ValueError(f"{result.id}: backend {backend.name!r} has no kernel for {spec.id!r}")
    ctx = CheckContext(spec, backend, kernel, result.dtype, result.seed, session.oracle)
    domains = spec.stability if result.check == "stability" else None
    arrays = dict(ctx.inputs(result.case, result.sizes, domains=domains))
    if result.check == "gradient":
        cotangents = ctx.cotangents(result.case, result.sizes)
        arrays.update({f"cotangent.{k}": v for k, v in cotangents.items()})
    meta = {
        "spec": result.spec,
        "backend": result.backend,
        "dtype": result.dtype,
        "check": result.check,
        "case": result.case,
        "sizes": dict(result.sizes),
        "seed": result.seed,
        "rerun": result.rerun,
    }
    arrays["meta.json"] = np.array(json.dumps(meta))
    return arrays


def save_failing_inputs(
    results: Iterable[CheckResult], session: Session, directory: Path | str
) -> list[Path]:
    """Save each failure's inputs as ``<directory>/<check id>.npz``; set ``inputs_file``.

    Failures whose spec or backend is not in ``session`` (merged from elsewhere) are
    left alone. Returns the files written.
    """
    directory = Path(directory)
    written = []
    for result in results:
        if result.status not in (Status.FAIL, Status.ERROR) or result.case is None:
            continue
        if (
            result.spec not in session.catalog.specs
            or result.backend not in session.registry.backends
        ):
            continue
        try:
            arrays = inputs_of(result, session)
        except Exception as exc:  # a redraw that fails must not hide the report
            result.extra["inputs_error"] = f"{type(exc).__name__}: {exc}"
            continue
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{_safe(result.id)}.npz"
        np.savez(path, **arrays)  # type: ignore[arg-type]
        result.inputs_file = str(path.resolve())
        written.append(path)
    return written


def inputs_directory(report: Path | str) -> Path:
    """Where the failing inputs of a report go: ``report.md`` → ``report.inputs/``."""
    report = Path(report)
    return report.with_name(f"{report.stem}.inputs")


def _safe(name: str) -> str:
    return re.sub(r"[^\w.+-]", "_", name)
