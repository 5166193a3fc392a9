"""Fuzzing the loader: random spec files, well-formed TOML with any value replaced, removed
or added, and text that is not TOML at all. Every outcome is a loaded catalog or a SpecError
naming the file, within a deadline; never a raw exception."""

from __future__ import annotations

import copy
import json
import math
import tomllib
from pathlib import Path
from typing import Any

import pytest
from conftest import SPEC_TEMPLATE
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.errors import SpecError
from conformance.oracle.verify import load_checked_catalog

KEYS = [
    "family", "defaults", "symbols", "spec", "id", "title", "source", "sizes", "tolerance",
    "gradient_tolerance", "float32", "float64", "atol", "rtol", "shape", "role", "kind",
    "domain", "meaning", "next", "inputs", "outputs", "equations", "invariants",
    "differentiable", "stability", "chunking", "carry", "stacked", "reversal", "x", "W", "b",
    "y", "h", "B", "D", "H", "T", "junk",
]  # fmt: skip
STRINGS = [
    "y = sigmoid(x @ W.T + b)", "y = x", "y = 1 / 0", "y = 2 ** 64 ** 64", "y = mini.gate(x=x)",
    "y = scan(mini.gate)", "y, z = x", "y = exp(x, x)", "0 <= y <= 1", "y >= 1e9", "y + 1",
    "allclose(y, y)", "normal(0, 1)", "uniform(1, 0)", "extreme(1000)", "extreme(-1)",
    "integers(0, 2)", "cycle(0, 0)", "binary_tree()", "normal(0, 1e308)", "B", "D - 10",
    "H + D", "B * B * B * B", "D / 2", "T", "-1", "input", "state", "parameter", "output",
    "float", "int", "x", "W", "b", "y", "mini.gate", "mini.other", "lstm.cell", "mini",
    "flip(x)", "__import__('os')", "", "é", "\x00",
]  # fmt: skip

TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)  # TOML has no surrogates
TOML_VALUE = st.recursive(
    st.one_of(
        st.sampled_from(STRINGS),
        TEXT,
        st.integers(-(2**63), 2**63 - 1),
        st.sampled_from([0, 1, 2, 100000, 10**12]),
        st.floats(),
        st.booleans(),
    ),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(KEYS) | TEXT, inner, max_size=3)
    ),
    max_leaves=10,
)


def toml_value(value: Any) -> str:
    """``value`` written as TOML (strings in JSON's escapes, which TOML shares)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return repr(value) if math.isfinite(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return "{ " + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + " }"


def toml_document(document: dict[str, Any]) -> str:
    return "".join(f"{json.dumps(key)} = {toml_value(value)}\n" for key, value in document.items())


def mutate(document: Any, data: st.DataObject) -> Any:
    """``document`` with one value somewhere replaced, removed, or a key added."""
    document = copy.deepcopy(document)
    node = document
    deeper = st.integers(0, 9).map(lambda n: n < 8)
    while True:
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        key = data.draw(st.sampled_from(keys), label="key") if keys else None
        child = node[key] if keys else None
        if isinstance(child, dict | list) and child and data.draw(deeper, label="descend"):
            node = child
            continue
        action = data.draw(st.sampled_from(["replace", "remove", "add"]), label="action")
        if action == "add" and isinstance(node, dict):
            node[data.draw(st.sampled_from(KEYS), label="new key")] = data.draw(TOML_VALUE)
        elif action == "remove" and key is not None:
            del node[key]
        elif key is not None:
            node[key] = data.draw(TOML_VALUE, label="value")
        return document


@pytest.fixture(scope="module")
def spec_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where each example's spec file is written (one file, rewritten each time)."""
    return tmp_path_factory.mktemp("fuzz") / "fuzz.toml"


def outcome(text: str | bytes, path: Path) -> str:
    """Load ``text`` as the spec file ``path``: ``"loaded"``, or the SpecError's message."""
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    try:
        load_checked_catalog([path])
    except SpecError as exc:
        assert exc.file.endswith("fuzz.toml")
        return str(exc)
    return "loaded"


@settings(max_examples=200, deadline=2000)
@given(data=st.data())
def test_any_spec_with_a_value_changed_loads_or_is_a_spec_error(spec_file, data) -> None:
    document = mutate(tomllib.loads(SPEC_TEMPLATE), data)
    outcome(toml_document(document), spec_file)


@settings(max_examples=100, deadline=2000)
@given(
    start=st.integers(0, len(SPEC_TEMPLATE)),
    length=st.integers(0, 40),
    junk=st.text(st.sampled_from(list("[]{}=\"'.,#\n x1-é\\")), max_size=10)
    | st.binary(max_size=6),
)
def test_any_spec_text_with_a_slice_replaced_loads_or_is_a_spec_error(
    spec_file, start, length, junk
) -> None:
    raw = SPEC_TEMPLATE.encode()
    insert = junk if isinstance(junk, bytes) else junk.encode()
    outcome(raw[:start] + insert + raw[start + length :], spec_file)


PAST_CRASHES = [
    # (where in the template, the value put there, what the error says): each once raised a
    # raw AttributeError or TypeError, found by the fuzzing above or by issue 10
    pytest.param(("defaults",), [0], "defaults: should be a table, got list", id="defaults-list"),
    pytest.param(("defaults",), [{"a": 1}], "should be a table", id="defaults-list-of-tables"),
    pytest.param(("symbols",), "y = x", "symbols: should be a table, got str", id="symbols-str"),
    pytest.param(("symbols", "x", "next"), 5, "next = 5 should be a string", id="next-int"),
    pytest.param(("spec", 0, "symbols"), [1], "'mini.gate'.symbols: should be a table",
                 id="spec-symbols-list"),
    pytest.param(("symbols", "x", "shape"), ["B", "D - 10"], "is -7", id="negative-shape"),
    pytest.param(("symbols", "x", "domain"), "uniform(1, 0)", "low > high", id="uniform(1,0)"),
    pytest.param(("defaults", "sizes"), [{"B": 100000, "D": 100000, "H": 4}],
                 "10000000000 elements", id="1e5x1e5"),
    pytest.param(("spec", 0, "equations"), ["y = sigmoid(x @ W.T + b) + 1 / 0"],
                 "ZeroDivisionError", id="1/0"),
]  # fmt: skip


@pytest.mark.parametrize(("path", "value", "message"), PAST_CRASHES)
def test_past_crashes_of_the_loader(spec_file: Path, path: tuple, value: Any, message: str):
    document = tomllib.loads(SPEC_TEMPLATE)
    node = document
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    assert message in outcome(toml_document(document), spec_file)
