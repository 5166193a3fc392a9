"""``pytest conformance`` with --conformance-json / --conformance-report, under xdist too."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import conformance
from conformance.frontends.session import Selection, Session
from conformance.results.files import read_results
from conformance.results.model import Status

pytest_plugins = ["pytester"]

SUITE = str(Path(conformance.__file__).parent)
"""The conformance suite's folder, passed to pytest as the path to collect."""

FORGETFUL_SEQUENCE = '''
"""A deliberately broken backend: the Elman RNN that never carries h from step to step."""

import numpy as np

from conformance import Backend, Kernel, hookimpl


def sequence(a):
    steps = [np.tanh(x @ a["W_x"].T + a["h_0"] @ a["W_h"].T + a["b"]) for x in a["xs"]]
    hs = np.stack(steps).astype(a["xs"].dtype)
    return {"hs": hs, "h_T": hs[-1]}


@hookimpl
def conformance_register_backends(register):
    register.add(Backend("forgetful", {"rnn.sequence": Kernel(sequence)}))
'''


def test_pytest_xdist_run_writes_one_complete_result_file(pytester):
    out = pytester.path / "results.json"
    expected = Session.load(Selection(specs=("lstm.forget_gate",))).requests()
    run = pytester.runpytest_subprocess(
        SUITE, "-n", "2", "--conformance-spec", "lstm.forget_gate", "--conformance-json", str(out),
        "-p", "no:cacheprovider", "-q",
    )  # fmt: skip
    assert run.ret == 0, run.stdout.str()
    results = read_results(out)
    assert sorted(r.id for r in results.results) == sorted(r.id for r in expected)
    assert len(results.runs) == 1  # the controller's run, not one per worker
    assert all(r.machine and r.rerun.startswith("conformance run ") for r in results.results)
    run.stdout.fnmatch_lines(["*= conformance =*", "*every backend conforms*"])


def test_pytest_report_option_writes_the_report_json_and_failing_inputs(pytester):
    pytester.makepyfile(forgetful=FORGETFUL_SEQUENCE)
    report, out = pytester.path / "report.md", pytester.path / "r.json"
    run = pytester.runpytest_subprocess(
        SUITE, "--conformance-plugin", "forgetful", "--conformance-backend", "forgetful",
        "--conformance-spec", "rnn.*",
        "--conformance-dtype", "float64", "--conformance-check", "numeric",
        "--conformance-report", str(report),
        "--conformance-json", str(out), "-p", "no:cacheprovider",
    )  # fmt: skip
    assert run.ret == 1
    run.stdout.fnmatch_lines(["*= conformance =*", "*forgetful*FAILS*", "*rnn.sequence*✗*"])
    text = report.read_text()
    rerun = (
        "conformance run --plugin forgetful --backend forgetful --spec rnn.sequence "
        "--dtype float64 --check numeric --seed 0"
    )
    assert "## Conformance report" in text and rerun in text
    assert "time step t=" in text  # hs is (T, B, H): the report names the step
    inputs = pytester.path / "report.inputs" / "rnn.sequence-forgetful-float64-numeric.npz"
    assert f"[`report.inputs/{inputs.name}`]" in text
    saved = np.load(inputs)
    assert {"xs", "h_0", "W_x", "W_h", "b", "meta.json"} == set(saved.files)
    assert json.loads(str(saved["meta.json"]))["check"] == "numeric"

    by_spec = {r.spec: r for r in read_results(out).results}
    assert by_spec["rnn.sequence"].status is Status.FAIL
    assert by_spec["rnn.sequence"].time_step is not None
    assert by_spec["rnn.sequence"].inputs_file == str(inputs)
    assert by_spec["rnn.cell"].status is Status.NOT_IMPLEMENTED


def test_pytest_report_with_an_unknown_suffix_is_a_usage_error(pytester):
    run = pytester.runpytest_subprocess(
        SUITE, "--conformance-report", "report.pdf", "-p", "no:cacheprovider"
    )
    assert run.ret == pytest.ExitCode.USAGE_ERROR
    run.stderr.fnmatch_lines(["*cannot tell the report format of 'report.pdf'*"])


@pytest.fixture
def checkout_first(monkeypatch: pytest.MonkeyPatch) -> None:
    """Subprocess runs import this checkout's harness, not whatever else is installed."""
    monkeypatch.setenv("PYTHONPATH", str(Path(SUITE).parent))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--conformance-backend", "nope"], "unknown backend(s) nope; registered:"),
        (["--conformance-spec", "gru.*"], "no spec matches 'gru.*'"),
        (["--conformance-spec-dir", "no-such-dir"], "--spec-dir no-such-dir: no-such-dir:"),
        (["-n", "2", "--conformance-backend", "nope"], "unknown backend(s) nope; registered:"),
    ],
    ids=["backend", "spec", "spec-dir", "xdist"],
)
def test_pytest_selection_that_checks_nothing_is_one_usage_error(
    pytester, checkout_first, args, message
):
    run = pytester.runpytest_subprocess(SUITE, *args, "-p", "no:cacheprovider")
    assert run.ret == pytest.ExitCode.USAGE_ERROR, run.stdout.str() + run.stderr.str()
    errors = [line for line in run.stderr.lines if line.startswith("ERROR: conformance:")]
    assert len(errors) == 1 and message in errors[0], run.stderr.str()
    assert "INTERNALERROR" not in run.stdout.str() + run.stderr.str()


def test_pytest_old_option_names_are_gone(pytester, checkout_first):
    run = pytester.runpytest_subprocess(SUITE, "--backend", "numpy-loops", "-p", "no:cacheprovider")
    assert run.ret == pytest.ExitCode.USAGE_ERROR
    run.stderr.fnmatch_lines(["*unrecognized arguments: --backend*"])


def test_pytest_suite_says_what_it_checks_once_collected(pytester, checkout_first):
    run = pytester.runpytest_subprocess(
        SUITE, "--conformance-spec", "lstm.cell,lstm.hidden_state", "--conformance-backend",
        "fused-gate", "--conformance-check", "shape", "-p", "no:cacheprovider",
        "-p", "conformance.frontends.pytest_plugin",  # beside the checkout's conftest
    )  # fmt: skip
    assert run.ret == 0, run.stdout.str() + run.stderr.str()
    run.stdout.fnmatch_lines(  # 2 specs × shape × 2 dtypes, and the 5 built-in plugins load
        ["collected 9 items", "conformance: 2 specs × 1 backend (fused-gate), seed 0"]
    )
    assert "already registered" not in run.stdout.str() + run.stderr.str()


def test_pytest_in_a_project_without_the_suite_shows_nothing_of_it(pytester, checkout_first):
    pytester.makepyfile(test_theirs="def test_one():\n    pass\n")
    plain = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    loaded = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-p", "conformance.frontends.pytest_plugin"
    )
    assert plain.ret == loaded.ret == 0
    for run in (plain, loaded):
        run.stdout.fnmatch_lines(["collected 1 item", "*= 1 passed in *"])
    assert "conformance" not in loaded.stdout.str() + loaded.stderr.str()


def test_pytest_sizes_option_checks_at_realistic_sizes_and_shrinks_a_failure(pytester):
    pytester.makepyfile(forgetful=FORGETFUL_SEQUENCE)
    out = pytester.path / "r.json"
    run = pytester.runpytest_subprocess(
        SUITE, "--conformance-plugin", "forgetful",
        "--conformance-backend", "forgetful,numpy-vectorized", "--conformance-spec", "rnn.sequence",
        "--conformance-dtype", "float64",
        "--conformance-check", "numeric", "--conformance-sizes", "realistic",
        "--conformance-json", str(out), "-p", "no:cacheprovider",
    )  # fmt: skip
    assert run.ret == 1, run.stdout.str()
    results = {r.backend: r for r in read_results(out).results}
    correct, broken = results["numpy-vectorized"], results["forgetful"]
    assert correct.status is Status.PASS and correct.profile == "realistic"
    assert correct.sizes is not None and correct.sizes["T"] >= 50
    assert broken.status is Status.FAIL and broken.extra["shrunk_from"]["profile"] == "realistic"
    assert broken.sizes is not None and broken.sizes["T"] == 2  # h is carried from step 2 on
    assert broken.rerun.endswith(f"--sizes {broken.profile}")


def test_pytest_sizes_option_refuses_an_unknown_profile(pytester):
    run = pytester.runpytest_subprocess(
        SUITE, "--conformance-sizes", "enormous", "-p", "no:cacheprovider"
    )
    assert run.ret == pytest.ExitCode.USAGE_ERROR
    assert "--sizes 'enormous': give a profile" in run.stderr.str()
