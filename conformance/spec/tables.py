"""Validating the tables a spec file shares between its specs: symbols, domains,
tolerances, sizes. Every error is a :class:`SpecError` naming the file and the field."""

from __future__ import annotations

import ast
import math
from collections.abc import Iterable
from typing import Any

from conformance.errors import SpecError
from conformance.lang.parse import free_names, parse_expression, unknown_name_error
from conformance.spec.cases import MAX_ELEMENTS
from conformance.spec.draw import DOMAIN_FUNCTIONS
from conformance.spec.fields import check_keys, in_file, require
from conformance.spec.model import ROLES, Symbol, Tolerance
from conformance.typing import DTYPES

SYMBOL_KEYS = {"shape", "role", "kind", "domain", "meaning", "next"}


def symbol(name: str, table: Any, file: str, where: str) -> Symbol:
    """The symbol ``name`` a ``[symbols]`` entry declares: shape, role, kind, domain."""
    if not isinstance(table, dict):
        raise SpecError(f"should be a table, got {table!r}", file=file, field=where)
    check_keys(table, SYMBOL_KEYS, file, where)
    shape = require(table, "shape", list, file, where)
    role = require(table, "role", str, file, where)
    if role not in ROLES:
        raise SpecError(f"role {role!r}", file=file, field=where, hint=f"one of {', '.join(ROLES)}")
    kind = table.get("kind", "float")
    if kind not in ("float", "int"):
        raise SpecError(f"kind {kind!r}", file=file, field=where, hint="'float' or 'int'")
    following = table.get("next")
    if following is not None and not isinstance(following, str):
        raise SpecError(f"next = {following!r} should be a string", file=file, field=where)
    dims = tuple(str(d) for d in shape)
    with in_file(file):
        shape_ast = tuple(parse_expression(d, where=f"{where}.shape") for d in dims)
        domain = table.get("domain", "integers(0, 2)" if kind == "int" else "normal(0, 1)")
        check_domain(domain, file, f"{where}.domain")
    return Symbol(
        name=name,
        shape=dims,
        role=role,
        kind=kind,
        domain=domain,
        meaning=str(table.get("meaning", "")),
        next=following,
        shape_ast=shape_ast,
    )


def check_domain(domain: Any, file: str, where: str) -> None:
    """A domain is one call of a drawing function: ``normal(0, 1)``, ``extreme(1000)``."""
    node = parse_expression(domain, where=where)
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
        raise SpecError(f"domain {domain!r}", file=file, field=where, hint="e.g. 'normal(0, 1)'")
    if node.func.id not in DOMAIN_FUNCTIONS:
        raise unknown_name_error(node.func.id, DOMAIN_FUNCTIONS, kind="domain", where=where)


TOLERANCE_KEYS = {"factor", "atol", "rtol", "reason"}


def tolerances(table: Any, file: str, where: str) -> dict[str, Tolerance]:
    """Per dtype, how the spec widens its derived tolerance (nothing: derived as it is).

    ``{ factor = 4, reason = "…" }`` multiplies the limit; ``{ atol = 1e-6, rtol = 0,
    reason = "…" }`` adds an explicit floor. A widening needs its reason, and a reason
    needs a widening.
    """
    if table is None:
        return {dtype: Tolerance() for dtype in DTYPES}
    if not isinstance(table, dict):
        raise SpecError(f"should be a table keyed by dtype, got {table!r}", file=file, field=where)
    check_keys(table, set(DTYPES), file, where)
    out = {}
    for dtype in DTYPES:
        entry = table.get(dtype, {})
        field = f"{where}.{dtype}"
        if not isinstance(entry, dict):
            raise SpecError(
                f"{entry!r} should be a table",
                file=file,
                field=field,
                hint='e.g. { factor = 4, reason = "…" }',
            )
        check_keys(entry, TOLERANCE_KEYS, file, field)
        numbers = {}
        for key, least in (("factor", 1.0), ("atol", 0.0), ("rtol", 0.0)):
            value = entry.get(key, least)
            number = isinstance(value, int | float) and not isinstance(value, bool)
            if not number or not math.isfinite(value) or value < least:
                hint = "a spec may widen the derived tolerance, never narrow it"
                raise SpecError(
                    f"{key} = {value!r} should be a number >= {least:g}",
                    file=file,
                    field=field,
                    hint=hint if key == "factor" else "",
                )
            numbers[key] = float(value)
        reason = entry.get("reason", "")
        if not isinstance(reason, str):
            raise SpecError(f"reason = {reason!r} should be a string", file=file, field=field)
        tolerance = Tolerance(**numbers, reason=reason.strip())
        if tolerance.widened and not tolerance.reason:
            raise SpecError(
                "a widened tolerance needs a reason",
                file=file,
                field=field,
                hint='add reason = "…": why a correct implementation errs by more than the '
                "derived bound",
            )
        if tolerance.reason and not tolerance.widened:
            raise SpecError(
                "reason without a widening",
                file=file,
                field=field,
                hint="add factor, atol or rtol, or remove the reason",
            )
        out[dtype] = tolerance
    return out


def dimension_names(symbols: Iterable[Symbol]) -> tuple[str, ...]:
    """The dimension names the symbols' shapes use, in order of first appearance."""
    names: list[str] = []
    for sym in symbols:
        for node in sym.shape_ast:
            for name in sorted(free_names(node)):
                if name not in names:
                    names.append(name)
    return tuple(names)


def sizes_table(
    value: Any, dims: tuple[str, ...], file: str, where: str
) -> tuple[dict[str, int], ...]:
    """The cases to try: one size per dimension name in ``dims``, each an integer >= 1."""
    if not isinstance(value, list) or not value:
        raise SpecError("no sizes to try", file=file, field=where, hint="e.g. [{ B = 3, H = 4 }]")
    out = []
    for i, entry in enumerate(value):
        if not isinstance(entry, dict):
            raise SpecError(f"{entry!r} should be a table", file=file, field=f"{where}[{i}]")
        for dim, size in entry.items():
            if not isinstance(size, int) or isinstance(size, bool) or size < 1:
                raise SpecError(
                    f"{dim} = {size!r} should be an integer >= 1", file=file, field=f"{where}[{i}]"
                )
            if size > MAX_ELEMENTS:
                raise SpecError(
                    f"{dim} = {size} is larger than an array may be ({MAX_ELEMENTS} elements)",
                    file=file,
                    field=f"{where}[{i}]",
                )
        missing = [d for d in dims if d not in entry]
        if missing:
            raise SpecError(f"no size for {', '.join(missing)}", file=file, field=f"{where}[{i}]")
        out.append({d: entry[d] for d in dims})
    return tuple(out)


PROFILE_NAMES = ("realistic",)
"""The profiles a spec file may declare sizes for (``quick`` is ``sizes`` itself)."""


def size_profiles(
    value: Any, dims: tuple[str, ...], file: str, where: str
) -> dict[str, tuple[dict[str, int], ...]]:
    """``profiles = { realistic = [...] }``: the cases of each named profile."""
    if not isinstance(value, dict):
        raise SpecError(f"{value!r} should be a table", file=file, field=where)
    out = {}
    for name, cases in value.items():
        if name not in PROFILE_NAMES:
            raise SpecError(
                f"unknown size profile {name!r}",
                file=file,
                field=where,
                hint=f"a spec declares sizes for: {', '.join(PROFILE_NAMES)} (quick is sizes)",
            )
        out[name] = sizes_table(cases, dims, file, f"{where}.{name}")
    return out
