"""Backend plugins: the backend and kernel types, the hook contract, the registry.

The types in :mod:`~conformance.plugins.backend` are public (re-exported by
:mod:`conformance`); the registry finds plugins through entry points, ``--plugin``
modules and direct registration, isolating each one's failure.

May import: :mod:`conformance.errors`, :mod:`conformance.typing`, pluggy.
"""
