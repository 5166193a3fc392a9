"""Rules over a spec's symbol table: inputs mixed up with one another, or laid out wrong.

Each variant puts one statement before the spec's equations, so that everything below
(its callees included) sees the change: ``W_f, W_i = W_i, W_f`` for two same-shaped
inputs swapped, ``W_f = concat(W_f[:, :H].T, W_f[:, H:])`` for a square block of a
weight transposed.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from itertools import combinations

from conformance.diagnosis.trees import prepend
from conformance.diagnosis.variants import Variant
from conformance.spec.model import Spec, Symbol


def _float_inputs(spec: Spec) -> list[Symbol]:
    return [s for s in spec.input_symbols if s.kind == "float"]


def _same_shaped_pairs(spec: Spec) -> list[tuple[Symbol, Symbol]]:
    return [(a, b) for a, b in combinations(_float_inputs(spec), 2) if a.shape == b.shape]


def token_substitution(a: str, b: str) -> frozenset[str] | None:
    """``{"fwd", "bwd"}`` for W_f_fwd and W_f_bwd: the one ``_``-separated token in which
    two names differ, or None when they differ in more or in their number of tokens."""
    ta, tb = a.split("_"), b.split("_")
    if len(ta) != len(tb):
        return None
    differ = [(x, y) for x, y in zip(ta, tb, strict=True) if x != y]
    return frozenset(differ[0]) if len(differ) == 1 else None


def _swap(spec: Spec, pairs: list[tuple[str, str]]) -> Spec:
    left = ", ".join(n for pair in pairs for n in pair)
    right = ", ".join(n for a, b in pairs for n in (b, a))
    return prepend(spec, f"{left} = {right}")


def _pairs_text(pairs: list[tuple[str, str]], what: str = "") -> str:
    """``W_f and W_i swapped``, ``W_f ↔ W_i and b_f ↔ b_i swapped``, or for many pairs
    ``the fwd and bwd parameters swapped (8 pairs: W_f_fwd ↔ W_f_bwd, …)``."""
    if len(pairs) == 1:
        return f"{pairs[0][0]} and {pairs[0][1]} swapped"
    if len(pairs) <= 3 or not what:
        return " and ".join(f"{a} ↔ {b}" for a, b in pairs) + " swapped"
    return f"the {what} swapped ({len(pairs)} pairs: {pairs[0][0]} ↔ {pairs[0][1]}, …)"


def group_swaps(spec: Spec, specs: Mapping[str, Spec], top: bool) -> Iterator[Variant]:
    """Every pair of inputs that differ by the same token swapped at once: the two
    directions of a BiLSTM (``*_fwd ↔ *_bwd``), the children of an S-LSTM node
    (``h_L ↔ h_R, c_L ↔ c_R``), a whole gate (``W_f ↔ W_i, b_f ↔ b_i``). Also by role,
    so that the weights of two directions can be swapped while their states are not."""
    groups: dict[frozenset[str], list[tuple[Symbol, Symbol]]] = {}
    for a, b in _same_shaped_pairs(spec):
        token = token_substitution(a.name, b.name)
        if token is not None:
            groups.setdefault(token, []).append((a, b))
    for token, members in groups.items():
        subsets = [members]
        roles = list(dict.fromkeys(a.role for a, _ in members))
        if len(roles) > 1:
            subsets += [[(a, b) for a, b in members if a.role == role] for role in roles]
        which = " and ".join(sorted(token))
        for k, subset in enumerate(subsets):
            if len(subset) < 2:
                continue
            pairs = [(a.name, b.name) for a, b in subset]
            kind = "inputs" if k == 0 else f"{subset[0][0].role}s"
            yield Variant(
                "swap",
                _pairs_text(pairs, f"{which} {kind}"),
                spec.id,
                {spec.id: _swap(spec, pairs)},
                key=("swap", frozenset(frozenset(p) for p in pairs)),
            )


def pair_swaps(spec: Spec, specs: Mapping[str, Spec], top: bool) -> Iterator[Variant]:
    """Two same-shaped inputs whose names differ in one token swapped: ``W_f ↔ W_i``."""
    for a, b in _same_shaped_pairs(spec):
        if token_substitution(a.name, b.name) is not None:
            yield _pair(spec, a.name, b.name)


def other_swaps(spec: Spec, specs: Mapping[str, Spec], top: bool) -> Iterator[Variant]:
    """Any other two same-shaped inputs swapped."""
    for a, b in _same_shaped_pairs(spec):
        if token_substitution(a.name, b.name) is None:
            yield _pair(spec, a.name, b.name)


def _pair(spec: Spec, a: str, b: str) -> Variant:
    return Variant(
        "swap",
        f"{a} and {b} swapped",
        spec.id,
        {spec.id: _swap(spec, [(a, b)])},
        key=("swap", frozenset([frozenset((a, b))])),
    )


def _terms(node: ast.expr) -> list[str]:
    """``["H", "D"]`` for the shape expression ``H + D``; one term for anything else."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _terms(node.left) + _terms(node.right)
    return [ast.unparse(node)]


def transposes(spec: Spec, specs: Mapping[str, Spec], top: bool) -> Iterator[Variant]:
    """A square weight, or a square block of one, used untransposed.

    A backend that multiplies by ``W[:, :H]`` where the spec has ``W[:, :H].T`` (the
    recurrent block of an ``(H, H + D)`` gate weight) computes the spec with that block
    transposed; the shapes agree, so only the values can tell.
    """
    for symbol in _float_inputs(spec):
        if len(symbol.shape) != 2 or len(symbol.shape_ast) != 2:
            continue
        rows, cols = symbol.shape
        name = symbol.name
        if rows == cols:
            yield Variant(
                "transpose", f"{name} transposed", spec.id,
                {spec.id: prepend(spec, f"{name} = {name}.T")},
                key=("transpose", name, "whole"),
            )  # fmt: skip
            continue
        splits = ((rows, symbol.shape_ast[1]), (cols, symbol.shape_ast[0]))
        for axis, (square, split) in enumerate(splits):
            terms = _terms(split)
            if len(terms) < 2 or square not in terms:
                continue
            j = terms.index(square)
            blocks = []
            for k in range(len(terms)):
                start = " + ".join(terms[:k]) or ""
                stop = " + ".join(terms[: k + 1]) if k < len(terms) - 1 else ""
                cut = f"{start}:{stop}"
                block = f"{name}[:, {cut}]" if axis == 0 else f"{name}[{cut}, :]"
                blocks.append(f"{block}.T" if k == j else block)
            along = "" if axis == 0 else ", axis=0"
            shown = blocks[j].removesuffix(".T")
            yield Variant(
                "transpose",
                f"the square block {shown} transposed",
                spec.id,
                {spec.id: prepend(spec, f"{name} = concat({', '.join(blocks)}{along})")},
                key=("transpose", name, axis, j),
            )


def zeroed_states(spec: Spec, specs: Mapping[str, Spec], top: bool) -> Iterator[Variant]:
    """A state input taken as zeros (an initial state ignored), each alone and all at once."""
    states = [s.name for s in _float_inputs(spec) if s.role == "state"]
    sets = [[n] for n in states] + ([states] if len(states) > 1 else [])
    for names in sets:
        statements = [f"{n} = zeros_like({n})" for n in names]
        yield Variant(
            "zero",
            f"{' and '.join(names)} taken as zeros",
            spec.id,
            {spec.id: prepend(spec, *statements)},
            key=("zero", frozenset(names)),
        )
