"""Failure blocks: each failure's figures once, identical errors as one block that lists
where they occur, and every input's gradient verdict."""

from __future__ import annotations

import numpy as np

from conformance import Backend, Kernel
from conformance.engine import CheckRequest, plan, run_check
from conformance.report import render
from conformance.report.failures import failure_blocks
from conformance.results.model import Status
from implementations.numpy_vectorized import lstm as vectorized_lstm

CELL = vectorized_lstm.KERNELS["lstm.cell"]


def test_an_exception_in_every_check_and_dtype_is_one_block(catalog, oracle, make_result_set):
    def forward(inputs):
        raise ValueError("boom")

    backend = Backend("raises", {"lstm.cell": Kernel(forward, lambda i, c: forward(i))})
    requests = plan([catalog.get("lstm.cell")], [backend])
    results = [run_check(r, oracle) for r in requests]
    errors = [r for r in results if r.status is Status.ERROR]
    assert len(errors) >= 12  # every check kind in both dtypes
    (block,) = failure_blocks(errors)
    assert block.title == f"lstm.cell · raises · {len(errors)} checks"
    assert block.occurs.startswith("float32, float64: shape, dtype, numeric, gradient")
    assert block.amount == block.tolerance == ""  # no "by how much: atol …" for an exception
    assert len(block.ids) == len(errors)
    text = render(make_result_set(*errors), "terminal")
    assert text.count("raised ValueError: boom") == 1
    assert "atol" not in text.split("ERROR 1.")[1].split("re-run")[0]


def test_failures_that_differ_in_figures_stay_apart(catalog, oracle):
    def forward(inputs):
        return {k: v + 1e-3 for k, v in CELL.forward(inputs).items()}

    backend = Backend("off", {"lstm.cell": Kernel(forward)})
    results = [
        run_check(CheckRequest(catalog.get("lstm.cell"), backend, dtype, "numeric"), oracle)
        for dtype in ("float32", "float64")
    ]
    assert all(r.status is Status.FAIL for r in results)
    assert len(failure_blocks(results)) == 2


def test_an_engine_failure_shows_each_figure_once(catalog, oracle, make_result_set):
    def forward(inputs):
        out = dict(CELL.forward(inputs))
        out["h"] = out["h"] * 1.01
        return out

    backend = Backend("scaled", {"lstm.cell": Kernel(forward)})
    request = CheckRequest(catalog.get("lstm.cell"), backend, "float32", "numeric")
    result = run_check(request, oracle)
    assert result.status is Status.FAIL
    text = render(make_result_set(result), "terminal")
    block = text.split("FAIL 1.")[1].split("re-run:")[0]
    assert block.count(result.worst) == 1
    assert block.count(f"{result.tol_fraction:.3g}×") == 1
    assert block.count("seed") == 1 and block.count("B=3, D=5, H=4") == 1
    assert "tolerance: 16× the expected float32 rounding" in block and "by how much" not in block
    assert block.count("× the expected float32 rounding, limit 16×") == 1


def test_gradient_failure_block_lists_every_inputs_verdict(catalog, oracle, make_result_set):
    def vjp(inputs, cotangents):
        grads = {k: v for k, v in CELL.vjp(inputs, cotangents).items() if k != "b_o"}
        return {**grads, "W_c": np.zeros_like(grads["W_c"])}

    backend = Backend("grads", {"lstm.cell": Kernel(CELL.forward, vjp)})
    request = CheckRequest(catalog.get("lstm.cell"), backend, "float64", "gradient")
    result = run_check(request, oracle)
    (block,) = failure_blocks([result])
    assert "✗ W_c " in block.gradients and "✓ W_f " in block.gradients
    assert block.gradients.endswith("missing: b_o")
    assert "gradients (× tolerance): ✓ x " in render(make_result_set(result), "terminal")
