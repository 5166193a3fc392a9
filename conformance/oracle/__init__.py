"""The oracle: specs interpreted in float64 (values) and complex128 (derivatives).

``scan`` and ``tree`` recurrences, spec calls, complex-step JVPs and VJPs, the
reference memo shared by all backends, and the load-time check of a catalog against
its own oracle.

May import: :mod:`conformance.spec`, :mod:`conformance.lang`, errors, typing.
"""
