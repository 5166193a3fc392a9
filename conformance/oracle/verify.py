"""Checking a loaded catalog against its own oracle, at load time.

Every spec is run through the oracle at every size it declares, on the inputs the
checks will draw with seed 0, and on its stability inputs. What a correct backend could
never pass is a :class:`SpecError` of the spec, naming the file, the spec and the field,
never a failure of every backend: an equation that fails (``1 / 0``), an output of
the wrong shape or with NaN in it, an invariant the oracle itself violates
(``y >= 1e9``) or that is not a condition at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from conformance.errors import ConformanceError, ExpressionError, Location, SpecError
from conformance.lang.interpreter import EVALUATION_ERRORS, describe_exception
from conformance.oracle.evaluate import Oracle
from conformance.spec.catalog import Catalog
from conformance.spec.draw import case_rng, draw_inputs, shape_of
from conformance.spec.loader import load_catalog
from conformance.spec.model import Spec
from conformance.typing import Array, Sizes

_FAILURES: tuple[type[BaseException], ...] = (ConformanceError, *EVALUATION_ERRORS)


def verify_catalog(catalog: Catalog) -> None:
    """Run every spec at each of its sizes, plain and at its stability domains."""
    oracle = Oracle(catalog.specs)
    for spec in catalog.specs.values():
        for case, sizes in enumerate(spec.sizes):
            inputs = draw_inputs(spec, sizes, rng=case_rng(0, spec.id, case))
            outputs = _evaluate(oracle, spec, inputs, sizes, "")
            _check_outputs(spec, outputs, sizes, "equations")
            _check_invariants(oracle, spec, inputs, outputs, sizes)
            if spec.stability:
                rng = case_rng(0, spec.id, case, "stability")
                inputs = draw_inputs(spec, sizes, rng=rng, domains=spec.stability)
                outputs = _evaluate(oracle, spec, inputs, sizes, "stability")
                _check_outputs(spec, outputs, sizes, "stability")


def _where(spec: Spec, field: str = "") -> Location:
    return Location(file=spec.file, spec=spec.id, field=field)


def _evaluate(
    oracle: Oracle, spec: Spec, inputs: Mapping[str, Array], sizes: Sizes, field: str
) -> dict[str, Array]:
    at = f"at {spec.describe_sizes(sizes)}" + (" on its stability inputs" if field else "")
    try:
        with np.errstate(all="ignore"):
            return oracle.evaluate(spec, inputs)
    except ExpressionError as exc:
        place = _where(spec, exc.where.field or field)
        raise SpecError(f"{exc.problem} ({at})", where=place, hint=exc.hint) from None
    except _FAILURES as exc:
        raise SpecError(
            f"the equations fail {at}: {describe_exception(exc)}", where=_where(spec, field)
        ) from None


def _check_outputs(spec: Spec, outputs: Mapping[str, Array], sizes: Sizes, field: str) -> None:
    """Every output has its declared shape, and no NaN: the spec's math is defined here."""
    stability = field == "stability"
    at = f"at {spec.describe_sizes(sizes)}" + (" on its stability inputs" if stability else "")
    for symbol in spec.output_symbols:
        want = shape_of(symbol, sizes)
        value = np.asarray(outputs[symbol.name])
        if value.shape != want:
            raise SpecError(
                f"the equations give {symbol.name}.shape={value.shape}, but the symbol says "
                f"({', '.join(symbol.shape)}) = {want} {at}",
                where=_where(spec, field),
            )
        nan = np.isnan(value) if value.dtype.kind in "fc" else np.zeros(value.shape, bool)
        if nan.any():
            index = [int(i) for i in np.argwhere(nan)[0]]
            raise SpecError(
                f"the oracle gives NaN for {symbol.name}{index} {at}",
                where=_where(spec, field),
                hint="the equations are undefined on these inputs; check the domains",
            )


def _check_invariants(
    oracle: Oracle,
    spec: Spec,
    inputs: Mapping[str, Array],
    outputs: Mapping[str, Array],
    sizes: Sizes,
) -> None:
    """Each invariant is a condition that the oracle's own outputs satisfy."""
    env: dict[str, Any] = {
        **inputs,
        **outputs,
        **sizes,
        **spec.tolerance["float64"].invariant_names("float64"),
    }
    for k, invariant in enumerate(spec.invariants):
        place = _where(spec, f"invariants[{k}]")
        at = spec.describe_sizes(sizes)
        try:
            with np.errstate(all="ignore"):
                holds = np.asarray(oracle.interpreter.eval(invariant.expr, env))
        except ExpressionError as exc:
            raise SpecError(f"{invariant.source!r}: {exc.problem} (at {at})", where=place) from None
        except _FAILURES as exc:
            problem = f"{invariant.source!r} fails at {at}: {describe_exception(exc)}"
            raise SpecError(problem, where=place) from None
        if holds.dtype != np.bool_:
            raise SpecError(
                f"{invariant.source!r} is not a condition: it gives {holds.dtype} values",
                where=place,
                hint="write a comparison, e.g. '0 <= f <= 1'",
            )
        if not holds.all():
            index = [int(i) for i in np.argwhere(~holds)[0]] if holds.ndim else []
            first = f", first at index {index}" if index else ""
            raise SpecError(
                f"{invariant.source!r} does not hold for the spec's own oracle at {at}{first}",
                where=place,
                hint="the invariant or the equations are wrong",
            )


def load_checked_catalog(paths: Iterable[Path | str] | None = None) -> Catalog:
    """Load and validate the spec files (the shipped ones when None), then check every spec
    against its own oracle (:func:`verify_catalog`)."""
    catalog = load_catalog(paths)
    verify_catalog(catalog)
    return catalog
