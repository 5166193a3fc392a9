"""Validating single fields of a spec file: keys, types, names, with did-you-mean hints.

Shared by :mod:`conformance.spec.loader` and :mod:`conformance.spec.identities`.
Every error is a :class:`SpecError` naming the file and the field.
"""

from __future__ import annotations

import ast
import difflib
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from conformance.errors import ExpressionError, SpecError
from conformance.lang.functions import FUNCTIONS
from conformance.lang.parse import called_names, free_names, unknown_name_error

ORACLE_PRIMITIVES = frozenset({"scan", "tree"})
"""Functions the oracle adds to the table because they need spec functions."""


def check_keys(table: Mapping[str, Any], allowed: set[str], file: str, field_: str) -> None:
    """A SpecError unless ``table`` is a table whose keys are all ``allowed``."""
    if not isinstance(table, dict):
        raise SpecError(
            f"should be a table, got {type(table).__name__} {table!r}", file=file, field=field_
        )
    for key in table:
        if key not in allowed:
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = (
                f"did you mean {close[0]!r}?" if close else f"allowed: {', '.join(sorted(allowed))}"
            )
            raise SpecError(f"unknown key {key!r}", file=file, field=field_, hint=hint)


def require(table: Mapping[str, Any], key: str, kind: type, file: str, field_: str) -> Any:
    if key not in table:
        raise SpecError(f"missing required key {key!r}", file=file, field=field_)
    value = table[key]
    if not isinstance(value, kind):
        raise SpecError(
            f"{key} = {value!r} should be a {kind.__name__}", file=file, field=f"{field_}.{key}"
        )
    return value


def table_of(table: Mapping[str, Any], key: str, file: str, where: str) -> dict[str, Any]:
    """``table[key]`` when it is a table (an empty one when absent), else a SpecError."""
    value = table.get(key, {})
    if not isinstance(value, dict):
        place = f"{where}.{key}" if where else key
        raise SpecError(f"should be a table, got {type(value).__name__} {value!r}", file=file,
                        field=place)  # fmt: skip
    return value


def string_list(table: Mapping[str, Any], key: str, file: str, where: str) -> list[str]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SpecError(f"{key} = {value!r} should be a list of strings", file=file, field=where)
    return value


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """``did you mean 'W_f'?`` for the known name closest to ``name``, else ``""``."""
    if not isinstance(name, str):
        return ""
    close = difflib.get_close_matches(name, [k for k in known if isinstance(k, str)], n=1)
    return f"did you mean {close[0]!r}?" if close else ""


def check_names(node: ast.AST, scope: set[str], source: str, where: str) -> None:
    for name in sorted(free_names(node)):
        if name not in scope:
            raise unknown_name_error(name, scope, kind="symbol", where=where)
    for name, _call in called_names(node):
        if "." in name:
            continue  # a spec reference, resolved once every file is loaded
        if name not in FUNCTIONS and name not in ORACLE_PRIMITIVES:
            raise unknown_name_error(
                name, [*FUNCTIONS, *ORACLE_PRIMITIVES], kind="function", where=where
            )


def require_member(
    name: str, allowed: Iterable[str], what: str, *, file: str, field: str, label: str = ""
) -> None:
    """A SpecError ``'<name>' is not <what>``, with a did-you-mean hint, unless ``name``
    is among ``allowed``; ``label`` replaces ``'<name>'`` in the message."""
    allowed = list(allowed)
    if name not in allowed:
        raise SpecError(
            f"{label or repr(name)} is not {what}",
            file=file,
            field=field,
            hint=did_you_mean(name, allowed),
        )


@contextmanager
def in_file(file: str, field: str = "") -> Iterator[None]:
    """Give an error of the language (which knows no files) the spec file it came from.

    An :class:`ExpressionError` raised inside becomes a :class:`SpecError` naming ``file``
    and its own field, or ``field`` when it has none.
    """
    try:
        yield
    except ExpressionError as exc:
        raise SpecError(exc.problem, file=file, field=exc.field or field, hint=exc.hint) from None
