"""What the framework backends (``torch``, ``onnxruntime``) share: their thread count.

A framework's own thread pool runs beside NumPy's BLAS threads; left to itself each
would take every core, and two pools spinning on the same cores distort every timing
in the report. Both framework backends therefore pin their intra-op threads to the BLAS
thread count, read from the environment variables that set it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

THREAD_ENV_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")
"""Where the BLAS thread count is set, in the order they are read."""

MAX_THREADS = 8
"""The cap when no variable is set: the test sizes are tiny, more threads only spin."""


def thread_count(environ: Mapping[str, str] | None = None) -> int:
    """The intra-op thread count for a framework: the BLAS thread count.

    The first of ``OPENBLAS_NUM_THREADS`` and ``OMP_NUM_THREADS`` that holds a positive
    integer, else ``os.cpu_count()``; never more than the CPU count, and without a
    variable never more than :data:`MAX_THREADS`.
    """
    env = os.environ if environ is None else environ
    cpus = os.cpu_count() or 1
    for name in THREAD_ENV_VARS:
        value = env.get(name, "").strip()
        if value.isdigit() and int(value) > 0:
            return min(int(value), cpus)
    return min(cpus, MAX_THREADS)
