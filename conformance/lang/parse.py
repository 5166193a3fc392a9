"""The equation language: a whitelisted subset of Python expressions.

Equations are parsed with :mod:`ast` and interpreted node by node; ``eval`` and
``exec`` are never used, so a spec file is data and cannot run code. Allowed:

- names (the spec's symbols, its dimension symbols, earlier assignments), numbers;
- ``+ - * / @ **``, unary ``-``/``+``, comparisons and ``and`` (for invariants);
- ``a.T``, subscripts with integers, names and slices (``h[:, :H]``);
- calls to the function table (:data:`conformance.lang.primitives.FUNCTIONS`), to another
  spec by its dotted id (``lstm.forget_gate(x=x, …)``), and to ``scan``;
- statements of the form ``name = expr`` or ``a, b = expr``.

Anything else is an :class:`ExpressionError` that names the construct.
"""

from __future__ import annotations

import ast
import difflib
import operator
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from conformance.errors import ExpressionError
from conformance.lang.bounds import INT_BITS, check_source, check_tree, excerpt, fits

_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.MatMult: operator.matmul,
    ast.Pow: operator.pow,
}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
}
_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], Any]] = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}
_CONSTRUCT_NAMES: dict[type[ast.AST], str] = {
    ast.Lambda: "lambda",
    ast.ListComp: "list comprehension",
    ast.SetComp: "set comprehension",
    ast.DictComp: "dict comprehension",
    ast.GeneratorExp: "generator expression",
    ast.IfExp: "conditional expression",
    ast.NamedExpr: "assignment expression (:=)",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.JoinedStr: "f-string",
    ast.Starred: "starred argument",
}


def _describe(node: ast.AST) -> str:
    return _CONSTRUCT_NAMES.get(type(node), type(node).__name__)


def dotted_name(node: ast.AST) -> str | None:
    """``lstm.cell`` for the attribute chain Attribute(Name('lstm'), 'cell'), else None."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name) and parts:
        return ".".join([node.id, *reversed(parts)])
    return None


@dataclass(frozen=True)
class Statement:
    """One equation: ``targets = expr``."""

    targets: tuple[str, ...]
    expr: ast.expr
    source: str


def _parse(source: str, mode: str, where: str) -> ast.AST:
    """The tree of ``source``, within the bounds of :mod:`conformance.lang.bounds`."""
    if not isinstance(source, str):
        raise ExpressionError(f"expected a string, got {source!r}", field=where)
    check_source(source, where)
    try:
        tree = ast.parse(source.strip(), mode=mode)
    except SyntaxError as exc:
        raise ExpressionError(
            f"cannot parse {source!r}: {exc.msg}", field=where, hint="equations use Python syntax"
        ) from None
    except ValueError as exc:  # a null byte, an integer literal of over 4300 digits
        raise ExpressionError(f"cannot parse {source!r}: {exc}", field=where) from None
    except (MemoryError, RecursionError):  # Python's own parser gave up on the nesting
        raise ExpressionError(
            f"cannot parse {excerpt(source)}: nested too deeply for the parser", field=where
        ) from None
    check_tree(tree, source, where)
    return tree


def parse_expression(source: str, *, where: str = "") -> ast.expr:
    """The AST of one expression (an invariant, a shape, a domain)."""
    tree = _parse(source, "eval", where)
    assert isinstance(tree, ast.Expression)
    _check_constructs(tree.body, source, where)
    return tree.body


def parse_statement(source: str, *, where: str = "") -> Statement:
    """The AST of one equation ``name = expr`` or ``a, b = expr``."""
    tree = _parse(source, "exec", where)
    assert isinstance(tree, ast.Module)
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.Assign):
        raise ExpressionError(
            f"{source!r} is not an assignment", field=where, hint="write 'name = expression'"
        )
    assign = tree.body[0]
    target = assign.targets[0]
    if len(assign.targets) != 1:
        raise ExpressionError(f"chained assignment in {source!r}", field=where)
    elements = target.elts if isinstance(target, ast.Tuple) else [target]
    if not all(isinstance(t, ast.Name) for t in elements):
        raise ExpressionError(
            f"cannot assign to {ast.unparse(target)!r} in {source!r}",
            field=where,
            hint="targets are plain names",
        )
    _check_constructs(assign.value, source, where)
    names = tuple(t.id for t in elements if isinstance(t, ast.Name))
    return Statement(names, assign.value, source.strip())


def _check_constructs(node: ast.AST, source: str, where: str) -> None:
    """Reject every node type outside the language, naming it."""
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            if sub.id.startswith("__"):
                raise ExpressionError(f"dunder name {sub.id!r} in {source!r}", field=where)
            continue
        if isinstance(sub, ast.keyword):
            if sub.arg is None:
                raise ExpressionError(f"'**' argument in {source!r}", field=where)
            if sub.arg == "out":
                raise ExpressionError(
                    f"'out=' argument in {source!r}",
                    field=where,
                    hint="equations compute new arrays; they never write into one",
                )
            continue
        if isinstance(sub, ast.expr_context):
            continue
        if isinstance(sub, ast.Constant):
            if not isinstance(sub.value, int | float):  # bool is an int: flags like reverse=True
                raise ExpressionError(
                    f"constant {sub.value!r} in {source!r}",
                    field=where,
                    hint="only numbers and True/False",
                )
            if not fits(sub.value):
                raise ExpressionError(
                    f"integer literal of {len(str(sub.value))} digits in {excerpt(source)}",
                    field=where,
                    hint=f"integers stay below 2**{INT_BITS}; write a float (1e30) for a large "
                    "number",
                )
            continue
        if isinstance(sub, ast.Attribute):
            if sub.attr.startswith("_"):
                raise ExpressionError(
                    f"attribute {sub.attr!r} in {source!r}", field=where, hint="only .T is allowed"
                )
            continue
        if isinstance(sub, ast.BinOp) and type(sub.op) not in _BINARY:
            raise ExpressionError(f"operator {type(sub.op).__name__} in {source!r}", field=where)
        if isinstance(sub, ast.UnaryOp) and type(sub.op) not in _UNARY:
            raise ExpressionError(f"operator {type(sub.op).__name__} in {source!r}", field=where)
        if isinstance(sub, ast.BoolOp) and not isinstance(sub.op, ast.And):
            raise ExpressionError(f"'or' in {source!r}", field=where, hint="only 'and'")
        if isinstance(sub, ast.Compare) and not all(type(op) in _COMPARE for op in sub.ops):
            raise ExpressionError(f"comparison {ast.unparse(sub)!r} in {source!r}", field=where)
        allowed = (
            ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.Call, ast.Subscript,
            ast.Slice, ast.Tuple, ast.operator, ast.unaryop, ast.cmpop, ast.boolop,
        )  # fmt: skip
        if not isinstance(sub, allowed):
            raise ExpressionError(
                f"{_describe(sub)} is not allowed in equations: {source!r}", field=where
            )


def free_names(node: ast.AST) -> set[str]:
    """Every plain name ``node`` reads, excluding call targets and dotted spec ids."""
    found: set[str] = set()

    def visit(n: ast.AST) -> None:
        if isinstance(n, ast.Call):
            if not isinstance(n.func, ast.Name) and dotted_name(n.func) is None:
                visit(n.func)
            for a in n.args:
                visit(a)
            for k in n.keywords:
                visit(k.value)
            return
        if isinstance(n, ast.Attribute):
            if dotted_name(n) is None or n.attr == "T":
                visit(n.value)
            return
        if isinstance(n, ast.Name):
            found.add(n.id)
            return
        for child in ast.iter_child_nodes(n):
            visit(child)

    visit(node)
    return found


def called_names(node: ast.AST) -> list[tuple[str, ast.Call]]:
    """Every ``(function name or dotted spec id, call node)`` in ``node``."""
    calls = []
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call):
            name = sub.func.id if isinstance(sub.func, ast.Name) else dotted_name(sub.func)
            if name is None:
                raise ExpressionError(f"cannot call {ast.unparse(sub.func)!r}")
            calls.append((name, sub))
    return calls


def spec_references(node: ast.AST) -> set[str]:
    """Dotted ids (``lstm.cell``) used as values or call targets: references to specs."""
    refs = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Attribute) and sub.attr != "T":
            name = dotted_name(sub)
            if name is not None:
                refs.add(name)
    return refs


def unknown_name_error(
    name: str, known: Iterable[str], *, kind: str, where: str
) -> ExpressionError:
    """An ExpressionError for an unknown ``name``, suggesting the nearest known one."""
    close = difflib.get_close_matches(name, list(known), n=1)
    hint = f"did you mean {close[0]!r}?" if close else ""
    return ExpressionError(f"unknown {kind} {name!r}", field=where, hint=hint)
