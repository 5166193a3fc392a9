"""The bounds of the equation language: how long, how deep, how large an expression may be.

A spec file is data from anyone, so loading one must take bounded time and memory.
Every bound is checked before the work it guards: the length of the source before it
is parsed, the depth and size of the tree before it is walked, and the size of an
integer power's *result* before it is computed (``(2 ** 64) ** 64`` is refused
without building a number of 4096 bits). Each value an expression computes is checked
as it comes: integers stay within int64, arrays within :data:`MAX_ARRAY_ELEMENTS`.
Each bound is generous for real equations, whose longest is about 250 characters, 45
nodes and 9 levels deep.
"""

from __future__ import annotations

import ast
from collections import deque
from typing import Any

import numpy as np

from conformance.errors import ExpressionError

MAX_SOURCE_CHARS = 2000
"""Characters in one equation, invariant, shape or domain (the longest shipped: ~250)."""
MAX_NODES = 500
"""Nodes of one expression's tree: names, numbers, operators, calls (the most shipped: 45)."""
MAX_DEPTH = 50
"""Levels of nesting of one expression's tree (the deepest shipped: 9)."""
INT_BITS = 63
"""Integers (literals, sizes, integer arithmetic) stay within int64: |n| < 2**63."""
INT_LIMIT = 2**INT_BITS
MAX_ARRAY_ELEMENTS = 10_000_000
"""Elements of any array an expression computes (80 MB in float64), so that a chain of
``concat`` or an outer product cannot grow without bound."""


def excerpt(source: str, width: int = 60) -> str:
    """``source`` quoted, cut to about ``width`` characters for a message."""
    return repr(source) if len(source) <= width else repr(source[: width - 20]) + "…"


def check_source(source: str, where: str) -> None:
    """Refuse a source too long to parse in bounded time and memory."""
    if len(source) > MAX_SOURCE_CHARS:
        raise ExpressionError(
            f"the expression is {len(source)} characters long, more than the "
            f"{MAX_SOURCE_CHARS} allowed: {excerpt(source)}",
            field=where,
            hint="split it into several equations",
        )


def check_tree(tree: ast.AST, source: str, where: str) -> None:
    """Refuse a tree too deep or too large to walk, breadth first and without recursion."""
    queue: deque[tuple[ast.AST, int]] = deque([(tree, 1)])
    nodes = 0
    while queue:
        node, depth = queue.popleft()
        if isinstance(node, ast.expr_context | ast.operator | ast.unaryop | ast.cmpop):
            continue
        nodes += 1
        if depth > MAX_DEPTH:
            raise ExpressionError(
                f"the expression nests more than {MAX_DEPTH} levels deep: {excerpt(source)}",
                field=where,
                hint="name the inner parts in equations of their own",
            )
        if nodes > MAX_NODES:
            raise ExpressionError(
                f"the expression has more than {MAX_NODES} terms: {excerpt(source)}",
                field=where,
                hint="split it into several equations",
            )
        queue.extend((child, depth + 1) for child in ast.iter_child_nodes(node))


def fits(value: Any) -> bool:
    """Whether ``value`` is not a Python integer, or one within int64."""
    return type(value) is not int or -INT_LIMIT <= value < INT_LIMIT


def check_value(value: Any, node: ast.AST) -> Any:
    """``value`` (of ``node``), unless it is a Python integer outside int64 or an array of
    more than :data:`MAX_ARRAY_ELEMENTS` elements: then an ExpressionError."""
    if isinstance(value, np.ndarray) and value.size > MAX_ARRAY_ELEMENTS:
        raise ExpressionError(
            f"{excerpt(ast.unparse(node))} gives an array of {value.size} elements "
            f"{value.shape}; the arrays of an equation hold at most {MAX_ARRAY_ELEMENTS}"
        )
    if not fits(value):
        raise ExpressionError(
            f"{excerpt(ast.unparse(node))} is an integer of {value.bit_length()} bits; "
            f"integers in equations stay below 2**{INT_BITS}",
            hint="write a float (2.0 ** 64) if a large number is meant",
        )
    return value


def check_power(base: Any, exponent: Any, node: ast.AST) -> None:
    """Refuse an integer power whose result would not fit, before computing it.

    The bound is on the result, not the exponent: ``1 ** 10**18`` and ``2 ** 62`` are
    fine, ``2 ** 64`` and ``(2 ** 32) ** 2`` are not. Powers of floats and arrays
    overflow to inf or raise OverflowError at once, so only Python integers need this.
    """
    if type(base) not in (int, bool) or type(exponent) not in (int, bool) or exponent <= 0:
        return
    if abs(base) <= 1:
        return
    at_least = (abs(base).bit_length() - 1) * exponent  # 2**at_least <= |base|**exponent
    if at_least >= INT_BITS:
        raise ExpressionError(
            f"{excerpt(ast.unparse(node))} would be an integer of at least {at_least} bits; "
            f"integers in equations stay below 2**{INT_BITS}",
            hint="write a float (2.0 ** 64) if a large number is meant",
        )
