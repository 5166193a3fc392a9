"""Resolving what specs say of each other: spec calls exist, and never form a cycle."""

from __future__ import annotations

from conformance.errors import SpecError
from conformance.lang.parse import spec_references
from conformance.spec import identities
from conformance.spec.catalog import Catalog
from conformance.spec.fields import did_you_mean


def resolve_references(catalog: Catalog) -> None:
    """Every spec a spec calls exists, reversal identities name real specs, no cycles."""
    for spec in catalog.specs.values():
        expressions = [
            *((f"equations[{i}]", st.expr) for i, st in enumerate(spec.equations)),
            *((f"invariants[{i}]", inv.expr) for i, inv in enumerate(spec.invariants)),
        ]
        for field_, expr in expressions:
            for ref in sorted(spec_references(expr)):
                if ref not in catalog.specs:
                    raise SpecError(
                        f"unknown spec {ref!r}",
                        file=spec.file,
                        field=f"spec {spec.id!r}: {field_}",
                        hint=did_you_mean(ref, catalog.specs),
                    )
        if spec.reversal is not None:
            identities.resolve_reversal(spec, catalog)
    reject_cycles(catalog)


def reject_cycles(catalog: Catalog) -> None:
    """A SpecError naming the cycle when specs call each other round in a circle."""
    calls = {
        spec.id: {r for st in spec.equations for r in spec_references(st.expr)}
        for spec in catalog.specs.values()
    }
    state: dict[str, int] = {}

    def visit(spec_id: str, path: list[str]) -> None:
        if state.get(spec_id) == 2:
            return
        if state.get(spec_id) == 1:
            cycle = " -> ".join([*path[path.index(spec_id) :], spec_id])
            raise SpecError(
                f"specs call each other in a cycle: {cycle}", file=catalog.specs[spec_id].file
            )
        state[spec_id] = 1
        for callee in calls[spec_id]:
            visit(callee, [*path, spec_id])
        state[spec_id] = 2

    for spec_id in calls:
        visit(spec_id, [])
