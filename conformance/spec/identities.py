"""The recurrence-identity fields of a spec: ``chunking`` and ``reversal``.

``chunking`` says that running a sequence in two chunks, carrying the state, equals
one run; ``reversal`` says that an output equals another spec's kernel run on
time-reversed inputs, reversed back. Both are validated here at load time; the
checks that use them are in :mod:`conformance.checks`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from conformance.errors import ExpressionError, SpecError
from conformance.lang.functions import FUNCTIONS
from conformance.lang.parse import (
    called_names,
    parse_expression,
    spec_references,
    unknown_name_error,
)
from conformance.spec.fields import (
    check_keys,
    check_names,
    did_you_mean,
    in_file,
    require,
    require_member,
    string_list,
)
from conformance.spec.model import Chunking, Expression, Reversal, Spec, Symbol

if TYPE_CHECKING:
    from conformance.spec.catalog import Catalog


def chunking(
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
    check_keys(value, {"carry", "stacked"}, file, field_)
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
        require_member(state, inputs, "an input of this spec", file=file, field=f"{field_}.carry")
        if symbols[state].role == "input":
            raise SpecError(
                f"{state!r} has role 'input', so it is split in time, not carried",
                file=file,
                field=f"{field_}.carry",
                hint="carry role-'state' inputs",
            )
        require_member(
            out,
            outputs,
            "an output of this spec",
            file=file,
            field=f"{field_}.carry",
            label=f"{state} = {out!r}",
        )
        if symbols[state].shape != symbols[out].shape:
            raise SpecError(
                f"{state} = {out!r}: shapes ({', '.join(symbols[state].shape)}) and "
                f"({', '.join(symbols[out].shape)}) differ",
                file=file,
                field=f"{field_}.carry",
            )
    stacked = string_list(value, "stacked", file, f"{field_}.stacked")
    for name in stacked:
        require_member(
            name, outputs, "an output of this spec", file=file, field=f"{field_}.stacked"
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


def reversal(
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
    check_keys(value, {"spec", "inputs", "outputs"}, file, field_)
    spec_id = require(value, "spec", str, file, field_)
    mapped_inputs = expressions(value.get("inputs", {}), {*inputs, *dims}, file, f"{field_}.inputs")
    mapped_outputs = expressions(
        require(value, "outputs", dict, file, field_), None, file, f"{field_}.outputs"
    )
    if not mapped_outputs:
        raise SpecError("no outputs to compare", file=file, field=f"{field_}.outputs")
    for name in mapped_outputs:
        require_member(
            name, outputs, "an output of this spec", file=file, field=f"{field_}.outputs"
        )
    return Reversal(spec_id, mapped_inputs, mapped_outputs)


def expressions(table: Any, scope: set[str] | None, file: str, where: str) -> dict[str, Expression]:
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
        with in_file(file, field_):
            node = parse_expression(source, where=field_)
            if scope is not None:
                check_names(node, scope, source, field_)
            if spec_references(node):
                raise ExpressionError(
                    f"spec reference in {source!r}",
                    field=field_,
                    hint="only the function table: the identity runs kernels, not specs",
                )
            for called, _call in called_names(node):
                if called not in FUNCTIONS:
                    raise unknown_name_error(called, FUNCTIONS, kind="function", where=field_)
        parsed[name] = Expression(source, node)
    return parsed


def resolve_reversal(spec: Spec, catalog: Catalog) -> None:
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
            hint=did_you_mean(reversal.spec, [s for s in catalog.specs if s != spec.id]),
        )
    for name in reversal.inputs:
        if name not in other.inputs:
            raise SpecError(
                f"{other.id} has no input {name!r}",
                file=spec.file,
                field=f"{field_}.inputs",
                hint=did_you_mean(name, other.inputs),
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
        with in_file(spec.file, where):
            check_names(expression.expr, {*other.outputs, *spec.dims}, expression.source, where)
