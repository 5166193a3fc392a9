"""Where results were produced: Python, NumPy, BLAS, threads and the machine.

Every run records one :class:`Environment`; each result names its run, so a result
read back from JSON says which interpreter, NumPy build and BLAS produced it. The
machine label (``platform.node()`` unless ``--machine`` or ``CONFORMANCE_MACHINE``
says otherwise) keeps results from a CPU box and a GPU box apart when merged.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from conformance.version import __version__

MACHINE_ENV_VAR = "CONFORMANCE_MACHINE"
THREAD_ENV_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


@dataclass(frozen=True)
class Environment:
    """The software and hardware one run measured on."""

    machine: str
    """Label of the machine; the key that keeps machines apart in a merged report."""
    python: str
    numpy: str
    blas: str
    """BLAS library and version, e.g. ``scipy-openblas 0.3.31``."""
    threads: str
    """CPU count and the thread limits in force, e.g. ``16 cpus, OPENBLAS_NUM_THREADS=1``."""
    arch: str
    platform: str
    conformance: str
    extra: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Environment:
        """The environment recorded in a result file; unknown keys go to ``extra``."""
        known = {f for f in cls.__dataclass_fields__ if f != "extra"}
        values = {k: str(data.get(k, "")) for k in known}
        extra = {k: str(v) for k, v in data.items() if k not in known and k != "extra"}
        extra.update({k: str(v) for k, v in dict(data.get("extra") or {}).items()})
        return cls(**values, extra=extra)


def machine_label(override: str | None = None, environ: Mapping[str, str] | None = None) -> str:
    """The machine's label: ``override``, else ``$CONFORMANCE_MACHINE``, else the host name."""
    env = os.environ if environ is None else environ
    return override or env.get(MACHINE_ENV_VAR, "") or platform.node() or "unknown"


def blas_description() -> str:
    """BLAS name and version from NumPy's build configuration, or ``unknown``."""
    try:
        config = np.show_config(mode="dicts")
        blas = config["Build Dependencies"]["blas"]
    except Exception:  # older NumPy, or a build without the record
        return "unknown"
    return " ".join(str(blas.get(k, "")) for k in ("name", "version") if blas.get(k)) or "unknown"


def thread_description(environ: Mapping[str, str] | None = None) -> str:
    """CPU count, thread limits from the environment, BLAS threads if threadpoolctl is there."""
    env = os.environ if environ is None else environ
    parts = [f"{os.cpu_count() or '?'} cpus"]
    parts += [f"{name}={env[name]}" for name in THREAD_ENV_VARS if env.get(name)]
    try:
        from threadpoolctl import threadpool_info  # optional; not a dependency
    except ImportError:
        return ", ".join(parts)
    parts += [
        f"{info.get('internal_api', 'blas')} threads={info.get('num_threads')}"
        for info in threadpool_info()
        if info.get("user_api") == "blas"
    ]
    return ", ".join(parts)


def collect_environment(machine: str | None = None) -> Environment:
    """The environment of this process, labelled ``machine_label(machine)``."""
    return Environment(
        machine=machine_label(machine),
        python=f"{platform.python_implementation()} {platform.python_version()}",
        numpy=np.__version__,
        blas=blas_description(),
        threads=thread_description(),
        arch=platform.machine(),
        platform=platform.platform(),
        conformance=__version__,
    )
