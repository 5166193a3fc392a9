"""Loading and validating the TOML spec files into a :class:`Catalog`.

Every error names the file, the field and the bad value, with a hint where one
helps: ``specs/lstm.toml: spec 'lstm.forget_gate': equations[0]: unknown symbol
'W_ff' (did you mean 'W_f'?)``. Unknown keys are errors too, so that a typo never
silently drops a field.
"""

from __future__ import annotations

import ast
import difflib
import fnmatch
import math
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from conformance.errors import ExpressionError, SpecError
from conformance.expr import (
    called_names,
    free_names,
    parse_expression,
    parse_statement,
    spec_references,
    unknown_name_error,
)
from conformance.primitives import FUNCTIONS
from conformance.spec import (
    DTYPES,
    ROLES,
    Chunking,
    Expression,
    Invariant,
    Reversal,
    Spec,
    Symbol,
    Tolerance,
)

ORACLE_PRIMITIVES = frozenset({"scan", "tree"})
"""Functions the oracle adds to the table because they need spec functions."""
DOMAIN_FUNCTIONS = frozenset({"normal", "uniform", "extreme", "integers", "binary_tree", "cycle"})
INVARIANT_NAMES = frozenset({"atol", "rtol"})

_FAMILY_KEYS = {"id", "title", "source", "description"}
_DEFAULT_KEYS = {"sizes", "tolerance", "gradient_tolerance"}
_SYMBOL_KEYS = {"shape", "role", "kind", "domain", "meaning", "next"}
_SPEC_KEYS = {
    "id", "title", "latex", "description", "source", "inputs", "outputs", "equations",
    "differentiable", "invariants", "sizes", "tolerance", "gradient_tolerance", "stability",
    "symbols", "chunking", "reversal",
}  # fmt: skip
_TOP_KEYS = {"family", "defaults", "symbols", "spec"}


@dataclass
class Catalog:
    """Every loaded spec by id, in file order."""

    specs: dict[str, Spec] = field(default_factory=dict)
    families: dict[str, Mapping[str, Any]] = field(default_factory=dict)

    def get(self, spec_id: str) -> Spec:
        """The spec ``spec_id``, or a SpecError suggesting the nearest id."""
        if spec_id not in self.specs:
            raise unknown_name_error(spec_id, self.specs, kind="spec", where="")
        return self.specs[spec_id]

    def select(self, patterns: Iterable[str] | None = None) -> list[Spec]:
        """Specs whose id matches any glob in ``patterns`` (all specs when empty)."""
        wanted = list(patterns or [])
        if not wanted:
            return list(self.specs.values())
        chosen = [
            s for s in self.specs.values() if any(fnmatch.fnmatchcase(s.id, p) for p in wanted)
        ]
        if not chosen:
            raise SpecError(
                f"no spec matches {', '.join(map(repr, wanted))}",
                hint=f"known ids: {', '.join(self.specs)}",
            )
        return chosen


def default_spec_paths() -> list[Path]:
    """The TOML files shipped in the ``specs`` package, sorted by name."""
    root = resources.files("specs")
    return sorted(Path(str(p)) for p in root.iterdir() if p.name.endswith(".toml"))


def load_catalog(paths: Iterable[Path | str] | None = None, *, verify: bool = True) -> Catalog:
    """Load every spec file, validate each, and resolve references between specs.

    :param paths: TOML files to load; the shipped ``specs/*.toml`` when None.
    :param verify: also run the oracle once per spec to check declared output shapes.
    """
    catalog = Catalog()
    for path in paths if paths is not None else default_spec_paths():
        _load_file(Path(path), catalog)
    _resolve_references(catalog)
    if verify:
        from conformance.oracle import verify_catalog

        verify_catalog(catalog)
    return catalog


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _check_keys(table: Mapping[str, Any], allowed: set[str], file: str, field_: str) -> None:
    for key in table:
        if key not in allowed:
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = (
                f"did you mean {close[0]!r}?" if close else f"allowed: {', '.join(sorted(allowed))}"
            )
            raise SpecError(f"unknown key {key!r}", file=file, field=field_, hint=hint)


def _require(table: Mapping[str, Any], key: str, kind: type, file: str, field_: str) -> Any:
    if key not in table:
        raise SpecError(f"missing required key {key!r}", file=file, field=field_)
    value = table[key]
    if not isinstance(value, kind):
        raise SpecError(
            f"{key} = {value!r} should be a {kind.__name__}", file=file, field=f"{field_}.{key}"
        )
    return value


def _load_file(path: Path, catalog: Catalog) -> None:
    file = _display(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SpecError(f"cannot read: {exc.strerror}", file=file) from None
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"not valid TOML: {exc}", file=file) from None
    _check_keys(data, _TOP_KEYS, file, "")
    family = _require(data, "family", dict, file, "")
    _check_keys(family, _FAMILY_KEYS, file, "family")
    family_id = _require(family, "id", str, file, "family")
    defaults = data.get("defaults", {})
    _check_keys(defaults, _DEFAULT_KEYS, file, "defaults")
    symbols = {
        name: _symbol(name, table, file, f"symbols.{name}")
        for name, table in data.get("symbols", {}).items()
    }
    specs = data.get("spec", [])
    if not isinstance(specs, list) or not specs:
        raise SpecError("no [[spec]] tables", file=file, hint="add at least one [[spec]]")
    catalog.families[family_id] = {**family, "file": file}
    for index, table in enumerate(specs):
        spec = _spec(table, family, defaults, symbols, file, index)
        if spec.id in catalog.specs:
            other = catalog.specs[spec.id].file
            raise SpecError(f"duplicate spec id {spec.id!r} (also in {other})", file=file)
        catalog.specs[spec.id] = spec


def _symbol(name: str, table: Any, file: str, where: str) -> Symbol:
    if not isinstance(table, dict):
        raise SpecError(f"should be a table, got {table!r}", file=file, field=where)
    _check_keys(table, _SYMBOL_KEYS, file, where)
    shape = _require(table, "shape", list, file, where)
    role = _require(table, "role", str, file, where)
    if role not in ROLES:
        raise SpecError(f"role {role!r}", file=file, field=where, hint=f"one of {', '.join(ROLES)}")
    kind = table.get("kind", "float")
    if kind not in ("float", "int"):
        raise SpecError(f"kind {kind!r}", file=file, field=where, hint="'float' or 'int'")
    dims = tuple(str(d) for d in shape)
    try:
        shape_ast = tuple(parse_expression(d, where=f"{where}.shape") for d in dims)
        domain = table.get("domain", "integers(0, 2)" if kind == "int" else "normal(0, 1)")
        _check_domain(domain, file, f"{where}.domain")
    except ExpressionError as exc:
        raise SpecError(exc.problem, file=file, field=exc.field, hint=exc.hint) from None
    return Symbol(
        name=name,
        shape=dims,
        role=role,
        kind=kind,
        domain=domain,
        meaning=str(table.get("meaning", "")),
        next=table.get("next"),
        shape_ast=shape_ast,
    )


def _check_domain(domain: Any, file: str, where: str) -> None:
    node = parse_expression(domain, where=where)
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
        raise SpecError(f"domain {domain!r}", file=file, field=where, hint="e.g. 'normal(0, 1)'")
    if node.func.id not in DOMAIN_FUNCTIONS:
        raise unknown_name_error(node.func.id, DOMAIN_FUNCTIONS, kind="domain", where=where)


def _tolerances(table: Any, file: str, where: str) -> dict[str, Tolerance]:
    if not isinstance(table, dict):
        raise SpecError(f"should be a table keyed by dtype, got {table!r}", file=file, field=where)
    _check_keys(table, set(DTYPES), file, where)
    out = {}
    for dtype in DTYPES:
        entry = table.get(dtype)
        if not isinstance(entry, dict):
            raise SpecError(f"missing tolerance for {dtype}", file=file, field=where)
        _check_keys(entry, {"atol", "rtol"}, file, f"{where}.{dtype}")
        atol, rtol = entry.get("atol"), entry.get("rtol")
        for key, value in (("atol", atol), ("rtol", rtol)):
            number = isinstance(value, int | float) and not isinstance(value, bool)
            if not number or not math.isfinite(value) or value < 0:
                raise SpecError(
                    f"{key} = {value!r} should be a number >= 0",
                    file=file,
                    field=f"{where}.{dtype}",
                )
        out[dtype] = Tolerance(float(atol), float(rtol))
    return out


def _string_list(table: Mapping[str, Any], key: str, file: str, where: str) -> list[str]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SpecError(f"{key} = {value!r} should be a list of strings", file=file, field=where)
    return value


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
    spec_id = _require(table, "id", str, file, f"spec[{index}]")
    where = f"spec {spec_id!r}"
    _check_keys(table, _SPEC_KEYS, file, where)
    if not spec_id.startswith(family["id"] + "."):
        raise SpecError(
            f"id {spec_id!r} is outside family {family['id']!r}",
            file=file,
            field=where,
            hint=f"name it '{family['id']}.<name>'",
        )
    symbols = dict(family_symbols)
    for name, sym in table.get("symbols", {}).items():
        symbols[name] = _symbol(name, sym, file, f"{where}.symbols.{name}")

    def known_symbol(name: str, field_: str) -> Symbol:
        if name not in symbols:
            raise SpecError(
                f"unknown symbol {name!r}",
                file=file,
                field=f"{where}: {field_}",
                hint=_did_you_mean(name, symbols),
            )
        return symbols[name]

    inputs = _string_list(table, "inputs", file, f"{where}.inputs")
    outputs = _string_list(table, "outputs", file, f"{where}.outputs")
    if not outputs:
        raise SpecError("no outputs", file=file, field=where)
    for name in inputs:
        if known_symbol(name, "inputs").role == "output":
            raise SpecError(f"{name!r} has role 'output'", file=file, field=f"{where}.inputs")
    for name in outputs:
        if known_symbol(name, "outputs").role != "output":
            raise SpecError(
                f"{name!r} has role {symbols[name].role!r}",
                file=file,
                field=f"{where}.outputs",
                hint="outputs need role 'output'",
            )
    used = [symbols[n] for n in (*inputs, *outputs)]
    dims = _dimension_names(used)
    for sym in used:
        if sym.next is not None and symbols.get(sym.next, sym).role != "output":
            raise SpecError(
                f"state {sym.name!r} has next = {sym.next!r}, which is not an output symbol",
                file=file,
                field=f"symbols.{sym.name}.next",
                hint=_did_you_mean(sym.next, [n for n, s in symbols.items() if s.role == "output"]),
            )

    equations = []
    scope = set(inputs) | set(dims)
    for i, source in enumerate(_string_list(table, "equations", file, f"{where}.equations")):
        field_ = f"{where}: equations[{i}]"
        try:
            statement = parse_statement(source, where=field_)
            _check_names(statement.expr, scope, source, field_)
        except ExpressionError as exc:
            raise SpecError(
                exc.problem, file=file, field=exc.field or field_, hint=exc.hint
            ) from None
        scope |= set(statement.targets)
        equations.append(statement)
    missing = [o for o in outputs if o not in scope]
    if missing:
        raise SpecError(
            f"outputs never assigned: {', '.join(missing)}", file=file, field=f"{where}.equations"
        )

    invariants = []
    for i, source in enumerate(_string_list(table, "invariants", file, f"{where}.invariants")):
        field_ = f"{where}: invariants[{i}]"
        try:
            node = parse_expression(source, where=field_)
            _check_names(
                node, set(inputs) | set(outputs) | set(dims) | INVARIANT_NAMES, source, field_
            )
        except ExpressionError as exc:
            raise SpecError(
                exc.problem, file=file, field=exc.field or field_, hint=exc.hint
            ) from None
        invariants.append(Invariant(source, node))

    float_inputs = [n for n in inputs if symbols[n].kind == "float"]
    differentiable = table.get("differentiable", float_inputs)
    differentiable = _string_list(
        {"differentiable": differentiable}, "differentiable", file, f"{where}.differentiable"
    )
    for name in differentiable:
        if name not in float_inputs:
            raise SpecError(
                f"{name!r} is not a float input of this spec",
                file=file,
                field=f"{where}.differentiable",
                hint=_did_you_mean(name, float_inputs),
            )

    stability = table.get("stability", {})
    if not isinstance(stability, dict):
        raise SpecError(f"{stability!r} should be a table", file=file, field=f"{where}.stability")
    for name, domain in stability.items():
        if name not in float_inputs:
            raise SpecError(f"{name!r} is not a float input", file=file, field=f"{where}.stability")
        try:
            _check_domain(domain, file, f"{where}.stability.{name}")
        except ExpressionError as exc:
            raise SpecError(exc.problem, file=file, field=exc.field, hint=exc.hint) from None

    sizes = _sizes(table.get("sizes", defaults.get("sizes")), dims, file, f"{where}.sizes")
    tolerance = _tolerances(
        table.get("tolerance", defaults.get("tolerance")), file, f"{where}.tolerance"
    )
    gradient_tolerance = _tolerances(
        table.get("gradient_tolerance", defaults.get("gradient_tolerance")),
        file,
        f"{where}.gradient_tolerance",
    )
    chunking = _chunking(table, symbols, inputs, outputs, sizes, file, where)
    reversal = _reversal(table, inputs, outputs, dims, file, where)
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
    )


def _did_you_mean(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    return f"did you mean {close[0]!r}?" if close else ""


def _dimension_names(symbols: Iterable[Symbol]) -> tuple[str, ...]:
    names: list[str] = []
    for sym in symbols:
        for node in sym.shape_ast:
            for name in sorted(free_names(node)):
                if name not in names:
                    names.append(name)
    return tuple(names)


def _check_names(node: ast.AST, scope: set[str], source: str, where: str) -> None:
    for name in sorted(free_names(node)):
        if name not in scope:
            raise unknown_name_error(name, scope, kind="symbol", where=where)
    for name, _call in called_names(node):
        if "." in name:
            continue  # a spec reference, resolved once every file is loaded
        if name not in FUNCTIONS and name not in ORACLE_PRIMITIVES:
            raise unknown_name_error(
                name, [*FUNCTIONS, *ORACLE_PRIMITIVES], kind="function", where=where
            )


def _sizes(value: Any, dims: tuple[str, ...], file: str, where: str) -> tuple[dict[str, int], ...]:
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
        missing = [d for d in dims if d not in entry]
        if missing:
            raise SpecError(f"no size for {', '.join(missing)}", file=file, field=f"{where}[{i}]")
        out.append({d: entry[d] for d in dims})
    return tuple(out)


def _resolve_references(catalog: Catalog) -> None:
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
                        hint=_did_you_mean(ref, catalog.specs),
                    )
        if spec.reversal is not None:
            _resolve_reversal(spec, catalog)
    _reject_cycles(catalog)


def _reject_cycles(catalog: Catalog) -> None:
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


# --- the recurrence identities: chunking and reversal -------------------------------------------


def _chunking(
    table: Mapping[str, Any],
    symbols: Mapping[str, Symbol],
    inputs: list[str],
    outputs: list[str],
    sizes: tuple[dict[str, int], ...],
    file: str,
    where: str,
) -> Chunking | None:
    """The ``chunking`` field, ``{ carry = { h_0 = "h_T" }, stacked = ["hs"] }``, validated.

    Every role-"input" input is split along its first axis, which must be one shared
    dimension; ``carry`` defaults to each role-"state" input's ``next``.
    """
    if "chunking" not in table:
        return None
    value, field_ = table["chunking"], f"{where}.chunking"
    if not isinstance(value, dict):
        raise SpecError(
            f"{value!r} should be a table",
            file=file,
            field=field_,
            hint='e.g. { stacked = ["hs"] }',
        )
    _check_keys(value, {"carry", "stacked"}, file, field_)
    sequences = [n for n in inputs if symbols[n].role == "input"]
    if not sequences:
        raise SpecError(
            "no role-'input' input to split in time",
            file=file,
            field=field_,
            hint="chunking splits the role-'input' inputs along their first axis",
        )
    first = sequences[0]
    time = symbols[first].shape[0] if symbols[first].shape else ""
    if not time.isidentifier():
        raise SpecError(
            f"{first}'s first axis {time!r} is not a dimension name", file=file, field=field_
        )
    for name in sequences:
        if symbols[name].shape[:1] != (time,):
            raise SpecError(
                f"{name}'s first axis is {symbols[name].shape[:1]}, {first}'s is ({time!r},)",
                file=file,
                field=field_,
                hint="every role-'input' input is split along one time axis",
            )
    carry = value.get(
        "carry",
        {n: symbols[n].next for n in inputs if symbols[n].role == "state" and symbols[n].next},
    )
    if not isinstance(carry, dict) or not all(isinstance(v, str) for v in carry.values()):
        raise SpecError(
            f'carry = {carry!r} should be a table of input = "output"',
            file=file,
            field=f"{field_}.carry",
            hint='e.g. { h_0 = "h_T" }',
        )
    for state, out in carry.items():
        if state not in inputs:
            raise SpecError(
                f"{state!r} is not an input of this spec",
                file=file,
                field=f"{field_}.carry",
                hint=_did_you_mean(state, inputs),
            )
        if symbols[state].role == "input":
            raise SpecError(
                f"{state!r} has role 'input', so it is split in time, not carried",
                file=file,
                field=f"{field_}.carry",
                hint="carry role-'state' inputs",
            )
        if out not in outputs:
            raise SpecError(
                f"{state} = {out!r} is not an output of this spec",
                file=file,
                field=f"{field_}.carry",
                hint=_did_you_mean(out, outputs),
            )
        if symbols[state].shape != symbols[out].shape:
            raise SpecError(
                f"{state} = {out!r}: shapes ({', '.join(symbols[state].shape)}) and "
                f"({', '.join(symbols[out].shape)}) differ",
                file=file,
                field=f"{field_}.carry",
            )
    stacked = _string_list(value, "stacked", file, f"{field_}.stacked")
    for name in stacked:
        if name not in outputs:
            raise SpecError(
                f"{name!r} is not an output of this spec",
                file=file,
                field=f"{field_}.stacked",
                hint=_did_you_mean(name, outputs),
            )
        if symbols[name].shape[:1] != (time,):
            raise SpecError(
                f"{name!r} has first axis {symbols[name].shape[:1]}, not the time axis ({time!r},)",
                file=file,
                field=f"{field_}.stacked",
            )
    if not carry and not stacked:
        raise SpecError(
            "nothing to compare: no carried state and no stacked output",
            file=file,
            field=field_,
            hint='e.g. stacked = ["hs"]',
        )
    if not any(size[time] >= 2 for size in sizes):
        raise SpecError(
            f"no size has {time} >= 2, so the sequence is never split",
            file=file,
            field=field_,
            hint=f"add a case with {time} = 2 or more",
        )
    return Chunking(dict(carry), tuple(stacked), time)


def _reversal(
    table: Mapping[str, Any],
    inputs: list[str],
    outputs: list[str],
    dims: tuple[str, ...],
    file: str,
    where: str,
) -> Reversal | None:
    """The ``reversal`` field, ``{ spec = "lstm.sequence", inputs = {…}, outputs = {…} }``.

    Input expressions are checked against this spec's inputs here; output expressions
    against the other spec's outputs in :func:`_resolve_reversal`, once every file is loaded.
    """
    if "reversal" not in table:
        return None
    value, field_ = table["reversal"], f"{where}.reversal"
    if not isinstance(value, dict):
        raise SpecError(
            f"{value!r} should be a table",
            file=file,
            field=field_,
            hint='e.g. { spec = "lstm.sequence", inputs = { xs = "flip(xs)" }, outputs = { … } }',
        )
    _check_keys(value, {"spec", "inputs", "outputs"}, file, field_)
    spec_id = _require(value, "spec", str, file, field_)
    mapped_inputs = _expressions(
        value.get("inputs", {}), {*inputs, *dims}, file, f"{field_}.inputs"
    )
    mapped_outputs = _expressions(
        _require(value, "outputs", dict, file, field_), None, file, f"{field_}.outputs"
    )
    if not mapped_outputs:
        raise SpecError("no outputs to compare", file=file, field=f"{field_}.outputs")
    for name in mapped_outputs:
        if name not in outputs:
            raise SpecError(
                f"{name!r} is not an output of this spec",
                file=file,
                field=f"{field_}.outputs",
                hint=_did_you_mean(name, outputs),
            )
    return Reversal(spec_id, mapped_inputs, mapped_outputs)


def _expressions(
    table: Any, scope: set[str] | None, file: str, where: str
) -> dict[str, Expression]:
    """``{ name = "expression" }`` parsed; names checked against ``scope`` unless None.

    Only the function table may be called: these expressions feed a backend's kernel,
    so they may not call specs (the oracle) or ``scan``.
    """
    if not isinstance(table, dict):
        raise SpecError(
            f'{table!r} should be a table of name = "expression"', file=file, field=where
        )
    parsed = {}
    for name, source in table.items():
        field_ = f"{where}.{name}"
        try:
            node = parse_expression(source, where=field_)
            if scope is not None:
                _check_names(node, scope, source, field_)
            if spec_references(node):
                raise ExpressionError(
                    f"spec reference in {source!r}",
                    field=field_,
                    hint="only the function table: the identity runs kernels, not specs",
                )
            for called, _call in called_names(node):
                if called not in FUNCTIONS:
                    raise unknown_name_error(called, FUNCTIONS, kind="function", where=field_)
        except ExpressionError as exc:
            raise SpecError(
                exc.problem, file=file, field=exc.field or field_, hint=exc.hint
            ) from None
        parsed[name] = Expression(source, node)
    return parsed


def _resolve_reversal(spec: Spec, catalog: Catalog) -> None:
    """The reversal's spec exists, every input of it gets a value, outputs name its outputs."""
    reversal, field_ = spec.reversal, f"spec {spec.id!r}.reversal"
    assert reversal is not None
    other = catalog.specs.get(reversal.spec)
    if other is None or other is spec:
        problem = "a spec cannot be its own reversal" if other is spec else "unknown spec"
        raise SpecError(
            f"{problem} {reversal.spec!r}",
            file=spec.file,
            field=f"{field_}.spec",
            hint=_did_you_mean(reversal.spec, [s for s in catalog.specs if s != spec.id]),
        )
    for name in reversal.inputs:
        if name not in other.inputs:
            raise SpecError(
                f"{other.id} has no input {name!r}",
                file=spec.file,
                field=f"{field_}.inputs",
                hint=_did_you_mean(name, other.inputs),
            )
    missing = [n for n in other.inputs if n not in reversal.inputs and n not in spec.inputs]
    if missing:
        raise SpecError(
            f"no value for {other.id}'s input(s) {', '.join(missing)}",
            file=spec.file,
            field=f"{field_}.inputs",
            hint=f'map each to an expression of this spec\'s inputs, e.g. {missing[0]} = "…"',
        )
    for name, expression in reversal.outputs.items():
        where = f"{field_}.outputs.{name}"
        try:
            _check_names(expression.expr, {*other.outputs, *spec.dims}, expression.source, where)
        except ExpressionError as exc:
            raise SpecError(
                exc.problem, file=spec.file, field=exc.field or where, hint=exc.hint
            ) from None
