"""What running kernels out of process costs: the README's main job, workers against in-process.

Run on demand (never part of the test suite)::

    python benchmarks/bench_isolation.py                 # 5 rounds
    python benchmarks/bench_isolation.py --rounds 9 -- --spec 'lstm.*'

Each round runs the main job (``conformance run --report … --json …``) once with the
kernels in worker processes (the default) and once ``--in-process``, alternating which
goes first, each as a fresh ``python -m conformance`` process timed from the outside.
The framework plugins (``torch``, ``onnxruntime``) are added with ``--plugin`` when they
are importable but not installed as entry points, so that the job is the README's.
Reported: the median wall time of each mode with its min–max, and the ratio of medians.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

from conformance.plugins.markers import ENTRY_POINT_GROUP

PLUGIN_MODULES = {
    "torch": "implementations.torch_backend",
    "onnxruntime": "implementations.onnxruntime_backend",
}
"""The main job's framework plugins, by entry-point name (each needs its framework)."""


def main_job(folder: Path, extra: list[str]) -> list[str]:
    """The README's main command, writing into ``folder``, with the framework plugins."""
    discovered = {ep.name for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)}
    plugins = []
    for name, module in PLUGIN_MODULES.items():
        if name not in discovered and importlib.util.find_spec(name) is not None:
            plugins += ["--plugin", module]
    report, results = folder / "report.html", folder / "results.json"
    return [sys.executable, "-m", "conformance", "run", "--report", str(report),
            "--json", str(results), *plugins, *extra]  # fmt: skip


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} exited {done.returncode}: {done.stderr[-2000:]}")
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("extra", nargs="*", help="more options for conformance run (after --)")
    args = parser.parse_args(argv)
    times: dict[str, list[float]] = {"workers": [], "in-process": []}
    with tempfile.TemporaryDirectory() as folder:
        command = main_job(Path(folder), args.extra)
        print("job:", " ".join(command[1:]))
        print(f"load average before: {os.getloadavg()[0]:.2f}")
        for round_ in range(args.rounds):
            order = ["workers", "in-process"] if round_ % 2 == 0 else ["in-process", "workers"]
            for mode in order:
                flags = ["--in-process"] if mode == "in-process" else []
                times[mode].append(timed([*command, *flags]))
            print(
                f"round {round_ + 1}: " + ", ".join(f"{m} {t[-1]:.1f} s" for m, t in times.items())
            )
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    medians = {mode: statistics.median(t) for mode, t in times.items()}
    for mode, t in times.items():
        print(f"{mode:>10}: median {medians[mode]:.2f} s (min {min(t):.2f}, max {max(t):.2f})")
    print(f"workers / in-process: {medians['workers'] / medians['in-process']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
