"""Hostile result files: binary, deeply nested, or valid JSON with any field replaced. Each is
read back as a result set that renders in every format, or refused with a ResultFileError
naming the file (and the field); never a raw exception."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance.errors import ResultFileError
from conformance.report import FORMATS, render
from conformance.results.files import dumps, parse_results, read_results


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "byte 0x89 at offset 0", id="binary"),
        pytest.param(b"[" * 100000 + b"]" * 100000, "JSON nested too deeply", id="100000-deep"),
        pytest.param(b'{"a": ' * 100000 + b"1" + b"}" * 100000, "nested too deeply", id="objects"),
        pytest.param(b'{"schema": ' + b"9" * 5000 + b"}", "not JSON", id="5000-digit-number"),
        pytest.param(b"", "not JSON", id="empty"),
        pytest.param(b"\xef\xbb\xbf{}", "not JSON", id="byte-order-mark"),
    ],
)
def test_unreadable_result_file_is_one_error_naming_the_file(
    tmp_path: Path, content: bytes, problem: str
) -> None:
    path = tmp_path / "x.json"
    path.write_bytes(content)
    with pytest.raises(ResultFileError) as caught:
        read_results(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert problem in str(caught.value)


def valid_document(make_result, make_result_set) -> dict[str, Any]:
    """A result file's JSON with a pass and a failure carrying every optional field."""
    failure = make_result(
        "broken", status="fail", message="f[1, 3] is off", inputs_file="r.inputs/a.npz",
        rerun="conformance run --backend broken", time_step=2, extra={"k": [1, 2]},
    )  # fmt: skip
    return json.loads(dumps(make_result_set(make_result(), failure).to_json()))


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)


def mutate(document: Any, data: st.DataObject) -> Any:
    """``document`` with one value somewhere in it replaced by random JSON, or removed."""
    document = copy.deepcopy(document)
    parent: Any = None
    key: Any = None
    node = document
    deeper = st.integers(0, 9).map(lambda n: n < 8)  # down one more level 80% of the time
    while isinstance(node, dict | list) and node and data.draw(deeper, label="descend"):
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        parent, key = node, data.draw(st.sampled_from(keys), label="key")
        node = node[key]
    if parent is None:
        return data.draw(JSON, label="document")
    if isinstance(parent, dict) and data.draw(st.booleans(), label="delete"):
        del parent[key]
    else:
        parent[key] = data.draw(JSON, label="value")
    return document


@settings(
    max_examples=200, deadline=2000, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_mutated_result_file_is_read_and_rendered_or_refused(
    make_result, make_result_set, data: st.DataObject
) -> None:
    document = mutate(valid_document(make_result, make_result_set), data)
    try:
        results = parse_results(document, "fuzz.json")
    except ResultFileError as exc:
        assert str(exc).startswith("fuzz.json: ")
        return
    for fmt in FORMATS:
        assert render(results, fmt, base_dir=Path("/nonexistent"))


PAST_CRASHES = [
    pytest.param(("results", 1, "tolerance", {"atol": None}), id="tolerance-null"),
    pytest.param(("results", 1, "max_abs", 10**400), id="400-digit-float"),
    pytest.param(("runs", 0, "selection", {"backends": True}), id="selection-of-bool"),
    pytest.param(("runs", 0, "selection", [["a", "b", "c"]]), id="selection-a-list"),
    pytest.param(("runs", 0, "environment", {"extra": "text"}), id="environment-extra-text"),
]
"""The corpus: mutations that once escaped the reader or the renderers as raw errors."""


@pytest.mark.parametrize("mutation", PAST_CRASHES)
def test_past_crashes_of_the_result_reader(make_result, make_result_set, mutation) -> None:
    *path, value = mutation
    document = valid_document(make_result, make_result_set)
    node = document
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    try:
        results = parse_results(document, "past.json")
    except ResultFileError as exc:
        assert str(exc).startswith(f"past.json: {path[0]}")
        return
    for fmt in FORMATS:
        assert render(results, fmt)
