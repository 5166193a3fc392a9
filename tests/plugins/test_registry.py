"""Plugin discovery: entry points, --plugin modules, the block list, and failure isolation."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from conformance import Backend, BackendUnavailable, hookimpl
from conformance.errors import PluginError
from conformance.plugins.registry import BLOCK_ENV_VAR, load_registry

PLUGIN_SOURCE = """
import numpy as np
from conformance import Backend, Kernel, hookimpl

@hookimpl
def conformance_register_backends(register):
    register.add(Backend("{name}", {{"lstm.hidden_state": Kernel(
        lambda a: {{"h": a["o"] * np.tanh(a["c"])}})}}, version="1.2"))
"""


def write_module(root: Path, module: str, source: str) -> None:
    (root / f"{module}.py").write_text(textwrap.dedent(source))


@pytest.fixture
def plugin_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for name in [m for m in sys.modules if m.startswith("thirdparty_")]:
        del sys.modules[name]


def test_builtin_backends_are_found_through_entry_points():
    registry = load_registry(environ={})
    assert {"numpy-loops", "numpy-vectorized"} <= set(registry.backends)
    assert registry.backends["numpy-loops"].plugin == "numpy-loops"
    sources = {h.name: h.source for h in registry.health}
    assert sources["numpy-loops"] == "entry point implementations.numpy_loops"


def test_third_party_entry_point_is_discovered(plugin_dir: Path):
    write_module(plugin_dir, "thirdparty_ep", PLUGIN_SOURCE.format(name="third-party"))
    dist = plugin_dir / "thirdparty_ep-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: thirdparty-ep\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[conformance.backends]\nthird = thirdparty_ep\n")
    registry = load_registry(environ={})
    assert registry.backends["third-party"].version == "1.2"
    assert registry.backends["third-party"].plugin == "third"


def test_plugin_module_option_registers_a_backend(plugin_dir: Path):
    write_module(plugin_dir, "thirdparty_mod", PLUGIN_SOURCE.format(name="from-module"))
    registry = load_registry(["thirdparty_mod"], use_entry_points=False)
    assert list(registry.backends) == ["from-module"]
    assert registry.health[0].source == "--plugin"
    assert registry.health[0].backends == ("from-module",)


def test_block_env_var_blocks_named_plugins():
    registry = load_registry(environ={BLOCK_ENV_VAR: "numpy-loops, fused-gate"})
    assert "numpy-loops" not in registry.backends
    states = {h.name: h.state for h in registry.health}
    assert states["numpy-loops"] == "blocked" and states["fused-gate"] == "blocked"
    assert states["numpy-vectorized"] == "loaded"


def test_misspelled_hook_fails_loudly_for_that_plugin_only(plugin_dir: Path):
    write_module(
        plugin_dir,
        "thirdparty_typo",
        """
        from conformance import hookimpl

        @hookimpl
        def conformance_register_backend(register):
            pass
        """,
    )
    write_module(plugin_dir, "thirdparty_fine", PLUGIN_SOURCE.format(name="fine"))
    registry = load_registry(["thirdparty_typo", "thirdparty_fine"], use_entry_points=False)
    health = {h.name: h for h in registry.health}
    assert health["thirdparty_typo"].state == "failed"
    assert "conformance_register_backend" in health["thirdparty_typo"].reason
    assert list(registry.backends) == ["fine"]


def test_import_error_is_isolated(plugin_dir: Path):
    write_module(plugin_dir, "thirdparty_broken", "import not_a_module_anywhere\n")
    write_module(plugin_dir, "thirdparty_ok", PLUGIN_SOURCE.format(name="ok"))
    registry = load_registry(["thirdparty_broken", "thirdparty_ok"], use_entry_points=False)
    health = {h.name: h for h in registry.health}
    assert health["thirdparty_broken"].state == "failed"
    assert "ModuleNotFoundError" in health["thirdparty_broken"].reason
    assert list(registry.backends) == ["ok"]


class RaisingPlugin:
    @hookimpl
    def conformance_register_backends(self, register):
        raise RuntimeError("cannot find my shared library")


class DuplicatePlugin:
    @hookimpl
    def conformance_register_backends(self, register):
        register.add(Backend("numpy-loops", {}))


class NotABackendPlugin:
    @hookimpl
    def conformance_register_backends(self, register):
        register.add({"name": "dict-backend"})


class BadKernelPlugin:
    @hookimpl
    def conformance_register_backends(self, register):
        register.add(Backend("bad-kernel", {"lstm.cell": lambda inputs: inputs}))


@pytest.mark.parametrize(
    ("plugin", "reason"),
    [
        (RaisingPlugin(), "raised RuntimeError: cannot find my shared library"),
        (DuplicatePlugin(), "backend 'numpy-loops', already registered by plugin 'numpy-loops'"),
        (NotABackendPlugin(), "which is not a conformance.Backend"),
        (BadKernelPlugin(), "kernel for 'lstm.cell' must be a conformance.Kernel"),
    ],
    ids=["raises", "duplicate-name", "not-a-backend", "bad-kernel"],
)
def test_registration_failure_is_recorded_and_isolated(plugin, reason):
    registry = load_registry(extra_plugins=[("bad", plugin)], environ={})
    health = {h.name: h for h in registry.health}
    assert health["bad"].state == "failed"
    assert reason in health["bad"].reason
    assert "numpy-vectorized" in registry.backends


def test_select_unknown_backend_names_the_known_ones():
    registry = load_registry(environ={})
    with pytest.raises(
        PluginError, match=r"unknown backend\(s\) numpy-loop; registered: .*numpy-loops"
    ):
        registry.select(["numpy-loop"])


def test_select_without_names_returns_every_backend():
    registry = load_registry(environ={})
    assert [b.name for b in registry.select([])] == list(registry.backends)


def test_a_plugin_whose_framework_is_missing_is_unavailable_not_failed(plugin_dir: Path):
    write_module(
        plugin_dir,
        "thirdparty_nofw",
        """
        from conformance import BackendUnavailable
        raise BackendUnavailable("fakeframe is not installed", install="pip install fakeframe")
        """,
    )

    class LateCheck:
        @hookimpl
        def conformance_register_backends(self, register):
            raise BackendUnavailable("otherframe is not installed")

    registry = load_registry(
        ["thirdparty_nofw"], extra_plugins=[("late", LateCheck())], use_entry_points=False
    )
    health = {h.name: h for h in registry.health}
    assert health["thirdparty_nofw"].state == "unavailable"
    assert health["thirdparty_nofw"].reason == "fakeframe is not installed (pip install fakeframe)"
    assert health["late"].state == "unavailable", health["late"]
    assert health["late"].reason == "otherframe is not installed"
    assert registry.backends == {}


# --- spec files contributed by plugins ----------------------------------------------------------


class SpecPlugin:
    """A plugin contributing spec paths, and a backend to show it stays or goes with them."""

    def __init__(self, paths, name="with-specs"):
        self.paths, self.name = paths, name

    @hookimpl
    def conformance_spec_paths(self):
        if isinstance(self.paths, Exception):
            raise self.paths
        return self.paths

    @hookimpl
    def conformance_register_backends(self, register):
        register.add(Backend(self.name, {}))


def test_spec_paths_hook_collects_each_plugins_paths(tmp_path: Path):
    (tmp_path / "mine.toml").write_text("")
    (tmp_path / "more").mkdir()
    registry = load_registry(
        extra_plugins=[("mine", SpecPlugin([tmp_path / "mine.toml", str(tmp_path / "more")]))],
        use_entry_points=False,
    )
    assert [(s.plugin, s.path) for s in registry.spec_paths] == [
        ("mine", tmp_path / "mine.toml"),
        ("mine", tmp_path / "more"),
    ]
    assert registry.health[0].state == "loaded" and "with-specs" in registry.backends


@pytest.mark.parametrize(
    ("paths", "reason"),
    [
        (["/no/such/specs"], "conformance_spec_paths: PluginError: spec path '/no/such/specs' "
                             "does not exist"),
        ("specs/", "returned 'specs/', not a list of paths"),
        ([42], "returned 42, which is not a path"),
        (RuntimeError("no data files"), "conformance_spec_paths: RuntimeError: no data files"),
    ],
    ids=["missing", "a-string", "not-a-path", "raises"],
)  # fmt: skip
def test_spec_paths_hook_failure_fails_that_plugin_only(paths, reason):
    registry = load_registry(extra_plugins=[("bad", SpecPlugin(paths, "bad-backend"))], environ={})
    health = {h.name: h for h in registry.health}
    assert health["bad"].state == "failed" and reason in health["bad"].reason
    assert "bad-backend" not in registry.backends  # a failed plugin registers nothing
    assert registry.spec_paths == []
    assert "numpy-vectorized" in registry.backends
