"""The pytest front end, a ``pytest11`` plugin: the conformance suite in anyone's project.

Installed with the package (entry point ``conformance``), the plugin adds the
``--conformance-*`` options (:mod:`conformance.frontends.pytest_options`) to every
pytest run and does nothing else: no import of the harness, no header line, no
collection. The suite is collected only where it is asked for, with
``pytest --pyargs conformance`` from any directory, or ``pytest conformance`` in a
checkout. Collecting :mod:`conformance.test_conformance` loads the session (plugins,
then specs) once, through :func:`suite_of`; a selection that would check nothing is a
usage error, never a green run. ``--conformance-json`` and ``--conformance-report``
write one result file and one report per run, pytest-xdist included
(:mod:`conformance.frontends.pytest_report`).

The plugin is registered once, under one name, however it arrives: the entry point,
``-p conformance``, ``-p conformance.frontends.pytest_plugin``, ``pytest_plugins`` or
``PYTEST_PLUGINS`` naming the module, or the checkout's ``conformance/conftest.py``
(for a checkout where the entry point is not installed).
"""

from __future__ import annotations

import fnmatch
import importlib.util
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from conformance.frontends.pytest_options import (
    GROUP,
    GROUP_DESCRIPTION,
    PROPERTY,
    add_options,
    option,
)

if TYPE_CHECKING:
    from conformance.frontends.pytest_report import ConformanceReporter
    from conformance.frontends.session import Session

PLUGIN_NAME = "conformance"
"""The plugin's name: its ``pytest11`` entry point, and ``-p conformance``."""
ALIASES = (PLUGIN_NAME, __name__)
SUITE_FILE = Path(__file__).resolve().parent.parent / "test_conformance.py"
"""The suite's test module, collected whatever the project's ``python_files`` say."""
CONFORMANCE_TEST = "test_conformance.py::test_conformance["
"""What the node id of each conformance test (one cell of the matrix) contains."""


class Suite:
    """The conformance suite in one pytest process: the session once loaded, the reporter.

    Registered as a plugin of its own by ``pytest_configure``; its hooks do nothing
    until the suite is collected or a conformance result arrives.
    """

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.error: str | None = None
        self._session: Session | None = None
        self._reporter: ConformanceReporter | None = None
        self.planned: set[str] = set()
        """The node ids of the conformance tests collected (by any xdist worker)."""

    @property
    def loaded(self) -> bool:
        return self._session is not None

    def load(self) -> Session | None:
        """The session, loaded on first use; None (and :attr:`error` set) when it cannot be.

        The error is raised as a usage error once collection is over (it cannot be
        raised from inside a module's collection without becoming a collection error).
        """
        if self._session is None and self.error is None:
            from conformance.errors import ConformanceError
            from conformance.frontends.pytest_options import selection_of
            from conformance.frontends.session import Session

            try:
                session = Session.load(selection_of(self.config))
                session.requests()  # fail now, not as an empty green run
            except ConformanceError as exc:
                self.error = f"conformance: {exc}"
            else:
                self._session = session
        return self._session

    def reporter(self) -> ConformanceReporter | None:
        """The collector of results (on the controller only), made at the first result."""
        if self._reporter is None and not is_worker(self.config):
            session = self.load()
            if session is None:
                return None
            from conformance.frontends.pytest_report import ConformanceReporter

            self._reporter = ConformanceReporter(self.config, session)
        return self._reporter

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection(self, session: pytest.Session) -> None:
        """Under pytest-xdist the controller collects nothing: it loads the session itself
        when the command line names the suite, so that a usage error is said once, here,
        rather than by every worker."""
        distributed = self.config.pluginmanager.get_plugin("dsession") is not None
        if distributed and not is_worker(self.config) and asks_for_suite(self.config):
            self.load()
            if self.error is not None:
                raise pytest.UsageError(self.error)

    def pytest_collection_modifyitems(self) -> None:
        if self.error is not None and not is_worker(self.config):
            raise pytest.UsageError(self.error)

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """One line after "collected N items", when the suite was collected."""
        self.planned |= {item.nodeid for item in session.items if CONFORMANCE_TEST in item.nodeid}
        terminal = self.config.pluginmanager.get_plugin("terminalreporter")
        if self._session is None or terminal is None or is_worker(self.config):
            return
        from conformance.frontends.pytest_report import header_lines

        for line in header_lines(self._session):
            terminal.write_line(line)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Every phase's report of a conformance test goes to the reporter, which makes
        the test's result of them (a failed test is never a pass)."""
        if CONFORMANCE_TEST in report.nodeid or any(
            name == PROPERTY for name, _ in report.user_properties
        ):
            reporter = self.reporter()
            if reporter is not None:
                reporter.record(report)

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: object, ids: list[str]) -> None:
        """Under pytest-xdist, the conformance tests a worker collected: the plan's size."""
        self.planned |= {nodeid for nodeid in ids if CONFORMANCE_TEST in nodeid}

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self._reporter is not None:
            self._reporter.finish(len(self.planned), interrupted=exitstatus == 2)

    def pytest_unconfigure(self) -> None:
        """Stop the kernels' worker processes."""
        if self._session is not None:
            self._session.close()

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if self._reporter is not None:
            self._reporter.summary(terminalreporter)


SUITE_KEY = pytest.StashKey[Suite]()


def suite_of(config: pytest.Config) -> Suite:
    """The suite's state of this pytest process; a usage error when the plugin is off."""
    if SUITE_KEY not in config.stash:
        raise pytest.UsageError(
            "conformance: the conformance pytest plugin is not loaded "
            "(PYTEST_DISABLE_PLUGIN_AUTOLOAD or -p no:conformance?): add -p conformance"
        )
    return config.stash[SUITE_KEY]


def asks_for_suite(config: pytest.Config) -> bool:
    """Whether the command line's paths (or ``--pyargs`` modules) include the suite."""
    pyargs = bool(config.getoption("pyargs", False))
    for arg in config.args:
        target = str(arg).split("::")[0]
        path = _module_path(target) if pyargs else None
        path = path or (config.invocation_params.dir / target)
        if SUITE_FILE.is_relative_to(path.resolve()):
            return True
    return False


def _module_path(name: str) -> Path | None:
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None or spec.origin is None:
        return None
    origin = Path(spec.origin)
    return origin.parent if spec.submodule_search_locations else origin


def is_worker(config: pytest.Config) -> bool:
    """Whether this process is a pytest-xdist worker (results go to the controller)."""
    return hasattr(config, "workerinput")


def register_once(pluginmanager: pytest.PytestPluginManager) -> None:
    """Register this plugin unless it is registered already or blocked (``-p no:…``).

    Called by the checkout's ``conformance/conftest.py``, so that ``pytest conformance``
    works where the entry point is not installed and does nothing where it is.
    """
    module = sys.modules[__name__]
    if pluginmanager.is_registered(module) or pluginmanager.is_blocked(PLUGIN_NAME):
        return
    # without the entry point, ``-p conformance`` registers the bare package by that name
    taken = pluginmanager.get_plugin(PLUGIN_NAME) is not None
    name = __name__ if taken else PLUGIN_NAME
    if isinstance(pluginmanager.get_plugin(name), _Alias):
        return
    pluginmanager.register(module, name)


class _Alias:
    """Holds another name of this plugin (no hooks), so that loading the plugin by that
    name finds a plugin registered there and stops."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<alias {self.name!r} of the conformance pytest plugin>"


@pytest.hookimpl
def pytest_plugin_registered(
    plugin: object, plugin_name: str, manager: pytest.PytestPluginManager
) -> None:
    """Once this module is registered, its other names are taken, so that a second way of
    loading it (say ``-p conformance.frontends.pytest_plugin`` beside the entry point)
    finds it loaded instead of failing with "Plugin already registered". They are
    taken by placeholders, not blocked: ``-p NAME`` unblocks a name before loading it."""
    if plugin is not sys.modules[__name__]:
        return
    for alias in ALIASES:
        free = manager.get_plugin(alias) is None and not manager.is_blocked(alias)
        if alias != plugin_name and free:
            manager.register(_Alias(alias), alias)


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser.getgroup(GROUP, GROUP_DESCRIPTION))


def pytest_configure(config: pytest.Config) -> None:
    """Keep the suite's (empty) state; nothing is loaded until the suite is collected."""
    suite = Suite(config)
    config.stash[SUITE_KEY] = suite
    config.pluginmanager.register(suite, "conformance-suite")
    report, json = option(config, "report"), option(config, "json")
    if any(isinstance(p, str) and p for p in (report, json)) and not is_worker(config):
        from conformance.errors import ConformanceError
        from conformance.frontends.pytest_report import outputs_of

        try:  # a bad suffix or an unwritable path fails now, not after the run
            outputs_of(config).check()
        except ConformanceError as exc:
            raise pytest.UsageError(f"conformance: {exc}") from None


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Module | None:
    """The suite's module, where the project's ``python_files`` would not collect it."""
    if file_path.name != SUITE_FILE.name or file_path.resolve() != SUITE_FILE:
        return None
    patterns = parent.config.getini("python_files")
    if parent.session.isinitpath(file_path) or any(
        "/" in p or fnmatch.fnmatch(file_path.name, p) for p in patterns
    ):
        return None  # pytest's own python plugin collects it
    return pytest.Module.from_parent(parent, path=file_path)
