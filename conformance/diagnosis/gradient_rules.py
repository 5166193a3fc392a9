"""Rules for mistakes only a backward pass makes: the forward values stay the spec's, the
derivatives do not (see :mod:`conformance.diagnosis.functions`).

σ′ or tanh′ taken at the wrong point, the gradient through a carried state cut between
steps (BPTT that forgets the cell-state path, or truncated to the last step), a subtree
of a tree that never receives its gradient, and a term or factor whose gradient is
left out (CTC's gradient without the softmax's normalizer).
"""

from __future__ import annotations

import ast
import copy
from collections.abc import Iterator, Mapping

from conformance.diagnosis.expression_rules import chain_roots, sites, variant_at
from conformance.diagnosis.trees import additive_terms, call, callee, constant, replace_at, snippet
from conformance.diagnosis.variants import Variant
from conformance.lang.parse import dotted_name
from conformance.spec.model import Spec

SLOPE_MISTAKES = {
    "sigmoid": (
        ("sigmoid_slope_at_output", "σ′ taken at σ(z) (the activated value)"),
        ("sigmoid_slope_of_input", "σ′ written s(1 − s) but fed the pre-activation z"),
    ),
    "tanh": (
        ("tanh_slope_at_output", "tanh′ taken at tanh(z) (the activated value)"),
        ("tanh_slope_of_input", "tanh′ written 1 − t² but fed the pre-activation z"),
    ),
}
"""For each activation, the slopes a hand-written VJP takes instead of the right one."""


def slopes(spec: Spec, specs: Mapping[str, Spec], top: bool) -> Iterator[Variant]:
    """An activation whose derivative is taken at the wrong point."""
    for k, path, node in sites(spec):
        name = callee(node)
        if name not in SLOPE_MISTAKES or not isinstance(node, ast.Call):
            continue
        for function, what in SLOPE_MISTAKES[name]:
            new = copy.deepcopy(node)
            new.func = ast.Name(id=function, ctx=ast.Load())
            yield variant_at("slope", what, spec, k, path, new, gradient_only=True)


def carried_gradients(spec: Spec, specs: Mapping[str, Spec], top: bool) -> Iterator[Variant]:
    """The gradient through a recurrence's carried state cut: per state of a ``scan``, all
    of them at once with only the last step differentiated, and per child of a ``tree``."""
    for k, path, node in sites(spec):
        name = callee(node)
        if name not in ("scan", "tree") or not isinstance(node, ast.Call) or not node.args:
            continue
        step = specs.get(dotted_name(node.args[0]) or "")
        if step is None:
            continue
        call_text = f"{name}({step.id})"
        if name == "scan":
            for state in (s.name for s in step.input_symbols if s.role == "state"):
                new = _recurrence_variant(node, "scan_variant", variant="detached", state=state)
                change = f"no gradient through the carried {state} between steps of {call_text}"
                yield variant_at("carry", change, spec, k, path, new, where="", gradient_only=True)
            new = _recurrence_variant(node, "scan_variant", variant="last_step")
            change = f"BPTT truncated to the last step of {call_text}"
            yield variant_at("carry", change, spec, k, path, new, where="", gradient_only=True)
            continue
        for side, which in (("L", "left"), ("R", "right")):
            new = _recurrence_variant(node, "tree_variant", variant="detached", side=side)
            change = f"no gradient into the {which} child of each node of {call_text}"
            yield variant_at("carry", change, spec, k, path, new, where="", gradient_only=True)


def _recurrence_variant(node: ast.Call, function: str, **options: str) -> ast.Call:
    new = copy.deepcopy(node)
    new.func = ast.Name(id=function, ctx=ast.Load())
    new.keywords += [ast.keyword(arg=k, value=constant(v)) for k, v in options.items()]
    return new


def detached_terms(spec: Spec, specs: Mapping[str, Spec], top: bool) -> Iterator[Variant]:
    """The gradient of one term of a sum left out (its value kept)."""
    for k, path, node in chain_roots(spec):
        for term_path, term in additive_terms(node):
            new = replace_at(node, term_path, call("stop_gradient", copy.deepcopy(term)))
            change = f"no gradient through the term {snippet(term)}"
            yield variant_at("detach", change, spec, k, path, new, gradient_only=True)


def detached_factors(spec: Spec, specs: Mapping[str, Spec], top: bool) -> Iterator[Variant]:
    """The gradient through one factor of a product left out (its value kept)."""
    for k, path, node in sites(spec):
        if not (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult)):
            continue
        for side in ("left", "right"):
            factor = getattr(node, side)
            new = replace_at(node, ((side, None),), call("stop_gradient", copy.deepcopy(factor)))
            change = f"no gradient through the factor {snippet(factor)} of {snippet(node)}"
            yield variant_at("detach", change, spec, k, path, new, gradient_only=True)
