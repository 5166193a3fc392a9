"""Specs as data: the model, loading and field validation, identities, input drawing.

Turns ``specs/*.toml`` into a :class:`~conformance.spec.catalog.Catalog` of frozen
:class:`~conformance.spec.model.Spec` objects, and draws a spec's inputs from its
domains. Checking specs against their own oracle is a layer up, in
:mod:`conformance.oracle.verify`.

May import: :mod:`conformance.lang`, :mod:`conformance.errors`, :mod:`conformance.typing`.
"""
