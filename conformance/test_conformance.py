"""The conformance suite: one test per (spec, backend, dtype, check).

Collected only when asked for: ``pytest --pyargs conformance`` from anywhere, or
``pytest conformance`` in a checkout, with the ``--conformance-*`` options of the
pytest plugin (:mod:`conformance.frontends.pytest_plugin`). Collecting this module is
what loads the plugins and specs; nothing else in a pytest run does.
"""

from __future__ import annotations

import pytest

from conformance.engine import CheckRequest, run_check
from conformance.frontends.pytest_plugin import suite_of
from conformance.frontends.pytest_report import attach_result
from conformance.frontends.session import Session
from conformance.plugins.registry import PluginHealth
from conformance.results.model import Status


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """One test per cell of the selection's matrix, and one per discovered plugin."""
    suite = suite_of(metafunc.config)
    session = suite.load()
    if session is None:  # a usage error: said once collection is over, or by this test
        name = next(
            n for n in ("conformance_request", "plugin_health") if n in metafunc.fixturenames
        )
        metafunc.parametrize(name, [pytest.param(None, id="usage-error")])
        return
    if "conformance_request" in metafunc.fixturenames:
        requests = session.requests()
        metafunc.parametrize("conformance_request", requests, ids=[r.id for r in requests])
    if "plugin_health" in metafunc.fixturenames:
        health = session.registry.health
        metafunc.parametrize("plugin_health", health, ids=[h.name for h in health])


@pytest.fixture
def conformance_session(request: pytest.FixtureRequest) -> Session:
    """The loaded session (catalog, registry, oracle, selection); fails on a usage error
    (seen only on a pytest-xdist worker: elsewhere the run stops before any test)."""
    suite = suite_of(request.config)
    session = suite.load()
    if session is None:
        pytest.fail(suite.error or "conformance: the session did not load", pytrace=False)
    return session


def test_conformance(
    conformance_request: CheckRequest, conformance_session: Session, request: pytest.FixtureRequest
) -> None:
    session = conformance_session
    result = run_check(
        conformance_request,
        session.oracle,
        seed=session.selection.seed,
        host=session.host(),
        shrink=not session.selection.size_choice.quick,
    )
    attach_result(request.node, result)
    if result.status is Status.NOT_IMPLEMENTED:
        pytest.skip(f"not implemented: {result.message}")
    if result.status is Status.ERROR:
        pytest.fail(f"error: {result.message}", pytrace=False)
    if result.status is Status.FAIL:
        pytest.fail(result.message, pytrace=False)
    assert result.status is Status.PASS, result


def test_plugin_loads(plugin_health: PluginHealth, conformance_session: Session) -> None:
    """Every discovered plugin loads; blocked and unavailable ones are skipped, broken ones fail."""
    if plugin_health.state in ("blocked", "unavailable"):
        name, state, reason = plugin_health.name, plugin_health.state, plugin_health.reason
        pytest.skip(f"plugin {name!r} is {state}: {reason}")
    assert plugin_health.state == "loaded", (
        f"plugin {plugin_health.name!r} failed to load: {plugin_health.reason}"
    )
