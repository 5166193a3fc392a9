"""Result files: check results as versioned JSON, read back with validation, and merged.

A file holds ``{"schema": "conformance-results/1", "runs": [...], "specs": {...},
"results": [...]}``. Each result names its run, and each run carries the
:class:`~conformance.results.environment.Environment` it measured on. Any number of files
(several runs, several machines, pytest-xdist workers) merge into one set: the key
is (spec, backend, dtype, check, machine), and for the same key the result of the
run that started last wins. Non-finite floats are written as the strings ``"inf"``,
``"-inf"`` and ``"nan"`` so that the file stays strict JSON.
"""

from __future__ import annotations

import gc
import json
import os
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.errors import ResultFileError
from conformance.results.codec import decode_result, encode_result, kind_of
from conformance.results.model import CheckResult
from conformance.results.runs import RUN_STATES, Run, parse_runs

__all__ = [
    "RUN_STATES",
    "SCHEMA",
    "ResultSet",
    "Run",
    "SpecInfo",
    "load_results",
    "merge",
    "read_results",
    "write_results",
]

SCHEMA = "conformance-results/1"
SCHEMA_FAMILY = "conformance-results/"


@dataclass(frozen=True)
class SpecInfo:
    """What the report needs to know of a spec without loading the catalog."""

    id: str
    title: str = ""
    family: str = ""
    family_title: str = ""
    source: str = ""


@dataclass
class ResultSet:
    """Results with the runs and specs they refer to."""

    results: list[CheckResult] = field(default_factory=list)
    runs: dict[str, Run] = field(default_factory=dict)
    specs: dict[str, SpecInfo] = field(default_factory=dict)

    def incomplete(self) -> list[str]:
        """``incomplete: interrupted after 312 of 1242 checks`` for each run that did not
        complete, with its machine when there are several."""
        machines = len({run.environment.machine for run in self.runs.values()}) > 1
        notes = []
        for run in self.runs.values():
            if note := run.incomplete(sum(r.run_id == run.id for r in self.results)):
                notes.append(f"{note} on {run.environment.machine}" if machines else note)
        return notes

    def to_json(self) -> dict[str, Any]:
        """The JSON document, schema ``conformance-results/1``."""
        return {
            "schema": SCHEMA,
            "runs": [run.to_dict() for run in self.runs.values()],
            "specs": {k: dict(vars(v)) for k, v in self.specs.items()},
            "results": [encode_result(r) for r in self.results],
        }


def write_results(path: Path | str, results: ResultSet) -> Path:
    """Write ``results`` to ``path``; ``inputs_file`` paths become relative to its folder.

    A regular file is replaced in one step (written beside it, then renamed), so that
    it is never seen half written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = results.to_json()
    for record in data["results"]:
        if record.get("inputs_file"):
            record["inputs_file"] = relative_to(record["inputs_file"], path.parent)
    if path.exists() and not path.is_file():  # a device or a pipe: written in place
        path.write_text(dumps(data), encoding="utf-8")
        return path
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(dumps(data), encoding="utf-8")
    os.replace(temporary, path)
    return path


def dumps(data: Mapping[str, Any]) -> str:
    """The document as strict JSON, one result per line (compact, and diffs line by line)."""

    def encode(value: Any, indent: int | None = None) -> str:
        return json.dumps(value, indent=indent, ensure_ascii=False, allow_nan=False)

    head = [
        f" {encode(k)}: " + encode(v, 1).replace("\n", "\n ")
        for k, v in data.items()
        if k != "results"
    ]
    results = ",\n".join(f"  {encode(r)}" for r in data.get("results", []))
    return "{\n" + ",\n".join([*head, f' "results": [\n{results}\n ]']) + "\n}\n"


def read_results(path: Path | str) -> ResultSet:
    """Read and validate one result file; ResultFileError names the file and field at fault."""
    path = Path(path)
    name = str(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise ResultFileError(name, "no such file") from None
    except OSError as exc:
        raise ResultFileError(name, f"cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        problem = f"not a result file: byte {exc.object[exc.start]:#04x} at offset {exc.start}"
        raise ResultFileError(name, f"{problem} is not UTF-8 text") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ResultFileError(name, f"not JSON: {exc}") from None
    except ValueError as exc:  # an integer of over 4300 digits
        raise ResultFileError(name, f"not JSON: {exc}") from None
    except RecursionError:
        raise ResultFileError(name, "not a result file: JSON nested too deeply") from None
    results = parse_results(data, name)
    for result in results.results:
        if result.inputs_file and not Path(result.inputs_file).is_absolute():
            result.inputs_file = str((path.parent / result.inputs_file).resolve())
    return results


def parse_results(data: Any, file: str = "<results>") -> ResultSet:
    """The result set of a decoded JSON document, validated field by field."""
    if not isinstance(data, dict):
        raise ResultFileError(file, f"expected a JSON object, got {type(data).__name__}")
    schema = data.get("schema")
    if schema != SCHEMA:
        if isinstance(schema, str) and schema.startswith(SCHEMA_FAMILY):
            problem = f"unsupported version {schema!r}; this conformance reads {SCHEMA!r}"
        else:
            problem = f"{schema!r} is not a conformance result file (expected {SCHEMA!r})"
        raise ResultFileError(file, problem, "schema")
    runs = {run.id: run for run in parse_runs(data.get("runs", []), file)}
    specs = _parse_specs(data.get("specs", {}), file)
    raw = data.get("results")
    if not isinstance(raw, list):
        raise ResultFileError(file, f"expected a list, got {kind_of(raw)}", "results")
    results = [decode_result(item, file, f"results[{i}]") for i, item in enumerate(raw)]
    for i, result in enumerate(results):
        if result.run_id and result.run_id not in runs:
            raise ResultFileError(file, f"{result.run_id!r} is not in runs", f"results[{i}].run")
    return ResultSet(results, runs, specs)


def merge(sets: Iterable[ResultSet]) -> ResultSet:
    """One set from many: per (spec, backend, dtype, check, machine) the latest run wins.

    "Latest" is the run's start time; results of equal time keep argument order, so
    among files with the same run the later file wins. Runs left without results are
    dropped; spec metadata is the union, later files updating earlier ones. Merged
    results keep the order in which their key first appeared. One pass over the
    results, one dictionary look-up each: linear in their number.
    """
    runs: dict[str, Run] = {}
    specs: dict[str, SpecInfo] = {}
    chosen: dict[tuple[str, ...], tuple[str, CheckResult]] = {}
    for result_set in sets:
        runs.update(result_set.runs)
        specs.update(result_set.specs)
        for result in result_set.results:
            run = runs.get(result.run_id)
            started = run.started if run is not None else ""
            key = (result.spec, result.backend, result.dtype, result.check, result.machine)
            held = chosen.get(key)
            # Later in argument order wins a tie; a dict keeps the key's first position.
            if held is None or started >= held[0]:
                chosen[key] = (started, result)
    results = [result for _, result in chosen.values()]
    used = {r.run_id for r in results}
    return ResultSet(results, {k: v for k, v in runs.items() if k in used}, specs)


def load_results(paths: Iterable[Path | str]) -> ResultSet:
    """Read every file and merge them; ResultFileError on the first bad one.

    The cyclic garbage collector is paused meanwhile: results are acyclic, and each of
    its passes over the millions of objects that a thousand machines' files decode to
    would only find nothing to collect (a quarter of the time of a large merge).
    """
    with _collector_paused():
        return merge(read_results(path) for path in paths)


@contextmanager
def _collector_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def relative_to(target: str, folder: Path) -> str:
    """``target`` relative to ``folder`` when it lies inside it, else unchanged."""
    try:
        return Path(target).resolve().relative_to(folder.resolve()).as_posix()
    except ValueError:
        return target


def _parse_specs(raw: Any, file: str) -> dict[str, SpecInfo]:
    if not isinstance(raw, dict):
        raise ResultFileError(file, f"expected an object, got {kind_of(raw)}", "specs")
    specs = {}
    for spec_id, info in raw.items():
        if not isinstance(info, dict):
            raise ResultFileError(
                file, f"expected an object, got {kind_of(info)}", f"specs.{spec_id}"
            )
        known = {
            k: str(info[k]) for k in ("title", "family", "family_title", "source") if k in info
        }
        specs[spec_id] = SpecInfo(spec_id, **known)
    return specs
