"""Results as plain data: the check result, its JSON codec, result files, the environment.

May import: :mod:`conformance.errors`, :mod:`conformance.typing`,
:mod:`conformance.version`. Nothing here knows specs, backends or checks.
"""
