"""Spec files from elsewhere: plugins (``conformance_spec_paths``), ``--spec-dir`` and
``CONFORMANCE_SPEC_PATH``, loaded with the same checks and errors as the shipped specs."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.errors import PluginError, SpecError, UsageError
from conformance.frontends.cli import main
from conformance.frontends.session import Selection, Session
from conformance.frontends.spec_sources import SHIPPED, SPEC_PATH_ENV_VAR
from conformance.results.files import read_results

ROOT = Path(__file__).resolve().parents[2]

SWISH = """\
[family]
id = "swish"
title = "Swish activation"
source = "Ramachandran, Zoph & Le (2017), Searching for Activation Functions"

[defaults]
sizes = [{ B = 3, H = 4 }, { B = 1, H = 1 }]

[symbols]
z = { shape = ["B", "H"], role = "input", meaning = "pre-activation" }
y = { shape = ["B", "H"], role = "output", meaning = "z * sigmoid(z)" }

[[spec]]
id = "swish.forward"
inputs = ["z"]
outputs = ["y"]
equations = ["y = z * sigmoid(z)"]
"""
"""A third-party family of one spec."""

PLUGIN = """
from pathlib import Path

import numpy as np

from conformance import Backend, Kernel, hookimpl


def swish(inputs):
    z = inputs["z"]
    return {"y": z / (1 + np.exp(-z)) * SCALE}


@hookimpl
def conformance_spec_paths():
    return [Path(__file__).parent / "swish_specs"]


@hookimpl
def conformance_register_backends(register):
    register.add(Backend("my-swish", {"swish.forward": Kernel(swish)}))
"""
"""A plugin module holding the family's folder and a backend (``SCALE`` 1 is right)."""


@pytest.fixture
def plugin_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``tmp_path`` on the import path, with ``swish_plugin.py`` and ``swish_specs/``."""
    (tmp_path / "swish_specs").mkdir()
    (tmp_path / "swish_specs" / "swish.toml").write_text(SWISH)
    (tmp_path / "swish_plugin.py").write_text(PLUGIN.replace("SCALE", "1"))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv(SPEC_PATH_ENV_VAR, raising=False)
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    sys.modules.pop("swish_plugin", None)


def test_plugin_contributes_a_family_checked_like_ours(plugin_dir: Path):
    session = Session.load(Selection(plugins=("swish_plugin",)))
    assert "swish.forward" in session.catalog.specs
    assert session.catalog.families["swish"]["title"] == "Swish activation"
    origins = {s.file.name: s.origin for s in session.spec_sources}
    assert origins["swish.toml"] == "plugin 'swish_plugin'" and origins["lstm.toml"] == SHIPPED
    assert [r.id for r in Session.load(
        Selection(plugins=("swish_plugin",), specs=("swish.*",), backends=("my-swish",),
                  checks=("numeric",), dtypes=("float64",))
    ).requests()] == ["swish.forward-my-swish-float64-numeric"]  # fmt: skip


def test_spec_error_in_a_plugins_file_names_the_file_and_the_plugin(plugin_dir: Path):
    bad = SWISH.replace('z * sigmoid(z)"]', 'zz * sigmoid(z)"]')
    (plugin_dir / "swish_specs" / "swish.toml").write_text(bad)
    with pytest.raises(SpecError) as caught:
        Session.load(Selection(plugins=("swish_plugin",)))
    message = str(caught.value)
    assert message.startswith("swish_specs/swish.toml: spec 'swish.forward': equations[0]: ")
    assert "unknown symbol 'zz'" in message and "spec file from plugin 'swish_plugin'" in message


def test_spec_dir_and_environment_variable_add_spec_files(plugin_dir, monkeypatch, tmp_path):
    by_option = Session.load(Selection(spec_dirs=("swish_specs",)))
    assert "swish.forward" in by_option.catalog.specs
    assert by_option.spec_dirs_for("swish.forward") == ["swish_specs"]
    assert by_option.spec_dirs_for("lstm.cell") == []

    other = tmp_path / "elsewhere"
    other.mkdir()
    (other / "more.toml").write_text(
        SWISH.replace('id = "swish.forward"', 'id = "swish.again"').replace(
            'title = "Swish activation"\nsource = "Ramachandran, Zoph & Le (2017), Searching for '
            'Activation Functions"\n',
            "",
        )
    )
    monkeypatch.setenv(SPEC_PATH_ENV_VAR, os.pathsep.join(["swish_specs", str(other)]))
    # the same folder again by option is read once: no "duplicate spec id"
    session = Session.load(Selection(spec_dirs=("swish_specs",)))
    assert {"swish.forward", "swish.again"} <= set(session.catalog.specs)
    origins = {s.file.name: s.origin for s in session.spec_sources}
    assert origins == {
        **origins,
        "swish.toml": f"${SPEC_PATH_ENV_VAR}",
        "more.toml": f"${SPEC_PATH_ENV_VAR}",
    }


@pytest.mark.parametrize(
    ("where", "error", "message"),
    [
        ("option", UsageError, "--spec-dir no-such: no-such: no such file or folder"),
        ("environment", UsageError, f"${SPEC_PATH_ENV_VAR}: no-such: no such file or folder"),
    ],
)
def test_missing_spec_folder_is_named_with_its_origin(
    plugin_dir, monkeypatch, where, error, message
):
    if where == "environment":
        monkeypatch.setenv(SPEC_PATH_ENV_VAR, "no-such")
    with pytest.raises(error, match=message.replace("$", r"\$")):
        Session.load(Selection(spec_dirs=("no-such",) if where == "option" else ()))


def test_empty_folder_from_a_plugin_is_a_plugin_error(plugin_dir: Path):
    (plugin_dir / "swish_specs" / "swish.toml").unlink()
    with pytest.raises(PluginError, match=r"plugin 'swish_plugin': .*no \*\.toml spec files"):
        Session.load(Selection(plugins=("swish_plugin",)))


def test_cli_rerun_of_a_spec_dir_failure_names_the_folder_and_reproduces(plugin_dir, capsys):
    (plugin_dir / "swish_plugin.py").write_text(  # a backend 1 % off, and no specs of its own
        PLUGIN.replace("SCALE", "1.01").replace(
            '    return [Path(__file__).parent / "swish_specs"]', "    return []"
        )
    )
    out = plugin_dir / "r.json"
    args = ["run", "--plugin", "swish_plugin", "--spec-dir", "swish_specs", "--backend",
            "my-swish", "--spec", "swish.*", "--dtype", "float64", "--check", "numeric",
            "--json", str(out)]  # fmt: skip
    assert main(args) == 1
    capsys.readouterr()
    (result,) = read_results(out).results
    assert result.rerun == (
        "conformance run --plugin swish_plugin --spec-dir swish_specs --backend my-swish "
        "--spec swish.forward --dtype float64 --check numeric --seed 0"
    )
    rerun = subprocess.run(
        [sys.executable, "-m", "conformance", *shlex.split(result.rerun)[1:]],
        cwd=plugin_dir, capture_output=True, text=True, timeout=120,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(plugin_dir), str(ROOT)])},
    )  # fmt: skip
    assert rerun.returncode == 1, rerun.stdout + rerun.stderr
    assert result.message in rerun.stdout


def test_cli_list_and_show_see_contributed_specs(plugin_dir, capsys):
    assert main(["list", "--plugin", "swish_plugin"]) == 0
    out = capsys.readouterr().out
    assert "swish.forward" in out and "Swish activation" in out
    contributed = out[out.index("Spec files not shipped with the harness (1)") :]
    assert "swish_specs/swish.toml" in contributed and "plugin 'swish_plugin'" in contributed
    assert main(["show", "swish.forward", "--spec-dir", "swish_specs"]) == 0
    page = capsys.readouterr().out
    assert page.startswith("swish.forward — swish.forward\n")
    assert "y = z * sigmoid(z)" in page and "Ramachandran" in page
