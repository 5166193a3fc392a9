"""Time merging and rendering the result files of N machines, to show that it grows linearly.

Run on demand (never part of the test suite)::

    python benchmarks/bench_report.py                          # N = 100, 200, 400, 800, 1000
    python benchmarks/bench_report.py --machines 50,100 --format html,terminal
    python benchmarks/bench_report.py --results reports/results.json

The machines' files are copies of one real run's result file (``--results``; by default
``reports/results.json``, else the main job is run once to make one), each relabelled as
its own machine and run, its timings and errors jittered, and every 50th machine given
failing checks, so that the matrix, timing table, failure list and environment table all
grow with N. Each N is measured in a fresh process (read + merge, build the report,
render each format) so that its peak memory (``ru_maxrss``) is its own. Printed per N:
the number of results, the size of the files, each stage's CPU seconds (steadier than
wall time on a shared machine), their total, the total per machine (constant when the
work is linear), the wall time and the peak resident memory.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tabulate import tabulate

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from conformance.report import build_report  # noqa: E402
from conformance.report.html import render_html  # noqa: E402
from conformance.report.text import render_markdown, render_terminal  # noqa: E402
from conformance.results.files import dumps, load_results  # noqa: E402

RENDERERS = {"html": render_html, "terminal": render_terminal, "markdown": render_markdown}
FAILING_EVERY = 50
"""Every this many machines, one backend fails its numeric checks of the ``lstm`` family."""


def seed_results(path: Path | None, workdir: Path) -> Path:
    """A real run's result file: ``path``, else ``reports/results.json``, else a fresh run."""
    if path is not None:
        return path
    default = ROOT / "reports" / "results.json"
    if default.exists():
        return default
    out = workdir / "seed.json"
    print(f"running the main job once to get real results into {out} …", file=sys.stderr)
    subprocess.run(
        [sys.executable, "-m", "conformance", "run", "--json", str(out)],
        cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    return out


def machine_document(seed: dict[str, Any], index: int) -> dict[str, Any]:
    """The seed document relabelled as machine ``m0042``, its numbers jittered."""
    rng = random.Random(index)
    machine = f"m{index:04d}"
    runs = []
    ids = {}
    for run in seed["runs"]:
        ids[run["id"]] = f"{run['id']}-{machine}"
        env = dict(run["environment"], machine=machine)
        runs.append(dict(run, id=ids[run["id"]], environment=env))
    failing_backend = None
    if index % FAILING_EVERY == FAILING_EVERY - 1:
        failing_backend = seed["results"][0]["backend"]
    results = []
    for record in seed["results"]:
        record = dict(record, machine=machine, run=ids.get(record["run"], record["run"]))
        for name in ("seconds", "tol_fraction", "max_abs"):
            if isinstance(record.get(name), float):
                record[name] *= rng.uniform(0.8, 1.25)
        if (
            record["backend"] == failing_backend
            and record["check"] == "numeric"
            and record["spec"].startswith("lstm.")
            and record["status"] == "pass"
        ):
            record.update(status="fail", tol_fraction=rng.uniform(2, 5e4), message="off")
        results.append(record)
    return dict(seed, runs=runs, results=results)


def write_machines(seed_path: Path, count: int, folder: Path) -> list[Path]:
    """``count`` machines' result files in ``folder``, written once and reused for every N."""
    seed = json.loads(seed_path.read_text(encoding="utf-8"))
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(count):
        path = folder / f"m{index:04d}.json"
        path.write_text(dumps(machine_document(seed, index)), encoding="utf-8")
        paths.append(path)
    return paths


def measure(paths: list[Path], formats: list[str]) -> dict[str, Any]:
    """CPU seconds of each stage, wall seconds in all, and peak memory of this process."""
    cpu: dict[str, float] = {}
    wall = time.perf_counter()

    def stage(name: str, start: float) -> float:
        cpu[name] = time.process_time() - start
        return time.process_time()

    start = time.process_time()
    results = load_results(paths)
    start = stage("read+merge", start)
    report = build_report(results)
    start = stage("build", start)
    chars = 0
    for fmt in formats:
        chars += len(RENDERERS[fmt](report))
        start = stage(fmt, start)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "results": len(results.results),
        "bytes": sum(p.stat().st_size for p in paths),
        "cpu": cpu,
        "wall": time.perf_counter() - wall,
        "chars": chars,
        "peak_mib": peak_kib / 1024,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--machines", default="100,200,400,800,1000", help="comma list of N")
    parser.add_argument("--format", default="html", help="comma list of html, terminal, markdown")
    parser.add_argument("--results", type=Path, help="the real run's result file to copy")
    parser.add_argument("--workdir", type=Path, help="keep the generated files here")
    parser.add_argument("--child", nargs=2, metavar=("DIR", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    formats = [f for f in args.format.split(",") if f]
    unknown = [f for f in formats if f not in RENDERERS]
    if unknown:
        parser.error(f"unknown format {unknown[0]!r}; known: {', '.join(RENDERERS)}")
    if args.child:
        folder, count = Path(args.child[0]), int(args.child[1])
        paths = sorted(folder.glob("m*.json"))[:count]
        print(json.dumps(measure(paths, formats)))
        return 0

    counts = sorted({int(n) for n in args.machines.split(",") if n})
    with tempfile.TemporaryDirectory(prefix="bench-report-") as tmp:
        workdir = args.workdir or Path(tmp)
        folder = workdir / "machines"
        seed = seed_results(args.results, workdir)
        start = time.perf_counter()
        write_machines(seed, max(counts), folder)
        print(f"wrote {max(counts)} machines' files in {time.perf_counter() - start:.1f} s "
              f"from {seed}", file=sys.stderr)  # fmt: skip
        rows = []
        for count in counts:
            child = subprocess.run(
                [sys.executable, __file__, "--child", str(folder), str(count),
                 "--format", ",".join(formats)],
                check=True, capture_output=True, text=True,
            )  # fmt: skip
            m = json.loads(child.stdout)
            total = sum(m["cpu"].values())
            rows.append(
                [count, m["results"], f"{m['bytes'] / 2**20:.0f}",
                 *(f"{m['cpu'][k]:.2f}" for k in ("read+merge", "build", *formats)),
                 f"{total:.2f}", f"{1000 * total / count:.1f}", f"{m['wall']:.2f}",
                 f"{m['peak_mib']:.0f}"]
            )  # fmt: skip
            print(tabulate(rows[-1:], tablefmt="plain"), file=sys.stderr)
    headers = ["machines", "results", "MiB", "read+merge", "build", *formats,
               "CPU s", "CPU ms/machine", "wall s", "peak MiB"]  # fmt: skip
    print("CPU seconds per stage (the machine may be shared: wall time is noisier)")
    print(tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
