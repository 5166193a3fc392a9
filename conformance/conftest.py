"""Wires the pytest front end into ``pytest conformance``."""

from conformance.frontends.pytest_plugin import (  # noqa: F401
    conformance_session,
    pytest_addoption,
    pytest_configure,
    pytest_generate_tests,
    pytest_report_header,
)
