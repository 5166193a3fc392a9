"""Hook specifications: the contract between the harness and its plugins.

A plugin is any module or object with functions marked ``@conformance.hookimpl``.
It is found through the ``conformance.backends`` entry-point group, through
``--plugin MODULE`` on the command line (``--conformance-plugin`` in pytest), or by
direct registration. It may register backends, contribute spec files, or both.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from conformance.plugins.backend import BackendRegistry
from conformance.plugins.markers import hookspec


@hookspec
def conformance_spec_paths() -> Sequence[str | os.PathLike[str]]:
    """Spec files that the plugin contributes: a family of its own, or more specs for ours.

    Called once per plugin manager, after every plugin is loaded and before
    ``conformance_register_backends``. The files are loaded after the shipped specs,
    with the same validation and errors naming the file; a spec id may be defined
    only once, and a file whose ``[family] id`` is already loaded adds specs to that
    family.

    :return: paths of TOML spec files, or of folders whose ``*.toml`` files are loaded
        in name order. Give absolute paths, e.g. ``[Path(__file__).parent / "specs"]``.
        A path that does not exist makes the plugin fail to load.
    """
    raise NotImplementedError  # a specification: pluggy calls the implementations


@hookspec
def conformance_register_backends(register: BackendRegistry) -> None:
    """Register the plugin's backends.

    Called once per plugin manager, after every plugin is loaded and before any
    check runs.

    :param register: call ``register.add(Backend(...))`` once per backend. A backend
        name may be registered only once across all plugins.
    :return: nothing; the registry collects what was added.
    """
