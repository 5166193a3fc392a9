"""Errors in units of the expected rounding: a correct float32 kernel sits at a few units,
a kernel that computes in less precision than it claims fails and is told how many bits
it lost, and checks that compare two rounded results allow both their roundings."""

from __future__ import annotations

import re

import numpy as np
import pytest

from conformance.checks.compare import Allowance, compare
from conformance.lang.rounding import UNIT_ROUNDOFF
from conformance.oracle.evaluate import Oracle
from conformance.results.model import Status
from conformance.spec.catalog import Catalog
from conformance.spec.model import Tolerance


def tf32(a: np.ndarray) -> np.ndarray:
    """float32 values rounded to TF32's 10 explicit mantissa bits (the low 13 zeroed)."""
    bits = np.ascontiguousarray(a, np.float32).view(np.uint32)
    return ((bits + np.uint32(0x1000)) & np.uint32(0xFFFFE000)).view(np.float32)


def matmul_tf32(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return tf32(a) @ tf32(b)


def matmul_float16_accumulate(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    products = (a[:, :, None] * b[None, :, :]).astype(np.float16)
    return products.sum(axis=1, dtype=np.float16).astype(a.dtype)


def cell(matmul):
    """An LSTM cell in the dtype it is given, with its matmuls done by ``matmul``."""

    def forward(inputs: dict) -> dict:
        z = np.concatenate([inputs["h_prev"], inputs["x"]], axis=-1)
        gate = {k: matmul(z, inputs[f"W_{k}"].T) + inputs[f"b_{k}"] for k in "fico"}
        f, i, o = (1 / (1 + np.exp(-gate[k])) for k in "fio")
        c = f * inputs["c_prev"] + i * np.tanh(gate["c"])
        return {"h": o * np.tanh(c), "c": c}

    return forward


def bits_in(message: str) -> tuple[float, float]:
    found = re.search(r"about (\d+) bits lost \(computes like a (\d+)-bit mantissa\)", message)
    assert found, message
    return float(found[1]), float(found[2])


def test_a_correct_float32_cell_sits_at_a_few_expected_roundings(check_kernel) -> None:
    result = check_kernel("lstm.cell", "numeric", cell(np.matmul), dtype="float32")
    assert result.status is Status.PASS
    assert result.units == "expected float32 rounding"
    assert 0 < result.rounding < 4 and result.tol_fraction == pytest.approx(result.rounding / 16)


@pytest.mark.parametrize(
    "matmul, lost",
    [(matmul_tf32, (9, 14)), (matmul_float16_accumulate, (8, 14))],
    ids=["tf32-inputs", "float16-accumulation"],
)
def test_a_kernel_computing_in_less_precision_fails_float32_in_bits(
    check_kernel, matmul, lost: tuple[int, int]
) -> None:
    result = check_kernel("lstm.cell", "numeric", cell(matmul), dtype="float32")
    assert result.status is Status.FAIL
    assert "× the expected float32 rounding, limit 16×" in result.message
    bits, mantissa = bits_in(result.message)
    assert lost[0] <= bits <= lost[1] and bits + mantissa == 24
    assert result.rounding > 2 ** lost[0]


def test_a_vjp_returning_tf32_gradients_fails_in_bits(check_kernel) -> None:
    def vjp(inputs: dict, cotangents: dict) -> dict:
        z = np.concatenate([inputs["h_prev"], inputs["x"]], axis=-1)
        f = 1 / (1 + np.exp(-(z @ inputs["W_f"].T + inputs["b_f"])))
        da = cotangents["f"] * f * (1 - f)
        dz, H = da @ inputs["W_f"], inputs["h_prev"].shape[-1]
        grads = {"h_prev": dz[:, :H], "x": dz[:, H:], "W_f": da.T @ z, "b_f": da.sum(axis=0)}
        return {k: tf32(v) for k, v in grads.items()}

    def forward(inputs: dict) -> dict:
        z = np.concatenate([inputs["h_prev"], inputs["x"]], axis=-1)
        return {"f": 1 / (1 + np.exp(-(z @ inputs["W_f"].T + inputs["b_f"])))}

    result = check_kernel("lstm.forget_gate", "gradient", forward, vjp, dtype="float32")
    assert result.status is Status.FAIL and result.worst.startswith("grad ")
    bits, _ = bits_in(result.message)
    assert 7 <= bits <= 14


def test_two_rounded_results_may_differ_by_twice_the_numeric_bound(
    check_kernel, catalog: Catalog, oracle: Oracle
) -> None:
    """A kernel off by 0.9 of the numeric limit, one way batched and the other way for a
    single row, passes numeric, so batch_independence must pass it too."""
    spec = catalog.get("lstm.cell")

    def forward(inputs: dict) -> dict:
        reference, rounding = oracle.evaluate(spec, inputs), oracle.rounding(spec, inputs)
        sign = 1.0 if len(inputs["x"]) > 1 else -1.0
        out = {}
        for name in spec.outputs:
            scale = np.max(np.abs(reference[name]))
            off = 0.9 * 16 * UNIT_ROUNDOFF["float64"] * (rounding[name] + scale)
            out[name] = reference[name] + sign * off
        return out

    numeric = check_kernel(spec, "numeric", forward)
    assert numeric.status is Status.PASS and numeric.tol_fraction == pytest.approx(0.9, rel=0.05)
    batch = check_kernel(spec, "batch_independence", forward)
    assert batch.status is Status.PASS and 0.45 < batch.tol_fraction < 1
    assert batch.tolerance is not None and batch.tolerance["limit"] == 32


def test_a_result_that_underflows_to_zero_is_within_the_floor() -> None:
    tolerance = Tolerance()
    tiny = float(np.finfo(np.float32).tiny)
    underflow = compare(
        "f", np.zeros(2), np.array([3e-269, 1e-40]), Allowance(0.0, tolerance, "float32")
    )
    assert underflow.ok and underflow.tol_fraction <= 1 / 16
    above = compare("f", np.zeros(1), np.array([100 * tiny]), Allowance(0.0, tolerance, "float32"))
    assert not above.ok  # a normal number is not rounded to 0


def test_an_explicit_widening_is_a_floor_beside_the_derived_bound() -> None:
    widened = Tolerance(atol=1e-3, reason="test")
    near = compare("f", np.array([1.0 + 5e-4]), np.array([1.0]), Allowance(0.0, widened, "float32"))
    assert near.ok and near.tol_fraction == pytest.approx(0.5)
    assert near.rounding == pytest.approx(5e-4 / 2**-24, rel=1e-6)  # still in units
