"""Result files written as results come: valid JSON after every result, final at the end."""

from __future__ import annotations

import json

from conformance.report import render
from conformance.results.files import dumps, read_results
from conformance.results.stream import ResultStream


def test_the_streamed_file_is_valid_json_after_every_result(tmp_path, make_result, make_result_set):
    path = tmp_path / "deep" / "r.json"
    base = make_result_set()
    run = base.runs["run-a"]
    stream = ResultStream(path, type(run)(**{**vars(run), "planned": 3, "state": "running"}), {})
    assert json.loads(path.read_text())["results"] == []
    for i, backend in enumerate(["a", "b", "c"]):
        stream.append(make_result(backend))
        document = json.loads(path.read_text(encoding="utf-8"))
        assert [r["backend"] for r in document["results"]] == ["a", "b", "c"][: i + 1]
    results = read_results(path)
    assert results.runs["run-a"].state == "running"
    assert "incomplete: cut short (the harness crashed or was killed) after 3 of 3 checks" in (
        render(results, "terminal")
    )


def test_finish_writes_the_final_file_exactly_as_write_results_would(
    tmp_path, make_result, make_result_set
):
    path = tmp_path / "r.json"
    final = make_result_set(make_result("a"), make_result("b"))
    stream = ResultStream(path, final.runs["run-a"], final.specs)
    for result in final.results:
        stream.append(result)
    streamed = path.read_text(encoding="utf-8")
    stream.finish(final)
    assert path.read_text(encoding="utf-8") == dumps(final.to_json()) == streamed
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]  # no temporary left behind


def test_an_incomplete_run_says_how_far_it_got(make_result, make_result_set):
    results = make_result_set(make_result("a"), make_result("b"))
    run = results.runs["run-a"]
    assert run.incomplete(2) == ""
    stopped = type(run)(**{**vars(run), "planned": 1242, "state": "interrupted"})
    assert stopped.incomplete(312) == "incomplete: interrupted after 312 of 1242 checks"
    results.runs["run-a"] = stopped
    assert "no failure so far — incomplete: interrupted after 2 of 1242" in render(
        results, "markdown"
    )
