"""Hostile spec files: each is a SpecError naming the file, the spec and the field, raised
while loading in bounded time, never a raw exception or a crash of the checks later."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from conformance.errors import SpecError
from conformance.oracle.verify import load_checked_catalog
from conformance.spec.cases import MAX_ELEMENTS
from conformance.spec.loader import load_catalog

EQUATION = "y = sigmoid(x @ W.T + b)"

ROWS = [
    # (old fragment, new fragment, field the error names, words of the problem)
    pytest.param(
        EQUATION,
        EQUATION + " + 0 * ((((((2 ** 64) ** 64) ** 64) ** 64) ** 64) ** 64)",
        "spec 'mini.gate': equations[0]",
        "'2 ** 64' would be an integer of at least 64 bits",
        id="power-tower",
    ),
    pytest.param(
        EQUATION,
        EQUATION + " + 1 / 0",
        "spec 'mini.gate': equations[0]",
        "ZeroDivisionError: division by zero",
        id="1/0",
    ),
    pytest.param(
        EQUATION,
        EQUATION + " + 10.0 ** 400.0",
        "spec 'mini.gate': equations[0]",
        "OverflowError: Numerical result out of range",
        id="10.0**400.0",
    ),
    pytest.param(
        EQUATION,
        EQUATION + " + 0 ** -1",
        "spec 'mini.gate': equations[0]",
        "ZeroDivisionError: 0.0 cannot be raised",
        id="0**-1",
    ),
    pytest.param(
        EQUATION,
        EQUATION + " + " + "-" * 10000 + "1",
        "spec 'mini.gate': equations[0]",
        "characters long, more than the 2000 allowed",
        id="10000-unary-minus",
    ),
    pytest.param(
        EQUATION,
        EQUATION + " + " + " + ".join(["0"] * 5000),
        "spec 'mini.gate': equations[0]",
        "characters long, more than the 2000 allowed",
        id="5000-terms",
    ),
    pytest.param(
        EQUATION,
        EQUATION + " + 0 * " + "9" * 4000,
        "spec 'mini.gate': equations[0]",
        "characters long, more than the 2000 allowed",
        id="4000-digit-literal",
    ),
    pytest.param(
        EQUATION,
        EQUATION + " + 0 * " + "9" * 40,
        "spec 'mini.gate': equations[0]",
        "integer literal of 40 digits",
        id="40-digit-literal",
    ),
    pytest.param(
        "{ B = 2, D = 3, H = 4 }",
        "{ B = 100000, D = 100000, H = 4 }",
        "spec 'mini.gate'.sizes[0]",
        f"x would have 10000000000 elements (100000 × 100000) at B=100000, D=100000, H=4; "
        f"an array has at most {MAX_ELEMENTS}",
        id="1e5x1e5-array",
    ),
    pytest.param(
        "{ B = 2, D = 3, H = 4 }",
        "{ B = 2, D = 3, H = 4000000000 }",
        "spec 'mini.gate'.sizes[0]",
        "H = 4000000000 is larger than an array may be",
        id="huge-dimension",
    ),
    pytest.param(
        'x = { shape = ["B", "D"]',
        'x = { shape = ["B", "D - 10"]',
        "spec 'mini.gate'.sizes[0]",
        "x.shape[1] = 'D - 10' is -7 at B=2, D=3, H=4; a dimension must be a whole number >= 0",
        id="negative-shape",
    ),
    pytest.param(
        'x = { shape = ["B", "D"]',
        'x = { shape = ["B", "D / 2"]',
        "spec 'mini.gate'.sizes[0]",
        "x.shape[1] = 'D / 2' is 1.5",
        id="fractional-shape",
    ),
    pytest.param(
        'x = { shape = ["B", "D"]',
        'x = { shape = ["B", "D / (B - 2)"]',
        "spec 'mini.gate'.sizes[0]",
        "x.shape[1] = 'D / (B - 2)' fails at B=2, D=3, H=4",
        id="shape-divides-by-zero",
    ),
    pytest.param(
        'domain = "normal(0, 1)"',
        'domain = "uniform(1, 0)"',
        "spec 'mini.gate'.sizes[0]",
        "cannot draw x from 'uniform(1, 0)' at B=2, D=3, H=4",
        id="uniform(1,0)",
    ),
    pytest.param(
        'domain = "normal(0, 1)"',
        'domain = "normal(0, -1)"',
        "spec 'mini.gate'.sizes[0]",
        "normal(0, -1): std must be >= 0",
        id="negative-std",
    ),
    pytest.param(
        'stability = { x = "extreme(1000)" }',
        'stability = { x = "extreme(-5)" }',
        "spec 'mini.gate'.stability",
        "extreme(-5): scale must be > 0",
        id="stability-domain",
    ),
]


@pytest.mark.parametrize(("old", "new", "field", "problem"), ROWS)
def test_hostile_spec_is_a_spec_error_naming_file_spec_and_field(
    tmp_path: Path, make_spec_text, old, new, field, problem
) -> None:
    path = tmp_path / "hostile.toml"
    path.write_text(make_spec_text(old, new), encoding="utf-8")
    start = time.perf_counter()
    with pytest.raises(SpecError) as caught:
        load_checked_catalog([path])
    assert time.perf_counter() - start < 5
    message = str(caught.value)
    assert caught.value.file.endswith("hostile.toml")
    assert f"hostile.toml: {field}: " in message
    assert problem in message


def test_spec_file_not_in_utf8_is_named_with_the_byte_and_line(tmp_path: Path, make_spec_text):
    path = tmp_path / "latin1.toml"
    text = make_spec_text('"A minimal family"', '"A mínimal family"')
    path.write_bytes(text.encode("latin-1"))
    with pytest.raises(SpecError, match=r"latin1.toml: not UTF-8: byte 0xed on line 3"):
        load_catalog([path])


@pytest.mark.parametrize(
    "nesting", ["[" * 100000 + "]" * 100000, "{ a = " * 5000 + "1" + "}" * 5000], ids=["[", "{"]
)
def test_spec_file_nested_too_deeply_is_a_spec_error(tmp_path: Path, nesting: str) -> None:
    path = tmp_path / "deep.toml"
    path.write_text(f"deep = {nesting}\n", encoding="utf-8")
    with pytest.raises(SpecError, match=r"deep\.toml: not valid TOML: arrays or tables nested too"):
        load_catalog([path])


def test_every_declared_size_is_checked_not_only_the_first(tmp_path: Path, make_spec_text):
    sizes = "[{ B = 2, D = 3, H = 4 }, { B = 2, D = 12, H = 4 }]"
    text = make_spec_text("[{ B = 2, D = 3, H = 4 }]", sizes)
    path = tmp_path / "second.toml"
    path.write_text(text.replace('shape = ["B", "D"]', 'shape = ["B", "11 - D"]'), "utf-8")
    with pytest.raises(SpecError, match=r"sizes\[1\]: x.shape\[1\] = '11 - D' is -1 at B=2, D=12"):
        load_catalog([path])
