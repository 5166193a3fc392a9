"""``conformance run`` with kernels that crash, exit, hang or print, and runs that are cut
short: one bad kernel costs only its own cells, and results survive the run's end."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from conformance.frontends.cli import main
from conformance.frontends.session import Selection, Session
from conformance.report import render
from conformance.results.files import read_results
from conformance.results.model import Status

BAD_BACKENDS = '''
"""Backends that segfault, exit, exit politely and hang: one each, beside the others."""

import ctypes
import os
import sys
import time

import numpy as np

from conformance import Backend, Kernel, hookimpl


def segfault(a):
    ctypes.string_at(0)


def hard_exit(a):
    os._exit(4)


def polite_exit(a):
    sys.exit(3)


def hang(a):
    time.sleep(600)


def chatty(a):
    print("chatty kernel was here")
    return {"h": a["o"] * np.tanh(a["c"])}


@hookimpl
def conformance_register_backends(register):
    for name, forward in [("segfault", segfault), ("os-exit", hard_exit),
                          ("sys-exit", polite_exit), ("hang", hang), ("chatty", chatty)]:
        register.add(Backend(name, {"lstm.hidden_state": Kernel(forward)}))
'''
SELECTION = ["--spec", "lstm.hidden_state,lstm.forget_gate", "--dtype", "float32"]
CHECKS = ["--check", "shape,numeric"]


@pytest.fixture
def bad_plugin(tmp_path, monkeypatch):
    """The module name of the bad backends' plugin, importable in and out of process."""
    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / "bad_backends.py").write_text(textwrap.dedent(BAD_BACKENDS))
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join([str(folder), os.environ.get("PYTHONPATH", "")])
    )
    return "bad_backends"


def conformance(*args: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "conformance", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a shell gives a job
        **kwargs,
    )


def test_crashing_exiting_and_hanging_backends_cost_only_their_own_cells(tmp_path, bad_plugin):
    out = tmp_path / "results.json"
    backends = "numpy-vectorized,segfault,os-exit,sys-exit,hang"
    run = conformance(
        "run", "--plugin", bad_plugin, "--backend", backends, *SELECTION, *CHECKS,
        "--timeout", "1", "--json", str(out),
    )  # fmt: skip
    stdout, stderr = run.communicate(timeout=120)
    assert run.returncode == 1, stderr
    results = read_results(out).results
    reference = [r for r in results if r.backend == "numpy-vectorized"]
    assert sorted((r.spec, r.check) for r in reference) == [
        ("lstm.forget_gate", "numeric"),
        ("lstm.forget_gate", "shape"),
        ("lstm.hidden_state", "numeric"),
        ("lstm.hidden_state", "shape"),
    ]
    assert all(r.status is Status.PASS for r in reference)
    by_backend = {
        r.backend: r for r in results if r.spec == "lstm.hidden_state" and r.check == "numeric"
    }
    during = "during forward of lstm.hidden_state, float32, case 0"
    assert by_backend["segfault"].message.startswith(f"worker died with SIGSEGV {during}")
    assert by_backend["os-exit"].message.startswith(f"worker exited with status 4 {during}")
    assert by_backend["sys-exit"].message.startswith(f"worker exited with status 3 {during}")
    assert by_backend["hang"].message.startswith(
        f"timed out after 1 s (the per-check timeout) {during}"
    )
    for name in ("segfault", "os-exit", "sys-exit", "hang"):
        cells = [r for r in results if r.backend == name and r.spec == "lstm.hidden_state"]
        assert [r.status for r in cells] == [Status.ERROR, Status.ERROR], name
    assert "✗ error" in stdout and "FAILS" in stdout
    assert read_results(out).runs[results[0].run_id].state == "complete"


def test_a_kernels_print_never_reaches_stdout(tmp_path, bad_plugin):
    run = conformance(
        "run", "--plugin", bad_plugin, "--backend", "chatty", *SELECTION, "--format", "json"
    )
    stdout, stderr = run.communicate(timeout=60)
    assert run.returncode == 0, stderr
    document = json.loads(stdout)  # stdout is the result file and nothing else
    assert {r["backend"] for r in document["results"]} == {"chatty"}
    assert "chatty kernel was here" in stderr


def _wait_for_results(path: Path, count: int, run: subprocess.Popen) -> dict:
    """The streamed result file once it holds ``count`` results: valid JSON all along."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert run.poll() is None, run.communicate()
        if path.exists() and path.stat().st_size:
            document = json.loads(path.read_text(encoding="utf-8"))
            if len(document["results"]) >= count:
                return document
        time.sleep(0.1)
    raise AssertionError(f"{path} never held {count} results")


def _checks_before_the_hang(plugin: str) -> int:
    """How many checks run before the first of the hanging backend's kernel calls."""
    selection = Selection(
        backends=("numpy-vectorized", "hang"), specs=tuple(SELECTION[1].split(",")),
        dtypes=("float32",), plugins=(plugin,),
    )  # fmt: skip
    requests = Session.load(selection).requests()
    return next(
        i
        for i, r in enumerate(requests)
        if r.backend.name == "hang" and r.spec.id == ("lstm.hidden_state")
    )


@pytest.mark.parametrize(
    ("sig", "code", "state"),
    [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")],
    ids=["ctrl-c", "sigterm"],
)
def test_a_stopped_run_leaves_valid_results_and_a_report_marked_incomplete(
    tmp_path, bad_plugin, sig, code, state
):
    out, report = tmp_path / "results.json", tmp_path / "report.md"
    run = conformance(
        "run", "--plugin", bad_plugin, "--backend", "numpy-vectorized,hang", *SELECTION,
        "--json", str(out), "--report", str(report),
    )  # fmt: skip
    before_the_hang = _checks_before_the_hang(bad_plugin)
    streamed = _wait_for_results(out, before_the_hang, run)
    assert streamed["runs"][0]["state"] == "running"
    time.sleep(0.5)  # the hung kernel's check is in flight
    os.killpg(run.pid, sig)  # the whole group, as Ctrl-C in a terminal does
    stdout, stderr = run.communicate(timeout=30)
    assert run.returncode == code, stderr
    results = read_results(out)
    (the_run,) = results.runs.values()
    assert the_run.state == state and len(results.results) == before_the_hang
    assert the_run.planned > before_the_hang
    note = f"incomplete: {state} after {len(results.results)} of {the_run.planned} checks"
    assert note in stdout and note in report.read_text(encoding="utf-8")
    assert note in stderr and "Traceback" not in stderr


def test_a_killed_run_leaves_a_valid_file_that_says_it_was_cut_short(tmp_path, bad_plugin):
    out = tmp_path / "results.json"
    run = conformance(
        "run", "--plugin", bad_plugin, "--backend", "numpy-vectorized,hang", *SELECTION,
        "--json", str(out),
    )  # fmt: skip
    _wait_for_results(out, _checks_before_the_hang(bad_plugin), run)
    os.killpg(run.pid, signal.SIGKILL)  # nothing of the harness runs after this
    run.communicate(timeout=30)
    results = read_results(out)
    assert len(results.results) == _checks_before_the_hang(bad_plugin)
    assert all(
        r.backend == "numpy-vectorized" or r.spec != "lstm.hidden_state" for r in results.results
    )
    text = render(results, "terminal")
    assert "incomplete: cut short (the harness crashed or was killed) after" in text


def test_a_harness_crash_still_writes_what_ran_then_shows_the_bug(tmp_path, capsys, monkeypatch):
    from conformance.frontends import outputs

    calls = []
    original = outputs.RunOutputs.record

    def record_then_crash(self, result):
        calls.append(result)
        if len(calls) == 3:
            raise RuntimeError("a bug of the harness")
        return original(self, result)

    monkeypatch.setattr(outputs.RunOutputs, "record", record_then_crash)
    out = tmp_path / "r.json"
    with pytest.raises(RuntimeError, match="a bug of the harness"):
        main(["run", "--backend", "numpy-vectorized", *SELECTION, "--json", str(out)])
    results = read_results(out)
    (the_run,) = results.runs.values()
    assert the_run.state == "failed" and len(results.results) == 2
    assert "RuntimeError: a bug of the harness" in the_run.note
    assert "incomplete: stopped by an error of the harness after 2 of" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--json", "/proc/x.json"], "--json /proc/x.json: cannot create files in /proc"),
        (["--report", "/proc/x/r.md"], "--report /proc/x/r.md: cannot create files in /proc"),
        (["--inputs-dir", "/proc/x"], "--inputs-dir /proc/x: cannot create files in /proc"),
        (["--seed", "-1"], "--seed -1: a seed is an integer >= 0"),
        (["--timeout", "0"], "the per-check timeout must be a positive number, got 0.0"),
        (["--backend", "fused-gate", "--spec", "ctc.*"], "nothing to check: no selected backend"),
    ],
    ids=["json", "report", "inputs-dir", "seed", "timeout", "nothing-implemented"],
)
def test_unusable_runs_fail_before_anything_runs(capsys, monkeypatch, args, message):
    from conformance.frontends import cli

    def no_session(selection):
        raise AssertionError("the run started")

    if message.startswith("--"):
        monkeypatch.setattr(cli.Session, "load", no_session)
    code = main(["run", *args])
    out, err = capsys.readouterr()
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("conformance: error: ") and message in err
    assert out == ""


def test_a_plugin_with_a_misspelled_kernel_id_is_a_plugin_error(tmp_path, capsys, monkeypatch):
    (tmp_path / "typo_plugin.py").write_text(
        textwrap.dedent(
            """
            import numpy as np
            from conformance import Backend, Kernel, hookimpl

            @hookimpl
            def conformance_register_backends(register):
                forward = lambda a: {"h": a["o"] * np.tanh(a["c"])}
                register.add(Backend("typo", {"lstm.hiden_state": Kernel(forward)}))
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    code = main(["run", "--plugin", "typo_plugin", "--backend", "typo"])
    err = capsys.readouterr().err
    assert code == 2
    assert "there is no spec 'lstm.hiden_state' (did you mean 'lstm.hidden_state'?)" in err
