"""The ``conformance`` command line: list, run, report, exit codes and re-run commands."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import textwrap
from importlib import metadata

import numpy as np
import pytest

from conformance.checks import CheckContext
from conformance.frontends.cli import main
from conformance.frontends.progress import ProgressBar, wants_progress
from conformance.frontends.session import Selection, Session
from conformance.results.files import read_results
from conformance.results.model import Status

BROKEN_PLUGIN = '''
"""A deliberately broken backend: the LSTM cell's forget gate uses the input gate's weights."""

import numpy as np

from conformance import Backend, Kernel, hookimpl


def sigmoid(a):
    return 0.5 * (1 + np.tanh(0.5 * a))


def cell(a):
    z = np.concatenate([a["h_prev"], a["x"]], axis=1)
    f = sigmoid(z @ a["W_i"].T + a["b_i"])  # wrong: should be W_f, b_f
    i = sigmoid(z @ a["W_i"].T + a["b_i"])
    g = np.tanh(z @ a["W_c"].T + a["b_c"])
    o = sigmoid(z @ a["W_o"].T + a["b_o"])
    c = f * a["c_prev"] + i * g
    return {"h": o * np.tanh(c), "c": c}


def hidden_state(a):
    return {"h": a["o"] * np.tanh(a["c"])}


@hookimpl
def conformance_register_backends(register):
    register.add(
        Backend(
            "swapped-forget",
            {"lstm.cell": Kernel(cell), "lstm.hidden_state": Kernel(hidden_state)},
            version="0.0.1",
        )
    )
'''


@pytest.fixture
def broken_plugin(tmp_path, monkeypatch):
    """The module name of the broken backend's plugin, importable in and out of process."""
    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / "swapped_forget.py").write_text(textwrap.dedent(BROKEN_PLUGIN))
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join([str(folder), os.environ.get("PYTHONPATH", "")])
    )
    return "swapped_forget"


def cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_run_exits_0_when_every_selected_backend_conforms(capsys):
    code, out, err = cli(
        capsys,
        "run",
        "--backend",
        "numpy-vectorized",
        "--spec",
        "lstm.hidden_state",
        "--dtype",
        "float64",
    )
    assert code == 0, err
    assert err == ""  # no progress bar outside a terminal
    assert "every backend conforms" in out and "lstm.hidden_state" in out and "✓" in out


def test_run_exits_1_with_a_rerun_command_that_reproduces_the_failure(
    capsys, tmp_path, broken_plugin
):
    path = tmp_path / "out" / "results.json"
    code, out, err = cli(
        capsys,
        "run",
        "--plugin",
        broken_plugin,
        "--backend",
        "swapped-forget",
        "--spec",
        "lstm.*",
        "--check",
        "numeric",
        "--json",
        str(path),
    )
    assert code == 1, err
    failing = [r for r in read_results(path).results if r.status is Status.FAIL]
    assert [(r.spec, r.dtype) for r in failing] == [
        ("lstm.cell", "float32"),
        ("lstm.cell", "float64"),
    ]
    failure = failing[1]
    assert failure.rerun == (
        f"conformance run --plugin {broken_plugin} --backend swapped-forget --spec lstm.cell "
        "--dtype float64 --check numeric --seed 0"
    )
    assert f"re-run: {failure.rerun}" in out
    assert "FAILS" in out and "—" in out  # swapped-forget implements two of the seven specs

    args = shlex.split(failure.rerun)
    assert args[:2] == ["conformance", "run"]
    rerun = subprocess.run(
        [sys.executable, "-m", "conformance", *args[1:]], capture_output=True, text=True, timeout=60
    )
    assert rerun.returncode == 1, rerun.stderr
    assert failure.message in rerun.stdout


def test_run_saves_the_failing_inputs_beside_the_json(capsys, tmp_path, broken_plugin):
    path = tmp_path / "results.json"
    cli(
        capsys,
        "run",
        "--plugin",
        broken_plugin,
        "--backend",
        "swapped-forget",
        "--spec",
        "lstm.cell",
        "--dtype",
        "float32",
        "--check",
        "numeric",
        "--json",
        str(path),
    )
    (failure,) = read_results(path).results
    expected = tmp_path / "results.inputs" / "lstm.cell-swapped-forget-float32-numeric.npz"
    assert failure.inputs_file == str(expected)
    assert (
        json.loads(path.read_text())["results"][0]["inputs_file"]
        == "results.inputs/" + expected.name
    )
    saved = np.load(expected)
    session = Session.load(Selection(plugins=(broken_plugin,)))
    spec = session.catalog.get("lstm.cell")
    backend = session.registry.backends["swapped-forget"]
    ctx = CheckContext(spec, backend, backend.kernel(spec.id), "float32", 0, session.oracle)
    redrawn = ctx.inputs(failure.case, failure.sizes)
    assert set(saved.files) == {*redrawn, "meta.json"}
    assert all(
        np.array_equal(saved[k], v) and saved[k].dtype == v.dtype for k, v in redrawn.items()
    )
    assert json.loads(str(saved["meta.json"]))["sizes"] == failure.sizes


def test_report_merges_runs_with_different_backends_into_one_matrix(capsys, tmp_path):
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    for backend, path in (("numpy-loops", first), ("numpy-vectorized", second)):
        code, _, err = cli(
            capsys, "run", "--backend", backend, "--spec", "lstm.hidden_state", "--json", str(path)
        )
        assert code == 0, err
    code, out, err = cli(capsys, "report", str(first), str(second), "--format", "markdown")
    assert code == 0, err
    matrix = out.split("### Matrix")[1].split("<details>")[0].splitlines()
    header = next(line for line in matrix if line.startswith("| spec "))
    assert "numpy-loops" in header and "numpy-vectorized" in header
    (row,) = [line for line in matrix if line.startswith("| lstm.hidden_state ")]
    assert row.count("✓") == 2

    merged = tmp_path / "merged.json"
    assert cli(capsys, "report", str(first), str(second), "-o", str(merged))[0] == 0
    assert {r.backend for r in read_results(merged).results} == {"numpy-loops", "numpy-vectorized"}
    html = tmp_path / "report.html"
    assert cli(capsys, "report", str(merged), "-o", str(html))[0] == 0
    assert html.read_text().startswith("<!DOCTYPE html>")


def test_list_shows_specs_backends_and_plugin_health(capsys, tmp_path, monkeypatch):
    (tmp_path / "bad_plugin.py").write_text("raise ImportError('needs torch')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("CONFORMANCE_BLOCK_PLUGINS", "numpy-loops")
    code, out, err = cli(capsys, "list", "--plugin", "bad_plugin")
    assert code == 0, err
    assert "lstm.forget_gate" in out and "Forget gate" in out and "Hochreiter" in out
    rows = {line.split()[0]: line for line in out.splitlines() if line.strip()}
    assert "failed" in rows["bad_plugin"] and "ImportError: needs torch" in rows["bad_plugin"]
    assert "blocked" in rows["numpy-loops"] and "CONFORMANCE_BLOCK_PLUGINS" in rows["numpy-loops"]
    assert "loaded" in rows["fused-gate"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "the following arguments are required: command"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (["run", "--seed", "x"], "argument --seed: invalid int value: 'x'"),
        (["run", "--backend", "nope"], "unknown backend(s) nope; registered:"),
        (["run", "--spec", "gru.*"], "no spec matches 'gru.*'"),
        (["run", "--dtype", "float16"], "unknown dtype 'float16'"),
        (["run", "--check", "speed"], "unknown check 'speed'"),
        (["run", "--plugin", "no_such_module_xyz"], "plugin 'no_such_module_xyz' failed to load"),
        (["run", "--report", "r.pdf"], "cannot tell the report format of 'r.pdf'"),
        (["report", "missing.json"], "missing.json: no such file"),
    ],
)
def test_usage_spec_and_plugin_errors_exit_2_with_one_line(capsys, args, message):
    code, out, err = cli(capsys, *args)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("conformance: error: ") and message in err
    assert "Traceback" not in err and out == ""


def test_run_checks_the_others_then_exits_2_when_a_plugin_fails_to_load(
    capsys, tmp_path, monkeypatch
):
    misspelled = "def conformance_register_backend(register): ...\n"  # no "s": fails validation
    (tmp_path / "half_plugin.py").write_text(
        f"import conformance\n\n@conformance.hookimpl\n{misspelled}"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    installed = metadata.entry_points(group="conformance.backends")
    extra = metadata.EntryPoint("half", "half_plugin", "conformance.backends")
    monkeypatch.setattr(
        "conformance.plugins.registry.metadata.entry_points", lambda group: [*installed, extra]
    )
    code, out, err = cli(capsys, "run", "--backend", "numpy-loops", "--spec", "lstm.cell")
    assert code == 2 and "Traceback" not in err
    assert re.search(r"numpy-loops +conforms", out)  # the loaded backends were still checked
    assert err.startswith("conformance: warning: plugin 'half' (entry point half_plugin) failed")
    assert "conformance: error: plugin 'half' (entry point half_plugin) failed" in err
    assert "CONFORMANCE_BLOCK_PLUGINS=half" in err
    monkeypatch.setenv("CONFORMANCE_BLOCK_PLUGINS", "half")
    assert cli(capsys, "run", "--backend", "numpy-loops", "--spec", "lstm.cell")[0] == 0


def test_report_rejects_a_malformed_file_naming_the_field(capsys, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(
        json.dumps({"schema": "conformance-results/1", "runs": [], "results": [{"spec": "x"}]})
    )
    code, _, err = cli(capsys, "report", str(path))
    assert code == 2
    assert f"conformance: error: {path}: results[0].backend: expected a non-empty string" in err


def test_python_dash_m_conformance_is_the_same_command():
    done = subprocess.run(
        [sys.executable, "-m", "conformance", "list"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "numpy-loops" in done.stdout and "Plugins" in done.stdout


def test_progress_bar_draws_only_when_enabled(capsys):
    import io

    from conformance.engine import plan
    from conformance.results.model import CheckResult

    session = Session.load(Selection())
    (request,) = plan(
        session.catalog.select(["lstm.cell"]),
        session.registry.select(["numpy-loops"]),
        ["float32"],
        ["shape"],
    )
    result = CheckResult("lstm.cell", "numpy-loops", "float32", "shape", Status.FAIL)
    stream = io.StringIO()
    bar = ProgressBar(2, enabled=True, stream=stream)
    bar.update(request, result)
    bar.close()
    drawn = stream.getvalue()
    assert "[" in drawn and "1/2 ✗1" in drawn and "lstm.cell numpy-loops float32 shape" in drawn
    assert drawn.endswith("\r")  # erased at the end
    quiet = io.StringIO()
    ProgressBar(2, enabled=False, stream=quiet).update(request, result)
    assert quiet.getvalue() == ""
    assert not wants_progress(io.StringIO())  # stderr not a terminal: no progress
