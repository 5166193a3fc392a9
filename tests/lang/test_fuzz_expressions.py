"""Fuzzing the parser and the interpreter: random expressions built from the language's
constructs and from junk. Every outcome is a value or an ExpressionError, within a deadline
and a memory budget, and the interpreter never writes into the arrays it is given."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.errors import ExpressionError
from conformance.lang.functions import FUNCTIONS
from conformance.lang.interpreter import Interpreter
from conformance.lang.parse import parse_statement

MEGABYTES = 64

# Well-formed expressions: the language's own constructs, over the names in scope.
SCOPE = ["x", "v", "i", "B", "n"]
ALLOWED_OPERATORS = ["+", "-", "*", "/", "@", "**", "<", "<=", "==", "!=", "and"]
SMALL = st.sampled_from(["0", "1", "2", "3", "-1", "0.5", "64", "1e308", "1e-400", "True"])
ALLOWED_KEYWORDS = ["axis", "keepdims", "atol", "rtol", "blank", "per_step", "reverse"]

# Hostile ones: constructs, names, functions and keywords outside the language.
NAMES = [*SCOPE, "unknown", "__class__", "_private", "inf", "nan"]
FUNCTION_NAMES = [*FUNCTIONS, "scan", "eval", "open", "__import__", "getattr", "print"]
KEYWORDS = [*ALLOWED_KEYWORDS, "out", "shape", "dtype", "where"]
NUMBERS = ["0", "1", "2", "-1", "0.5", "64", "1e308", "1e-400", "1e999", "9" * 25, "True", "0x10"]
JUNK_LEAVES = ["None", "'s'", "b''", "1j", "...", "[x]", "{x}", "f'{x}'", "x.y.z", "lstm.cell"]
OPERATORS = [*ALLOWED_OPERATORS, "%", "//", "<<", "&", "or", "is", "in"]
SLICES = [":", "::-1", "1:", ":, 0", "..., 0", "0, 0", "-1", "::0", "None"]


def call(parts: tuple[str, list[str], list[tuple[str, str]]]) -> str:
    name, args, keywords = parts
    return f"{name}({', '.join([*args, *(f'{k}={v}' for k, v in keywords)])})"


def grammar(
    leaf: st.SearchStrategy[str],
    operators: list[str],
    functions: list[str],
    keywords: list[str],
    slices: list[str],
    hostile: bool,
) -> st.SearchStrategy[str]:
    """Expressions over ``leaf`` built from these constructs (and, if ``hostile``, others)."""

    def compound(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        parts = [
            st.tuples(inner, st.sampled_from(operators), inner).map(
                lambda t: f"({t[0]} {t[1]} {t[2]})"
            ),
            st.tuples(
                st.sampled_from(["-", "+", "not ", "~"] if hostile else ["-", "+"]), inner
            ).map("".join),
            st.tuples(
                st.sampled_from(functions),
                st.lists(inner, max_size=4),
                st.lists(st.tuples(st.sampled_from(keywords), inner), max_size=2),
            ).map(call),
            st.tuples(inner, inner).map(lambda t: f"{t[0]}[{t[1]}]"),
            st.tuples(inner, st.sampled_from(slices)).map(lambda t: f"{t[0]}[{t[1]}]"),
            inner.map(lambda e: f"{e}.T"),
            st.lists(inner, min_size=1, max_size=3).map(lambda es: "(" + ", ".join(es) + ",)"),
            st.tuples(inner, inner, inner).map(lambda t: f"({t[0]} < {t[1]} <= {t[2]})"),
            st.tuples(inner, st.integers(1, 8)).map(lambda t: "(" * t[1] + t[0] + ") ** 64" * t[1]),
        ]
        if hostile:
            parts += [
                inner.map(lambda e: f"{e}.__class__"),
                inner.map(lambda e: f"lambda: {e}"),
                inner.map(lambda e: f"[{e} for _ in x]"),
                st.tuples(inner, inner).map(lambda t: f"({t[0]} if {t[1]} else {t[0]})"),
            ]
        return st.one_of(parts)

    return st.recursive(leaf, compound, max_leaves=10)


WELL_FORMED = grammar(
    st.one_of(st.sampled_from(SCOPE), SMALL),
    ALLOWED_OPERATORS,
    list(FUNCTIONS),
    ALLOWED_KEYWORDS,
    [":", "::-1", "1:", ":, 0", "0, 0", "-1", "B", ":B"],
    hostile=False,
)
HOSTILE = grammar(
    st.one_of(
        st.sampled_from(NAMES),
        st.sampled_from(NUMBERS),
        st.integers(-(2**70), 2**70).map(str),
        st.floats(allow_nan=False, allow_infinity=False).map(repr),
        st.sampled_from(JUNK_LEAVES),
    ),
    OPERATORS,
    FUNCTION_NAMES,
    KEYWORDS,
    SLICES,
    hostile=True,
)
JUNK = st.text(st.sampled_from(list("()[]{}+-*/@=<>!.,:;'\"x1 _\\#\n\t\x00é")), max_size=40)
SOURCE = st.one_of(
    WELL_FORMED,
    WELL_FORMED,
    HOSTILE,
    JUNK,
    st.tuples(WELL_FORMED, JUNK).map("".join),
    st.tuples(st.sampled_from(["-", "(", "x[", "sum(", "x + "]), st.integers(0, 3000)).map(
        lambda t: t[0] * t[1] + "1"
    ),
)


def environment() -> dict[str, object]:
    """What equations see: float, int and index arrays, and dimension sizes."""
    return {
        "x": np.arange(6.0).reshape(2, 3) - 2.5,
        "v": np.array([1.0, -2.0, 3.0]),
        "i": np.array([[0, 1], [1, 0]]),
        "B": 2,
        "n": np.int64(3),
    }


def outcome(source: str) -> object:
    """The value of ``y = <source>``, or an ExpressionError; anything else fails the test."""
    env = environment()
    given_arrays = {k: v.copy() for k, v in env.items() if isinstance(v, np.ndarray)}
    try:
        statement = parse_statement(f"y = {source}", where="equations[0]")
        with np.errstate(all="ignore"):
            value = Interpreter(FUNCTIONS, {}).execute([statement], env)["y"]
    except ExpressionError as exc:
        value = exc
    for name, array in given_arrays.items():
        np.testing.assert_array_equal(env[name], array, err_msg=f"{source!r} wrote into {name}")
    return value


@settings(max_examples=200, deadline=1000)
@given(source=SOURCE)
def test_any_expression_is_a_value_or_an_expression_error(source: str) -> None:
    tracemalloc.start()
    try:
        outcome(source)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < MEGABYTES * 2**20


PAST_CRASHES = [
    # (source, what the error says) for expressions that once crashed, hung or wrote
    pytest.param("((((((2 ** 64) ** 64) ** 64) ** 64) ** 64) ** 64)", "would be an integer",
                 id="power-tower"),
    pytest.param("exp(x, x)", "exp() takes 1 positional argument", id="exp-out-positional"),
    pytest.param("all(x, 0, v)", "TypeError", id="all-out-positional"),
    pytest.param("ones_like(x, shape=(100000, 100000))", "unexpected keyword argument 'shape'",
                 id="ones_like-shape"),
    pytest.param("B.T", "AttributeError", id="attribute-of-int"),
    pytest.param("-" * 3000 + "1", "characters long", id="3000-unary-minus"),
]  # fmt: skip


@pytest.mark.parametrize(("source", "message"), PAST_CRASHES)
def test_past_crashes_of_the_interpreter(source: str, message: str) -> None:
    error = outcome(source)
    assert isinstance(error, ExpressionError)
    assert message in str(error)
