"""For ``pytest conformance`` in a checkout: registers the suite's pytest plugin when its
``pytest11`` entry point did not (the package is not installed, or an older version of it
is, or ``PYTEST_DISABLE_PLUGIN_AUTOLOAD`` is set). Where the entry point did, or where
``-p no:conformance`` turned it off, this does nothing."""

from __future__ import annotations

import pytest

from conformance.frontends.pytest_plugin import register_once


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    register_once(pluginmanager)
