"""The variants: made by rules from any spec's symbols and expression trees, reaching into
callees, capped, and each computing exactly the mistake it describes."""

from __future__ import annotations

import numpy as np
import pytest

from conformance.diagnosis import MAX_VARIANTS
from conformance.diagnosis.evaluate import VariantOracle
from conformance.diagnosis.functions import SLOPES, stop_gradient
from conformance.diagnosis.search import forward_variants, gradient_variants
from conformance.diagnosis.variants import Variant, call_tree
from conformance.oracle.evaluate import COMPLEX_STEP
from conformance.spec.draw import case_rng, draw_inputs


def inputs_of(spec, case: int = 0) -> dict:
    return draw_inputs(spec, spec.sizes[case], dtype="float64", rng=case_rng(0, spec.id, case, "x"))


def variant(variants: list[Variant], change: str) -> Variant:
    found = [v for v in variants if change in v.change]
    assert found, f"no variant {change!r} among {[v.change for v in variants][:40]}"
    return found[0]


def test_call_tree_reaches_every_callee_outer_first(catalog):
    tree = [s.id for s in call_tree(catalog.get("bilstm.sequence"), catalog.specs)]
    assert tree[:3] == ["bilstm.sequence", "lstm.sequence", "lstm.cell"]
    assert set(tree[3:]) == {
        "lstm.forget_gate", "lstm.input_gate", "lstm.candidate", "lstm.output_gate",
        "lstm.cell_state", "lstm.hidden_state",
    }  # fmt: skip


def test_every_spec_gets_variants_and_never_more_than_the_cap(catalog):
    counts = {}
    for spec in catalog.specs.values():
        made = forward_variants(spec, catalog.specs)
        assert made, spec.id
        assert len(made) <= MAX_VARIANTS and len(gradient_variants(spec, catalog.specs)) <= 200
        assert len({v.key for v in made}) == len(made)  # no duplicates
        counts[spec.id] = len(made)
    assert counts["slstm.tree"] == MAX_VARIANTS  # the cap binds where the tree is large


def test_swaps_of_same_shaped_inputs_singly_and_by_shared_token(catalog):
    lstm_cell = [v.change for v in forward_variants(catalog.get("lstm.cell"), catalog.specs)]
    assert "W_f and W_i swapped" in lstm_cell and "W_f ↔ W_i and b_f ↔ b_i swapped" in lstm_cell
    assert not any("x and" in c for c in lstm_cell)  # x is (B, D): no twin
    slstm = [v.change for v in forward_variants(catalog.get("slstm.cell"), catalog.specs)]
    assert "h_L ↔ h_R and c_L ↔ c_R swapped" in slstm
    bilstm = [v.change for v in forward_variants(catalog.get("bilstm.sequence"), catalog.specs)]
    assert any(c.startswith("the bwd and fwd parameters swapped (8 pairs") for c in bilstm)
    assert any(c.startswith("the bwd and fwd inputs swapped (10 pairs") for c in bilstm)


def test_square_blocks_are_transposed_and_only_square_ones(catalog):
    gate = [v.change for v in forward_variants(catalog.get("lstm.forget_gate"), catalog.specs)]
    assert [c for c in gate if "transposed" in c] == ["the square block W_f[:, :H] transposed"]
    rnn = [v.change for v in forward_variants(catalog.get("rnn.cell"), catalog.specs)]
    assert [c for c in rnn if "transposed" in c] == ["W_h transposed"]


def test_concat_reversed_is_what_a_backend_concatenating_x_h_computes(catalog):
    spec = catalog.get("lstm.forget_gate")
    a = inputs_of(spec)
    made = variant(forward_variants(spec, catalog.specs), "concat(x, h_prev) for concat(h_prev, x)")
    got = VariantOracle(spec, catalog.specs, spec.sizes[0]).outputs(made, a)["f"]
    z = np.concatenate([a["x"], a["h_prev"]], axis=-1)  # the spec's W_f, columns split at D
    np.testing.assert_allclose(got, 1 / (1 + np.exp(-(z @ a["W_f"].T + a["b_f"]))), rtol=1e-12)


def test_the_same_change_in_every_callee_is_one_variant_too(catalog):
    made = variant(
        forward_variants(catalog.get("lstm.cell"), catalog.specs),
        "concat(x, h_prev) for concat(h_prev, x) in each of",
    )
    assert set(made.replaced) == {
        "lstm.forget_gate", "lstm.input_gate", "lstm.candidate", "lstm.output_gate"
    }  # fmt: skip


def test_a_state_not_carried_restarts_from_its_initial_value(catalog):
    spec = catalog.get("rnn.sequence")
    a = inputs_of(spec)
    made = variant(forward_variants(spec, catalog.specs), "h_prev not carried (h_0 at every step)")
    got = VariantOracle(spec, catalog.specs, spec.sizes[0]).outputs(made, a)["hs"]
    hand = [np.tanh(x @ a["W_x"].T + a["h_0"] @ a["W_h"].T + a["b"]) for x in a["xs"]]
    np.testing.assert_allclose(got, np.stack(hand), rtol=1e-12)


def test_outputs_one_step_late_start_from_the_initial_state(catalog):
    spec = catalog.get("rnn.sequence")
    a = inputs_of(spec)
    oracle = VariantOracle(spec, catalog.specs, spec.sizes[0])
    made = variant(forward_variants(spec, catalog.specs), "one step late")
    right, late = oracle.outputs(None, a), oracle.outputs(made, a)
    np.testing.assert_array_equal(late["hs"][0], a["h_0"])
    np.testing.assert_allclose(late["hs"][1:], right["hs"][:-1], rtol=1e-12)
    np.testing.assert_allclose(late["h_T"], right["h_T"], rtol=1e-12)


@pytest.mark.parametrize("spec_id", ["lstm.cell", "rnn.sequence", "slstm.tree", "ctc.loss"])
def test_gradient_only_variants_keep_every_value(catalog, spec_id):
    spec = catalog.get(spec_id)
    a = inputs_of(spec)
    oracle = VariantOracle(spec, catalog.specs, spec.sizes[0])
    right = oracle.outputs(None, a)
    made = gradient_variants(spec, catalog.specs)
    assert made and all(v.gradient_only for v in made)
    for v in made:
        values = oracle.outputs(v, a)
        for name in spec.outputs:
            np.testing.assert_allclose(values[name], right[name], rtol=1e-13, err_msg=v.change)


def _logistic(z):
    return 1 / (1 + np.exp(-z))


@pytest.mark.parametrize(
    ("name", "slope"),
    [
        (
            "sigmoid_slope_at_output",
            lambda z: (s := 1 / (1 + np.exp(-1 / (1 + np.exp(-z))))) * (1 - s),
        ),
        ("sigmoid_slope_of_input", lambda z: z * (1 - z)),
        ("tanh_slope_at_output", lambda z: 1 - np.tanh(np.tanh(z)) ** 2),
        ("tanh_slope_of_input", lambda z: 1 - z * z),
    ],
)
def test_slopes_keep_the_value_and_have_the_stated_derivative(name, slope):
    z = np.linspace(-3, 3, 13)
    f = SLOPES[name]
    value = np.tanh(z) if name.startswith("tanh") else 1 / (1 + np.exp(-z))
    np.testing.assert_allclose(f(z), value, rtol=1e-14)
    derivative = np.imag(f(z + 1j * COMPLEX_STEP)) / COMPLEX_STEP
    np.testing.assert_allclose(derivative, slope(z), rtol=1e-12, atol=1e-15)


def test_stop_gradient_passes_the_value_only():
    z = np.array([1.0, -2.0]) + 1j * COMPLEX_STEP * np.array([3.0, 4.0])
    np.testing.assert_array_equal(stop_gradient(z), [1.0, -2.0])
    assert not np.iscomplexobj(stop_gradient(z))


def test_a_state_never_updated_is_also_the_final_state(catalog):
    spec = catalog.get("rnn.sequence")
    a = inputs_of(spec)
    made = variant(
        forward_variants(spec, catalog.specs), "h_prev never updated (h_0 at every step)"
    )
    values = VariantOracle(spec, catalog.specs, spec.sizes[0]).outputs(made, a)
    np.testing.assert_array_equal(values["h_T"], a["h_0"])


def test_a_state_taken_as_zeros_alone_and_with_the_others(catalog):
    changes = [v.change for v in forward_variants(catalog.get("lstm.sequence"), catalog.specs)]
    assert {"h_0 taken as zeros", "c_0 taken as zeros", "h_0 and c_0 taken as zeros"} <= set(
        changes
    )
