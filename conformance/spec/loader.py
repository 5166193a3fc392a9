"""Loading and validating the TOML spec files into a :class:`Catalog`.

Every error names the file, the field and the bad value, with a hint where one
helps: ``specs/lstm.toml: spec 'lstm.forget_gate': equations[0]: unknown symbol
'W_ff' (did you mean 'W_f'?)``. Unknown keys are errors too, so that a typo never
silently drops a field.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from conformance.errors import SpecError
from conformance.lang.parse import (
    parse_expression,
    parse_statement,
)
from conformance.spec import identities
from conformance.spec.cases import check_cases
from conformance.spec.catalog import Catalog, default_spec_paths
from conformance.spec.fields import (
    check_keys,
    check_names,
    did_you_mean,
    in_file,
    require,
    require_member,
    string_list,
    table_of,
)
from conformance.spec.model import Invariant, Spec, Symbol
from conformance.spec.references import resolve_references
from conformance.spec.tables import (
    check_domain,
    dimension_names,
    size_profiles,
    sizes_table,
    symbol,
    tolerances,
)

INVARIANT_NAMES = frozenset({"atol", "rtol"})

_FAMILY_KEYS = {"id", "title", "source", "description"}
_DEFAULT_KEYS = {"sizes", "profiles", "tolerance", "gradient_tolerance"}
_SPEC_KEYS = {
    "id", "title", "latex", "description", "source", "inputs", "outputs", "equations",
    "differentiable", "invariants", "sizes", "profiles", "tolerance", "gradient_tolerance",
    "stability", "symbols", "chunking", "reversal",
}  # fmt: skip
_TOP_KEYS = {"family", "defaults", "symbols", "spec"}


def load_catalog(paths: Iterable[Path | str] | None = None) -> Catalog:
    """Load every spec file, validate each, and resolve references between specs.

    :param paths: TOML files to load; the shipped ``specs/*.toml`` when None.
    Checking the specs against their own oracle is a layer up:
    :func:`conformance.oracle.verify.load_checked_catalog`.
    """
    catalog = Catalog()
    for path in paths if paths is not None else default_spec_paths():
        _load_file(Path(path), catalog)
    resolve_references(catalog)
    return catalog


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _load_file(path: Path, catalog: Catalog) -> None:
    file = _display(path)
    try:
        data = tomllib.loads(path.read_bytes().decode("utf-8"))
    except OSError as exc:
        raise SpecError(f"cannot read: {exc.strerror or exc}", file=file) from None
    except UnicodeDecodeError as exc:
        line = exc.object[: exc.start].count(b"\n") + 1
        raise SpecError(
            f"not UTF-8: byte {exc.object[exc.start]:#04x} on line {line}",
            file=file,
            hint="TOML files are UTF-8; re-save it as UTF-8",
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"not valid TOML: {exc}", file=file) from None
    except RecursionError:
        raise SpecError("not valid TOML: arrays or tables nested too deeply", file=file) from None
    check_keys(data, _TOP_KEYS, file, "")
    family = require(data, "family", dict, file, "")
    check_keys(family, _FAMILY_KEYS, file, "family")
    require(family, "id", str, file, "family")
    defaults = data.get("defaults", {})
    check_keys(defaults, _DEFAULT_KEYS, file, "defaults")
    symbols = {
        name: symbol(name, table, file, f"symbols.{name}")
        for name, table in table_of(data, "symbols", file, "").items()
    }
    specs = data.get("spec", [])
    if not isinstance(specs, list) or not specs:
        raise SpecError("no [[spec]] tables", file=file, hint="add at least one [[spec]]")
    _add_family(catalog, family, file)
    for index, table in enumerate(specs):
        spec = _spec(table, family, defaults, symbols, file, index)
        if spec.id in catalog.specs:
            other = catalog.specs[spec.id].file
            raise SpecError(f"duplicate spec id {spec.id!r} (also in {other})", file=file)
        catalog.specs[spec.id] = spec


def _add_family(catalog: Catalog, family: dict[str, Any], file: str) -> None:
    """A new family, or more specs for one already loaded (whose title and source stay)."""
    known = catalog.families.get(family["id"])
    if known is None:
        catalog.families[family["id"]] = {**family, "file": file}
        return
    for key in sorted(set(family) - {"id"}):
        if family[key] != known.get(key):
            raise SpecError(
                f"{key} = {family[key]!r}, but family {family['id']!r} is already defined in "
                f"{known['file']}",
                file=file,
                field="family",
                hint="a file that adds specs to a loaded family gives only its [family] id",
            )


def _spec(
    table: Any,
    family: Mapping[str, Any],
    defaults: Mapping[str, Any],
    family_symbols: Mapping[str, Symbol],
    file: str,
    index: int,
) -> Spec:
    if not isinstance(table, dict):
        raise SpecError("should be a table", file=file, field=f"spec[{index}]")
    spec_id = require(table, "id", str, file, f"spec[{index}]")
    where = f"spec {spec_id!r}"
    check_keys(table, _SPEC_KEYS, file, where)
    if not spec_id.startswith(family["id"] + "."):
        raise SpecError(
            f"id {spec_id!r} is outside family {family['id']!r}",
            file=file,
            field=where,
            hint=f"name it '{family['id']}.<name>'",
        )
    symbols = dict(family_symbols)
    for name, sym in table_of(table, "symbols", file, where).items():
        symbols[name] = symbol(name, sym, file, f"{where}.symbols.{name}")

    def knownsymbol(name: str, field_: str) -> Symbol:
        if name not in symbols:
            raise SpecError(
                f"unknown symbol {name!r}",
                file=file,
                field=f"{where}: {field_}",
                hint=did_you_mean(name, symbols),
            )
        return symbols[name]

    inputs = string_list(table, "inputs", file, f"{where}.inputs")
    outputs = string_list(table, "outputs", file, f"{where}.outputs")
    if not outputs:
        raise SpecError("no outputs", file=file, field=where)
    for name in inputs:
        if knownsymbol(name, "inputs").role == "output":
            raise SpecError(f"{name!r} has role 'output'", file=file, field=f"{where}.inputs")
    for name in outputs:
        if knownsymbol(name, "outputs").role != "output":
            raise SpecError(
                f"{name!r} has role {symbols[name].role!r}",
                file=file,
                field=f"{where}.outputs",
                hint="outputs need role 'output'",
            )
    used = [symbols[n] for n in (*inputs, *outputs)]
    dims = dimension_names(used)
    for sym in used:
        if sym.next is not None and symbols.get(sym.next, sym).role != "output":
            raise SpecError(
                f"state {sym.name!r} has next = {sym.next!r}, which is not an output symbol",
                file=file,
                field=f"symbols.{sym.name}.next",
                hint=did_you_mean(sym.next, [n for n, s in symbols.items() if s.role == "output"]),
            )

    equations = []
    scope = set(inputs) | set(dims)
    for i, source in enumerate(string_list(table, "equations", file, f"{where}.equations")):
        field_ = f"{where}: equations[{i}]"
        with in_file(file, field_):
            statement = parse_statement(source, where=field_)
            check_names(statement.expr, scope, source, field_)
        scope |= set(statement.targets)
        equations.append(statement)
    missing = [o for o in outputs if o not in scope]
    if missing:
        raise SpecError(
            f"outputs never assigned: {', '.join(missing)}", file=file, field=f"{where}.equations"
        )

    invariants = []
    for i, source in enumerate(string_list(table, "invariants", file, f"{where}.invariants")):
        field_ = f"{where}: invariants[{i}]"
        with in_file(file, field_):
            node = parse_expression(source, where=field_)
            check_names(
                node, set(inputs) | set(outputs) | set(dims) | INVARIANT_NAMES, source, field_
            )
        invariants.append(Invariant(source, node))

    float_inputs = [n for n in inputs if symbols[n].kind == "float"]
    differentiable = table.get("differentiable", float_inputs)
    differentiable = string_list(
        {"differentiable": differentiable}, "differentiable", file, f"{where}.differentiable"
    )
    for name in differentiable:
        require_member(
            name,
            float_inputs,
            "a float input of this spec",
            file=file,
            field=f"{where}.differentiable",
        )

    stability = table.get("stability", {})
    if not isinstance(stability, dict):
        raise SpecError(f"{stability!r} should be a table", file=file, field=f"{where}.stability")
    for name, domain in stability.items():
        if name not in float_inputs:
            raise SpecError(f"{name!r} is not a float input", file=file, field=f"{where}.stability")
        with in_file(file):
            check_domain(domain, file, f"{where}.stability.{name}")

    sizes = sizes_table(table.get("sizes", defaults.get("sizes")), dims, file, f"{where}.sizes")
    check_cases({s.name: s for s in used}, inputs, sizes, stability, file, where)
    profiles = size_profiles(
        table.get("profiles", defaults.get("profiles", {})), dims, file, f"{where}.profiles"
    )
    for name, cases in profiles.items():
        check_cases({s.name: s for s in used}, inputs, cases, stability, file, f"{where}.{name}")
    tolerance = tolerances(_merged(table, defaults, "tolerance"), file, f"{where}.tolerance")
    gradient_tolerance = tolerances(
        _merged(table, defaults, "gradient_tolerance"), file, f"{where}.gradient_tolerance"
    )
    chunking = identities.chunking(table, symbols, inputs, outputs, sizes, file, where)
    reversal = identities.reversal(table, inputs, outputs, dims, file, where)
    return Spec(
        id=spec_id,
        title=str(table.get("title", spec_id)),
        family=family["id"],
        file=file,
        source=str(table.get("source", family.get("source", ""))),
        latex=str(table.get("latex", "")),
        description=str(table.get("description", "")),
        symbols={s.name: s for s in used},
        inputs=tuple(inputs),
        outputs=tuple(outputs),
        equations=tuple(equations),
        differentiable=tuple(differentiable),
        invariants=tuple(invariants),
        sizes=sizes,
        tolerance=tolerance,
        gradient_tolerance=gradient_tolerance,
        stability=dict(stability),
        dims=dims,
        chunking=chunking,
        reversal=reversal,
        profiles=profiles,
    )


def _merged(table: Mapping[str, Any], defaults: Mapping[str, Any], key: str) -> Any:
    """The spec's ``key`` table over the family's, dtype by dtype (None: neither has one)."""
    mine, family = table.get(key), defaults.get(key)
    if isinstance(mine, dict) and isinstance(family, dict):
        return {**family, **mine}
    return mine if mine is not None else family
