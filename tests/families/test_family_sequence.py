"""lstm.sequence and the BiLSTM: broken backends the harness catches, and the identity fields.

Each broken backend is a correct numpy-vectorized kernel with one mutation: a BiLSTM that
keeps its backward outputs in processing order, a sequence that restarts from zeros
instead of the state it is given, a BPTT that drops the gradient through c between steps,
and an output layer with W_fwd and W_bwd swapped. Then the ``chunking`` and ``reversal``
spec fields: the shipped specs satisfy their identities on the oracle itself, the checks
apply only where declared, and every malformed field is an error naming file and field.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import pytest

from conformance import Backend, Kernel
from conformance.engine import CheckRequest, plan, run_check
from conformance.errors import SpecError
from conformance.oracle.evaluate import Oracle
from conformance.oracle.verify import load_checked_catalog
from conformance.results.model import CheckResult, Status
from conformance.spec.catalog import Catalog, default_spec_paths
from conformance.spec.loader import load_catalog
from implementations.numpy_vectorized import bilstm, lstm_sequence
from implementations.numpy_vectorized.lstm import cell_vjp

SEQUENCE = lstm_sequence.KERNELS["lstm.sequence"]
"""A correct lstm.sequence kernel, for the reversal identity of the BiLSTM."""


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    """The lstm and bilstm families alone, so that other families' files cannot interfere."""
    paths = [p for p in default_spec_paths() if p.name in ("lstm.toml", "bilstm.toml")]
    return load_checked_catalog(paths)


@pytest.fixture(scope="module")
def oracle(catalog: Catalog) -> Oracle:
    return Oracle(catalog.specs)


def check(
    oracle: Oracle,
    catalog: Catalog,
    spec_id: str,
    check_name: str,
    kernels: Mapping[str, Kernel],
    dtype: str = "float64",
) -> CheckResult:
    backend = Backend("under-test", dict(kernels))
    return run_check(CheckRequest(catalog.get(spec_id), backend, dtype, check_name), oracle)


# --- a BiLSTM whose backward outputs are not re-aligned in time -------------------------------


def bilstm_in_processing_order(inputs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The bug: ←h stored in the order the backward direction read the steps, so that
    index 0 holds the state after x_T alone instead of the state after x_T … x_1."""
    outputs = bilstm.sequence_forward(inputs)
    return {**outputs, "h_bwd": np.ascontiguousarray(outputs["h_bwd"][::-1])}


def test_reversal_catches_bilstm_backward_outputs_in_processing_order(oracle, catalog):
    kernels = {
        "bilstm.sequence": Kernel(bilstm_in_processing_order),
        "lstm.sequence": SEQUENCE,
    }
    result = check(oracle, catalog, "bilstm.sequence", "reversal", kernels)
    assert result.status is Status.FAIL
    assert result.worst.startswith("h_bwd[")
    assert "h_bwd should equal flip(hs) of under-test's lstm.sequence(xs=flip(xs)" in result.message
    assert "bilstm.sequence(T=4, B=3, D=5, H=2)" in result.message


def test_invariants_and_numeric_catch_bilstm_backward_outputs_in_processing_order(oracle, catalog):
    kernels = {"bilstm.sequence": Kernel(bilstm_in_processing_order)}
    invariants = check(oracle, catalog, "bilstm.sequence", "invariants", kernels)
    assert invariants.status is Status.FAIL
    assert "'allclose(h_bwd_final, h_bwd[0], atol=atol, rtol=rtol)'" in invariants.message
    assert check(oracle, catalog, "bilstm.sequence", "numeric", kernels).status is Status.FAIL


def test_reversal_passes_aligned_bilstm(oracle, catalog):
    kernels = {"bilstm.sequence": bilstm.KERNELS["bilstm.sequence"], "lstm.sequence": SEQUENCE}
    for dtype in ("float32", "float64"):
        result = check(oracle, catalog, "bilstm.sequence", "reversal", kernels, dtype)
        assert result.status is Status.PASS, result.message


def test_reversal_without_the_sequence_kernel_is_not_implemented(oracle, catalog):
    kernels = {"bilstm.sequence": bilstm.KERNELS["bilstm.sequence"]}
    result = check(oracle, catalog, "bilstm.sequence", "reversal", kernels)
    assert result.status is Status.NOT_IMPLEMENTED
    assert "no kernel for lstm.sequence, which the reversal identity of bilstm.sequence runs" in (
        result.message
    )


def test_reversal_catches_a_sequence_kernel_missing_its_output(oracle, catalog):
    def without_hs(inputs):
        return {k: v for k, v in lstm_sequence.sequence_forward(inputs).items() if k != "hs"}

    kernels = {
        "bilstm.sequence": bilstm.KERNELS["bilstm.sequence"],
        "lstm.sequence": Kernel(without_hs),
    }
    result = check(oracle, catalog, "bilstm.sequence", "reversal", kernels)
    assert result.status is Status.FAIL
    mapping = (
        "xs=flip(xs), h_0=h_bwd_init, c_0=c_bwd_init, W_f=W_f_bwd, W_i=W_i_bwd, W_c=W_c_bwd, "
        "W_o=W_o_bwd, b_f=b_f_bwd, b_i=b_i_bwd, b_c=b_c_bwd, b_o=b_o_bwd"
    )
    assert f"under-test's lstm.sequence({mapping}) returned no 'hs'" in result.message


# --- a sequence kernel that drops the carried state --------------------------------------------


def sequence_from_zeros(inputs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The bug: every call starts from h = c = 0, whatever (h_0, c_0) it is given."""
    zeros = {"h_0": np.zeros_like(inputs["h_0"]), "c_0": np.zeros_like(inputs["c_0"])}
    return lstm_sequence.sequence_forward({**inputs, **zeros})


def test_chunking_catches_sequence_that_restarts_from_zeros(oracle, catalog):
    kernels = {"lstm.sequence": Kernel(sequence_from_zeros)}
    result = check(oracle, catalog, "lstm.sequence", "chunking", kernels)
    assert result.status is Status.FAIL
    assert re.search(r"two chunks \(T = \d \+ \d, h_0 ← h_T, c_0 ← c_T\) differ", result.message)
    assert result.sizes == {"T": 5, "B": 2, "D": 3, "H": 4}
    assert result.tol_fraction > 1


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_chunking_passes_correct_sequence(oracle, catalog, dtype):
    result = check(oracle, catalog, "lstm.sequence", "chunking", lstm_sequence.KERNELS, dtype)
    assert result.status is Status.PASS, result.message
    assert result.tol_fraction is not None and result.tol_fraction <= 1


def test_chunking_catches_output_layer_that_mixes_time_steps(oracle, catalog):
    def forward(inputs):
        y = bilstm.output_forward(inputs)["y"]
        return {"y": y - y.mean(axis=0)}  # centred over time: y_t depends on every step

    kernels = {"bilstm.output": Kernel(forward)}
    result = check(oracle, catalog, "bilstm.output", "chunking", kernels)
    assert result.status is Status.FAIL
    assert "two chunks (T = " in result.message and result.worst.startswith("y[")


# --- a BPTT that forgets the gradient through c across time steps ------------------------------


def bptt_without_cell_path(inputs, cotangents):
    """The bug: ∂c_{t-1} from step t is dropped, so only ∂h flows back through time."""
    params = {name: inputs[name] for name in lstm_sequence.PARAMETERS}
    hs, cs = lstm_sequence._states(inputs)
    grads = {name: np.zeros_like(inputs[name]) for name in lstm_sequence.PARAMETERS}
    dxs = np.zeros_like(inputs["xs"])
    dh, dc = cotangents["h_T"], cotangents["c_T"]
    for t in reversed(range(inputs["xs"].shape[0])):
        step = {"x": inputs["xs"][t], "h_prev": hs[t], "c_prev": cs[t], **params}
        step_grads = cell_vjp(step, {"h": dh + cotangents["hs"][t], "c": dc})
        for name in lstm_sequence.PARAMETERS:
            grads[name] += step_grads[name]
        dxs[t] = step_grads["x"]
        dh, dc = step_grads["h_prev"], np.zeros_like(dc)
    return {"xs": dxs, "h_0": dh, "c_0": dc, **grads}


def test_gradient_catches_bptt_that_forgets_the_cell_state_path(oracle, catalog):
    forward = lstm_sequence.sequence_forward
    kernels = {"lstm.sequence": Kernel(forward, bptt_without_cell_path)}
    assert check(oracle, catalog, "lstm.sequence", "numeric", kernels).status is Status.PASS
    result = check(oracle, catalog, "lstm.sequence", "gradient", kernels)
    assert result.status is Status.FAIL
    assert result.worst.startswith("grad ")
    assert "× the expected float" in result.message


# --- an output layer with W_fwd and W_bwd swapped ----------------------------------------------


def test_numeric_catches_output_layer_with_swapped_direction_weights(oracle, catalog):
    def forward(inputs):
        swapped = {**inputs, "W_fwd": inputs["W_bwd"], "W_bwd": inputs["W_fwd"]}
        return bilstm.output_forward(swapped)

    kernels = {"bilstm.output": Kernel(forward)}
    assert check(oracle, catalog, "bilstm.output", "shape", kernels).status is Status.PASS
    result = check(oracle, catalog, "bilstm.output", "numeric", kernels)
    assert result.status is Status.FAIL
    assert result.worst.startswith("y[") and result.tol_fraction > 1


# --- the shipped specs satisfy their own identities --------------------------------------------


def oracle_kernel(oracle: Oracle, spec_id: str) -> Kernel:
    """The spec's own equations as a float64 kernel."""
    return Kernel(lambda inputs: oracle.evaluate(oracle.specs[spec_id], inputs))


@pytest.mark.parametrize(
    ("spec_id", "check_name"),
    [
        ("lstm.sequence", "chunking"),
        ("bilstm.output", "chunking"),
        ("bilstm.sequence", "reversal"),
    ],
)
def test_oracle_satisfies_the_declared_identity(oracle, catalog, spec_id, check_name):
    kernels = {s: oracle_kernel(oracle, s) for s in (spec_id, "lstm.sequence")}
    result = check(oracle, catalog, spec_id, check_name, kernels)
    assert result.status is Status.PASS, result.message


def test_identity_checks_apply_only_where_declared(catalog):
    backend = Backend("any", {spec_id: Kernel(lambda a: {}) for spec_id in catalog.specs})
    checks = {
        spec.id: {r.check for r in plan([spec], [backend], ["float64"])}
        for spec in catalog.specs.values()
    }
    assert {s for s, c in checks.items() if "chunking" in c} == {"lstm.sequence", "bilstm.output"}
    assert {s for s, c in checks.items() if "reversal" in c} == {"bilstm.sequence"}


def test_lstm_sequence_carries_each_state_by_its_next(catalog):
    chunking = catalog.get("lstm.sequence").chunking
    assert chunking is not None
    assert dict(chunking.carry) == {"h_0": "h_T", "c_0": "c_T"}
    assert chunking.stacked == ("hs",) and chunking.time == "T"


# --- the chunking and reversal fields: validation ----------------------------------------------

MINIMAL = """\
[family]
id = "mini"

[defaults]
sizes = [{ T = 3, B = 2, D = 3, H = 4 }]

[symbols]
x = { shape = ["B", "D"], role = "input" }
h_prev = { shape = ["B", "H"], role = "state", next = "h" }
W = { shape = ["H", "H + D"], role = "parameter", domain = "normal(0, 0.5)" }
h = { shape = ["B", "H"], role = "output" }
xs = { shape = ["T", "B", "D"], role = "input" }
h_0 = { shape = ["B", "H"], role = "state", next = "h_T" }
hs = { shape = ["T", "B", "H"], role = "output" }
h_rev = { shape = ["T", "B", "H"], role = "output" }
h_T = { shape = ["B", "H"], role = "output" }

[[spec]]
id = "mini.cell"
inputs = ["x", "h_prev", "W"]
outputs = ["h"]
equations = ["h = tanh(concat(h_prev, x) @ W.T)"]

[[spec]]
id = "mini.sequence"
inputs = ["xs", "h_0", "W"]
outputs = ["hs", "h_T"]
equations = ["hs, h_T = scan(mini.cell, x=xs, h_prev=h_0)"]
chunking = { carry = { h_0 = "h_T" }, stacked = ["hs"] }

[[spec]]
id = "mini.backward"
inputs = ["xs", "h_0", "W"]
outputs = ["h_rev", "h_T"]
equations = ["h_rev, h_T = scan(mini.cell, reverse=True, x=xs, h_prev=h_0)"]
[spec.reversal]
spec = "mini.sequence"
inputs = { xs = "flip(xs)" }
outputs = { h_rev = "flip(hs)", h_T = "h_T" }
"""
"""A valid family with both fields; each error test replaces one fragment of it."""

CHUNKING = 'chunking = { carry = { h_0 = "h_T" }, stacked = ["hs"] }'
REVERSAL = 'spec = "mini.sequence"\ninputs = { xs = "flip(xs)" }'


def mutate(old: str, new: str) -> str:
    """MINIMAL with the single occurrence of ``old`` replaced by ``new``."""
    assert MINIMAL.count(old) == 1, f"the template should contain {old!r} exactly once"
    return MINIMAL.replace(old, new)


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str], Path]:
    def _write(text: str) -> Path:
        path = tmp_path / "mini.toml"
        path.write_text(text, encoding="utf-8")
        return path

    return _write


def test_minimal_identity_fields_load_and_hold_on_the_oracle(write):
    mini = load_checked_catalog([write(MINIMAL)])
    oracle = Oracle(mini.specs)
    sequence, backward = mini.get("mini.sequence"), mini.get("mini.backward")
    assert sequence.chunking is not None and sequence.reversal is None
    assert backward.reversal is not None and backward.chunking is None
    assert backward.reversal.inputs["xs"].source == "flip(xs)"
    kernels = {s: oracle_kernel(oracle, s) for s in ("mini.sequence", "mini.backward")}
    backend = Backend("oracle", kernels)
    for spec, name in ((sequence, "chunking"), (backward, "reversal")):
        result = run_check(CheckRequest(spec, backend, "float64", name), oracle)
        assert result.status is Status.PASS, result.message


ERRORS = [
    pytest.param(
        CHUNKING, 'chunking = ["hs"]',
        "spec 'mini.sequence'.chunking: ['hs'] should be a table",
        id="chunking-not-a-table",
    ),
    pytest.param(
        CHUNKING, 'chunking = { carri = { h_0 = "h_T" }, stacked = ["hs"] }',
        "spec 'mini.sequence'.chunking: unknown key 'carri' (did you mean 'carry'?)",
        id="chunking-unknown-key",
    ),
    pytest.param(
        CHUNKING, 'chunking = { carry = { h_00 = "h_T" }, stacked = ["hs"] }',
        "chunking.carry: 'h_00' is not an input of this spec (did you mean 'h_0'?)",
        id="carry-unknown-input",
    ),
    pytest.param(
        CHUNKING, 'chunking = { carry = { xs = "h_T" }, stacked = ["hs"] }',
        "chunking.carry: 'xs' has role 'input', so it is split in time, not carried",
        id="carry-a-sequence",
    ),
    pytest.param(
        CHUNKING, 'chunking = { carry = { h_0 = "h_t" }, stacked = ["hs"] }',
        "chunking.carry: h_0 = 'h_t' is not an output of this spec (did you mean 'h_T'?)",
        id="carry-unknown-output",
    ),
    pytest.param(
        CHUNKING, 'chunking = { carry = { h_0 = "hs" }, stacked = [] }',
        "chunking.carry: h_0 = 'hs': shapes (B, H) and (T, B, H) differ",
        id="carry-shape-mismatch",
    ),
    pytest.param(
        CHUNKING, 'chunking = { carry = { h_0 = "h_T" }, stacked = ["h_T"] }',
        "chunking.stacked: 'h_T' has first axis ('B',), not the time axis ('T',)",
        id="stacked-without-time-axis",
    ),
    pytest.param(
        CHUNKING, "chunking = { carry = {}, stacked = [] }",
        "spec 'mini.sequence'.chunking: nothing to compare",
        id="chunking-compares-nothing",
    ),
    pytest.param(
        CHUNKING, CHUNKING + "\nsizes = [{ T = 1, B = 2, D = 3, H = 4 }]",
        "chunking: no size has T >= 2, so the sequence is never split (add a case with T = 2",
        id="chunking-never-splits",
    ),
    pytest.param(
        'xs = { shape = ["T", "B", "D"], role = "input" }',
        'xs = { shape = ["T", "B", "D"], role = "parameter" }',
        "chunking: no role-'input' input to split in time",
        id="chunking-without-sequence",
    ),
    pytest.param(
        REVERSAL, REVERSAL.replace("mini.sequence", "mini.sequense"),
        "reversal.spec: unknown spec 'mini.sequense' (did you mean 'mini.sequence'?)",
        id="reversal-unknown-spec",
    ),
    pytest.param(
        REVERSAL, REVERSAL.replace("mini.sequence", "mini.backward"),
        "spec 'mini.backward'.reversal.spec: a spec cannot be its own reversal",
        id="reversal-of-itself",
    ),
    pytest.param(
        REVERSAL, REVERSAL.replace('xs = "flip(xs)"', 'x = "flip(xs)"'),
        "reversal.inputs: mini.sequence has no input 'x' (did you mean 'xs'?)",
        id="reversal-unknown-input",
    ),
    pytest.param(
        REVERSAL, REVERSAL.replace('"flip(xs)"', '"flip(xss)"'),
        "reversal.inputs.xs: unknown symbol 'xss' (did you mean 'xs'?)",
        id="reversal-input-unknown-symbol",
    ),
    pytest.param(
        REVERSAL, REVERSAL.replace('"flip(xs)"', '"reverse(xs)"'),
        "reversal.inputs.xs: unknown function 'reverse'",
        id="reversal-input-unknown-function",
    ),
    pytest.param(
        REVERSAL, REVERSAL.replace('"flip(xs)"', '"mini.cell(x=xs)"'),
        "reversal.inputs.xs: spec reference in 'mini.cell(x=xs)' (only the function table",
        id="reversal-input-calls-a-spec",
    ),
    pytest.param(
        REVERSAL, REVERSAL.replace("mini.sequence", "mini.cell").replace('xs = "', 'x = "'),
        "reversal.inputs: no value for mini.cell's input(s) h_prev (map each to an expression",
        id="reversal-input-without-value",
    ),
    pytest.param(
        'h_rev = "flip(hs)"', 'h_ref = "flip(hs)"',
        "reversal.outputs: 'h_ref' is not an output of this spec (did you mean 'h_rev'?)",
        id="reversal-unknown-output",
    ),
    pytest.param(
        'h_rev = "flip(hs)"', 'h_rev = "flip(hss)"',
        "reversal.outputs.h_rev: unknown symbol 'hss' (did you mean 'hs'?)",
        id="reversal-output-unknown-symbol",
    ),
    pytest.param(
        'outputs = { h_rev = "flip(hs)", h_T = "h_T" }\n', "",
        "spec 'mini.backward'.reversal: missing required key 'outputs'",
        id="reversal-without-outputs",
    ),
    pytest.param(
        "outputs = {", "output = {",
        "spec 'mini.backward'.reversal: unknown key 'output' (did you mean 'outputs'?)",
        id="reversal-unknown-key",
    ),
    pytest.param(
        "[spec.reversal]\n" + REVERSAL + '\noutputs = { h_rev = "flip(hs)", h_T = "h_T" }',
        'reversal = "mini.sequence"',
        "spec 'mini.backward'.reversal: 'mini.sequence' should be a table",
        id="reversal-not-a-table",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("old", "new", "message"), ERRORS)
def test_identity_field_errors_name_file_field_and_value(write, old, new, message):
    path = write(mutate(old, new))
    with pytest.raises(SpecError, match=re.escape(path.name) + r"\b.*" + re.escape(message)):
        load_catalog([path])
