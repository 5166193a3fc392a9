"""Time every backend's kernels on realistic sizes, as ratios against a baseline in the same run.

Run on demand (never part of the test suite)::

    python benchmarks/bench_backends.py                      # default cases
    python benchmarks/bench_backends.py --spec lstm.sequence --repeats 15
    python benchmarks/bench_backends.py --torch              # add torch.nn.LSTM if installed

Candidates are interleaved (A B C A B C …) and each sample is preceded by a short
busy-wait, because OpenBLAS and torch worker threads spinning on two cores inflate
back-to-back timings (see ../shared/BENCHMARKING.md). Reported: median and min–max
per call, and the median's ratio to the baseline backend (``numpy-loops`` by default).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from tabulate import tabulate

from conformance.plugins.registry import load_registry
from conformance.spec.draw import case_rng, draw_cotangents, draw_inputs
from conformance.spec.loader import load_catalog

CASES: list[tuple[str, dict[str, int]]] = [
    ("lstm.cell", {"B": 16, "D": 128, "H": 128}),
    ("lstm.sequence", {"T": 20, "B": 1, "D": 32, "H": 32}),
    ("lstm.sequence", {"T": 100, "B": 16, "D": 128, "H": 128}),
    ("bilstm.sequence", {"T": 100, "B": 16, "D": 128, "H": 128}),
    ("rnn.sequence", {"T": 100, "B": 16, "D": 128, "H": 128}),
    ("ctc.loss", {"T": 100, "B": 16, "C": 30, "S": 20}),
]


@dataclass
class Candidate:
    name: str
    call: Callable[[], object]
    samples: list[float]


def spin(seconds: float) -> None:
    """Busy-wait: lets BLAS worker threads settle without the wake-up cost of a sleep."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def measure(candidates: list[Candidate], repeats: int, pause: float) -> None:
    for c in candidates:  # warm-up: first calls allocate and page in
        c.call()
    for _ in range(repeats):
        for c in candidates:
            spin(pause)
            start = time.perf_counter()
            c.call()
            c.samples.append(time.perf_counter() - start)


def blas_name() -> str:
    try:
        config = np.show_config(mode="dicts")
        blas = config["Build Dependencies"]["blas"]
        return f"{blas.get('name', '?')} {blas.get('version', '')}".strip()
    except Exception:
        return "unknown"


def torch_candidates(sizes: dict[str, int], dtype: str, mode: str) -> list[Candidate]:
    """torch.nn.LSTM on the same sizes, as an outside reference (when torch is installed)."""
    try:
        import torch
    except ImportError:
        return []
    torch.set_num_threads(int(os.environ.get("OPENBLAS_NUM_THREADS", os.cpu_count() or 1)))
    tdtype = getattr(torch, dtype)
    lstm = torch.nn.LSTM(sizes["D"], sizes["H"]).to(tdtype)
    shape = (sizes["T"], sizes["B"], sizes["D"])
    xs = torch.randn(*shape, dtype=tdtype, requires_grad=mode != "forward")

    def run() -> None:
        if mode == "forward":
            with torch.no_grad():
                lstm(xs)
        else:
            out, _ = lstm(xs)
            out.sum().backward()

    return [Candidate("torch.nn.LSTM", run, [])]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", action="append", help="only these spec ids")
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    parser.add_argument("--mode", default="both", choices=["forward", "forward+vjp", "both"])
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--pause", type=float, default=0.25, help="busy-wait per sample (s)")
    parser.add_argument("--baseline", default="numpy-loops")
    parser.add_argument("--torch", action="store_true", help="add torch.nn.LSTM for lstm.sequence")
    args = parser.parse_args(argv)

    catalog = load_catalog()
    backends = load_registry().backends
    modes = ["forward", "forward+vjp"] if args.mode == "both" else [args.mode]
    print(
        f"python {platform.python_version()}, numpy {np.__version__}, BLAS {blas_name()}, "
        f"{os.cpu_count()} cpus, "
        f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}, "
        f"dtype {args.dtype}, {args.repeats} samples each",
        file=sys.stderr,
    )
    rows = []
    for spec_id, sizes in CASES:
        if args.spec and spec_id not in args.spec:
            continue
        spec = catalog.get(spec_id)
        rng = case_rng(0, spec_id, 0)
        inputs = draw_inputs(spec, sizes, dtype=args.dtype, rng=rng)
        cotangents = draw_cotangents(spec, sizes, dtype=args.dtype, rng=rng)
        for mode in modes:
            candidates = []
            for backend in backends.values():
                kernel = backend.kernel(spec_id)
                if kernel is None or (mode != "forward" and kernel.vjp is None):
                    continue

                def call(kernel=kernel, mode=mode, x=inputs, u=cotangents) -> object:
                    out = kernel.forward(x)
                    return out if mode == "forward" else kernel.vjp(x, u)

                candidates.append(Candidate(backend.name, call, []))
            if args.torch and spec_id == "lstm.sequence":
                candidates += torch_candidates(sizes, args.dtype, mode)
            measure(candidates, args.repeats, args.pause)
            base = next((c for c in candidates if c.name == args.baseline), None)
            base_median = statistics.median(base.samples) if base else None
            for c in candidates:
                median = statistics.median(c.samples)
                rows.append(
                    [
                        spec_id,
                        ", ".join(f"{k}={v}" for k, v in sizes.items()),
                        mode,
                        c.name,
                        f"{median * 1e3:.3f}",
                        f"{min(c.samples) * 1e3:.3f}–{max(c.samples) * 1e3:.3f}",
                        f"{base_median / median:.2f}×" if base_median else "—",
                    ]
                )
            print(f"done {spec_id} {mode}", file=sys.stderr)
    headers = ["spec", "sizes", "mode", "backend", "median ms", "min–max ms"]
    headers.append(f"speedup vs {args.baseline}")
    print(tabulate(rows, headers=headers, tablefmt="github"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
