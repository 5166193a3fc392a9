"""Reading and rewriting a spec's expression trees: the nodes of its equations by path,
one node replaced, statements put before the equations, the terms of a sum.

Every rewrite returns a new :class:`~conformance.spec.model.Spec`; the spec given is
never touched (its ASTs are shared with the catalog and the oracle).
"""

from __future__ import annotations

import ast
import copy
from collections.abc import Iterator
from dataclasses import replace

from conformance.lang.parse import Statement, dotted_name, parse_statement
from conformance.spec.model import Spec

Path = tuple[tuple[str, int | None], ...]
"""Where a node sits below an expression: (field, index in a list field or None) steps."""


def nodes(expr: ast.AST, path: Path = ()) -> Iterator[tuple[Path, ast.AST]]:
    """Every node of ``expr``, parents before children, with its path."""
    yield path, expr
    for name, value in ast.iter_fields(expr):
        if isinstance(value, ast.AST):
            yield from nodes(value, (*path, (name, None)))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, ast.AST):
                    yield from nodes(item, (*path, (name, i)))


def replace_at(expr: ast.expr, path: Path, new: ast.expr) -> ast.expr:
    """A copy of ``expr`` with the node at ``path`` replaced by ``new``."""
    if not path:
        return new
    root = copy.deepcopy(expr)
    parent: ast.AST = root
    for name, index in path[:-1]:
        child = getattr(parent, name)
        parent = child if index is None else child[index]
    name, index = path[-1]
    if index is None:
        setattr(parent, name, new)
    else:
        getattr(parent, name)[index] = new
    return root


def with_equation(spec: Spec, index: int, expr: ast.expr) -> Spec:
    """``spec`` with the right-hand side of equation ``index`` replaced by ``expr``."""
    old = spec.equations[index]
    new = Statement(old.targets, ast.fix_missing_locations(expr), _source(old.targets, expr))
    equations = (*spec.equations[:index], new, *spec.equations[index + 1 :])
    return replace(spec, equations=equations)


def prepend(spec: Spec, *sources: str) -> Spec:
    """``spec`` with the statements ``sources`` run before its equations (``W = W.T``)."""
    where = f"diagnosis of {spec.id}"
    first = tuple(parse_statement(s, where=where) for s in sources)
    return replace(spec, equations=first + tuple(spec.equations))


def call(name: str, *args: ast.expr, **keywords: ast.expr) -> ast.Call:
    """The node ``name(args…, key=value…)``."""
    return ast.Call(
        func=ast.Name(id=name, ctx=ast.Load()),
        args=list(args),
        keywords=[ast.keyword(arg=k, value=v) for k, v in keywords.items()],
    )


def constant(value: str | bool | int | float) -> ast.Constant:
    """The node of a constant: a number, a flag, or a string (only variants pass strings)."""
    return ast.Constant(value=value)


def callee(node: ast.AST) -> str | None:
    """``sigmoid`` or ``lstm.cell`` for a call node, else None."""
    if not isinstance(node, ast.Call):
        return None
    return node.func.id if isinstance(node.func, ast.Name) else dotted_name(node.func)


def additive_terms(node: ast.AST) -> list[tuple[Path, ast.expr]]:
    """The terms of a sum ``a + b - c`` (each with its path below ``node``), else [].

    Only the top chain of ``+`` and ``-`` counts; the terms' own sums are found when
    their nodes are visited in turn.
    """
    if not (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub)):
        return []
    terms: list[tuple[Path, ast.expr]] = []

    def visit(n: ast.expr, path: Path) -> None:
        if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Add | ast.Sub):
            visit(n.left, (*path, ("left", None)))
            terms.append(((*path, ("right", None)), n.right))
        else:
            terms.append((path, n))

    visit(node, ())
    return terms


def without_term(node: ast.BinOp, path: Path) -> ast.expr:
    """The sum ``node`` with the term at ``path`` removed (a subtracted term: its minus too)."""
    parent_path, (field, _) = path[:-1], path[-1]
    parent = node
    for name, index in parent_path:
        child = getattr(parent, name)
        parent = child if index is None else child[index]
    assert isinstance(parent, ast.BinOp)
    if field == "left":
        kept: ast.expr = parent.right
        if isinstance(parent.op, ast.Sub):
            kept = ast.UnaryOp(op=ast.USub(), operand=kept)
    else:
        kept = parent.left
    return replace_at(node, parent_path, copy.deepcopy(kept))


def snippet(node: ast.AST, limit: int = 40) -> str:
    """``h_L @ W_i_Lh.T`` or ``concat(h_prev, x) @ W_f.T + b…``: a node's source, cut."""
    text = ast.unparse(node)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _source(targets: tuple[str, ...], expr: ast.expr) -> str:
    return f"{', '.join(targets)} = {ast.unparse(expr)}"
