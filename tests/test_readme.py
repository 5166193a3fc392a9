"""The README's worked plugin example runs as written.

The module, the command and the ``pyproject.toml`` are taken from README.md itself, so
the README cannot drift from what works: the command is run exactly as printed, by a
shell, in a directory holding nothing but the saved module.
"""

from __future__ import annotations

import configparser
import os
import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
PLUGIN_EXAMPLE = "Save this as `my_backend.py`"


def code_block_after(marker: str, language: str) -> str:
    """The first ```language block after ``marker`` in the README."""
    start = README.index(marker)
    match = re.compile(rf"```{language}\n(.*?)```", re.S).search(README, start)
    assert match is not None, f"no {language} block after {marker!r}"
    return match.group(1)


def save_module(directory: Path) -> None:
    (directory / "my_backend.py").write_text(code_block_after(PLUGIN_EXAMPLE, "python"))


def test_readme_plugin_command_runs_as_written(tmp_path: Path):
    work = tmp_path / "work"
    work.mkdir()
    save_module(work)
    command = code_block_after(PLUGIN_EXAMPLE, "bash").strip()
    assert "\n" not in command, command
    # `python3` in the command is this interpreter (a wrapper, not a symlink, so that a
    # virtual environment stays one), and the harness imported is this checkout's.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("python", "python3"):
        wrapper = bin_dir / name
        wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
        wrapper.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k != "CONFORMANCE_BLOCK_PLUGINS"}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run(
        command, shell=True, cwd=work, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert any(line.split()[:2] == ["my-backend", "conforms"] for line in lines), done.stdout
    assert any(line.split()[:2] == ["lstm.hidden_state", "✓"] for line in lines), done.stdout
    assert any(line.split()[:2] == ["lstm.cell", "—"] for line in lines), done.stdout


def test_readme_pyproject_builds_the_plugin_with_its_entry_point(tmp_path: Path):
    save_module(tmp_path)
    pyproject = code_block_after(PLUGIN_EXAMPLE, "toml")
    (tmp_path / "pyproject.toml").write_text(pyproject)
    declared = tomllib.loads(pyproject)
    project = declared["project"]
    assert {"name", "version", "dependencies"} <= project.keys()
    assert "rnn-conformance" in project["dependencies"]
    # Named, not discovered: discovery would pass here (one module) and fail beside a second.
    assert declared["tool"]["setuptools"]["py-modules"] == ["my_backend"]

    wheel = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
    done = subprocess.run(
        [*wheel, "-w", str(tmp_path / "dist"), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (built,) = (tmp_path / "dist").glob("*.whl")
    with zipfile.ZipFile(built) as archive:
        names = archive.namelist()
        assert "my_backend.py" in names, names
        (entry_points,) = (n for n in names if n.endswith(".dist-info/entry_points.txt"))
        parser = configparser.ConfigParser()
        parser.read_string(archive.read(entry_points).decode())
    assert dict(parser["conformance.backends"]) == {"my-backend": "my_backend"}
