"""Every check kind catches the bug it exists for, in a deliberately broken backend.

The backends here are inline and tiny: a correct forget gate and LSTM cell, then one
mutation each (gate weights swapped, σ' applied to an already-activated gate, a
transposed weight block, float32 in → float64 out, a squeezed batch axis, an input
written in place, a naive tanh that overflows). A check that passed them would be a
check that cannot fail.
"""

from __future__ import annotations

import numpy as np
import pytest

from conformance import Backend, Kernel
from conformance.engine import CheckRequest, run_check
from conformance.results.model import Status
from conformance.spec.draw import case_rng, draw_inputs


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def forget_forward(inputs: dict) -> dict:
    z = np.concatenate([inputs["h_prev"], inputs["x"]], axis=-1)
    return {"f": sigmoid(z @ inputs["W_f"].T + inputs["b_f"])}


def forget_vjp(inputs: dict, cotangents: dict) -> dict:
    H = inputs["h_prev"].shape[-1]
    z = np.concatenate([inputs["h_prev"], inputs["x"]], axis=-1)
    f = sigmoid(z @ inputs["W_f"].T + inputs["b_f"])
    da = cotangents["f"] * f * (1 - f)
    dz = da @ inputs["W_f"]
    return {"h_prev": dz[:, :H], "x": dz[:, H:], "W_f": da.T @ z, "b_f": da.sum(axis=0)}


def cell_forward(inputs: dict, *, swap_gates: bool = False) -> dict:
    z = np.concatenate([inputs["h_prev"], inputs["x"]], axis=-1)
    W_f, W_i = (inputs["W_i"], inputs["W_f"]) if swap_gates else (inputs["W_f"], inputs["W_i"])
    f = sigmoid(z @ W_f.T + inputs["b_f"])
    i = sigmoid(z @ W_i.T + inputs["b_i"])
    g = np.tanh(z @ inputs["W_c"].T + inputs["b_c"])
    o = sigmoid(z @ inputs["W_o"].T + inputs["b_o"])
    c = f * inputs["c_prev"] + i * g
    return {"h": o * np.tanh(c), "c": c}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    "check_name",
    [
        "shape",
        "dtype",
        "numeric",
        "gradient",
        "invariants",
        "stability",
        "inputs_unmodified",
        "batch_independence",
    ],
)
def test_correct_forget_gate_passes_every_check(check_name, dtype, check_kernel):
    result = check_kernel("lstm.forget_gate", check_name, forget_forward, forget_vjp, dtype)
    assert result.status is Status.PASS, result.message


def test_numeric_catches_swapped_gate_weights(check_kernel):
    result = check_kernel("lstm.cell", "numeric", lambda x: cell_forward(x, swap_gates=True))
    assert result.status is Status.FAIL
    assert result.tol_fraction > 1 and result.worst is not None
    assert "lstm.cell(B=3, D=5, H=4)" in result.message and "seed=0" in result.message


def test_numeric_passes_unswapped_cell(check_kernel):
    result = check_kernel("lstm.cell", "numeric", cell_forward)
    assert result.status is Status.PASS, result.message


def test_gradient_catches_sigmoid_derivative_of_activated_value(check_kernel):
    def vjp(inputs, cotangents):
        H = inputs["h_prev"].shape[-1]
        z = np.concatenate([inputs["h_prev"], inputs["x"]], axis=-1)
        f = sigmoid(z @ inputs["W_f"].T + inputs["b_f"])
        s = sigmoid(f)  # the bug: σ'(f) = σ(f)(1 − σ(f)) instead of f (1 − f)
        da = cotangents["f"] * s * (1 - s)
        dz = da @ inputs["W_f"]
        return {"h_prev": dz[:, :H], "x": dz[:, H:], "W_f": da.T @ z, "b_f": da.sum(axis=0)}

    assert check_kernel("lstm.forget_gate", "numeric", forget_forward, vjp).status is Status.PASS
    result = check_kernel("lstm.forget_gate", "gradient", forget_forward, vjp)
    assert result.status is Status.FAIL
    assert result.worst.startswith("grad ")
    assert "× the expected float64 rounding" in result.message


def test_numeric_catches_transposed_recurrent_weight_block(check_kernel):
    def forward(inputs):
        H = inputs["h_prev"].shape[-1]
        W = inputs["W_f"]
        # The square recurrent block used untransposed: shapes agree, values do not.
        a = inputs["h_prev"] @ W[:, :H] + inputs["x"] @ W[:, H:].T + inputs["b_f"]
        return {"f": sigmoid(a)}

    result = check_kernel("lstm.forget_gate", "numeric", forward)
    assert result.status is Status.FAIL
    assert result.worst.startswith("f[")


def test_dtype_catches_float32_in_float64_out(check_kernel):
    def forward(inputs):
        return {k: v.astype(np.float64) for k, v in forget_forward(inputs).items()}

    result = check_kernel("lstm.forget_gate", "dtype", forward, dtype="float32")
    assert result.status is Status.FAIL
    assert "out['f'].dtype=float64, but should be float32" in result.message
    assert check_kernel("lstm.forget_gate", "numeric", forward, dtype="float32").ok


def test_shape_catches_squeezed_batch_axis_at_batch_size_one(check_kernel):
    def forward(inputs):
        return {"f": np.squeeze(forget_forward(inputs)["f"])}

    result = check_kernel("lstm.forget_gate", "shape", forward)
    assert result.status is Status.FAIL
    assert result.sizes == {"B": 1, "D": 1, "H": 1}
    assert "out['f'].shape=(), but should be (1, 1) = (B, H)" in result.message


def test_shape_catches_missing_output(check_kernel):
    result = check_kernel("lstm.cell", "shape", lambda x: {"h": cell_forward(x)["h"]})
    assert result.status is Status.FAIL
    assert "output 'c' is missing (returned 'h')" in result.message


def test_gradient_catches_missing_and_misshapen_gradients(check_kernel):
    def vjp(inputs, cotangents):
        grads = forget_vjp(inputs, cotangents)
        del grads["b_f"]
        grads["W_f"] = grads["W_f"].T
        return grads

    result = check_kernel("lstm.forget_gate", "gradient", forget_forward, vjp)
    assert result.status is Status.FAIL
    assert "no gradient for 'b_f'" in result.message
    assert "grad['W_f'].shape=(9, 4), but should be (4, 9)" in result.message


def test_gradient_without_vjp_is_not_implemented(check_kernel):
    result = check_kernel("lstm.forget_gate", "gradient", forget_forward, None)
    assert result.status is Status.NOT_IMPLEMENTED
    assert result.ok


def test_missing_kernel_is_not_implemented(oracle, catalog):
    backend = Backend("partial", {"lstm.forget_gate": Kernel(forget_forward, forget_vjp)})
    result = run_check(
        CheckRequest(catalog.get("lstm.cell"), backend, "float64", "numeric"), oracle
    )
    assert result.status is Status.NOT_IMPLEMENTED
    assert "partial has no kernel for lstm.cell" in result.message


def test_inputs_unmodified_catches_in_place_write(check_kernel):
    def forward(inputs):
        out = forget_forward(inputs)
        np.multiply(inputs["x"], 0.0, out=inputs["x"])  # scribbles over its input afterwards
        return out

    result = check_kernel("lstm.forget_gate", "inputs_unmodified", forward)
    assert result.status is Status.FAIL
    assert "modified input 'x' in place" in result.message


def test_invariants_catch_unclipped_hard_sigmoid(check_kernel):
    def forward(inputs):
        z = np.concatenate([inputs["h_prev"], inputs["x"]], axis=-1)
        return {"f": 0.25 * (z @ inputs["W_f"].T + inputs["b_f"]) + 0.5}

    result = check_kernel("lstm.forget_gate", "invariants", forward)
    assert result.status is Status.FAIL
    assert "invariant '0 <= f <= 1' does not hold" in result.message


def test_stability_catches_overflowing_naive_tanh(check_kernel):
    def forward(inputs):
        z = np.concatenate([inputs["h_prev"], inputs["x"]], axis=-1)
        e = np.exp(2 * (z @ inputs["W_c"].T + inputs["b_c"]))
        return {"g": (e - 1) / (e + 1)}  # inf / inf = NaN once the pre-activation passes ~355

    assert check_kernel("lstm.candidate", "numeric", forward).status is Status.PASS
    result = check_kernel("lstm.candidate", "stability", forward)
    assert result.status is Status.FAIL
    assert "but should be finite" in result.message


def test_backend_exception_is_an_error_naming_the_backend(check_kernel):
    def forward(inputs):
        raise ValueError("boom")

    result = check_kernel("lstm.forget_gate", "numeric", forward)
    assert result.status is Status.ERROR
    assert result.message.startswith("under-test raised ValueError: boom")
    assert not result.ok


def test_forward_returning_a_tuple_is_an_error(check_kernel):
    result = check_kernel("lstm.forget_gate", "numeric", lambda x: (forget_forward(x)["f"],))
    assert result.status is Status.ERROR
    assert "returned tuple, not a mapping" in result.message


def test_numeric_reports_worst_case_and_timing_for_a_passing_backend(check_kernel):
    result = check_kernel("lstm.forget_gate", "numeric", forget_forward)
    assert result.status is Status.PASS
    assert 0 <= result.tol_fraction <= 1
    assert result.seconds is not None and result.seconds > 0
    assert result.tolerance == {"limit": 16.0, "atol": 0.0, "rtol": 0.0}
    assert result.units == "expected float64 rounding"
    assert 0 < result.rounding <= 16


def test_batch_independence_catches_outputs_that_are_views_of_a_reused_buffer(check_kernel):
    buffer: dict[str, np.ndarray] = {}

    def forward(inputs):
        # The bug: one output buffer per H, reused on every call, returned as a view.
        B, H = inputs["h_prev"].shape
        out = buffer.setdefault("f", np.empty((16, H), inputs["x"].dtype))
        if out.shape[1] != H or out.dtype != inputs["x"].dtype:
            out = buffer["f"] = np.empty((16, H), inputs["x"].dtype)
        out[:B] = forget_forward(inputs)["f"]
        return {"f": out[:B]}

    assert check_kernel("lstm.forget_gate", "numeric", forward).status is Status.PASS
    result = check_kernel("lstm.forget_gate", "batch_independence", forward)
    assert result.status is Status.FAIL
    assert (
        "output 'f' of row 0 alone shares memory with output 'f' of the whole batch"
        in result.message
    )


def test_batch_independence_catches_rows_mixed_only_when_batched(check_kernel):
    def forward(inputs):
        f = forget_forward(inputs)["f"]
        return {"f": f if len(f) == 1 else np.roll(f, 1, axis=0)}  # rows rotated in a batch

    result = check_kernel("lstm.forget_gate", "batch_independence", forward)
    assert result.status is Status.FAIL
    assert result.sizes["B"] > 1


def case_inputs(catalog, spec_id: str, case: int = 0, dtype: str = "float64") -> dict:
    """The inputs every check draws for ``spec_id``'s case ``case`` at seed 0."""
    spec = catalog.get(spec_id)
    rng = case_rng(0, spec_id, case, "inputs")
    return draw_inputs(spec, spec.sizes[case], dtype=dtype, rng=rng)


def test_batch_independence_names_the_in_batch_value_at_its_index_in_the_whole_batch(
    check_kernel, catalog
):
    def forward(inputs):
        f = forget_forward(inputs)["f"]
        if len(f) > 1:
            f = f.copy()
            f[2, 1] += 0.5  # the bug: one element of row 2, only in a batch
        return {"f": f}

    result = check_kernel("lstm.forget_gate", "batch_independence", forward)
    assert result.status is Status.FAIL
    assert result.worst == "f[2, 1]"
    inputs = case_inputs(catalog, "lstm.forget_gate")
    batched = forward(inputs)["f"][2, 1]
    row = {k: v[2:3] if k in ("x", "h_prev") else v for k, v in inputs.items()}
    alone = forget_forward(row)["f"][0, 1]
    expected = f"f[2, 1] = {batched:.9g} in the batch, but {alone:.9g} when row 2 runs alone"
    assert expected in result.message
