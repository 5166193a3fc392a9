"""The oracle: specs evaluated in float64 against NumPy, complex-step derivatives, and scan."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from conformance.errors import EvaluationError
from conformance.oracle.calls import SpecFunction, infer_dims
from conformance.oracle.evaluate import Oracle
from conformance.oracle.recurrences import scan
from conformance.oracle.verify import load_checked_catalog
from conformance.spec.catalog import Catalog
from conformance.spec.draw import draw_inputs
from conformance.spec.model import Spec

SEED = 1234
SMALL = {"B": 2, "D": 3, "H": 2}


def inputs_for(spec: Spec, sizes: dict[str, int], seed: int = SEED) -> dict[str, np.ndarray]:
    return draw_inputs(spec, sizes, rng=np.random.default_rng(seed))


def random_like(arrays: dict[str, np.ndarray], rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {name: rng.normal(size=np.shape(a)) for name, a in arrays.items()}


# --- NumPy references, one line per gate --------------------------------------------------------


def logistic(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def gate(a: dict, W: str, b: str, activation: Callable = logistic) -> np.ndarray:
    return activation(np.concatenate([a["h_prev"], a["x"]], axis=-1) @ a[W].T + a[b])


def lstm_cell(a: dict) -> dict[str, np.ndarray]:
    f, i = gate(a, "W_f", "b_f"), gate(a, "W_i", "b_i")
    g, o = gate(a, "W_c", "b_c", np.tanh), gate(a, "W_o", "b_o")
    c = f * a["c_prev"] + i * g
    return {"h": o * np.tanh(c), "c": c}


REFERENCES: dict[str, Callable[[dict], dict[str, np.ndarray]]] = {
    "lstm.forget_gate": lambda a: {"f": gate(a, "W_f", "b_f")},
    "lstm.input_gate": lambda a: {"i": gate(a, "W_i", "b_i")},
    "lstm.candidate": lambda a: {"g": gate(a, "W_c", "b_c", np.tanh)},
    "lstm.output_gate": lambda a: {"o": gate(a, "W_o", "b_o")},
    "lstm.cell_state": lambda a: {"c": a["f"] * a["c_prev"] + a["i"] * a["g"]},
    "lstm.hidden_state": lambda a: {"h": a["o"] * np.tanh(a["c"])},
    "lstm.cell": lstm_cell,
}


@pytest.mark.parametrize("case", [0, 1, 2], ids=lambda c: f"sizes{c}")
@pytest.mark.parametrize("spec_id", list(REFERENCES))
def test_evaluate_matches_numpy_formula(spec_id: str, case: int, catalog, oracle) -> None:
    spec = catalog.get(spec_id)
    sizes = spec.sizes[case]
    inputs = inputs_for(spec, sizes)
    outputs = oracle.evaluate(spec, inputs)
    expected = REFERENCES[spec_id](inputs)
    assert set(outputs) == set(spec.outputs) == set(expected)
    for name, want in expected.items():
        assert outputs[name].shape == want.shape, f"{name} [{spec.describe_sizes(sizes)}]"
        np.testing.assert_allclose(
            outputs[name], want, rtol=1e-13, atol=1e-15, err_msg=f"{name} seed={SEED}"
        )


def test_evaluate_cell_equals_gates_composed_by_hand(catalog, oracle) -> None:
    cell = catalog.get("lstm.cell")
    a = inputs_for(cell, cell.sizes[0])

    def run(spec_id: str, **given: np.ndarray) -> np.ndarray:
        spec = catalog.get(spec_id)
        (value,) = oracle.evaluate(spec, {n: given.get(n, a.get(n)) for n in spec.inputs}).values()
        return value

    f, i = run("lstm.forget_gate"), run("lstm.input_gate")
    g, o = run("lstm.candidate"), run("lstm.output_gate")
    c = run("lstm.cell_state", f=f, i=i, g=g)
    h = run("lstm.hidden_state", o=o, c=c)
    out = oracle.evaluate(cell, a)
    np.testing.assert_array_equal(out["c"], c)
    np.testing.assert_array_equal(out["h"], h)


def test_evaluate_widens_float32_to_float64(catalog, oracle) -> None:
    spec = catalog.get("lstm.forget_gate")
    inputs = draw_inputs(spec, SMALL, dtype="float32", rng=np.random.default_rng(SEED))
    out = oracle.evaluate(spec, inputs)
    assert out["f"].dtype == np.float64
    widened = {k: v.astype(np.float64) for k, v in inputs.items()}
    np.testing.assert_array_equal(out["f"], oracle.evaluate(spec, widened)["f"])


def test_evaluate_leaves_inputs_unmodified(catalog, oracle) -> None:
    spec = catalog.get("lstm.cell")
    inputs = inputs_for(spec, SMALL)
    before = {k: v.copy() for k, v in inputs.items()}
    oracle.evaluate(spec, inputs)
    for name, value in before.items():
        np.testing.assert_array_equal(inputs[name], value, err_msg=name)


# --- complex-step derivatives -----------------------------------------------------------------


def central_difference(
    oracle: Oracle, spec: Spec, inputs: dict, tangents: dict, step: float = 1e-6
) -> dict[str, np.ndarray]:
    plus = {**inputs, **{n: inputs[n] + step * v for n, v in tangents.items()}}
    minus = {**inputs, **{n: inputs[n] - step * v for n, v in tangents.items()}}
    out_plus, out_minus = oracle.evaluate(spec, plus), oracle.evaluate(spec, minus)
    return {n: (out_plus[n] - out_minus[n]) / (2 * step) for n in out_plus}


CELL_INPUTS = ["x", "h_prev", "c_prev", "W_f", "W_i", "W_c", "W_o", "b_f", "b_i", "b_c", "b_o"]


@pytest.mark.parametrize("wrt", CELL_INPUTS)
def test_jvp_matches_central_difference(wrt: str, catalog, oracle) -> None:
    cell = catalog.get("lstm.cell")
    assert wrt in cell.differentiable
    inputs = inputs_for(cell, cell.sizes[0])
    rng = np.random.default_rng([SEED, CELL_INPUTS.index(wrt)])
    tangent = {wrt: rng.normal(size=inputs[wrt].shape)}
    jv = oracle.jvp(cell, inputs, tangent)
    fd = central_difference(oracle, cell, inputs, tangent)
    assert set(jv) == {"h", "c"}
    for name in jv:
        np.testing.assert_allclose(
            jv[name], fd[name], rtol=1e-6, atol=1e-9, err_msg=f"d{name}/d{wrt} seed={SEED}"
        )


def test_jvp_along_all_inputs_at_once_is_the_sum(catalog, oracle) -> None:
    cell = catalog.get("lstm.cell")
    inputs = inputs_for(cell, SMALL)
    tangents = random_like({n: inputs[n] for n in cell.differentiable}, np.random.default_rng(7))
    together = oracle.jvp(cell, inputs, tangents)
    separately = [oracle.jvp(cell, inputs, {n: v}) for n, v in tangents.items()]
    for name in together:
        np.testing.assert_allclose(
            together[name], sum(jv[name] for jv in separately), rtol=1e-12, atol=1e-14
        )
    fd = central_difference(oracle, cell, inputs, tangents)
    for name in together:
        np.testing.assert_allclose(together[name], fd[name], rtol=1e-6, atol=1e-9)


def test_jvp_of_forget_gate_matches_closed_form(catalog, oracle) -> None:
    spec = catalog.get("lstm.forget_gate")
    inputs = inputs_for(spec, spec.sizes[0])
    v = np.random.default_rng(3).normal(size=inputs["b_f"].shape)
    f = REFERENCES["lstm.forget_gate"](inputs)["f"]
    jv = oracle.jvp(spec, inputs, {"b_f": v})
    np.testing.assert_allclose(jv["f"], f * (1 - f) * v, rtol=1e-13, atol=1e-16)


@pytest.mark.parametrize("spec_id", ["lstm.forget_gate", "lstm.cell_state", "lstm.cell"])
def test_vjp_is_consistent_with_jvp(spec_id: str, catalog, oracle) -> None:
    spec = catalog.get(spec_id)
    inputs = inputs_for(spec, SMALL)
    rng = np.random.default_rng([SEED, len(spec_id)])
    cotangents = {name: rng.normal(size=oracle.evaluate(spec, inputs)[name].shape)
                  for name in spec.outputs}  # fmt: skip
    tangents = random_like({n: inputs[n] for n in spec.differentiable}, rng)
    grads = oracle.vjp(spec, inputs, cotangents, spec.differentiable)
    assert set(grads) == set(spec.differentiable)
    for name in spec.differentiable:
        assert grads[name].shape == inputs[name].shape
    left = sum(float(np.vdot(grads[n], tangents[n])) for n in spec.differentiable)
    right = Oracle.project(oracle.jvp(spec, inputs, tangents), cotangents)
    assert left == pytest.approx(right, rel=1e-10, abs=1e-12), f"seed={SEED}"


def test_vjp_of_forget_gate_bias_matches_closed_form(catalog, oracle) -> None:
    spec = catalog.get("lstm.forget_gate")
    inputs = inputs_for(spec, SMALL)
    u = np.random.default_rng(5).normal(size=(SMALL["B"], SMALL["H"]))
    f = REFERENCES["lstm.forget_gate"](inputs)["f"]
    grads = oracle.vjp(spec, inputs, {"f": u}, ["b_f", "x"])
    np.testing.assert_allclose(grads["b_f"], np.sum(u * f * (1 - f), axis=0), rtol=1e-12)
    W_x = inputs["W_f"][:, SMALL["H"] :]  # the columns of W_f that multiply x
    np.testing.assert_allclose(grads["x"], (u * f * (1 - f)) @ W_x, rtol=1e-12)


# --- infer_dims --------------------------------------------------------------------------------


def test_infer_dims_reads_sizes_from_shapes(catalog) -> None:
    cell = catalog.get("lstm.cell")
    sizes = {"B": 3, "D": 5, "H": 4}
    assert infer_dims(cell, inputs_for(cell, sizes)) == sizes


@pytest.mark.parametrize(
    ("name", "shape", "message"),
    [
        pytest.param(
            "W_f", (4, 8),
            r"lstm.forget_gate: W_f.shape=(4, 8), but should be (4, 9) = (H, H + D)",
            id="compound-dim",
        ),
        pytest.param(
            "h_prev", (2, 4),
            r"lstm.forget_gate: h_prev.shape=(2, 4), but should be (3, 4) = (B, H)",
            id="inconsistent-batch",
        ),
        pytest.param(
            "b_f", (4, 1),
            r"lstm.forget_gate: b_f.shape=(4, 1), but should have 1 axes (H)",
            id="extra-axis",
        ),
        pytest.param(
            "x", (15,),
            r"lstm.forget_gate: x.shape=(15,), but should have 2 axes (B, D)",
            id="flattened",
        ),
    ],
)  # fmt: skip
def test_infer_dims_error_names_symbol_and_expected_shape(name, shape, message, catalog) -> None:
    spec = catalog.get("lstm.forget_gate")
    inputs = inputs_for(spec, {"B": 3, "D": 5, "H": 4})
    inputs[name] = np.zeros(shape)
    with pytest.raises(EvaluationError, match=re.escape(message)):
        infer_dims(spec, inputs)


def test_infer_dims_missing_input_is_named(catalog) -> None:
    spec = catalog.get("lstm.forget_gate")
    inputs = inputs_for(spec, SMALL)
    del inputs["b_f"]
    with pytest.raises(EvaluationError, match=r"lstm.forget_gate: missing input 'b_f'"):
        infer_dims(spec, inputs)


def test_spec_function_rejects_unknown_and_missing_inputs(catalog, oracle) -> None:
    spec = catalog.get("lstm.forget_gate")
    call = SpecFunction(spec, oracle)
    inputs = inputs_for(spec, SMALL)
    with pytest.raises(EvaluationError, match=r"lstm.forget_gate has no input\(s\) W_ff"):
        call(_scope=inputs, W_ff=inputs["W_f"])
    with pytest.raises(EvaluationError, match=r"no value for input\(s\) b_f \(pass them"):
        call(_scope={n: v for n, v in inputs.items() if n != "b_f"})
    np.testing.assert_array_equal(call(_scope={}, **inputs), oracle.evaluate(spec, inputs)["f"])


# --- scan ---------------------------------------------------------------------------------------

ELMAN = """\
[family]
id = "elman"
title = "Elman network"

[defaults]
sizes = [{ T = 4, B = 2, D = 3, H = 5 }]

[symbols]
x = { shape = ["B", "D"], role = "input" }
h_prev = { shape = ["B", "H"], role = "state", next = "h", domain = "uniform(-1, 1)" }
W = { shape = ["H", "D"], role = "parameter", domain = "normal(0, 0.5)" }
U = { shape = ["H", "H"], role = "parameter", domain = "normal(0, 0.5)" }
h = { shape = ["B", "H"], role = "output" }
xs = { shape = ["T", "B", "D"], role = "input" }
h_0 = { shape = ["B", "H"], role = "input", domain = "uniform(-1, 1)" }
hs = { shape = ["T", "B", "H"], role = "output" }
h_T = { shape = ["B", "H"], role = "output" }

[[spec]]
id = "elman.step"
inputs = ["x", "h_prev", "W", "U"]
outputs = ["h"]
equations = ["h = tanh(x @ W.T + h_prev @ U.T)"]

[[spec]]
id = "elman.decay"
inputs = ["h_prev"]
outputs = ["h"]
equations = ["h = 0.5 * h_prev"]

[[spec]]
id = "elman.sequence"
inputs = ["xs", "h_0", "W", "U"]
outputs = ["hs", "h_T"]
equations = ["hs, h_T = scan(elman.step, x=xs, h_prev=h_0)"]

[[spec]]
id = "elman.sequence_reverse"
inputs = ["xs", "h_0", "W", "U"]
outputs = ["hs", "h_T"]
equations = ["hs, h_T = scan(elman.step, x=xs, h_prev=h_0, reverse=True)"]
"""


@pytest.fixture(scope="module")
def elman(tmp_path_factory) -> Catalog:
    path = Path(tmp_path_factory.mktemp("specs")) / "elman.toml"
    path.write_text(ELMAN, encoding="utf-8")
    return load_checked_catalog([path])


@pytest.fixture(scope="module")
def elman_oracle(elman: Catalog) -> Oracle:
    return Oracle(elman.specs)


def elman_by_hand(xs, h_0, W, U) -> tuple[np.ndarray, np.ndarray]:
    h, hs = h_0, []
    for x in xs:
        h = np.tanh(x @ W.T + h @ U.T)
        hs.append(h)
    return np.stack(hs), h


def test_scan_matches_hand_loop(elman, elman_oracle) -> None:
    spec = elman.get("elman.sequence")
    a = inputs_for(spec, spec.sizes[0])
    out = elman_oracle.evaluate(spec, a)
    hs, h_T = elman_by_hand(a["xs"], a["h_0"], a["W"], a["U"])
    assert out["hs"].shape == (4, 2, 5)
    np.testing.assert_allclose(out["hs"], hs, rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(out["h_T"], h_T, rtol=1e-14, atol=1e-15)
    np.testing.assert_array_equal(out["h_T"], out["hs"][-1])


def test_scan_reverse_equals_flip_scan_flip(elman, elman_oracle) -> None:
    forward, backward = elman.get("elman.sequence"), elman.get("elman.sequence_reverse")
    a = inputs_for(forward, forward.sizes[0])
    reverse = elman_oracle.evaluate(backward, a)
    flipped = elman_oracle.evaluate(forward, {**a, "xs": a["xs"][::-1]})
    np.testing.assert_array_equal(reverse["hs"], flipped["hs"][::-1])
    np.testing.assert_array_equal(reverse["h_T"], flipped["h_T"])
    np.testing.assert_array_equal(reverse["h_T"], reverse["hs"][0])
    # and it really is a different computation from the forward scan
    assert not np.allclose(reverse["hs"], elman_oracle.evaluate(forward, a)["hs"])


def test_scan_reverse_matches_hand_loop_over_reversed_time(elman, elman_oracle) -> None:
    spec = elman.get("elman.sequence_reverse")
    a = inputs_for(spec, spec.sizes[0])
    out = elman_oracle.evaluate(spec, a)
    hs, h_T = elman_by_hand(a["xs"][::-1], a["h_0"], a["W"], a["U"])
    np.testing.assert_allclose(out["hs"], hs[::-1], rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(out["h_T"], h_T, rtol=1e-14, atol=1e-15)


def test_scan_called_directly_with_reverse_true(elman, elman_oracle) -> None:
    step = SpecFunction(elman.get("elman.step"), elman_oracle)
    a = inputs_for(elman.get("elman.sequence"), {"T": 3, "B": 2, "D": 3, "H": 5})
    hs, h_T = scan(step, _scope=a, x=a["xs"], h_prev=a["h_0"], reverse=True)
    want_hs, want_h_T = elman_by_hand(a["xs"][::-1], a["h_0"], a["W"], a["U"])
    np.testing.assert_allclose(hs, want_hs[::-1], rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(h_T, want_h_T, rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("wrt", ["xs", "h_0", "W", "U"])
def test_jvp_through_scan_matches_central_difference(wrt: str, elman, elman_oracle) -> None:
    spec = elman.get("elman.sequence")
    a = inputs_for(spec, spec.sizes[0])
    tangent = {wrt: np.random.default_rng([SEED, ord(wrt[0])]).normal(size=a[wrt].shape)}
    jv = elman_oracle.jvp(spec, a, tangent)
    fd = central_difference(elman_oracle, spec, a, tangent)
    for name in ("hs", "h_T"):
        np.testing.assert_allclose(jv[name], fd[name], rtol=1e-6, atol=1e-9, err_msg=name)


def test_scan_requires_a_spec(elman_oracle) -> None:
    with pytest.raises(EvaluationError, match=r"scan: the first argument must be a spec"):
        scan(np.tanh, _scope={})  # type: ignore[arg-type]


def test_scan_requires_a_sequence_input(elman, elman_oracle) -> None:
    step = SpecFunction(elman.get("elman.decay"), elman_oracle)
    with pytest.raises(EvaluationError, match=r"scan\(elman.decay\): the step spec has no role"):
        scan(step, _scope={}, h_prev=np.zeros((2, 5)))


def test_scan_requires_next_among_step_outputs(catalog, oracle) -> None:
    step = SpecFunction(catalog.get("lstm.forget_gate"), oracle)
    a = inputs_for(catalog.get("lstm.forget_gate"), SMALL)
    with pytest.raises(
        EvaluationError,
        match=r"scan\(lstm.forget_gate\): state 'h_prev' needs 'next' naming one of its "
        r"outputs \(f\), has 'h'",
    ):
        scan(step, _scope=a, x=a["x"][None])
