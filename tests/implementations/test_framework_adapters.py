"""The framework backends (``torch``, ``onnxruntime``) and the mistakes their adapters can make.

Each mis-mapped adapter below is the real one with one convention altered, the way a
person porting weights gets it wrong: the gate order, the [h, x] column order, the two
biases, CTC's ``zero_infinity``, the halves of a bidirectional output. Each must be
caught by the check that should catch it, through the engine, as a failure (not an
error, not a pass). The real backends must conform on every spec they implement.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import numpy as np
import pytest

from conformance import Backend, BackendRegistry, Kernel, layout
from conformance.engine import CheckRequest, plan, run_check

torch = pytest.importorskip("torch")
pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

import implementations.onnxruntime_backend as ort_backend  # noqa: E402
import implementations.torch_backend as torch_backend  # noqa: E402
from implementations.onnxruntime_backend import bilstm as ort_bilstm  # noqa: E402
from implementations.onnxruntime_backend import lstm as ort_lstm  # noqa: E402
from implementations.torch_backend import bilstm as torch_bilstm  # noqa: E402
from implementations.torch_backend import ctc as torch_ctc  # noqa: E402
from implementations.torch_backend import lstm as torch_lstm  # noqa: E402

SEEDS = (0, 1)


def _registered(plugin: object, name: str) -> Backend:
    """The backend ``name`` as ``plugin`` registers it."""
    registry = BackendRegistry()
    plugin.conformance_register_backends(register=registry)  # type: ignore[attr-defined]
    return registry.backends[name]


TORCH = _registered(torch_backend, "torch")
ORT = _registered(ort_backend, "onnxruntime")


def _check(catalog, oracle, spec, kernels: Mapping[str, Kernel], check: str, dtype="float64"):
    """One engine check of ``spec`` on a backend made of ``kernels``."""
    spec = catalog.get(spec) if isinstance(spec, str) else spec
    backend = Backend("mis-mapped", dict(kernels))
    return run_check(CheckRequest(spec, backend, dtype, check), oracle)


def _assert_fails(result, *, mentions: str = "") -> None:
    """A failure of the check itself: neither a pass nor an exception from the backend."""
    assert result.status == "fail", f"{result.status}: {result.message}"
    assert mentions in result.message


# ---------------------------------------------------------------------------
# Gate order, [h, x] column order, biases: the LSTM weight mapping
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("spec", ["lstm.cell", "lstm.sequence"])
@pytest.mark.parametrize("order", ["fgio", "iofg"])  # ONNX's order given to torch
def test_torch_gate_order_swapped_fails_numeric(catalog, oracle, spec, order):
    wrong = dataclasses.replace(torch_lstm.TORCH, order=order)
    make = torch_lstm.cell_adapter if spec == "lstm.cell" else torch_lstm.sequence_adapter
    result = _check(catalog, oracle, spec, {spec: make(wrong).kernel()}, "numeric")
    _assert_fails(result, mentions="but should be")


def test_onnx_given_torch_gate_order_fails_numeric(catalog, oracle):
    """ONNX stacks i, o, f, c; an adapter that stacks torch's i, f, g, o is caught."""
    kernel = ort_lstm.sequence_kernel(order="ifgo")
    _assert_fails(
        _check(catalog, oracle, "lstm.sequence", {"lstm.sequence": kernel}, "numeric", "float32")
    )
    kernel = ort_bilstm.sequence_kernel(order="ifgo")
    _assert_fails(
        _check(
            catalog, oracle, "bilstm.sequence", {"bilstm.sequence": kernel}, "numeric", "float32"
        )
    )


@pytest.mark.parametrize("spec", ["lstm.cell", "lstm.sequence"])
def test_concat_read_as_xh_fails_numeric(catalog, oracle, spec):
    """W read as acting on [x, h] (input block = the first D columns): shapes still fit,
    so only the values can tell, and the numeric check does."""
    wrong = dataclasses.replace(torch_lstm.TORCH, concat="xh")
    make = torch_lstm.cell_adapter if spec == "lstm.cell" else torch_lstm.sequence_adapter
    result = _check(catalog, oracle, spec, {spec: make(wrong).kernel()}, "numeric")
    _assert_fails(result, mentions="but should be")


def _naive_xh_inputs(a: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """nn.LSTM's inputs from an adapter that cuts each W at H, as the spec's [h | x], but
    takes the first block for the input one: W_x = W[:, :H], W_h = W[:, H:]."""
    H = a["h_0"].shape[-1]
    blocks = {
        gate: layout.split_concat(a[f"W_{name}"], H, "xh")
        for gate, name in zip("ifgo", "ifco", strict=True)
    }
    b_ih, b_hh = layout.split_bias(
        layout.stack_gates({g: a[f"b_{n}"] for g, n in zip("ifgo", "ifco", strict=True)})
    )
    return {
        "input": a["xs"],
        "h_0": layout.add_state_axis(a["h_0"]),
        "c_0": layout.add_state_axis(a["c_0"]),
        "weight_ih_l0": layout.stack_gates({g: wx for g, (_, wx) in blocks.items()}),
        "weight_hh_l0": layout.stack_gates({g: wh for g, (wh, _) in blocks.items()}),
        "bias_ih_l0": b_ih,
        "bias_hh_l0": b_hh,
    }


def test_concat_cut_at_h_but_read_as_xh(catalog, oracle):
    """Cut at H but read as [x, h]: with D != H torch refuses the weights (the engine
    reports the backend's error, never a pass); with D == H the shapes agree and the
    numeric check fails."""
    wrong = dataclasses.replace(torch_lstm.sequence_adapter(), inputs=_naive_xh_inputs).kernel()
    spec = catalog.get("lstm.sequence")
    result = _check(catalog, oracle, spec, {spec.id: wrong}, "numeric")
    assert result.status == "error" and "size" in result.message, result.message
    square = dataclasses.replace(spec, sizes=({"T": 3, "B": 2, "D": 4, "H": 4},))
    _assert_fails(
        _check(catalog, oracle, square, {spec.id: wrong}, "numeric"), mentions="but should be"
    )


@pytest.mark.parametrize("spec", ["lstm.cell", "lstm.sequence"])
def test_bias_hh_double_counted_fails_numeric(catalog, oracle, spec):
    """b given as both bias_ih and bias_hh (b + b in every gate) instead of (b, 0)."""
    wrong = dataclasses.replace(torch_lstm.TORCH, biases=lambda b: (b, b))
    make = torch_lstm.cell_adapter if spec == "lstm.cell" else torch_lstm.sequence_adapter
    result = _check(catalog, oracle, spec, {spec: make(wrong).kernel()}, "numeric")
    _assert_fails(result, mentions="but should be")


def test_bias_split_halves_the_same_sum(catalog, oracle):
    """The control: any split with b_ih + b_hh = b is right (torch only sees the sum)."""
    halves = dataclasses.replace(torch_lstm.TORCH, biases=lambda b: (b / 2, b / 2))
    kernel = torch_lstm.sequence_adapter(halves).kernel()
    result = _check(catalog, oracle, "lstm.sequence", {"lstm.sequence": kernel}, "numeric")
    assert result.status == "pass", result.message


# ---------------------------------------------------------------------------
# CTC: zero_infinity in the forward and in the VJP
# ---------------------------------------------------------------------------


def test_ctc_zero_infinity_in_the_forward_fails_numeric(catalog, oracle):
    """zero_infinity=True in the forward turns the infeasible rows' +inf loss into 0."""
    kernel = torch_ctc.loss_adapter(zero_infinity_forward=True).kernel()
    result = _check(catalog, oracle, "ctc.loss", {"ctc.loss": kernel}, "numeric")
    _assert_fails(result, mentions="= 0, but should be inf")
    assert result.case == 2  # the case with infeasible targets


def test_ctc_no_zero_infinity_in_the_vjp_fails_gradient(catalog, oracle):
    """zero_infinity=False in the VJP gives NaN gradients on infeasible rows, not 0; the
    forward is right, so only the gradient check fails."""
    kernel = torch_ctc.loss_adapter(zero_infinity_vjp=False).kernel()
    kernels = {"ctc.loss": kernel}
    assert _check(catalog, oracle, "ctc.loss", kernels, "numeric").status == "pass"
    result = _check(catalog, oracle, "ctc.loss", kernels, "gradient")
    _assert_fails(result, mentions="= nan, but should be 0")


# ---------------------------------------------------------------------------
# BiLSTM: the two halves of torch's (T, B, 2H) output
# ---------------------------------------------------------------------------


def _swapped_split(ys: np.ndarray, H: int) -> tuple[np.ndarray, np.ndarray]:
    fwd, bwd = layout.split_directions(ys, H)
    return bwd, fwd


def _unaligned_split(ys: np.ndarray, H: int) -> tuple[np.ndarray, np.ndarray]:
    """The backward half stored in processing order (index 0 = after x_T alone)."""
    fwd, bwd = layout.split_directions(ys, H)
    return fwd, bwd[::-1]


@pytest.mark.parametrize("split", [_swapped_split, _unaligned_split], ids=["swapped", "unaligned"])
@pytest.mark.parametrize("check", ["numeric", "reversal"])
def test_bilstm_halves_mismapped_fail(catalog, oracle, split, check):
    """The halves swapped, or the backward one left in processing order, fail the numeric
    check against the oracle and the reversal identity against the backend's own
    lstm.sequence."""
    wrong = torch_bilstm.sequence_adapter(split=split).kernel()
    kernels = {"bilstm.sequence": wrong, "lstm.sequence": TORCH.kernels["lstm.sequence"]}
    _assert_fails(_check(catalog, oracle, "bilstm.sequence", kernels, check))


# ---------------------------------------------------------------------------
# ONNX's reverse direction
# ---------------------------------------------------------------------------


def _two_graphs(inputs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """bilstm.sequence from two one-direction graphs: ORT's lstm.sequence kernel (a
    forward LSTM) on the forward weights, and a direction="reverse" LSTM graph."""
    params = {f"{k}_{g}": inputs[f"{k}_{g}_fwd"] for k in "Wb" for g in "fico"}
    h_0, c_0 = inputs["h_fwd_init"], inputs["c_fwd_init"]
    fwd = ORT.kernels["lstm.sequence"].forward(
        {"xs": inputs["xs"], "h_0": h_0, "c_0": c_0, **params}
    )
    return {
        "h_fwd": fwd["hs"],
        "h_fwd_final": fwd["h_T"],
        "c_fwd_final": fwd["c_T"],
        **ort_bilstm.backward_direction(inputs),
    }


@pytest.mark.parametrize("check", ["numeric", "invariants", "reversal"])
def test_onnx_reverse_direction_is_the_backward_half(catalog, oracle, check):
    """ONNX's direction="reverse" writes its state after x_T … x_t at Y[t]: aligned with
    x_t as the spec's h_bwd, with no flip on our side."""
    kernels = {
        "bilstm.sequence": Kernel(_two_graphs, dtypes=("float32",)),
        "lstm.sequence": ORT.kernels["lstm.sequence"],
    }
    result = _check(catalog, oracle, "bilstm.sequence", kernels, check, "float32")
    assert result.status == "pass", result.message


def _bilstm_shape(name: str, T: int, B: int, D: int, H: int) -> tuple[int, ...]:
    """The shape of a bilstm.sequence input at these sizes."""
    if name == "xs":
        return (T, B, D)
    if name.endswith("_init"):
        return (B, H)
    return (H, H + D) if name.startswith("W_") else (H,)


def test_onnx_bidirectional_equals_the_two_graphs(catalog):
    """The bidirectional node and the forward + reverse pair agree to the last bit."""
    rng = np.random.default_rng(0)
    inputs = {
        name: rng.normal(0, 0.5, _bilstm_shape(name, T=4, B=3, D=5, H=2)).astype(np.float32)
        for name in catalog.get("bilstm.sequence").inputs
    }
    both = ORT.kernels["bilstm.sequence"].forward(inputs)
    for name, value in _two_graphs(inputs).items():
        np.testing.assert_array_equal(value, both[name], err_msg=name)


# ---------------------------------------------------------------------------
# The real backends conform
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("backend_name", "spec_id"), [(b.name, spec) for b in (TORCH, ORT) for spec in b.kernels]
)
def test_real_backend_conforms(catalog, oracle, backend_name, spec_id):
    """Every check of every spec the backend implements, in every dtype its kernel
    declares, seeds 0 and 1: a pass, or "not implemented" for a VJP it does not have."""
    backend = {"torch": TORCH, "onnxruntime": ORT}[backend_name]
    kernel = backend.kernels[spec_id]
    problems = []
    for request in plan([catalog.get(spec_id)], [backend], kernel.dtypes):
        for seed in SEEDS:
            result = run_check(request, oracle, seed=seed)
            missing_vjp = request.check == "gradient" and kernel.vjp is None
            expected = "not_implemented" if missing_vjp else "pass"
            if result.status != expected:
                problems.append(f"{request.id} seed {seed}: {result.status} {result.message}")
    assert not problems, "\n".join(problems)


def test_environments_and_declarations():
    assert TORCH.environment["torch"] == torch.__version__
    assert TORCH.environment["torch threads"] == str(torch.get_num_threads())
    assert "oneDNN" in TORCH.environment["torch LSTM path"]
    assert ORT.environment["onnxruntime provider"] == "CPUExecutionProvider"
    for spec_id in ("lstm.cell", "lstm.sequence", "bilstm.sequence", "rnn.cell", "rnn.sequence"):
        kernel = ORT.kernels[spec_id]
        assert kernel.dtypes == ("float32",), spec_id
        assert "float32 only" in kernel.reason or "no float64" in kernel.reason
        assert kernel.vjp is None
    assert ORT.kernels["ctc.softmax"].dtypes == ("float32", "float64")
    assert all(k.dtypes == ("float32", "float64") and k.vjp for k in TORCH.kernels.values())
