"""The pytest front end: ``pytest conformance`` parametrizes spec × backend × dtype × check.

Loaded by ``conformance/conftest.py``. Options select backends, specs, dtypes, checks,
plugins and the seed. A run that would check nothing is a usage error, never green.
``--conformance-json`` and ``--conformance-report`` write one result file and one
report per run, pytest-xdist included (see :mod:`conformance.frontends.pytest_report`).
"""

from __future__ import annotations

import pytest

from conformance.errors import ConformanceError
from conformance.frontends.pytest_report import ConformanceReporter, is_worker
from conformance.frontends.session import Selection, Session, split_csv
from conformance.results.environment import MACHINE_ENV_VAR

SESSION_KEY = pytest.StashKey[Session]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("conformance", "RNN conformance harness")
    group.addoption(
        "--backend",
        action="append",
        help="backend name(s) to check (repeat or comma list; default all)",
    )
    group.addoption("--spec", action="append", help="spec id glob(s), e.g. 'lstm.*' (default all)")
    group.addoption("--dtype", action="append", help="float32 and/or float64 (default both)")
    group.addoption(
        "--check", action="append", help="check kind(s), e.g. numeric,gradient (default all)"
    )
    group.addoption(
        "--plugin", action="append", help="import MODULE and register it as a backend plugin"
    )
    group.addoption("--seed", type=int, default=0, help="seed of every input draw (default 0)")
    group.addoption(
        "--conformance-report",
        metavar="PATH",
        help="write the conformance report to PATH (.md, .html, .txt or .json by suffix)",
    )
    group.addoption("--conformance-json", metavar="PATH", help="write the results as JSON to PATH")
    group.addoption(
        "--conformance-machine",
        metavar="LABEL",
        help=f"machine label in the results (default ${MACHINE_ENV_VAR} or the host name)",
    )


def pytest_configure(config: pytest.Config) -> None:
    selection = Selection(
        backends=split_csv(config.getoption("--backend")),
        specs=split_csv(config.getoption("--spec")),
        dtypes=split_csv(config.getoption("--dtype")),
        checks=split_csv(config.getoption("--check")),
        plugins=split_csv(config.getoption("--plugin")),
        seed=config.getoption("--seed"),
    )
    try:
        session = Session.load(selection)
        session.requests()  # fail now, not as an empty green run
    except ConformanceError as exc:
        raise pytest.UsageError(f"conformance: {exc}") from None
    config.stash[SESSION_KEY] = session
    if not is_worker(config):
        config.pluginmanager.register(ConformanceReporter(config, session), "conformance-reporter")


def pytest_report_header(config: pytest.Config) -> list[str]:
    session = config.stash[SESSION_KEY]
    lines = [
        f"conformance: {len(session.catalog.specs)} specs, seed={session.selection.seed}, "
        f"backends: {', '.join(session.registry.backends) or 'none'}"
    ]
    lines += [
        f"conformance: plugin {h.name!r} {h.state}: {h.reason}"
        for h in session.registry.health
        if h.state != "loaded"
    ]
    return lines


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    session = metafunc.config.stash[SESSION_KEY]
    if "conformance_request" in metafunc.fixturenames:
        requests = session.requests()
        metafunc.parametrize("conformance_request", requests, ids=[r.id for r in requests])
    if "plugin_health" in metafunc.fixturenames:
        health = session.registry.health
        metafunc.parametrize("plugin_health", health, ids=[h.name for h in health])


@pytest.fixture
def conformance_session(request: pytest.FixtureRequest) -> Session:
    return request.config.stash[SESSION_KEY]
