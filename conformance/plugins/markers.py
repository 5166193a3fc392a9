"""The project's pluggy markers and names: what plugins and the registry agree on."""

from __future__ import annotations

import pluggy

PROJECT = "conformance"
"""The pluggy project name: every hook is ``conformance_…``."""
ENTRY_POINT_GROUP = "conformance.backends"
"""The entry-point group through which backend plugins are found (the built-ins too)."""

hookimpl = pluggy.HookimplMarker(PROJECT)
"""Marker for hook implementations in backend plugins."""
hookspec = pluggy.HookspecMarker(PROJECT)
"""Marker for the harness's hook specifications."""
