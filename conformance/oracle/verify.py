"""Checking a loaded catalog against its own oracle, at load time."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from conformance.errors import ConformanceError, SpecError
from conformance.oracle.evaluate import Oracle
from conformance.spec.catalog import Catalog
from conformance.spec.draw import case_rng, draw_inputs, shape_of
from conformance.spec.loader import load_catalog


def verify_catalog(catalog: Catalog) -> None:
    """Run every spec once at its first sizes: declared output shapes must come out.

    Catches equations whose shapes disagree with the symbol table at load time, with
    the file and spec named, rather than mid-run.
    """
    oracle = Oracle(catalog.specs)
    for spec in catalog.specs.values():
        sizes = spec.sizes[0]
        inputs = draw_inputs(spec, sizes, rng=case_rng(0, spec.id, 0))
        try:
            outputs = oracle.evaluate(spec, inputs)
        except (ConformanceError, ValueError, TypeError, IndexError) as exc:
            raise SpecError(
                f"the equations fail at {spec.describe_sizes(sizes)}: {exc}",
                file=spec.file,
                field=f"spec {spec.id!r}",
            ) from None
        for symbol in spec.output_symbols:
            want = shape_of(symbol, sizes)
            have = np.shape(outputs[symbol.name])
            if have != want:
                raise SpecError(
                    f"the equations give {symbol.name}.shape={have}, but the symbol says "
                    f"({', '.join(symbol.shape)}) = {want} at {spec.describe_sizes(sizes)}",
                    file=spec.file,
                    field=f"spec {spec.id!r}",
                )


def load_checked_catalog(paths: Iterable[Path | str] | None = None) -> Catalog:
    """Load and validate the spec files (the shipped ones when None), then run every spec
    once through its oracle so that equations whose shapes disagree fail at load time."""
    catalog = load_catalog(paths)
    verify_catalog(catalog)
    return catalog
