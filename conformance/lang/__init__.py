"""The equation language: parser, interpreter, function table, CTC recursion.

A whitelisted subset of Python expressions, parsed with :mod:`ast` and interpreted
node by node; no ``eval``, no ``exec``. Knows nothing of specs. Also the rounding
model: values that carry the variance of their rounding error through the same
primitives (:mod:`conformance.lang.rounding`).

May import: :mod:`conformance.errors`, :mod:`conformance.typing`, NumPy.
"""

# Registers the NumPy functions a Rounded value supports (conformance.lang.rounding).
from conformance.lang import rounding_functions as _rounding_functions  # noqa: F401
