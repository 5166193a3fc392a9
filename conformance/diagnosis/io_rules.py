"""Rules over what flows between and within specs: a callee (or an equation) given a
related value for one of its inputs (the old cell state for the new one, one forget
gate for both children), a call given a whole set of twins (the forward direction's
weights for the backward one's), and the failing spec's outputs returned reversed in
time, in each other's place, or scaled (by 2, ½, −1, B or 1/B)."""

from __future__ import annotations

import ast
import copy
from collections.abc import Iterator, Mapping

import numpy as np

from conformance.diagnosis.expression_rules import sites, variant_at
from conformance.diagnosis.symbol_rules import token_substitution
from conformance.diagnosis.trees import callee
from conformance.diagnosis.variants import Variant
from conformance.lang.parse import dotted_name
from conformance.spec.model import Spec
from conformance.typing import Array, Sizes


def _scope_shapes(spec: Spec, specs: Mapping[str, Spec], k: int) -> dict[str, tuple[str, ...]]:
    """The float names equation ``k`` of ``spec`` can see, with their symbolic shapes: the
    inputs, and what earlier equations assigned from a spec call (the callee's outputs)."""
    shapes = {s.name: s.shape for s in spec.input_symbols if s.kind == "float"}
    for statement in spec.equations[:k]:
        called = specs.get(callee(statement.expr) or "")
        if called is not None and len(statement.targets) == len(called.outputs):
            for target, output in zip(statement.targets, called.outputs, strict=True):
                if called.symbols[output].kind == "float":
                    shapes[target] = called.symbols[output].shape
    return shapes


def _related(a: str, b: str, parameter: bool) -> bool:
    """Whether a backend could plausibly use ``b`` for ``a``: for values, names with the
    same first token (``c`` and ``c_prev``, ``h_L`` and ``h_R``); for parameters, names
    that differ in one token (``b_o`` and ``b_f``)."""
    if parameter:
        return token_substitution(a, b) is not None
    return a.split("_")[0] == b.split("_")[0]


def _rebindings(spec: Spec, specs: Mapping[str, Spec], parameters: bool) -> Iterator[Variant]:
    for k, path, node in sites(spec):
        called = specs.get(callee(node) or "")
        if called is None or not isinstance(node, ast.Call):
            continue
        scope = _scope_shapes(spec, specs, k)
        given = {kw.arg: kw.value for kw in node.keywords}
        for symbol in called.input_symbols:
            if symbol.kind != "float" or (symbol.role == "parameter") != parameters:
                continue
            source = given.get(symbol.name, ast.Name(id=symbol.name))
            if not isinstance(source, ast.Name):
                continue
            for other, shape in scope.items():
                if other == source.id or shape != symbol.shape:
                    continue
                if not _related(source.id, other, parameters):
                    continue
                new = copy.deepcopy(node)
                new.keywords = [kw for kw in new.keywords if kw.arg != symbol.name]
                new.keywords.append(ast.keyword(arg=symbol.name, value=ast.Name(id=other)))
                change = f"{called.id} given {other} for {source.id}"
                yield variant_at("rebind", change, spec, k, path, new, where="")


def _renamings(spec: Spec, parameters: bool) -> Iterator[Variant]:
    """One input of an equation read as a related same-shaped input of the same spec."""
    symbols = {s.name: s for s in spec.input_symbols if s.kind == "float"}
    for k, path, node in sites(spec):
        if not isinstance(node, ast.Name) or node.id not in symbols:
            continue
        symbol = symbols[node.id]
        if (symbol.role == "parameter") != parameters:
            continue
        for other in symbols.values():
            if other.name == symbol.name or other.shape != symbol.shape:
                continue
            if _related(symbol.name, other.name, parameters):
                new = ast.Name(id=other.name, ctx=ast.Load())
                yield variant_at(
                    "rebind", f"{other.name} in place of {symbol.name}", spec, k, path, new
                )


def _call_target(node: ast.AST, specs: Mapping[str, Spec]) -> tuple[Spec, str] | None:
    """The spec a call binds inputs of, and how to name the call: ``lstm.sequence``, or the
    step of a recurrence, ``scan(lstm.cell)``."""
    name = callee(node)
    if not isinstance(node, ast.Call) or name is None:
        return None
    if name in specs:
        return specs[name], name
    if name in ("scan", "tree") and node.args:
        step = specs.get(dotted_name(node.args[0]) or "")
        if step is not None:
            return step, f"{name}({step.id})"
    return None


def rebound_groups(spec: Spec, specs: Mapping[str, Spec], top: bool) -> Iterator[Variant]:
    """A call given, for every input named with one token, the twin named with another:
    the backward direction's scan given the forward direction's weights (one set of
    weights for both directions), and the same by role (the parameters only)."""
    for k, path, node in sites(spec):
        target = _call_target(node, specs)
        if target is None:
            continue
        called, text = target
        assert isinstance(node, ast.Call)
        scope = _scope_shapes(spec, specs, k)
        groups: dict[tuple[str, str], list[tuple[str, str, str]]] = {}
        for kw in node.keywords:
            symbol = called.symbols.get(kw.arg or "")
            if symbol is None or not isinstance(kw.value, ast.Name):
                continue
            source = kw.value.id
            for other, shape in scope.items():
                token = token_substitution(source, other)
                if token is None or shape != symbol.shape:
                    continue
                was = next(t for t in source.split("_") if t in token)
                now = next(t for t in token if t != was)
                groups.setdefault((was, now), []).append((kw.arg or "", other, symbol.role))
        for (was, now), members in groups.items():
            subsets = [("inputs", members)]
            if len({role for _, _, role in members}) > 1:
                subsets.append(("parameters", [m for m in members if m[2] == "parameter"]))
            for what, subset in subsets:
                if len(subset) < 2:
                    continue
                new = copy.deepcopy(node)
                changed = {arg: other for arg, other, _ in subset}
                for kw in new.keywords:
                    if kw.arg in changed:
                        kw.value = ast.Name(id=changed[kw.arg], ctx=ast.Load())
                change = f"{text} given the {now} {what} for the {was} ones ({len(subset)})"
                yield variant_at("rebind", change, spec, k, path, new, where="")


def rebound_values(spec: Spec, specs: Mapping[str, Spec], top: bool) -> Iterator[Variant]:
    """A callee given a related state or input (``slstm.output_gate`` given the child's old
    cell ``c_L`` for the new cell ``c``: a value from the wrong step), or an equation that
    reads one (``f_L in place of f_R``: one forget gate for both children)."""
    yield from _rebindings(spec, specs, parameters=False)
    yield from _renamings(spec, parameters=False)


def rebound_parameters(spec: Spec, specs: Mapping[str, Spec], top: bool) -> Iterator[Variant]:
    """A callee given another gate's parameter: ``lstm.output_gate`` given ``b_f`` for ``b_o``."""
    yield from _rebindings(spec, specs, parameters=True)
    yield from _renamings(spec, parameters=True)


def outputs(spec: Spec, specs: Mapping[str, Spec], top: bool) -> Iterator[Variant]:
    """The failing spec's outputs reversed in time, swapped, or scaled."""
    if not top:
        return
    floats = [s for s in spec.output_symbols if s.kind == "float"]
    for symbol in floats:
        if "T" in symbol.shape:
            yield Variant(
                "output", f"{symbol.name} reversed in time", spec.id,
                outputs=_flip(symbol.name, symbol.shape.index("T")),
                key=("output", "flip", symbol.name),
            )  # fmt: skip
    for i, a in enumerate(floats):
        for b in floats[i + 1 :]:
            if a.shape == b.shape:
                yield Variant(
                    "output", f"the outputs {a.name} and {b.name} swapped", spec.id,
                    outputs=_swap(a.name, b.name), key=("output", "swap", a.name, b.name),
                )  # fmt: skip
    factors: list[tuple[str, float | str]] = [("2", 2.0), ("1/2", 0.5), ("−1", -1.0)]
    if "B" in spec.dims:
        factors += [("B", "B"), ("1/B", "1/B")]
    for symbol in floats:
        for text, factor in factors:
            yield Variant(
                "output", f"{symbol.name} × {text}", spec.id,
                outputs=_scale(symbol.name, factor), key=("output", "scale", symbol.name, text),
            )  # fmt: skip


def _flip(name: str, axis: int):
    def apply(values: dict[str, Array], sizes: Sizes) -> dict[str, Array]:
        return {**values, name: np.flip(values[name], axis=axis)}

    return apply


def _swap(a: str, b: str):
    def apply(values: dict[str, Array], sizes: Sizes) -> dict[str, Array]:
        return {**values, a: values[b], b: values[a]}

    return apply


def _scale(name: str, factor: float | str):
    def apply(values: dict[str, Array], sizes: Sizes) -> dict[str, Array]:
        k = {"B": sizes.get("B", 1), "1/B": 1 / sizes.get("B", 1)}.get(str(factor), factor)
        return {**values, name: values[name] * k}

    return apply
