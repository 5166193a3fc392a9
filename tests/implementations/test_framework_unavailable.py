"""A framework backend whose framework is missing says so, with the command to install it."""

from __future__ import annotations

import importlib
import sys

import pytest

from conformance import BackendUnavailable
from implementations._frameworks import MAX_THREADS, thread_count


@pytest.mark.parametrize(
    ("package", "hidden", "problem", "extra"),
    [
        ("implementations.torch_backend", "torch", "torch is not installed", "torch"),
        (
            "implementations.onnxruntime_backend",
            "onnxruntime",
            "onnxruntime is not installed",
            "onnx",
        ),
        ("implementations.onnxruntime_backend", "onnx", "onnx is not installed", "onnx"),
    ],
)
def test_missing_framework_raises_backend_unavailable(monkeypatch, package, hidden, problem, extra):
    monkeypatch.setitem(sys.modules, hidden, None)  # `import hidden` now raises ImportError
    for name in [m for m in sys.modules if m == package or m.startswith(package + ".")]:
        monkeypatch.delitem(sys.modules, name)
    with pytest.raises(BackendUnavailable) as caught:
        importlib.import_module(package)
    assert caught.value.problem == problem
    assert caught.value.install == f"pip install 'rnn-conformance[{extra}]'"


def test_thread_count_follows_the_blas_variables(monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 16)
    assert thread_count({"OPENBLAS_NUM_THREADS": "3", "OMP_NUM_THREADS": "5"}) == 3
    assert thread_count({"OMP_NUM_THREADS": "5"}) == 5
    assert thread_count({"OMP_NUM_THREADS": "64"}) == 16  # never more than the CPUs
    assert thread_count({"OMP_NUM_THREADS": "auto"}) == MAX_THREADS
    assert thread_count({}) == MAX_THREADS
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    assert thread_count({}) == 2
