"""Hook specifications: the contract between the harness and backend plugins.

A plugin is any module or object with functions marked ``@conformance.hookimpl``.
It is found through the ``conformance.backends`` entry-point group, through
``--plugin MODULE`` on the command line or in pytest, or by direct registration.
"""

from __future__ import annotations

from conformance.plugins.backend import BackendRegistry
from conformance.plugins.markers import hookspec


@hookspec
def conformance_register_backends(register: BackendRegistry) -> None:
    """Register the plugin's backends.

    Called once per plugin manager, after every plugin is loaded and before any
    check runs.

    :param register: call ``register.add(Backend(...))`` once per backend. A backend
        name may be registered only once across all plugins.
    :return: nothing; the registry collects what was added.
    """
