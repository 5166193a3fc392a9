"""Encoding one check result as JSON, and decoding it back with field-by-field validation.

The leaf of the result-file format (:mod:`conformance.results.files` builds documents
from it): non-finite floats become the strings ``"inf"``, ``"-inf"`` and ``"nan"`` so
that files stay strict JSON, and every problem on the way back raises a
:class:`ResultFileError` naming the file and the field, e.g.
``r.json: results[3].status: 'passed' is not one of pass, fail, …``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from sys import intern
from typing import Any

from conformance.errors import ResultFileError
from conformance.results.model import CheckResult, Status

FLOAT_FIELDS = ("max_abs", "max_rel", "tol_fraction", "rounding", "seconds", "duration")
STRING_FIELDS = ("spec", "backend", "dtype", "check")
OPTIONAL_STRING_FIELDS = (
    "message", "backend_version", "worst", "machine", "run", "plugin", "rerun", "inputs_file",
    "units", "tolerance_reason", "profile",
)  # fmt: skip


def _encode_float(value: float | None) -> float | str | None:
    if value is None or math.isfinite(value):
        return value
    return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")


def _jsonable(value: Any) -> Any:
    """Plain JSON values only: non-finite floats as strings, NumPy scalars as Python ones."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, bool | int | str) or value is None:
        return value
    if isinstance(value, float):
        return _encode_float(value)
    if hasattr(value, "item"):  # NumPy scalar
        return _jsonable(value.item())
    return str(value)


def encode_result(result: CheckResult) -> dict[str, Any]:
    """One result as a JSON object of the schema (non-finite floats as strings)."""
    data = result.to_dict()
    for name in FLOAT_FIELDS:
        data[name] = _encode_float(data[name])
    return _jsonable(data)


def kind_of(value: Any) -> str:
    """The JSON kind of ``value`` for messages: ``null``, ``int``, ``str``, ``list``…"""
    return "null" if value is None else type(value).__name__


def _decode_float(value: Any, file: str, where: str, *, required: bool = False) -> float | None:
    if type(value) is float:
        return value
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ResultFileError(file, f"expected a number, got {kind_of(value)} {value!r}", where)
    if isinstance(value, str):
        if value not in ("inf", "-inf", "nan"):
            raise ResultFileError(file, f"expected a number, got {value!r}", where)
        return float(value)
    try:
        return float(value)
    except OverflowError:  # an integer of hundreds of digits
        problem = f"the number is too large ({len(str(value))} digits)"
        raise ResultFileError(file, problem, where) from None


_STATUSES = {s.value: s for s in Status}
_INTERNED = frozenset(("spec", "backend", "dtype", "check", "backend_version", "machine",
                       "run", "plugin", "rerun", "profile"))  # fmt: skip
"""Fields whose values repeat across results and machines: shared, not copied per result."""


def decode_result(item: Any, file: str = "<result>", where: str = "result") -> CheckResult:
    """The result a JSON object describes; ResultFileError names ``file`` and the field.

    Repeated strings (spec, backend, run, re-run command …) are interned, so that the
    results of a thousand machines share one copy of each.
    """
    if not isinstance(item, dict):
        raise ResultFileError(file, f"expected an object, got {kind_of(item)}", where)
    get = item.get
    values: dict[str, Any] = {}
    for name in STRING_FIELDS:
        value = get(name)
        if type(value) is not str or not value:
            raise ResultFileError(
                file, f"expected a non-empty string, got {value!r}", f"{where}.{name}"
            )
        values[name] = intern(value)
    raw_status = get("status")
    status = _STATUSES.get(raw_status) if isinstance(raw_status, str) else None
    if status is None:
        known = ", ".join(s.value for s in Status)
        raise ResultFileError(file, f"{raw_status!r} is not one of {known}", f"{where}.status")
    values["status"] = status
    for name in OPTIONAL_STRING_FIELDS:
        value = get(name)
        if value is None:
            continue
        if type(value) is not str:
            problem = f"expected a string, got {kind_of(value)}"
            raise ResultFileError(file, problem, f"{where}.{name}")
        values["run_id" if name == "run" else name] = intern(value) if name in _INTERNED else value
    for name in FLOAT_FIELDS:
        value = _decode_float(get(name), file, f"{where}.{name}")
        if value is not None or name != "duration":
            values[name] = value
    for name in ("seed", "case", "time_step"):
        value = get(name)
        if value is None:
            continue
        if type(value) is not int:
            raise ResultFileError(file, f"expected an integer, got {value!r}", f"{where}.{name}")
        values[name] = value
    values["sizes"] = _mapping(get("sizes"), int, file, f"{where}.sizes")
    tolerance = _mapping(get("tolerance"), object, file, f"{where}.tolerance")
    if tolerance is not None:
        tolerance = {
            k: _decode_float(v, file, f"{where}.tolerance.{k}", required=True)
            for k, v in tolerance.items()
        }
    values["tolerance"] = tolerance
    extra = get("extra") or {}
    if not isinstance(extra, dict):
        raise ResultFileError(file, f"expected an object, got {kind_of(extra)}", f"{where}.extra")
    values["extra"] = extra
    return CheckResult(**values)


def _mapping(value: Any, kind: type, file: str, where: str) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ResultFileError(file, f"expected an object, got {kind_of(value)}", where)
    for key, item in value.items():
        if kind is int and (isinstance(item, bool) or not isinstance(item, int)):
            raise ResultFileError(file, f"expected an integer, got {item!r}", f"{where}.{key}")
    return dict(value)
