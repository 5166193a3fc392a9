"""The conformance suite: one test per (spec, backend, dtype, check).

Run ``pytest conformance``; see ``conformance/pytest_plugin.py`` for the options.
"""

from __future__ import annotations

import pytest

from conformance.engine import CheckRequest, run_check
from conformance.frontends.pytest_report import attach_result
from conformance.frontends.session import Session
from conformance.plugins.registry import PluginHealth
from conformance.results.model import Status


def test_conformance(
    conformance_request: CheckRequest, conformance_session: Session, request: pytest.FixtureRequest
) -> None:
    result = run_check(
        conformance_request, conformance_session.oracle, seed=conformance_session.selection.seed
    )
    attach_result(request.node, result)
    if result.status is Status.NOT_IMPLEMENTED:
        pytest.skip(f"not implemented: {result.message}")
    if result.status is Status.ERROR:
        pytest.fail(f"error: {result.message}", pytrace=False)
    if result.status is Status.FAIL:
        pytest.fail(result.message, pytrace=False)
    assert result.status is Status.PASS, result


def test_plugin_loads(plugin_health: PluginHealth) -> None:
    """Every discovered plugin loads; blocked and unavailable ones are skipped, broken ones fail."""
    if plugin_health.state in ("blocked", "unavailable"):
        name, state, reason = plugin_health.name, plugin_health.state, plugin_health.reason
        pytest.skip(f"plugin {name!r} is {state}: {reason}")
    assert plugin_health.state == "loaded", (
        f"plugin {plugin_health.name!r} failed to load: {plugin_health.reason}"
    )
