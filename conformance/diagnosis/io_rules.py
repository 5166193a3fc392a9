"""Rules over what flows between specs: a callee given a related value for one of its
inputs (the old cell state for the new one), and the failing spec's outputs returned
reversed in time, in each other's place, or scaled (by 2, ½, −1, B or 1/B)."""

from __future__ import annotations

import ast
import copy
from collections.abc import Iterator, Mapping

import numpy as np

from conformance.diagnosis.expression_rules import sites, variant_at
from conformance.diagnosis.symbol_rules import token_substitution
from conformance.diagnosis.trees import callee
from conformance.diagnosis.variants import Variant
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


def rebound_values(spec: Spec, specs: Mapping[str, Spec], top: bool) -> Iterator[Variant]:
    """A callee given a related state or input: ``slstm.output_gate`` given the child's
    old cell ``c_L`` for the new cell ``c`` (a value taken from the wrong step)."""
    yield from _rebindings(spec, specs, parameters=False)


def rebound_parameters(spec: Spec, specs: Mapping[str, Spec], top: bool) -> Iterator[Variant]:
    """A callee given another gate's parameter: ``lstm.output_gate`` given ``b_f`` for ``b_o``."""
    yield from _rebindings(spec, specs, parameters=True)


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
