"""Result files: JSON round trip, strict JSON, validation errors, and merging."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import pytest

from conformance.report.model import build_report
from conformance.results.environment import Environment, collect_environment, machine_label
from conformance.results.files import (
    SCHEMA,
    ResultFileError,
    load_results,
    merge,
    read_results,
    write_results,
)
from conformance.results.model import Status


def test_result_file_round_trip_keeps_every_field(tmp_path, make_result, make_result_set):
    original = make_result_set(
        make_result(),
        make_result(
            "fused-gate",
            status=Status.FAIL,
            tol_fraction=math.inf,
            max_abs=math.nan,
            message="f[0, 1] = nan, but should be 0.5",
            time_step=3,
            rerun="conformance run --backend fused-gate",
            extra={"note": "x"},
        ),
    )
    path = write_results(tmp_path / "r.json", original)
    loaded = read_results(path)
    assert loaded.runs == original.runs
    assert loaded.specs == original.specs
    a, b = loaded.results
    assert a == original.results[0]
    assert b.status is Status.FAIL and b.tol_fraction == math.inf and math.isnan(b.max_abs)
    assert (b.time_step, b.rerun, b.extra) == (
        3,
        "conformance run --backend fused-gate",
        {"note": "x"},
    )


def test_result_file_is_strict_json_with_a_schema(tmp_path, make_result, make_result_set):
    path = write_results(tmp_path / "r.json", make_result_set(make_result(tol_fraction=math.inf)))
    text = path.read_text()
    data = json.loads(text, parse_constant=lambda c: pytest.fail(f"non-standard JSON {c}"))
    assert data["schema"] == SCHEMA == "conformance-results/1"
    assert data["results"][0]["tol_fraction"] == "inf"
    assert data["runs"][0]["environment"]["machine"] == "cpu-box"


def test_result_file_stores_inputs_relative_to_itself(tmp_path, make_result, make_result_set):
    npz = tmp_path / "r.inputs" / "x.npz"
    path = write_results(tmp_path / "r.json", make_result_set(make_result(inputs_file=str(npz))))
    assert json.loads(path.read_text())["results"][0]["inputs_file"] == "r.inputs/x.npz"
    assert read_results(path).results[0].inputs_file == str(npz.resolve())


def test_merge_of_runs_with_different_backends_gives_one_matrix(
    tmp_path, make_result, make_result_set
):
    first = write_results(
        tmp_path / "a.json", make_result_set(make_result("numpy-loops"), run="run-a")
    )
    second = write_results(
        tmp_path / "b.json", make_result_set(make_result("fused-gate", run="run-b"), run="run-b")
    )
    merged = load_results([first, second])
    report = build_report(merged)
    assert [c.label for c in report.columns] == ["numpy-loops", "fused-gate"]
    (family,) = report.families
    (row,) = family.rows
    assert set(row.cells) == {"numpy-loops", "fused-gate"}
    assert set(merged.runs) == {"run-a", "run-b"}


def test_merge_keeps_the_latest_run_for_the_same_key(make_result, make_result_set):
    old = make_result_set(
        make_result(status=Status.FAIL, tol_fraction=9.0), started="2026-01-01T00:00:00+00:00"
    )
    new = make_result_set(
        make_result(run="run-b", tol_fraction=0.2), run="run-b", started="2026-02-01T00:00:00+00:00"
    )
    for order in ([old, new], [new, old]):
        merged = merge(order)
        assert [(r.status, r.tol_fraction) for r in merged.results] == [(Status.PASS, 0.2)]
        assert set(merged.runs) == {"run-b"}  # the superseded run is dropped


def test_merge_of_equal_start_times_keeps_the_later_file_in_first_seen_order(
    make_result, make_result_set
):
    first = make_result_set(make_result(tol_fraction=0.5), make_result("fused-gate"))
    second = make_result_set(make_result(tol_fraction=0.3))  # same run, same start
    merged = merge([first, second])
    assert [(r.backend, r.tol_fraction) for r in merged.results] == [
        ("numpy-loops", 0.3),  # replaced, but still where its key first appeared
        ("fused-gate", 0.1),
    ]


def test_results_read_from_many_files_share_their_repeated_strings(
    tmp_path, make_result, make_result_set
):
    rerun = "conformance run --backend numpy-loops --spec lstm.forget_gate --seed 0"
    paths = [
        write_results(tmp_path / f"{i}.json", make_result_set(make_result(rerun=rerun)))
        for i in range(2)
    ]
    a, b = (read_results(p).results[0] for p in paths)
    assert a.rerun == b.rerun == rerun and a.rerun is b.rerun and a.spec is b.spec


def test_merge_keeps_machines_apart(make_result, make_result_set):
    cpu = make_result_set(make_result())
    gpu = make_result_set(
        make_result(machine="gpu-box", run="run-g"), run="run-g", machine="gpu-box"
    )
    merged = merge([cpu, gpu])
    assert len(merged.results) == 2
    labels = [c.label for c in build_report(merged).columns]
    assert labels == ["numpy-loops@cpu-box", "numpy-loops@gpu-box"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", r"bad\.json: not JSON: Expecting property name"),
        ("[]", r"bad\.json: expected a JSON object, got list"),
        ('{"schema": "other/1"}', r"bad\.json: schema: 'other/1' is not a conformance result"),
        (
            '{"schema": "conformance-results/2"}',
            r"schema: unsupported version 'conformance-results/2'",
        ),
        (
            '{"schema": "conformance-results/1", "results": 3}',
            r"bad\.json: results: expected a list, got int",
        ),
    ],
)
def test_read_results_errors_name_the_file_and_field(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(ResultFileError, match=message):
        read_results(path)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("status", "passed", r"results\[0\]\.status: 'passed' is not one of pass, fail"),
        ("max_abs", "big", r"results\[0\]\.max_abs: expected a number, got 'big'"),
        ("spec", None, r"results\[0\]\.spec: expected a non-empty string, got None"),
        ("sizes", {"B": 1.5}, r"results\[0\]\.sizes\.B: expected an integer, got 1\.5"),
        ("run", "nowhere", r"results\[0\]\.run: 'nowhere' is not in runs"),
    ],
)
def test_read_results_rejects_a_malformed_result(
    tmp_path, field, value, message, make_result, make_result_set
):
    data = make_result_set(make_result()).to_json()
    data["results"][0][field] = value
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ResultFileError, match=rf"bad\.json: {message}"):
        read_results(path)


def test_read_results_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(ResultFileError, match=r"missing\.json: no such file"):
        read_results(tmp_path / "missing.json")


def test_environment_records_python_numpy_blas_threads_and_machine(monkeypatch):
    monkeypatch.setenv("CONFORMANCE_MACHINE", "gpu-box")
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
    env = collect_environment()
    assert env.machine == "gpu-box" == machine_label()
    assert env.python.split()[-1].count(".") == 2 and env.numpy and env.arch
    assert env.blas and "OPENBLAS_NUM_THREADS=1" in env.threads
    assert collect_environment("explicit").machine == "explicit"
    assert Environment.from_dict(env.to_dict()) == env


def test_environment_keeps_unknown_fields_in_extra(make_environment):
    data = {**make_environment().to_dict(), "gpu": "H100"}
    assert Environment.from_dict(data).extra == {"gpu": "H100"}
    assert replace(make_environment(), extra={"gpu": "H100"}) == Environment.from_dict(data)
