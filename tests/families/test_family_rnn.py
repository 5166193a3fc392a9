"""The Elman RNN family: the specs say what the issue says, and the harness catches the
bugs an RNN backend typically has.

The backends here are inline and tiny: a correct cell, sequence and classifier head,
then one mutation each (a softmax without the max shift, BPTT truncated to the last
step, W_h used untransposed, tanh' taken on the pre-activation, an unnormalized
softmax, a dropped initial-state gradient). Each test also runs the correct kernel or
a check the mutation passes, so a failure is the bug's and nothing else's.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from conformance.plugins.registry import load_registry
from conformance.results.model import Status
from conformance.spec.draw import draw_inputs
from conformance.spec.model import Spec

Array = np.ndarray
Arrays = dict[str, np.ndarray]
RNN_SPECS = ("rnn.cell", "rnn.sequence", "rnn.classifier", "rnn.sequence_classifier")


def only_sizes(spec: Spec, **wanted: int) -> Spec:
    """``spec`` restricted to its cases whose sizes include ``wanted``."""
    sizes = tuple(s for s in spec.sizes if all(s[k] == v for k, v in wanted.items()))
    assert sizes, f"{spec.id} has no case with {wanted}"
    return dataclasses.replace(spec, sizes=sizes)


# ---------------------------------------------------------------------------
# Correct inline kernels (batch rows), which the mutations below start from
# ---------------------------------------------------------------------------


def step(x: Array, h_prev: Array, a: Arrays, *, transpose_W_h: bool = True) -> Array:
    W_h = a["W_h"].T if transpose_W_h else a["W_h"]
    return np.tanh(x @ a["W_x"].T + h_prev @ W_h + a["b"])


def cell_forward(a: Arrays) -> Arrays:
    return {"h": step(a["x"], a["h_prev"], a)}


def cell_vjp(a: Arrays, ct: Arrays, *, slope_of_pre_activation: bool = False) -> Arrays:
    pre = a["x"] @ a["W_x"].T + a["h_prev"] @ a["W_h"].T + a["b"]
    h = np.tanh(pre)
    # The bug: 1 − a² is tanh' only if a were already tanh(a).
    da = ct["h"] * (1 - pre * pre if slope_of_pre_activation else 1 - h * h)
    return {
        "x": da @ a["W_x"],
        "h_prev": da @ a["W_h"],
        "W_x": da.T @ a["x"],
        "W_h": da.T @ a["h_prev"],
        "b": da.sum(axis=0),
    }


def sequence_forward(a: Arrays, *, transpose_W_h: bool = True) -> Arrays:
    h, hs = a["h_0"], []
    for x in a["xs"]:
        h = step(x, h, a, transpose_W_h=transpose_W_h)
        hs.append(h)
    return {"hs": np.stack(hs), "h_T": h}


def sequence_vjp(
    a: Arrays, ct: Arrays, *, last_step_only: bool = False, drop_h_0: bool = False
) -> Arrays:
    hs = sequence_forward(a)["hs"]
    previous = [a["h_0"], *hs[:-1]]
    g = {n: np.zeros_like(a[n]) for n in ("xs", "h_0", "W_x", "W_h", "b")}
    carried = ct["h_T"]
    T = len(hs)
    for t in [T - 1] if last_step_only else reversed(range(T)):
        da = (ct["hs"][t] + carried) * (1 - hs[t] * hs[t])
        g["W_x"] += da.T @ a["xs"][t]
        g["W_h"] += da.T @ previous[t]
        g["b"] += da.sum(axis=0)
        g["xs"][t] = da @ a["W_x"]
        carried = da @ a["W_h"]
    if not drop_h_0 and (T == 1 or not last_step_only):
        g["h_0"] = carried
    return g


def softmax(z: Array, *, shift: bool = True) -> Array:
    e = np.exp(z - z.max(axis=-1, keepdims=True) if shift else z)
    return e / e.sum(axis=-1, keepdims=True)


def classifier_forward(a: Arrays, *, shift: bool = True) -> Arrays:
    return {"p": softmax(a["h_T"] @ a["W_out"] + a["b_out"], shift=shift)}


def head_vjp(h_T: Array, a: Arrays, dp: Array) -> Arrays:
    p = softmax(h_T @ a["W_out"] + a["b_out"])
    dz = p * (dp - (p * dp).sum(axis=-1, keepdims=True))
    return {"h_T": dz @ a["W_out"].T, "W_out": h_T.T @ dz, "b_out": dz.sum(axis=0)}


def sequence_classifier_forward(a: Arrays) -> Arrays:
    return classifier_forward({**a, "h_T": sequence_forward(a)["h_T"]})


def sequence_classifier_vjp(a: Arrays, ct: Arrays, **bug: bool) -> Arrays:
    sequence = sequence_forward(a)
    head = head_vjp(sequence["h_T"], a, ct["p"])
    dh_T = head.pop("h_T")
    zeros = np.zeros_like(sequence["hs"])
    return {**sequence_vjp(a, {"hs": zeros, "h_T": dh_T}, **bug), **head}


# ---------------------------------------------------------------------------
# The specs say what the issue says
# ---------------------------------------------------------------------------


def test_sequence_spec_is_the_elman_recurrence_in_the_seeds_layout(catalog, oracle):
    spec = catalog.get("rnn.sequence")
    a = draw_inputs(spec, spec.sizes[0], rng=np.random.default_rng(1))
    out = oracle.evaluate(spec, a)
    h = a["h_0"]
    for t, x in enumerate(a["xs"]):
        # h_t = tanh(W_x x_t + W_h h_{t-1} + b), written index by index.
        W_x_x = np.einsum("hd,bd->bh", a["W_x"], x)
        W_h_h = np.einsum("hk,bk->bh", a["W_h"], h)
        h = np.tanh(W_x_x + W_h_h + a["b"])
        np.testing.assert_allclose(out["hs"][t], h, rtol=1e-13, atol=1e-14)
    np.testing.assert_array_equal(out["h_T"], out["hs"][-1])


def test_classifier_spec_is_softmax_of_h_T_times_W_out(catalog, oracle):
    spec = catalog.get("rnn.classifier")
    a = draw_inputs(spec, spec.sizes[0], rng=np.random.default_rng(2))
    logits = np.einsum("bh,hk->bk", a["h_T"], a["W_out"]) + a["b_out"]
    expected = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(oracle.evaluate(spec, a)["p"], expected, rtol=1e-13)


def test_sequence_classifier_spec_is_the_head_on_the_sequence(catalog, oracle):
    spec = catalog.get("rnn.sequence_classifier")
    a = draw_inputs(spec, spec.sizes[2], rng=np.random.default_rng(3))
    h_T = oracle.evaluate(catalog.get("rnn.sequence"), a)["h_T"]
    head = oracle.evaluate(catalog.get("rnn.classifier"), {**a, "h_T": h_T})
    np.testing.assert_array_equal(oracle.evaluate(spec, a)["p"], head["p"])


def test_every_size_case_separates_the_dims_or_is_the_edge_of_ones(catalog):
    for spec_id in RNN_SPECS:
        cases = catalog.get(spec_id).sizes
        assert any(set(s.values()) == {1} for s in cases), spec_id
        distinct = [s for s in cases if len(set(s.values())) == len(s)]
        assert len(distinct) >= 2, f"{spec_id}: {cases}"


# ---------------------------------------------------------------------------
# The bugs, and the check that catches each
# ---------------------------------------------------------------------------


def test_stability_catches_softmax_without_max_subtraction(catalog, check_kernel):
    spec = catalog.get("rnn.classifier")

    def naive(a):
        return classifier_forward(a, shift=False)

    for dtype in ("float32", "float64"):
        assert check_kernel(spec, "numeric", naive, dtype=dtype).status is Status.PASS
        assert check_kernel(spec, "stability", classifier_forward, dtype=dtype).ok
        result = check_kernel(spec, "stability", naive, dtype=dtype)
        assert result.status is Status.FAIL, dtype
        assert "but should be finite" in result.message
        assert result.message.startswith("p[")


def test_gradient_catches_bptt_truncated_to_the_last_step(catalog, check_kernel):
    spec = catalog.get("rnn.sequence_classifier")

    def truncated(a, ct):
        return sequence_classifier_vjp(a, ct, last_step_only=True)

    correct = check_kernel(spec, "gradient", sequence_classifier_forward, sequence_classifier_vjp)
    assert correct.status is Status.PASS, correct.message
    result = check_kernel(spec, "gradient", sequence_classifier_forward, truncated)
    assert result.status is Status.FAIL
    assert result.sizes["T"] > 1 and result.worst.startswith("grad ")
    assert "× the expected float" in result.message
    # With one step there is nothing to truncate: the T > 1 cases are what catch it.
    edge = only_sizes(spec, T=1)
    assert check_kernel(edge, "gradient", sequence_classifier_forward, truncated).ok


def test_gradient_catches_truncated_bptt_on_the_bare_sequence(catalog, check_kernel):
    spec = catalog.get("rnn.sequence")

    def truncated(a, ct):
        return sequence_vjp(a, ct, last_step_only=True)

    assert check_kernel(spec, "gradient", sequence_forward, sequence_vjp).ok
    result = check_kernel(spec, "gradient", sequence_forward, truncated)
    assert result.status is Status.FAIL
    assert result.worst.startswith("grad ")


def test_numeric_catches_untransposed_recurrent_weight(catalog, check_kernel):
    spec = catalog.get("rnn.sequence")

    def untransposed(a):
        return sequence_forward(a, transpose_W_h=False)  # W_h is square: shapes agree

    assert check_kernel(spec, "shape", untransposed).status is Status.PASS
    result = check_kernel(spec, "numeric", untransposed)
    assert result.status is Status.FAIL
    assert result.worst.split("[")[0] in {"hs", "h_T"}
    assert result.sizes["H"] > 1
    # A 1×1 W_h is its own transpose: only the H > 1 cases can tell.
    assert check_kernel(only_sizes(spec, H=1), "numeric", untransposed).ok


def test_gradient_catches_tanh_slope_of_pre_activation(catalog, check_kernel):
    spec = catalog.get("rnn.cell")

    def wrong_slope(a, ct):
        return cell_vjp(a, ct, slope_of_pre_activation=True)

    for dtype in ("float32", "float64"):
        assert check_kernel(spec, "gradient", cell_forward, cell_vjp, dtype).ok
        result = check_kernel(spec, "gradient", cell_forward, wrong_slope, dtype)
        assert result.status is Status.FAIL, dtype
        assert result.worst.startswith("grad ")


def test_gradient_catches_dropped_initial_state_gradient(catalog, check_kernel):
    spec = catalog.get("rnn.sequence")

    def no_h_0(a, ct):
        return sequence_vjp(a, ct, drop_h_0=True)

    result = check_kernel(spec, "gradient", sequence_forward, no_h_0)
    assert result.status is Status.FAIL
    assert result.worst.startswith("grad h_0[")


def test_invariants_catch_unnormalized_softmax(catalog, check_kernel):
    spec = catalog.get("rnn.classifier")

    def unnormalized(a):
        z = a["h_T"] @ a["W_out"] + a["b_out"]
        return {"p": np.exp(z - z.max(axis=-1, keepdims=True))}

    assert check_kernel(spec, "invariants", classifier_forward).ok
    result = check_kernel(spec, "invariants", unnormalized)
    assert result.status is Status.FAIL
    assert "invariant 'allclose(sum(p, axis=-1), 1" in result.message


def test_every_builtin_backend_offers_every_rnn_spec_with_a_vjp():
    backends = load_registry(environ={}).backends
    for name in ("numpy-loops", "numpy-vectorized", "fused-gate"):
        for spec_id in RNN_SPECS:
            kernel = backends[name].kernel(spec_id)
            assert kernel is not None and kernel.vjp is not None, (name, spec_id)
