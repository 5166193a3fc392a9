"""The pytest plugin as a user meets it: the package installed, pytest run from elsewhere.

One virtual environment per module, which sees this interpreter's packages
(``--system-site-packages``) and gets this checkout installed into it, not editable,
from a copy of its tracked files: the shared install is never touched, and what runs is
what a wheel holds (the suite module, its conftest, the spec files, the entry points).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import venv
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # a virtual environment and ten pytest runs: about 25 s

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
FAMILY_SECTION = "### A spec family of your own, end to end"
HARNESS_AT_STARTUP = {
    "conformance",
    "conformance.version",
    "conformance.frontends",
    "conformance.frontends.pytest_options",
    "conformance.frontends.pytest_plugin",
}
"""The only harness modules an installed plugin may import into someone else's run."""


def readme_block(language: str, after: str) -> str:
    """The first ```language block after ``after`` in the README's spec-family section."""
    start = README.index(after, README.index(FAMILY_SECTION))
    match = re.compile(rf"```{language}\n(.*?)```", re.S).search(README, start)
    assert match is not None, f"no {language} block after {after!r}"
    return match.group(1)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ``bin`` folder of a virtual environment with this checkout installed."""
    base = tmp_path_factory.mktemp("installed")
    source = base / "source"
    tracked = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode()
    for name in filter(None, tracked.split("\0")):
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    env_dir = base / "venv"
    venv.create(env_dir, system_site_packages=True, with_pip=False)
    python = env_dir / "bin" / "python"
    done = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
         str(source)],
        capture_output=True, text=True, timeout=300,
        env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return python.parent


def run(bin_dir: Path, command: list[str] | str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``command`` (a shell line when a string) with the environment's bin first on PATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONFORMANCE_", "PYTEST_"))}
    env.pop("PYTHONPATH", None)
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    return subprocess.run(
        command, shell=isinstance(command, str), cwd=cwd, env=env,
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_installed_package_is_the_one_that_runs(installed: Path, tmp_path: Path):
    done = run(
        installed, ["python3", "-c", "import conformance; print(conformance.__file__)"], tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()).is_relative_to(installed.parent), done.stdout


def test_readme_spec_family_runs_from_a_scratch_directory(installed: Path, tmp_path: Path):
    (tmp_path / "gru.toml").write_text(readme_block("toml", "Save this as `gru.toml`"))
    (tmp_path / "my_gru.py").write_text(readme_block("python", "beside it as `my_gru.py`"))
    command = readme_block("bash", "Then, from that directory").strip()
    assert command.startswith("python3 -m pytest --pyargs conformance "), command
    done = run(installed, command, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert any(line.split()[:2] == ["my-gru", "conforms"] for line in lines), done.stdout
    assert "conformance: 1 spec × 1 backend (my-gru), seed 0" in lines, done.stdout
    report = (tmp_path / "gru-report.md").read_text()
    assert "| gru.cell" in report and "✓" in report and "(no gradient)" in report

    # the same files with the update gate the wrong way round: the new family's checks bite
    kernel = (tmp_path / "my_gru.py").read_text()
    assert "(1 - z) * n + z * h_prev" in kernel
    (tmp_path / "my_gru.py").write_text(
        kernel.replace("(1 - z) * n + z * h_prev", "z * n + (1 - z) * h_prev")
    )
    broken = run(installed, command, tmp_path)
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert any(line.split()[:2] == ["my-gru", "FAILS"] for line in broken.stdout.splitlines())
    assert "gru.cell" in broken.stdout and "✗" in broken.stdout


def test_installed_plugin_leaves_another_project_alone(installed: Path, tmp_path: Path):
    (tmp_path / "test_theirs.py").write_text(
        "import sys\n\n\n"
        "def test_nothing_of_the_harness_was_imported():\n"
        "    loaded = {m for m in sys.modules if m.split('.')[0] == 'conformance'}\n"
        f"    assert loaded <= set({sorted(HARNESS_AT_STARTUP)!r}), sorted(loaded)\n"
        "    assert 'numpy' not in sys.modules\n"
    )
    with_plugin = run(installed, ["python3", "-m", "pytest", "-p", "no:cacheprovider"], tmp_path)
    assert with_plugin.returncode == 0, with_plugin.stdout + with_plugin.stderr
    without = run(
        installed, ["python3", "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:conformance"],
        tmp_path,
    )  # fmt: skip
    assert without.returncode == 0, without.stdout + without.stderr

    def shown(text: str) -> list[str]:  # the run's lines; timings and pytest's plugin list aside
        lines = [re.sub(r" in [\d.]+s", "", line) for line in text.splitlines()]
        return [line for line in lines if not line.startswith("plugins:")]

    assert shown(with_plugin.stdout) == shown(without.stdout)  # no header line, no summary
    assert "collected 1 item" in with_plugin.stdout  # theirs, and nothing of the suite
    assert "rnn-conformance" in with_plugin.stdout  # pytest names every plugin it loaded
    assert "conformance" not in "\n".join(shown(with_plugin.stdout)) + with_plugin.stderr
    help_text = run(installed, ["python3", "-m", "pytest", "--help"], tmp_path).stdout
    for name in ("backend", "spec", "dtype", "check", "plugin", "spec-dir", "seed", "report"):
        assert f"--conformance-{name}" in help_text


@pytest.mark.parametrize(
    "extra",
    [
        ["-p", "conformance.frontends.pytest_plugin"],
        ["-p", "conformance", "-p", "conformance.frontends.pytest_plugin"],
    ],
    ids=["p-module", "p-name-and-module"],
)
def test_plugin_loaded_several_ways_is_registered_once(installed, tmp_path, extra):
    (tmp_path / "pyproject.toml").write_text(  # a project that collects check_*.py only
        '[tool.pytest.ini_options]\npython_files = ["check_*.py"]\n'
    )
    args = ["--conformance-spec", "lstm.hidden_state", "--conformance-backend", "numpy-loops"]
    command = ["python3", "-m", "pytest", *extra, "--pyargs", "conformance", *args, "--co", "-q"]
    done = run(installed, [*command, "-p", "no:cacheprovider"], tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "already registered" not in done.stdout + done.stderr
    collected = [line for line in done.stdout.splitlines() if "::test_conformance[" in line]
    assert len(collected) == 20, done.stdout  # 10 check kinds × 2 dtypes
    assert all("lstm.hidden_state-numpy-loops-" in line for line in collected)


def test_autoload_off_needs_dash_p_conformance(installed: Path, tmp_path: Path):
    args = ["--pyargs", "conformance", "--conformance-spec", "lstm.hidden_state", "-q"]
    env_off = "PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 python3 -m pytest -p no:cacheprovider"
    off = run(installed, f"{env_off} {' '.join(args)}", tmp_path)
    assert off.returncode == pytest.ExitCode.USAGE_ERROR
    assert "unrecognized arguments: --conformance-spec" in off.stderr
    on = run(installed, f"{env_off} -p conformance {' '.join(args)}", tmp_path)
    assert on.returncode == 0, on.stdout + on.stderr


def test_checkout_suite_runs_beside_the_installed_entry_point(installed: Path):
    """``pytest conformance`` in the checkout, with the entry point installed too: the
    checkout's conftest finds the plugin registered and does nothing."""
    args = [
        "conformance",
        "--conformance-spec",
        "lstm.hidden_state",
        "-q",
        "-p",
        "no:cacheprovider",
    ]
    done = run(installed, ["python3", "-m", "pytest", *args], ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "already registered" not in done.stdout + done.stderr
