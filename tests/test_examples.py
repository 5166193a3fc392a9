"""The out-of-tree backends in ``examples/`` install with pip and are found by entry point.

Both are installed into a fresh virtual environment that sees the system site (where
the harness and NumPy are installed), with no network: ``--no-deps`` and
``--no-build-isolation``, so setuptools comes from the system site too. Then
``conformance list`` must show them with no ``--plugin`` option, and ``conformance
run`` must check them and find that they conform.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"

# example directory: (distribution, entry-point name = backend name, module the entry point loads)
PACKAGES = {
    "minimal_backend": ("conformance-example-minimal", "minimal-example", "minimal_backend"),
    "notebook_lstm": (
        "conformance-example-notebook-lstm",
        "notebook-lstm",
        "notebook_lstm.backend",
    ),
}
# What each backend must pass (spec: checks), and what it must report as not implemented.
PASSES = {
    "minimal-example": {"lstm.hidden_state": {"numeric", "gradient", "stability", "invariants"}},
    "notebook-lstm": {
        "lstm.cell": {"numeric", "gradient", "stability", "batch_independence"},
        "lstm.forget_gate": {"numeric", "invariants"},
        "lstm.input_gate": {"numeric"},
        "lstm.candidate": {"numeric"},
        "lstm.output_gate": {"numeric"},
    },
}
NOT_IMPLEMENTED = {
    "minimal-example": {("lstm.cell", "numeric")},
    "notebook-lstm": {("lstm.forget_gate", "gradient"), ("lstm.cell_state", "numeric")},
}


def run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A virtual environment with both examples installed, and the environment to run it in."""
    tmp = tmp_path_factory.mktemp("examples")
    env_dir = tmp / "venv"
    # --without-pip: `python -m pip` then runs the system site's pip, which installs into
    # the environment it runs in (5 s less than seeding the environment with its own pip).
    subprocess.run(
        [sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(env_dir)],
        check=True,
        timeout=120,
    )
    python = env_dir / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if k != "CONFORMANCE_BLOCK_PLUGINS"}
    # The harness under test is this checkout's, whatever the system site's install points at.
    env["PYTHONPATH"] = str(ROOT)
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    for example in PACKAGES:
        # Built from a copy: pip builds in the source tree, which is left as it was.
        source = shutil.copytree(
            EXAMPLES / example,
            tmp / example,
            ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"),
        )
        install = [str(python), "-m", "pip", "install", "--no-deps", "--no-build-isolation"]
        done = run([*install, "--no-input", str(source)], tmp, env)
        assert done.returncode == 0, done.stdout + done.stderr
        shutil.rmtree(source)  # so that nothing can be imported from the source copy
    return python, env


def test_the_examples_install_into_the_environment(venv, tmp_path: Path):
    python, env = venv
    script = (
        "import importlib.metadata as m, minimal_backend, notebook_lstm.backend as n; "
        "print(m.version('conformance-example-minimal'), "
        "m.version('conformance-example-notebook-lstm'), minimal_backend.__file__, n.__file__)"
    )
    done = run([str(python), "-c", script], tmp_path, env)
    assert done.returncode == 0, done.stderr
    *versions, minimal_file, notebook_file = done.stdout.split()
    assert versions == ["0.1.0", "0.1.0"]
    site = python.parent.parent
    assert Path(minimal_file).is_relative_to(site), minimal_file
    assert Path(notebook_file).is_relative_to(site), notebook_file


def test_conformance_list_discovers_both_examples_by_entry_point(venv, tmp_path: Path):
    python, env = venv
    done = run([str(python), "-m", "conformance", "list"], tmp_path, env)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    for _, name, module in PACKAGES.values():
        plugin_rows = [line.split() for line in lines if line.startswith(f"{name} ")]
        assert [name, "entry", "point", module, "loaded", name] in plugin_rows, done.stdout
        assert any(row[:3] == [name, "0.1.0", name] for row in plugin_rows), done.stdout


def test_conformance_run_finds_both_examples_conform(venv, tmp_path: Path):
    python, env = venv
    backends = ",".join(name for _, name, _ in PACKAGES.values())
    results = tmp_path / "results.json"
    args = ["run", "--backend", backends, "--json", str(results)]  # float32 and float64
    done = run([str(python), "-m", "conformance", *args], tmp_path, env)
    assert done.returncode == 0, done.stdout + done.stderr
    for name in PASSES:
        assert any(line.split()[:2] == [name, "conforms"] for line in done.stdout.splitlines()), (
            done.stdout
        )

    recorded = json.loads(results.read_text())["results"]
    assert {r["backend"] for r in recorded} == set(PASSES)
    assert {r["dtype"] for r in recorded} == {"float32", "float64"}
    bad = [r for r in recorded if r["status"] in {"fail", "error"}]
    assert not bad, bad
    status = {(r["backend"], r["spec"], r["check"]): r["status"] for r in recorded}
    for backend, specs in PASSES.items():
        for spec, checks in specs.items():
            for check in checks:
                assert status.get((backend, spec, check)) == "pass", (backend, spec, check)
    for backend, cells in NOT_IMPLEMENTED.items():
        for spec, check in cells:
            assert status.get((backend, spec, check)) == "not_implemented", (backend, spec)
    plugins = {p["name"]: p for p in json.loads(results.read_text())["runs"][0]["plugins"]}
    for _, name, module in PACKAGES.values():
        assert plugins[name]["source"] == f"entry point {module}"
        assert plugins[name]["state"] == "loaded"
