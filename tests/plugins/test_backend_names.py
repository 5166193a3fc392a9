"""Backend names are checked when registered: a name must survive the re-run command
(``--backend NAME``, comma lists, ``backend@machine`` labels) unquoted."""

from __future__ import annotations

import shlex

import numpy as np
import pytest

from conformance import Backend, Kernel, hookimpl
from conformance.plugins.registry import load_registry


def plugin_registering(name: object) -> object:
    class Plugin:
        @hookimpl
        def conformance_register_backends(self, register) -> None:
            kernel = Kernel(lambda a: {"h": a["o"] * np.tanh(a["c"])})
            register.add(Backend(name, {"lstm.hidden_state": kernel}))  # type: ignore[arg-type]

    return Plugin()


@pytest.mark.parametrize(
    "name",
    [42, None, "", "two words", "semi;colon", "$(reboot)", "-dash-first", ".dot-first", "a,b",
     "at@machine", "quote'd", "tab\tname", "ünïcode", "slash/name"],
    ids=repr,
)  # fmt: skip
def test_invalid_backend_name_fails_its_plugin_only(name: object) -> None:
    registry = load_registry(
        extra_plugins=[("bad-name", plugin_registering(name)), ("good", plugin_registering("ok"))],
        use_entry_points=False,
    )
    health = {h.name: h for h in registry.health}
    assert health["bad-name"].state == "failed"
    assert f"registered a backend named {name!r}: a backend name is a non-empty string" in (
        health["bad-name"].reason
    )
    assert list(registry.backends) == ["ok"]
    assert health["good"].state == "loaded"


@pytest.mark.parametrize("name", ["numpy-loops", "fused-gate", "torch+cu12", "onnx_rt.1.18", "B2"])
def test_valid_backend_names_are_their_own_shell_word(name: str) -> None:
    plugins = [("p", plugin_registering(name))]
    registry = load_registry(extra_plugins=plugins, use_entry_points=False)
    assert list(registry.backends) == [name]
    assert shlex.quote(name) == name
