"""Rules over a spec's expression trees: one node of one equation rewritten.

The concatenation order reversed, an activation replaced or left out, a recurrence that
does not carry a state or does not re-align time, a softmax over another axis, a term
or a factor dropped, a callee given a related value for one of its inputs. Each rule
walks every equation of a spec and yields one variant per place it applies.
"""

from __future__ import annotations

import ast
import copy
from collections.abc import Iterator, Mapping

from conformance.diagnosis.trees import (
    Path,
    additive_terms,
    callee,
    constant,
    nodes,
    replace_at,
    snippet,
    with_equation,
    without_term,
)
from conformance.diagnosis.variants import Variant
from conformance.lang.parse import dotted_name
from conformance.spec.model import Spec

Site = tuple[int, Path, ast.AST]
"""One place in a spec: (equation index, path below its right-hand side, the node)."""

ALTERNATIVES = {
    "sigmoid": ("tanh",),
    "tanh": ("sigmoid",),
    "softmax": ("log_softmax",),
    "log_softmax": ("softmax",),
}
"""Activations a backend puts in place of another."""
DROPPABLE = ("sigmoid", "tanh", "exp", "log", "softmax", "log_softmax")
"""Functions a backend may leave out (``h = o * c`` for ``h = o * tanh(c)``)."""
AXIS_FUNCTIONS = ("softmax", "log_softmax", "logsumexp")
"""Functions over one axis (the last by default) that a backend may take over another."""


def sites(spec: Spec) -> Iterator[Site]:
    """Every node of every equation of ``spec``."""
    for k, statement in enumerate(spec.equations):
        for path, node in nodes(statement.expr):
            yield k, path, node


def rewrite(spec: Spec, k: int, path: Path, new: ast.expr) -> Spec:
    """``spec`` with the node at ``path`` of equation ``k`` replaced by ``new``."""
    return with_equation(spec, k, replace_at(spec.equations[k].expr, path, new))


def _in(spec: Spec, k: int) -> str:
    """``in f``: the equation, by what it assigns."""
    return f"in {', '.join(spec.equations[k].targets)}"


def variant_at(
    rule: str,
    what: str,
    spec: Spec,
    k: int,
    path: Path,
    new: ast.expr,
    *,
    where: str | None = None,
    gradient_only: bool = False,
) -> Variant:
    """The variant of ``spec`` with ``new`` at ``path`` of equation ``k``.

    :param what: the change, wherever it is (``sigmoid in place of tanh``): variants of
        several specs with the same ``what`` are also tried all at once.
    :param where: where it is; by default the equation, ``in g``.
    """
    where = _in(spec, k) if where is None else where
    return Variant(
        rule, f"{what} {where}".strip(), spec.id, {spec.id: rewrite(spec, k, path, new)},
        key=(rule, spec.id, k, path, ast.dump(new)), gradient_only=gradient_only, pattern=what,
    )  # fmt: skip


def concat_orders(spec: Spec, specs: Mapping[str, Spec], top: bool) -> Iterator[Variant]:
    """``concat(h_prev, x)`` as ``concat(x, h_prev)``, with the spec's weights as they are.

    A backend that concatenates [x, h] and multiplies by a weight laid out for [h, x]
    splits the weight's columns at D instead of at H: exactly this variant.
    """
    for k, path, node in sites(spec):
        if callee(node) != "concat" or len(node.args) < 2:  # type: ignore[attr-defined]
            continue
        assert isinstance(node, ast.Call)
        new = copy.deepcopy(node)
        new.args = list(reversed(new.args))
        yield variant_at("concat", f"{snippet(new)} for {snippet(node)}", spec, k, path, new)


def activations(spec: Spec, specs: Mapping[str, Spec], top: bool) -> Iterator[Variant]:
    """An activation replaced by another (tanh ↔ σ), or left out (tanh ↔ identity)."""
    for k, path, node in sites(spec):
        name = callee(node)
        if name is None or not isinstance(node, ast.Call) or len(node.args) != 1:
            continue
        for other in ALTERNATIVES.get(name, ()):
            new = copy.deepcopy(node)
            new.func = ast.Name(id=other, ctx=ast.Load())
            yield variant_at("activation", f"{other} in place of {name}", spec, k, path, new)
        if name in DROPPABLE:
            new_arg = copy.deepcopy(node.args[0])
            yield variant_at("activation", f"no {name}", spec, k, path, new_arg)


def recurrences(spec: Spec, specs: Mapping[str, Spec], top: bool) -> Iterator[Variant]:
    """A ``scan`` that does not carry a state, stores each step's outputs one step late,
    runs the wrong way, or leaves a reversed direction's outputs in processing order
    instead of re-aligning them in time."""
    for k, path, node in sites(spec):
        if callee(node) != "scan" or not isinstance(node, ast.Call) or not node.args:
            continue
        step = specs.get(dotted_name(node.args[0]) or "")
        if step is None:
            continue
        given = {kw.arg: kw.value for kw in node.keywords}
        call = f"scan({step.id})"
        for state in (s.name for s in step.input_symbols if s.role == "state"):
            initial = f" ({snippet(given[state])} at every step)" if state in given else ""
            new = _scan_variant(node, "uncarried", state=state)
            change = f"{state} not carried{initial} in {call}"
            yield variant_at("recurrence", change, spec, k, path, new, where="")
            new = _scan_variant(node, "stuck", state=state)
            change = f"{state} never updated{initial}, also as the final state, in {call}"
            yield variant_at("recurrence", change, spec, k, path, new, where="")
        late = _scan_variant(node, "late")
        change = f"the outputs of {call} one step late (each step stores the state it began with)"
        yield variant_at("recurrence", change, spec, k, path, late, where="")
        reverse = given.get("reverse")
        backward = isinstance(reverse, ast.Constant) and bool(reverse.value)
        flipped = copy.deepcopy(node)
        flipped.keywords = [kw for kw in flipped.keywords if kw.arg != "reverse"]
        if not backward:
            flipped.keywords.append(ast.keyword(arg="reverse", value=constant(True)))
        how = "run forward in time" if backward else "run backward in time"
        yield variant_at("recurrence", f"{call} {how}", spec, k, path, flipped, where="")
        if backward:
            new = _scan_variant(node, "unaligned")
            change = f"the outputs of the backward {call} not re-aligned in time"
            yield variant_at("recurrence", change, spec, k, path, new, where="")


def _scan_variant(node: ast.Call, variant: str, **options: str) -> ast.Call:
    """``scan_variant(step, …, variant=…)`` for the ``scan(step, …)`` at ``node``."""
    new = copy.deepcopy(node)
    new.func = ast.Name(id="scan_variant", ctx=ast.Load())
    new.keywords += [ast.keyword(arg="variant", value=constant(variant))]
    new.keywords += [ast.keyword(arg=k, value=constant(v)) for k, v in options.items()]
    return new


def axes(spec: Spec, specs: Mapping[str, Spec], top: bool) -> Iterator[Variant]:
    """A softmax (log-softmax, logsumexp) over another axis than the spec's."""
    for k, path, node in sites(spec):
        name = callee(node)
        if name not in AXIS_FUNCTIONS or not isinstance(node, ast.Call):
            continue
        given = next((kw.value for kw in node.keywords if kw.arg == "axis"), None)
        current = given.value if isinstance(given, ast.Constant) else -1
        if not isinstance(current, int):
            continue
        for axis in (-1, -2, -3):
            if axis == current:
                continue
            new = copy.deepcopy(node)
            new.keywords = [kw for kw in new.keywords if kw.arg != "axis"]
            new.keywords.append(ast.keyword(arg="axis", value=constant(axis)))
            change = f"{name} over axis {axis} instead of {current}"
            yield variant_at("axis", change, spec, k, path, new)


def chain_roots(spec: Spec) -> Iterator[tuple[int, Path, ast.BinOp]]:
    """The top node of every sum ``a + b − c`` in ``spec`` (not its inner ``a + b``)."""
    for k, statement in enumerate(spec.equations):
        inner: set[int] = set()
        for path, node in nodes(statement.expr):
            if not (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub)):
                continue
            if id(node) not in inner:
                yield k, path, node
            left = node.left
            while isinstance(left, ast.BinOp) and isinstance(left.op, ast.Add | ast.Sub):
                inner.add(id(left))
                left = left.left


def dropped_terms(spec: Spec, specs: Mapping[str, Spec], top: bool) -> Iterator[Variant]:
    """Each term of each sum left out: ``c = f * c_prev`` for ``c = f * c_prev + i * g``."""
    for k, path, node in chain_roots(spec):
        for term_path, term in additive_terms(node):
            new = without_term(node, term_path)
            change = f"the term {snippet(term)} dropped"
            yield variant_at("term", change, spec, k, path, new)


def dropped_factors(spec: Spec, specs: Mapping[str, Spec], top: bool) -> Iterator[Variant]:
    """Each factor of each product left out: ``i * g`` as ``g``."""
    for k, path, node in sites(spec):
        if not (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult)):
            continue
        for gone, kept in ((node.left, node.right), (node.right, node.left)):
            change = f"the factor {snippet(gone)} dropped from {snippet(node)}"
            yield variant_at("factor", change, spec, k, path, copy.deepcopy(kept))
