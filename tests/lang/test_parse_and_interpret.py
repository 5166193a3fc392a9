"""The equation language: the interpreter op by op against NumPy, and every rejected construct."""

from __future__ import annotations

import operator
import re
from typing import Any

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.errors import ExpressionError
from conformance.lang.functions import FUNCTIONS
from conformance.lang.interpreter import Interpreter
from conformance.lang.parse import (
    called_names,
    free_names,
    parse_expression,
    parse_statement,
    spec_references,
)


def evaluate(source: str, **env: Any) -> Any:
    """``source`` parsed and interpreted with the function table over ``env``."""
    return Interpreter(FUNCTIONS, {}).eval(parse_expression(source), env)


def run(*sources: str, **env: Any) -> dict[str, Any]:
    """The environment after running the equations ``sources`` in order."""
    return Interpreter(FUNCTIONS, {}).execute([parse_statement(s) for s in sources], dict(env))


FINITE = st.floats(-100, 100, allow_nan=False, allow_infinity=False)
POSITIVE = st.floats(0.5, 10, allow_nan=False, allow_infinity=False)
SHAPES = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=5)


@st.composite
def same_shape_pair(draw: st.DrawFn, right: st.SearchStrategy[float] = FINITE) -> tuple:
    shape = draw(SHAPES)
    left_array = draw(hnp.arrays(np.float64, shape, elements=FINITE))
    right_array = draw(hnp.arrays(np.float64, shape, elements=right))
    return left_array, right_array


# --- arithmetic against NumPy ---------------------------------------------------------------

ELEMENTWISE = {
    "a + b": operator.add,
    "a - b": operator.sub,
    "a * b": operator.mul,
}


@pytest.mark.parametrize("source", list(ELEMENTWISE))
@settings(max_examples=25, deadline=None)
@given(pair=same_shape_pair())
def test_interpreter_elementwise_matches_numpy(source: str, pair: tuple) -> None:
    a, b = pair
    np.testing.assert_array_equal(evaluate(source, a=a, b=b), ELEMENTWISE[source](a, b))


@settings(max_examples=25, deadline=None)
@given(pair=same_shape_pair(right=POSITIVE))
def test_interpreter_division_matches_numpy(pair: tuple) -> None:
    a, b = pair
    np.testing.assert_array_equal(evaluate("a / b", a=a, b=b), a / b)


@settings(max_examples=25, deadline=None)
@given(pair=same_shape_pair(right=st.floats(-3, 3)))
def test_interpreter_power_matches_numpy(pair: tuple) -> None:
    base, exponent = np.abs(pair[0]) + 0.5, pair[1]
    np.testing.assert_array_equal(evaluate("a ** b", a=base, b=exponent), base**exponent)


@settings(max_examples=25, deadline=None)
@given(array=hnp.arrays(np.float64, SHAPES, elements=FINITE))
def test_interpreter_unary_minus_and_plus_match_numpy(array: np.ndarray) -> None:
    np.testing.assert_array_equal(evaluate("-a", a=array), -array)
    np.testing.assert_array_equal(evaluate("+a", a=array), array)
    np.testing.assert_array_equal(evaluate("-a + -(-a)", a=array), np.zeros_like(array))


@st.composite
def matmul_operands(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    n, k, m = (draw(st.integers(1, 5)) for _ in range(3))
    a = draw(hnp.arrays(np.float64, (n, k), elements=FINITE))
    b = draw(hnp.arrays(np.float64, (m, k), elements=FINITE))
    return a, b


@settings(max_examples=25, deadline=None)
@given(operands=matmul_operands())
def test_interpreter_matmul_and_transpose_match_numpy(operands: tuple) -> None:
    a, w = operands
    np.testing.assert_array_equal(evaluate("a @ w.T", a=a, w=w), a @ w.T)
    np.testing.assert_array_equal(evaluate("w.T", w=w), w.T)
    np.testing.assert_array_equal(evaluate("(a @ w.T).T", a=a, w=w), (a @ w.T).T)


def test_interpreter_precedence_follows_python() -> None:
    a, b, c = np.array([1.0, 2.0]), np.array([3.0, -1.0]), np.array([2.0, 0.5])
    np.testing.assert_array_equal(evaluate("a + b * c ** 2", a=a, b=b, c=c), a + b * c**2)
    np.testing.assert_array_equal(evaluate("-a ** 2", a=a), -(a**2))
    assert evaluate("2 ** -1") == 0.5


# --- names, subscripts, comparisons, calls ----------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        pytest.param("h[:, :H]", lambda h: h[:, :3], id="first-H-columns"),
        pytest.param("h[:, H:]", lambda h: h[:, 3:], id="columns-after-H"),
        pytest.param("h[:, H:2 * H]", lambda h: h[:, 3:6], id="second-block-of-H"),
        pytest.param("h[0]", lambda h: h[0], id="first-row"),
        pytest.param("h[-1]", lambda h: h[-1], id="last-row"),
        pytest.param("h[::2, 1]", lambda h: h[::2, 1], id="step-and-integer"),
        pytest.param("h[1:, ::-1]", lambda h: h[1:, ::-1], id="reversed-columns"),
    ],
)
def test_interpreter_subscript_with_dimension_names(source: str, expected: Any) -> None:
    h = np.arange(24.0).reshape(3, 8)
    np.testing.assert_array_equal(evaluate(source, h=h, H=3), expected(h))


def test_interpreter_chained_comparison_is_elementwise_and() -> None:
    f = np.array([-0.5, 0.0, 0.25, 1.0, 1.5])
    np.testing.assert_array_equal(evaluate("0 <= f <= 1", f=f), (f >= 0) & (f <= 1))
    np.testing.assert_array_equal(evaluate("0 < f < 1", f=f), (f > 0) & (f < 1))


@pytest.mark.parametrize(
    ("source", "op"),
    [
        ("a < b", operator.lt),
        ("a <= b", operator.le),
        ("a > b", operator.gt),
        ("a >= b", operator.ge),
        ("a == b", operator.eq),
        ("a != b", operator.ne),
    ],
)
def test_interpreter_comparison_matches_numpy(source: str, op: Any) -> None:
    a, b = np.array([1.0, 2.0, 3.0]), np.array([2.0, 2.0, 2.0])
    np.testing.assert_array_equal(evaluate(source, a=a, b=b), op(a, b))


def test_interpreter_and_is_elementwise() -> None:
    a, b = np.array([1.0, -1.0, 1.0, -1.0]), np.array([1.0, 1.0, -1.0, -1.0])
    np.testing.assert_array_equal(evaluate("a > 0 and b > 0", a=a, b=b), (a > 0) & (b > 0))
    assert evaluate("all(a < 2) and all(b < 2)", a=a, b=b)
    assert not evaluate("all(a < 2) and all(b > 0)", a=a, b=b)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        pytest.param("sum(a, axis=0)", lambda a: np.sum(a, axis=0), id="sum-axis0"),
        pytest.param("sum(a, axis=-1)", lambda a: np.sum(a, axis=-1), id="sum-axis-last"),
        pytest.param("mean(a)", np.mean, id="mean"),
        pytest.param("concat(a, a)", lambda a: np.concatenate([a, a], -1), id="concat-default"),
        pytest.param(
            "concat(a, a, axis=0)", lambda a: np.concatenate([a, a], 0), id="concat-axis0"
        ),
        pytest.param("tanh(a) * exp(-a)", lambda a: np.tanh(a) * np.exp(-a), id="nested"),
        pytest.param("swapaxes(a, 0, 1)", lambda a: a.T, id="positional-args"),
    ],
)
def test_interpreter_calls_function_table(source: str, expected: Any) -> None:
    a = np.random.default_rng(0).normal(size=(3, 4))
    np.testing.assert_allclose(evaluate(source, a=a), expected(a), rtol=1e-15)


def test_run_tuple_assignment_binds_each_target() -> None:
    x = np.array([1.0, 2.0])
    env = run("a, b = x + 1, x * 2", "c = a - b", x=x)
    np.testing.assert_array_equal(env["a"], x + 1)
    np.testing.assert_array_equal(env["b"], x * 2)
    np.testing.assert_array_equal(env["c"], (x + 1) - (x * 2))


def test_run_later_equations_see_earlier_targets() -> None:
    env = run("y = x * 2", "z = y + x", "y = z", x=np.float64(3.0))
    assert env["z"] == 9.0
    assert env["y"] == 9.0


def test_run_tuple_assignment_count_mismatch_names_the_equation() -> None:
    with pytest.raises(ExpressionError, match=r"'a, b = x, x, x': 2 targets but 3 values"):
        run("a, b = x, x, x", x=1.0)
    with pytest.raises(ExpressionError, match=r"2 targets but 1 values"):
        run("a, b = x", x=1.0)


def test_run_numpy_failure_names_the_equation() -> None:
    with pytest.raises(ExpressionError, match=r"'y = a @ b'.*mismatch"):
        run("y = a @ b", a=np.ones((2, 3)), b=np.ones((2, 3)))


def test_interpreter_unknown_symbol_suggests_nearest() -> None:
    with pytest.raises(
        ExpressionError, match=r"unknown symbol 'h_prve' \(did you mean 'h_prev'\?\)"
    ):
        evaluate("h_prve + 1", h_prev=1.0)


def test_interpreter_unknown_function_suggests_nearest() -> None:
    with pytest.raises(
        ExpressionError, match=r"unknown function 'sigmod' \(did you mean 'sigmoid'\?\)"
    ):
        evaluate("sigmod(x)", x=1.0)


def test_interpreter_unknown_spec_reference_suggests_nearest() -> None:
    interpreter = Interpreter(FUNCTIONS, {"lstm.forget_gate": lambda **_: 0})
    with pytest.raises(
        ExpressionError,
        match=r"unknown spec 'lstm.forgetgate' \(did you mean 'lstm.forget_gate'\?\)",
    ):
        interpreter.eval(parse_expression("lstm.forgetgate()"), {})


def test_interpreter_other_attribute_is_not_evaluated() -> None:
    # `.real` passes the parser (no underscore) but is only ever looked up as a spec id.
    with pytest.raises(ExpressionError, match=r"unknown spec 'x.real'"):
        evaluate("x.real", x=np.array([1.0]))


# --- static analysis used by the loader -------------------------------------------------------


def test_free_names_skips_call_targets_and_spec_ids() -> None:
    node = parse_expression("sigmoid(concat(h_prev, x) @ W_f.T + b_f) + lstm.cell(x=y)[0]")
    assert free_names(node) == {"h_prev", "x", "W_f", "b_f", "y"}


def test_called_names_and_spec_references() -> None:
    node = parse_statement("hs, h_T = scan(rnn.step, x=flip(xs, axis=0), h_prev=h_0)").expr
    assert sorted(name for name, _ in called_names(node)) == ["flip", "scan"]
    assert spec_references(node) == {"rnn.step"}
    assert spec_references(parse_expression("a.T @ b")) == set()


# --- rejected constructs ----------------------------------------------------------------------

REJECTED = [
    pytest.param("__import__('os')", r"dunder name '__import__'", id="dunder-import"),
    pytest.param("x.__class__", r"attribute '__class__'.*only \.T is allowed", id="dunder-attr"),
    pytest.param("x._private", r"attribute '_private'", id="private-attr"),
    pytest.param("lambda: 1", r"lambda is not allowed", id="lambda"),
    pytest.param("[y for y in x]", r"list comprehension is not allowed", id="list-comp"),
    pytest.param("{y: y for y in x}", r"dict comprehension is not allowed", id="dict-comp"),
    pytest.param("{y for y in x}", r"set comprehension is not allowed", id="set-comp"),
    pytest.param("sum(y for y in x)", r"generator expression is not allowed", id="generator"),
    pytest.param("a if c else b", r"conditional expression is not allowed", id="if-expression"),
    pytest.param("(y := x)", r"assignment expression \(:=\) is not allowed", id="walrus"),
    pytest.param("f'{x}'", r"f-string is not allowed", id="f-string"),
    pytest.param("'abc'", r"constant 'abc'.*\(only numbers", id="string-constant"),
    pytest.param("x + 'abc'", r"constant 'abc'", id="string-in-binop"),
    pytest.param("None", r"constant None", id="none-constant"),
    pytest.param("a or b", r"'or' in '(y = )?a or b' \(only 'and'\)", id="or"),
    pytest.param("not a", r"operator Not", id="not"),
    pytest.param("~a", r"operator Invert", id="invert"),
    pytest.param("a // b", r"operator FloorDiv", id="floordiv"),
    pytest.param("a % b", r"operator Mod", id="mod"),
    pytest.param("a & b", r"operator BitAnd", id="bitand"),
    pytest.param("a in b", r"comparison 'a in b'", id="in"),
    pytest.param("a is b", r"comparison 'a is b'", id="is"),
    pytest.param("sum(**kwargs)", r"'\*\*' argument", id="double-star-kwargs"),
    pytest.param("sum(*args)", r"starred argument is not allowed", id="starred-args"),
    pytest.param("[a, b]", r"List is not allowed", id="list-display"),
    pytest.param("{'k': a}", r"constant 'k'|Dict is not allowed", id="dict-display"),
]


@pytest.mark.parametrize(("source", "message"), REJECTED)
def test_parse_expression_rejects_construct(source: str, message: str) -> None:
    with pytest.raises(ExpressionError, match=message):
        parse_expression(source)


@pytest.mark.parametrize(("source", "message"), REJECTED)
def test_parse_statement_rejects_construct_on_right_side(source: str, message: str) -> None:
    with pytest.raises(ExpressionError, match=message):
        parse_statement(f"y = {source}")


@pytest.mark.parametrize(
    ("source", "message"),
    [
        pytest.param("import os", r"'import os' is not an assignment", id="import"),
        pytest.param("x += 1", r"'x \+= 1' is not an assignment", id="augmented"),
        pytest.param("x: int = 1", r"is not an assignment", id="annotated"),
        pytest.param(
            "sigmoid(x)", r"is not an assignment \(write 'name = expression'\)", id="bare"
        ),
        pytest.param("a = 1\nb = 2", r"is not an assignment", id="two-statements"),
        pytest.param("def f(): pass", r"is not an assignment", id="def"),
        pytest.param("a = b = x", r"chained assignment", id="chained"),
        pytest.param("x.a = 1", r"cannot assign to 'x.a'.*targets are plain names", id="attribute"),
        pytest.param("x[0] = 1", r"cannot assign to 'x\[0\]'", id="subscript"),
        pytest.param("a, x[0] = 1, 2", r"cannot assign to '\(a, x\[0\]\)'", id="tuple-subscript"),
        pytest.param("a, *b = x", r"cannot assign to", id="starred-target"),
        pytest.param("y = (", r"cannot parse 'y = \(':.*equations use Python syntax", id="syntax"),
    ],
)
def test_parse_statement_rejects_non_assignment(source: str, message: str) -> None:
    with pytest.raises(ExpressionError, match=message):
        parse_statement(source)


def test_parse_rejects_non_string_source_naming_the_field() -> None:
    with pytest.raises(ExpressionError, match=r"equations\[0\]: expected a string, got 3"):
        parse_statement(3, where="equations[0]")  # type: ignore[arg-type]


def test_parse_error_names_the_field() -> None:
    with pytest.raises(ExpressionError, match=re.escape("spec 'a.b': equations[2]: lambda")):
        parse_statement("y = lambda: 0", where="spec 'a.b': equations[2]")


@pytest.mark.parametrize(
    "source",
    [
        "().__class__",
        "().__class__.__bases__[0].__subclasses__()",
        "x.__class__.__init__.__globals__",
        "__builtins__",
        "open('/etc/passwd')",
        "(lambda: __import__('os').system('true'))()",
    ],
)
def test_parse_rejects_escape_attempts_before_anything_runs(source: str) -> None:
    with pytest.raises(ExpressionError):
        parse_statement(f"y = {source}")


def test_interpreter_never_calls_outside_the_function_table(tmp_path) -> None:
    # Even a tree that skipped the parser's checks reaches no builtin: a call resolves
    # only through the function table, an attribute only through spec ids.
    import ast

    marker = tmp_path / "ran"
    for source in (
        f"__import__('pathlib').Path('{marker}').touch()",
        f"open('{marker}', 'w')",
        "x.__class__",
    ):
        node = ast.parse(source, mode="eval").body
        with pytest.raises(ExpressionError):
            Interpreter(FUNCTIONS, {}).eval(node, {"x": np.zeros(2)})
    assert not marker.exists()


def test_interpreter_rejects_node_outside_language_even_if_unchecked() -> None:
    # A tree that skipped the parser's check still cannot run: eval has no case for it.
    import ast

    node = ast.parse("[x for x in y]", mode="eval").body
    with pytest.raises(ExpressionError, match=r"list comprehension is not allowed"):
        Interpreter(FUNCTIONS, {}).eval(node, {"y": [1]})


def test_interpreter_passes_boolean_flags_through() -> None:
    a = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(evaluate("max(a, axis=-1, keepdims=True)", a=a), [[2.0], [5.0]])
    assert evaluate("True") is True
