"""Shrinking: a failure found at large sizes is reported at the smallest sizes that still
fail, and its re-run command reproduces exactly that case."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np

from conformance import Backend, Kernel
from conformance.engine import CheckRequest, run_check
from conformance.results.model import Status
from conformance.spec.profiles import SizeChoice, at_sizes, parse_sizes
from implementations.numpy_vectorized import lstm, lstm_sequence

CELL = lstm.KERNELS["lstm.cell"]
SEQUENCE = lstm_sequence.KERNELS["lstm.sequence"]


def remainder_dropped(inputs):
    """lstm.cell over blocks of 8 rows that forgets the last, partial block."""
    out = {k: np.array(v, copy=True) for k, v in CELL.forward(inputs).items()}
    full = inputs["x"].shape[0] // 8 * 8
    for value in out.values():
        value[full:] = 0.0
    return out


def wrong_after_step_8(inputs):
    """lstm.sequence whose hidden states from step 9 on are off by a little."""
    out = {k: np.array(v, copy=True) for k, v in SEQUENCE.forward(inputs).items()}
    out["hs"][8:] *= 1.01
    return out


def run(catalog, oracle, spec_id, forward, *, profile="realistic", shrink=True, check="numeric"):
    spec = at_sizes(catalog.get(spec_id), SizeChoice(profile))
    backend = Backend("bug", {spec_id: Kernel(forward)})
    return run_check(CheckRequest(spec, backend, "float64", check), oracle, shrink=shrink)


def test_a_failure_at_realistic_sizes_is_shrunk_to_the_smallest_that_fail(catalog, oracle):
    result = run(catalog, oracle, "lstm.cell", remainder_dropped)
    assert result.status is Status.FAIL
    assert result.sizes == {"B": 1, "D": 1, "H": 1}  # one row is a partial block
    assert result.profile == "B=1,D=1,H=1"
    assert result.extra["shrunk_from"] == {
        "sizes": {"B": 20, "D": 64, "H": 128}, "profile": "realistic",
    }  # fmt: skip
    assert "(shrunk from lstm.cell(B=20, D=64, H=128) at --sizes realistic," in result.message


def test_shrinking_keeps_the_size_a_bug_needs(catalog, oracle):
    result = run(catalog, oracle, "lstm.sequence", wrong_after_step_8)
    assert result.status is Status.FAIL
    assert result.sizes == {"T": 9, "B": 1, "D": 1, "H": 1}, result.sizes  # step 9 is needed


def test_the_shrunk_case_is_exactly_what_its_sizes_reproduce(catalog, oracle):
    shrunk = run(catalog, oracle, "lstm.sequence", wrong_after_step_8)
    again = at_sizes(catalog.get("lstm.sequence"), parse_sizes(shrunk.profile))
    backend = Backend("bug", {"lstm.sequence": Kernel(wrong_after_step_8)})
    rerun = run_check(CheckRequest(again, backend, "float64", "numeric"), oracle)
    assert rerun.status is Status.FAIL and rerun.sizes == shrunk.sizes
    assert rerun.message == shrunk.message.split(" (shrunk from")[0]
    assert rerun.worst == shrunk.worst and rerun.max_abs == shrunk.max_abs


def test_nothing_is_shrunk_without_asking_or_without_a_failure(catalog, oracle):
    kept = run(catalog, oracle, "lstm.cell", remainder_dropped, shrink=False)
    assert kept.status is Status.FAIL and kept.sizes == {"B": 20, "D": 64, "H": 128}
    assert "shrunk_from" not in kept.extra
    passed = run(catalog, oracle, "lstm.cell", CELL.forward)
    assert passed.status is Status.PASS and "shrunk_from" not in passed.extra


PLUGIN = textwrap.dedent(
    """
    import numpy as np
    from conformance import Backend, Kernel, hookimpl
    from implementations.numpy_vectorized import lstm

    CELL = lstm.KERNELS["lstm.cell"]

    def forward(inputs):
        out = {k: np.array(v, copy=True) for k, v in CELL.forward(inputs).items()}
        out["h"][inputs["x"].shape[0] // 8 * 8:] = 0.0
        return out

    @hookimpl
    def conformance_register_backends(register):
        register.add(Backend("blocky", {"lstm.cell": Kernel(forward)}))
    """
)


def test_the_cli_re_run_of_a_shrunk_failure_reproduces_it(tmp_path):
    (tmp_path / "blocky_plugin.py").write_text(PLUGIN)

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "conformance", *args],
            cwd=tmp_path, capture_output=True, text=True, timeout=300,
        )  # fmt: skip

    first = cli(
        "run", "--plugin", "blocky_plugin", "--backend", "blocky", "--spec", "lstm.cell",
        "--check", "numeric", "--dtype", "float64", "--sizes", "realistic",
    )  # fmt: skip
    assert first.returncode == 1, first.stderr
    assert "sizes realistic (1 failure shrunk)" in first.stdout
    rerun = next(line for line in first.stdout.splitlines() if "re-run:" in line)
    command = rerun.split("re-run: ", 1)[1].split()
    assert command[:2] == ["conformance", "run"] and command[-2:] == ["--sizes", "B=1,D=1,H=1"]
    second = cli(*command[1:])
    assert second.returncode == 1, second.stderr
    failing = [line for line in first.stdout.splitlines() if "[lstm.cell(B=1, D=1, H=1)" in line]
    assert failing and failing[0].split(" (shrunk from")[0] in second.stdout
