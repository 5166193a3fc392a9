"""Fresh workers: a backend its plugin can load again never runs in a fork of a harness
that has used a threaded native library (where it would hang)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from conformance import Backend, Kernel
from conformance.checks.calls import Call
from conformance.errors import HarnessError
from conformance.isolation import WorkerPool
from conformance.isolation.fresh import imports_the_same
from conformance.plugins.registry import Recipe, Registry, load_registry

MARKER = "_conformance_test_fresh_marker"
"""A module only the harness process has: a worker that sees it was forked from it."""

PLUGIN = textwrap.dedent(
    f"""
    import sys
    import numpy as np
    from conformance import Backend, Kernel, hookimpl

    def forward(inputs):
        return {{"h": np.array(float({MARKER!r} in sys.modules))}}

    @hookimpl
    def conformance_register_backends(register):
        register.add(Backend("where-am-i", {{"lstm.hidden_state": Kernel(forward)}}))
    """
)


def forked_from_harness(pool: WorkerPool, backend: Backend) -> bool:
    inputs = {"o": np.zeros((1, 1)), "c": np.zeros((1, 1))}
    (reply,) = pool.calls(backend).call([Call("lstm.hidden_state", "forward", (inputs,))])
    return bool(reply.values["h"])


@pytest.fixture
def plugin_module(tmp_path, monkeypatch):
    (tmp_path / "where_am_i_plugin.py").write_text(PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "where_am_i_plugin", raising=False)  # another test's
    monkeypatch.setitem(sys.modules, MARKER, sys)
    return "where_am_i_plugin"


def test_a_plugin_module_backend_runs_in_a_fresh_interpreter(plugin_module):
    registry = load_registry([plugin_module], use_entry_points=False)
    backend = registry.backends["where-am-i"]
    assert registry.recipe(backend) == Recipe("module", plugin_module, plugin_module, "where-am-i")
    with WorkerPool(timeout=30.0, registry=registry) as pool:
        assert not forked_from_harness(pool, backend)


def test_a_backend_registered_directly_or_changed_since_is_forked(plugin_module):
    registry = load_registry([plugin_module], use_entry_points=False)
    original = registry.backends["where-am-i"]
    changed = Backend(original.name, original.kernels)  # not the registry's own object
    assert registry.recipe(changed) is None
    with WorkerPool(timeout=30.0, registry=registry) as pool:
        assert forked_from_harness(pool, changed)
    with WorkerPool(timeout=30.0) as pool:  # no registry: nothing can be loaded again
        assert forked_from_harness(pool, original)


def test_a_backend_that_cannot_be_loaded_afresh_is_a_harness_error_naming_it(plugin_module):
    __import__(plugin_module)  # loaded here; afresh it registers where-am-i, not ghost
    backend = Backend("ghost", {"lstm.hidden_state": Kernel(lambda a: {})})
    registry = Registry(
        backends={"ghost": backend},
        recipes={"ghost": Recipe("module", plugin_module, plugin_module, "ghost")},
    )
    with WorkerPool(timeout=30.0, registry=registry) as pool, pytest.raises(HarnessError) as err:
        forked_from_harness(pool, backend)
    assert "could not load backend 'ghost' afresh" in str(err.value)
    assert "registered no backend 'ghost'" in str(err.value)


TAINTED = """
import torch
torch.nn.LSTM(64, 64)(torch.randn(50, 16, 64))  # the harness's OpenMP pool is now in use
from conformance.engine import run_requests
from conformance.frontends.session import Selection, Session
session = Session.load(Selection(
    backends=("torch",), specs=("lstm.sequence",), dtypes=("float32",),
    checks=("numeric",), timeout=30,
))
for result in run_requests(session.requests(), session.oracle, host=session.host()):
    print(result.status.value, result.message)
session.close()
"""


def test_torch_passes_after_the_harness_itself_ran_torch():
    """The case that hung CI: a forked worker waited forever on GNU OpenMP's thread pool."""
    pytest.importorskip("torch")
    run = subprocess.run(
        [sys.executable, "-c", TAINTED], capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["pass"], run.stdout


def test_a_module_a_fresh_import_would_find_elsewhere_is_forked(tmp_path, monkeypatch):
    """Two folders with a ``twin_plugin.py`` each (as tests write them): the harness has
    the first loaded, so a fresh worker, which would import the second, is not used."""
    first, second = tmp_path / "first", tmp_path / "second"
    for folder, backend in ((first, "twin-one"), (second, "twin-two")):
        folder.mkdir()
        (folder / "twin_plugin.py").write_text(PLUGIN.replace("where-am-i", backend))
    monkeypatch.delitem(sys.modules, "twin_plugin", raising=False)
    monkeypatch.syspath_prepend(str(first))
    registry = load_registry(["twin_plugin"], use_entry_points=False)
    backend = registry.backends["twin-one"]
    recipe = registry.recipe(backend)
    assert recipe is not None and imports_the_same(recipe)
    monkeypatch.syspath_prepend(str(second))  # a fresh import would now find the other one
    assert not imports_the_same(recipe)
    monkeypatch.setitem(sys.modules, MARKER, sys)
    with WorkerPool(timeout=30.0, registry=registry) as pool:
        assert forked_from_harness(pool, backend)  # and it runs, its own kernel
