"""The README's worked plugin example runs as written."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def code_block_after(marker: str, language: str) -> str:
    """The first ```language block after ``marker`` in the README."""
    start = README.index(marker)
    match = re.compile(rf"```{language}\n(.*?)```", re.S).search(README, start)
    assert match is not None, f"no {language} block after {marker!r}"
    return match.group(1)


def test_readme_plugin_example_passes_the_conformance_suite(tmp_path: Path):
    (tmp_path / "my_backend.py").write_text(
        code_block_after("Save this as `my_backend.py`", "python")
    )
    command = code_block_after("and check it, with nothing installed", "bash").strip()
    assert command == "PYTHONPATH=. pytest conformance --plugin my_backend --backend my-backend"
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    args = ["--plugin", "my_backend", "--backend", "my-backend", "-q", "-p", "no:cacheprovider"]
    done = subprocess.run(
        [sys.executable, "-m", "pytest", str(ROOT / "conformance"), *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    summary = done.stdout.strip().splitlines()[-1]
    assert re.search(r"\d+ passed", summary) and "failed" not in summary, summary
    assert "skipped" in summary  # every other spec is "not implemented"
