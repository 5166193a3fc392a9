"""The equation language: parser, interpreter, function table, CTC recursion.

A whitelisted subset of Python expressions, parsed with :mod:`ast` and interpreted
node by node; no ``eval``, no ``exec``. Knows nothing of specs.

May import: :mod:`conformance.errors`, :mod:`conformance.typing`, NumPy.
"""
