"""The bounds of the equation language: every hostile expression is an ExpressionError that
says what is too large, raised in bounded time and memory; real expressions stay allowed."""

from __future__ import annotations

import time
import tracemalloc

import numpy as np
import pytest

from conformance.errors import ExpressionError
from conformance.lang import bounds
from conformance.lang.bounds import MAX_DEPTH, MAX_NODES, MAX_SOURCE_CHARS
from conformance.lang.functions import FUNCTIONS
from conformance.lang.interpreter import Interpreter
from conformance.lang.parse import parse_expression, parse_statement

SECONDS = 1.0
"""Each hostile expression is refused well within this (the power tower took 100 s)."""
MEGABYTES = 20
"""…and within this much memory (the power tower took 3.6 GB)."""


def run(expression: str) -> object:
    """``y = <expression>`` executed over a small environment; the value of y."""
    statement = parse_statement(f"y = {expression}", where="equations[0]")
    env = {"x": np.ones((2, 3)), "B": 2}
    return Interpreter(FUNCTIONS, {}).execute([statement], env)["y"]


HOSTILE = [
    # the rows of issue 10's table
    pytest.param(
        "0 * ((((((2 ** 64) ** 64) ** 64) ** 64) ** 64) ** 64)",
        "'2 ** 64' would be an integer of at least 64 bits; integers in equations stay below 2**63",
        id="power-tower",
    ),
    pytest.param("1 / 0", "'y = 1 / 0': ZeroDivisionError: division by zero", id="1/0"),
    pytest.param(
        "10.0 ** 400.0",
        "'y = 10.0 ** 400.0': OverflowError: Numerical result out of range",
        id="10.0**400.0",
    ),
    pytest.param(
        "0 ** -1", "ZeroDivisionError: 0.0 cannot be raised to a negative power", id="0**-1"
    ),
    pytest.param("-" * 10000 + "1", "characters long, more than the 2000", id="10000-unary-minus"),
    pytest.param(" + ".join(["1"] * 5000), "characters long, more than the 2000", id="5000-terms"),
    pytest.param("9" * 4000, "characters long, more than the 2000", id="4000-digit-literal"),
    # each bound on its own, below the length limit
    pytest.param("-" * (MAX_DEPTH + 10) + "1", "nests more than 50 levels deep", id="depth"),
    pytest.param(
        "concat(" + ", ".join(["x"] * (MAX_NODES + 100)) + ")", "more than 500 terms", id="terms"
    ),
    pytest.param("9" * 30, "integer literal of 30 digits", id="30-digit-literal"),
    pytest.param("(2 ** 32) ** 2", "would be an integer of at least 64 bits", id="power-of-power"),
    pytest.param("3 ** 39 * 3 ** 39", "is an integer of 124 bits", id="product"),
    pytest.param("-(-9223372036854775807 - 1)", "is an integer of 64 bits", id="negation"),
    # errors of well-formed expressions on the wrong values
    pytest.param("B.T", "AttributeError: 'int' object has no attribute 'T'", id="attribute"),
    pytest.param("x @ x", "ValueError: matmul", id="shapes"),
    pytest.param("x[7]", "IndexError", id="index"),
    pytest.param("exp(x, out=x)", "'out=' argument", id="out-keyword"),
]


@pytest.mark.parametrize(("expression", "message"), HOSTILE)
def test_hostile_expression_is_refused_quickly_in_bounded_memory(expression, message) -> None:
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(ExpressionError) as caught:
            run(expression)
        seconds = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert message in str(caught.value)
    assert seconds < SECONDS
    assert peak < MEGABYTES * 2**20


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        pytest.param("1 ** 1000000", 1, id="large-exponent-small-result"),
        pytest.param("(-1) ** 1000001", -1, id="negative-one"),
        pytest.param("2 ** 62", 2**62, id="int64"),
        pytest.param("-9223372036854775807 - 1", -(2**63), id="int64-min"),
        pytest.param("2.0 ** 64", 2.0**64, id="float-power"),
        pytest.param("2 ** -2000", 2.0**-2000, id="negative-exponent"),
        pytest.param("-" * (MAX_DEPTH - 5) + "1", -1, id="deep-but-allowed"),
    ],
)
def test_bounds_leave_real_expressions_alone(expression, expected) -> None:
    assert run(expression) == expected


def test_errors_name_the_equation_they_come_from() -> None:
    statements = [
        parse_statement("a = x + 1"),
        parse_statement("y = a / 0 + 1 / 0"),
    ]
    with pytest.raises(ExpressionError) as caught:
        Interpreter(FUNCTIONS, {}).execute(statements, {"x": 1})
    assert caught.value.where.field == "equations[1]"
    assert caught.value.problem.startswith("'y = a / 0 + 1 / 0': ZeroDivisionError")


def test_the_length_bound_is_on_characters_of_the_source() -> None:
    args = ", ".join(["abcdefghi"] * 150)  # 151 nodes: within the other bounds
    source = f"concat({args})".ljust(MAX_SOURCE_CHARS)
    assert len(source) == MAX_SOURCE_CHARS
    parse_expression(source)
    with pytest.raises(ExpressionError, match="2001 characters long, more than the 2000"):
        parse_expression(source + " ")


def test_arrays_an_equation_computes_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bounds, "MAX_ARRAY_ELEMENTS", 10_000)  # 10**7 in earnest; same code
    interpreter = Interpreter(FUNCTIONS, {})
    outer = [parse_statement("y = swapaxes(stack((x,)), 0, 1) @ stack((x,))")]
    assert interpreter.execute(outer, {"x": np.ones(100)})["y"].shape == (100, 100)
    with pytest.raises(ExpressionError, match=r"gives an array of 10201 elements \(101, 101\)"):
        interpreter.execute(outer, {"x": np.ones(101)})
    doubling = [parse_statement(f"x = concat({', '.join(['x'] * 10)})") for _ in range(5)]
    with pytest.raises(ExpressionError) as caught:  # 100, 1000, 10000, then 100000 elements
        interpreter.execute(doubling, {"x": np.ones(10)})
    assert caught.value.where.field == "equations[3]"
    assert "gives an array of 100000 elements" in str(caught.value)
