"""The CTC family: the spec's cases hold what the issue asks for, and the harness catches
the bugs a CTC backend typically has.

The backends here are inline and tiny: a softmax, and a textbook log-space CTC forward
(one row, one frame, one position s at a time), then one mutation each: a softmax without
the max shift, a recursion that lets a repeated label skip the blank between its copies,
a loss that returns ln p instead of −ln p, a gradient without the softmax term, and the
recursion in probability space. Each test also runs the correct kernel or a check the
mutation passes, so a failure is the bug's and nothing else's.
"""

from __future__ import annotations

import numpy as np
import pytest

from conformance.lang.ctc import forward_backward
from conformance.results.model import Status
from conformance.spec.draw import draw_inputs

Arrays = dict[str, np.ndarray]
BLANK = 0


# --- inline kernels -----------------------------------------------------------------------------


def log_softmax(y: np.ndarray) -> np.ndarray:
    shifted = y - y.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def softmax_forward(inputs: Arrays, *, shift: bool = True) -> Arrays:
    y = inputs["y"]
    e = np.exp(y - y.max(axis=-1, keepdims=True) if shift else y)
    return {"P": e / e.sum(axis=-1, keepdims=True)}


def ctc_forward(
    inputs: Arrays, *, repeat_skips_blank: bool = False, log_space: bool = True, sign: float = -1
) -> Arrays:
    """loss_b = sign · ln p(z_b|x_b) by the α recursion, one row at a time."""
    y, labels, lengths = inputs["y"], inputs["labels"], inputs["lengths"]
    log_P = log_softmax(y)
    loss = np.empty(y.shape[1], dtype=y.dtype)
    for b in range(y.shape[1]):
        ext = [BLANK]
        for k in labels[b, : lengths[b]]:
            ext += [int(k), BLANK]
        alpha = np.full(len(ext), -np.inf, dtype=y.dtype)
        alpha[:2] = log_P[0, b, ext[:2]]
        if not log_space:
            alpha = np.exp(alpha)
        for t in range(1, y.shape[0]):
            prev = alpha.copy()
            for s, k in enumerate(ext):
                terms = [prev[s]] + ([prev[s - 1]] if s >= 1 else [])
                if s >= 2 and k != BLANK and (repeat_skips_blank or k != ext[s - 2]):
                    terms.append(prev[s - 2])
                if log_space:
                    alpha[s] = np.logaddexp.reduce(terms) + log_P[t, b, k]
                else:
                    alpha[s] = sum(terms) * np.exp(log_P[t, b, k])
        p_terms = alpha[-2:]
        with np.errstate(divide="ignore"):  # ln 0 = −inf once the probabilities underflow
            log_p = np.logaddexp.reduce(p_terms) if log_space else np.log(p_terms.sum())
        loss[b] = sign * log_p
    return {"loss": loss}


def ctc_vjp(inputs: Arrays, cotangents: Arrays, *, softmax_term: bool = True) -> Arrays:
    """∂y = ∂loss (P − γ) with the occupancy γ from the reference α and β."""
    y, lengths = inputs["y"], inputs["lengths"]
    log_P = log_softmax(y)
    fb = forward_backward(log_P, inputs["labels"], lengths, blank=BLANK)
    loss = ctc_forward(inputs)["loss"]
    feasible = np.isfinite(loss)
    log_p = np.where(feasible, -loss, 0.0)[None, :, None]
    gamma = np.exp(fb.log_alpha + fb.log_beta - fb.log_y - log_p)
    one_hot = fb.extended.labels[:, :, None] == np.arange(y.shape[-1])
    occupancy = np.einsum("tbs,bsk->tbk", gamma, one_hot & fb.extended.valid[:, :, None])
    grad = (np.exp(log_P) if softmax_term else 0.0) - occupancy
    return {"y": np.where(feasible, cotangents["loss"], 0)[None, :, None] * grad}


# --- the spec's cases ---------------------------------------------------------------------------


def test_ctc_loss_cases_cover_empty_repeated_and_infeasible_targets(catalog, oracle):
    spec = catalog.get("ctc.loss")
    seen = {"empty": 0, "repeat": 0, "infeasible": 0, "one frame": 0}
    for case, sizes in enumerate(spec.sizes):
        inputs = draw_inputs(spec, sizes, rng=np.random.default_rng(case))
        labels, lengths = inputs["labels"], inputs["lengths"]
        assert np.all((labels >= 1) & (labels < sizes["C"])), "labels must avoid the blank 0"
        assert sorted(set(lengths.tolist())) == list(range(min(sizes["B"], sizes["S"] + 1)))
        loss = oracle.evaluate(spec, inputs)["loss"]
        targets = [labels[b, : lengths[b]] for b in range(len(lengths))]
        for z, value in zip(targets, loss, strict=True):
            seen["empty"] += len(z) == 0
            seen["repeat"] += bool(np.isfinite(value) and np.any(z[1:] == z[:-1]))
            seen["infeasible"] += bool(value == np.inf)
        seen["one frame"] += sizes["T"] == 1
    assert all(seen.values()), seen


def test_ctc_loss_of_an_infeasible_target_is_inf(catalog, oracle):
    spec = catalog.get("ctc.loss")
    y = np.zeros((3, 2, 2))
    inputs = {"y": y, "labels": np.ones((2, 3), dtype=np.int64), "lengths": np.array([3, 2])}
    loss = oracle.evaluate(spec, inputs)["loss"]
    # [1, 1, 1] needs 5 frames; [1, 1] has one path in 3, (1, ∅, 1), of probability 2⁻³.
    assert loss[0] == np.inf
    assert loss[1] == pytest.approx(3 * np.log(2))


# --- broken backends ----------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_stability_catches_softmax_without_max_shift(dtype, check_kernel):
    def unshifted(inputs):
        return softmax_forward(inputs, shift=False)

    assert check_kernel("ctc.softmax", "stability", softmax_forward, dtype=dtype).ok
    assert check_kernel("ctc.softmax", "numeric", unshifted, dtype=dtype).ok
    result = check_kernel("ctc.softmax", "stability", unshifted, dtype=dtype)
    assert result.status is Status.FAIL
    assert "but should be finite" in result.message


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_numeric_catches_repeated_label_skipping_the_blank(dtype, check_kernel):
    def skips(inputs):
        return ctc_forward(inputs, repeat_skips_blank=True)

    assert check_kernel("ctc.loss", "numeric", ctc_forward, dtype=dtype).ok
    result = check_kernel("ctc.loss", "numeric", skips, dtype=dtype)
    assert result.status is Status.FAIL
    assert result.worst.startswith("loss[") and "× the expected float" in result.message


def test_invariants_and_numeric_catch_log_likelihood_instead_of_loss(check_kernel):
    def log_p(inputs):
        return ctc_forward(inputs, sign=1.0)

    assert check_kernel("ctc.loss", "invariants", ctc_forward).ok
    result = check_kernel("ctc.loss", "invariants", log_p)
    assert result.status is Status.FAIL
    assert "invariant 'loss >= 0' does not hold" in result.message
    assert check_kernel("ctc.loss", "numeric", log_p).status is Status.FAIL


def test_invariants_catch_loss_that_breaks_the_occupancy_identity(check_kernel):
    def doubled(inputs):
        return {"loss": 2 * ctc_forward(inputs)["loss"]}  # still >= 0, but p ≠ Σ α β / y

    result = check_kernel("ctc.loss", "invariants", doubled)
    assert result.status is Status.FAIL
    assert "invariant 'allclose(exp(-ctc_neg_log_likelihood(" in result.message


def test_gradient_catches_missing_softmax_term(check_kernel):
    def occupancy_only(inputs, cotangents):
        return ctc_vjp(inputs, cotangents, softmax_term=False)

    assert check_kernel("ctc.loss", "gradient", ctc_forward, ctc_vjp).ok
    result = check_kernel("ctc.loss", "gradient", ctc_forward, occupancy_only)
    assert result.status is Status.FAIL
    assert result.worst.startswith("grad y[")


def test_stability_catches_ctc_in_probability_space(check_kernel):
    def linear(inputs):
        return ctc_forward(inputs, log_space=False)

    assert check_kernel("ctc.loss", "numeric", linear).ok
    assert check_kernel("ctc.loss", "stability", ctc_forward).ok
    result = check_kernel("ctc.loss", "stability", linear)
    assert result.status is Status.FAIL
    assert "but should be finite" in result.message
