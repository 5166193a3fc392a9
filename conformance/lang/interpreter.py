"""Evaluating parsed equations: the interpreter of the equation language.

Walks the ``ast`` node by node over an environment of named values; only the
constructs :mod:`conformance.lang.parse` admits can reach it.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from conformance.errors import ExpressionError
from conformance.lang.bounds import check_power, check_value
from conformance.lang.parse import (
    _BINARY,
    _COMPARE,
    _UNARY,
    Statement,
    _describe,
    dotted_name,
    unknown_name_error,
)

EVALUATION_ERRORS: tuple[type[BaseException], ...] = (
    ArithmeticError,  # 1 / 0, 10.0 ** 400.0, 0 ** -1
    AttributeError,  # B.T on a number
    IndexError,
    KeyError,
    MemoryError,
    RecursionError,
    TypeError,
    ValueError,  # shapes that do not broadcast, a NumPy function's bad argument
)
"""What evaluating a well-formed expression on the wrong values may raise; each becomes an
:class:`ExpressionError` quoting the equation."""


def describe_exception(exc: BaseException) -> str:
    """``ZeroDivisionError: division by zero``: an exception as one line for a message."""
    args = exc.args
    errno_pair = len(args) == 2 and isinstance(args[0], int) and isinstance(args[1], str)
    text = " ".join((args[1] if errno_pair else str(exc)).split())  # (34, 'Result too large')
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class Interpreter:
    """Evaluates parsed expressions over an environment of named values.

    :param functions: callables by name (the function table).
    :param references: values of dotted ids (spec functions by id).
    """

    def __init__(
        self, functions: Mapping[str, Callable[..., Any]], references: Mapping[str, Any]
    ) -> None:
        self.functions = functions
        self.references = references

    def execute(self, statements: Iterable[Statement], env: dict[str, Any]) -> dict[str, Any]:
        """Execute equations in order, binding their targets in ``env``.

        Whatever goes wrong in equation ``i`` (a bound, ``1 / 0``, a shape mismatch, a
        function called with the wrong arguments) is an :class:`ExpressionError` at field
        ``equations[i]`` that quotes the equation. An error inside a spec the equation
        calls (it carries that spec's id) is quoted whole, so the message reads as a
        trace: ``'hs = scan(lstm.cell, …)': spec 'lstm.cell': equations[4]: …``.
        """
        for i, statement in enumerate(statements):
            try:
                value = self.eval(statement.expr, env)
            except ExpressionError as exc:
                inner = str(exc) if exc.where.spec else exc.problem
                raise ExpressionError(
                    f"{statement.source!r}: {inner}",
                    field=f"equations[{i}]",
                    hint="" if exc.where.spec else exc.hint,
                ) from None
            except EVALUATION_ERRORS as exc:
                raise ExpressionError(
                    f"{statement.source!r}: {describe_exception(exc)}", field=f"equations[{i}]"
                ) from exc
            if len(statement.targets) == 1:
                env[statement.targets[0]] = value
                continue
            if not isinstance(value, tuple) or len(value) != len(statement.targets):
                got = len(value) if isinstance(value, tuple) else 1
                raise ExpressionError(
                    f"{statement.source!r}: {len(statement.targets)} targets but {got} values",
                    field=f"equations[{i}]",
                )
            env.update(zip(statement.targets, value, strict=True))
        return env

    def eval(self, node: ast.AST, env: Mapping[str, Any]) -> Any:
        """The value of ``node`` in ``env``."""
        match node:
            case ast.Constant(value=value):
                return value
            case ast.Name(id=name):
                if name not in env:
                    raise unknown_name_error(name, env, kind="symbol", where="")
                return env[name]
            case ast.BinOp(left=left, op=op, right=right):
                a, b = self.eval(left, env), self.eval(right, env)
                if isinstance(op, ast.Pow):
                    check_power(a, b, node)
                return check_value(_BINARY[type(op)](a, b), node)
            case ast.UnaryOp(op=op, operand=operand):
                return check_value(_UNARY[type(op)](self.eval(operand, env)), node)
            case ast.Attribute(value=value, attr="T"):
                return self.eval(value, env).T
            case ast.Attribute():
                dotted = dotted_name(node)
                if dotted is None or dotted not in self.references:
                    raise unknown_name_error(
                        str(dotted or ast.unparse(node)), self.references, kind="spec", where=""
                    )
                return self.references[dotted]
            case ast.Subscript(value=value, slice=index):
                return check_value(self.eval(value, env)[self._index(index, env)], node)
            case ast.Tuple(elts=elts):
                return tuple(self.eval(e, env) for e in elts)
            case ast.Compare(left=left, ops=ops, comparators=comparators):
                result, current = True, self.eval(left, env)
                for cmp, right_node in zip(ops, comparators, strict=True):
                    right = self.eval(right_node, env)
                    result = result & _COMPARE[type(cmp)](current, right)
                    current = right
                return result
            case ast.BoolOp(values=values):
                result = True
                for v in values:
                    result = result & self.eval(v, env)
                return result
            case ast.Call(func=func, args=args, keywords=keywords):
                callee = self._callee(func, env)
                kwargs = {k.arg: self.eval(k.value, env) for k in keywords if k.arg is not None}
                if getattr(callee, "takes_scope", False):
                    kwargs["_scope"] = env  # spec calls bind missing inputs by name
                return check_value(callee(*(self.eval(a, env) for a in args), **kwargs), node)
        raise ExpressionError(f"{_describe(node)} is not allowed: {ast.unparse(node)!r}")

    def _callee(self, func: ast.expr, env: Mapping[str, Any]) -> Callable[..., Any]:
        if isinstance(func, ast.Name):
            if func.id not in self.functions:
                raise unknown_name_error(func.id, self.functions, kind="function", where="")
            return self.functions[func.id]
        return self.eval(func, env)

    def _index(self, node: ast.expr, env: Mapping[str, Any]) -> Any:
        if isinstance(node, ast.Slice):
            return slice(
                *(None if part is None else self.eval(part, env)
                  for part in (node.lower, node.upper, node.step))
            )  # fmt: skip
        if isinstance(node, ast.Tuple):
            return tuple(self._index(e, env) for e in node.elts)
        return self.eval(node, env)
