"""CTC's forward-backward primitive against brute force, its identity, and its derivatives.

The oracle's ``ctc_neg_log_likelihood`` is checked against the definition itself:
p(z|x) = Σ over every path π ∈ {0..K}^T with B(π) = z of Π_t y_t(π_t), where B merges
repeats and then drops blanks, enumerated in full on tiny T ≤ 5 and K ≤ 2. Then the
identity Σ_s α_t(s) β_t(s) / y_t(l'_s) = p(z|x) at every t, and the complex-step
derivative (what the gradient check uses) against central differences and against
Graves's softmax-minus-occupancy formula, with infeasible rows and logits of ±1e3.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from conformance.lang.ctc import (
    LOG_ZERO,
    ctc_neg_log_likelihood,
    extend,
    forward_backward,
    occupancy_log_likelihood,
)
from conformance.lang.primitives import log_softmax, softmax
from conformance.oracle.evaluate import COMPLEX_STEP

BLANK = 0
TARGETS = ([], [1], [1, 1], [1, 2], [2, 1, 2], [2, 2, 1], [1, 1, 1], [1, 2, 1, 2, 1])
"""Empty, single, repeated, distinct, and (for small T) infeasible targets."""


def collapse(path: tuple[int, ...]) -> tuple[int, ...]:
    """B(π): merge repeated classes, then drop the blanks."""
    merged = [k for i, k in enumerate(path) if i == 0 or k != path[i - 1]]
    return tuple(k for k in merged if k != BLANK)


def brute_force_probability(log_probs: np.ndarray, target: list[int]) -> float:
    """p(z|x) by enumerating all (K + 1)^T paths of one row, ln y of shape (T, C)."""
    T, C = log_probs.shape
    frames = np.arange(T)
    return sum(
        float(np.exp(log_probs[frames, list(path)].sum()))
        for path in itertools.product(range(C), repeat=T)
        if collapse(path) == tuple(target)
    )


def batch(targets: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    """Padded (B, S) labels and (B,) lengths; padding is a label, to show it is ignored."""
    S = max(1, *(len(z) for z in targets))
    labels = np.ones((len(targets), S), dtype=np.int64)
    for b, z in enumerate(targets):
        labels[b, : len(z)] = z
    return labels, np.array([len(z) for z in targets], dtype=np.int64)


def frames_needed(target: list[int]) -> int:
    """L plus one blank between each pair of equal neighbours."""
    return len(target) + sum(a == b for a, b in itertools.pairwise(target))


def random_log_probs(rng: np.random.Generator, T: int, B: int, C: int) -> np.ndarray:
    return log_softmax(rng.normal(0.0, 1.5, (T, B, C)))


@pytest.mark.parametrize("K", [1, 2])
@pytest.mark.parametrize("T", [1, 2, 3, 4, 5])
def test_neg_log_likelihood_equals_brute_force_over_all_paths(T, K):
    targets = [z for z in TARGETS if max(z, default=0) <= K]
    labels, lengths = batch(targets)
    log_probs = random_log_probs(np.random.default_rng(10 * T + K), T, len(targets), K + 1)
    loss = ctc_neg_log_likelihood(log_probs, labels, lengths, blank=BLANK)
    for b, z in enumerate(targets):
        p = brute_force_probability(log_probs[:, b], z)
        if frames_needed(z) > T:
            assert p == 0.0 and loss[b] == np.inf, (T, z)
        else:
            assert p > 0.0
            np.testing.assert_allclose(loss[b], -np.log(p), rtol=1e-12, err_msg=f"T={T}, z={z}")


def test_brute_force_sees_repeats_need_a_blank():
    """The enumeration itself: [1, 1] has exactly one path in three frames, (1, ∅, 1)."""
    log_probs = np.log(np.full((3, 2), 0.5))
    assert brute_force_probability(log_probs, [1, 1]) == pytest.approx(0.125)
    assert brute_force_probability(log_probs[:2], [1, 1]) == 0.0


@pytest.mark.parametrize("T", [1, 3, 5])
def test_occupancy_identity_holds_at_every_frame(T):
    labels, lengths = batch([z for z in TARGETS if len(z) <= 3])
    log_probs = random_log_probs(np.random.default_rng(T), T, len(lengths), 3)
    nll = ctc_neg_log_likelihood(log_probs, labels, lengths)
    per_step = ctc_neg_log_likelihood(log_probs, labels, lengths, per_step=True)
    assert per_step.shape == (T, len(lengths))
    finite = np.isfinite(nll)
    assert finite.any() and (T >= 5 or not finite.all())
    np.testing.assert_allclose(per_step[:, finite], np.broadcast_to(nll[finite], (T, finite.sum())))
    assert np.all(per_step[:, ~finite] == np.inf)


def test_occupancy_identity_is_sum_of_alpha_beta_over_y():
    """Σ_s α_t(s) β_t(s) / y_t(l'_s) in linear space, from the log-space variables."""
    labels, lengths = batch([[1, 2, 2]])
    log_probs = random_log_probs(np.random.default_rng(3), 6, 1, 3)
    fb = forward_backward(log_probs, labels, lengths)
    alpha, beta, y = np.exp(fb.log_alpha), np.exp(fb.log_beta), np.exp(fb.log_y)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_t = np.nansum(np.where(fb.extended.valid, alpha * beta / y, 0.0), axis=2)
    p = brute_force_probability(log_probs[:, 0], [1, 2, 2])
    np.testing.assert_allclose(per_t[:, 0], p, rtol=1e-12)
    np.testing.assert_allclose(np.exp(occupancy_log_likelihood(fb))[:, 0], p, rtol=1e-12)


def test_extend_forbids_skipping_the_blank_between_repeated_labels():
    ext = extend(np.array([[1, 1, 2, 0]]), np.array([3]))
    assert ext.labels[0].tolist() == [0, 1, 0, 1, 0, 2, 0, 0, 0]
    assert ext.valid[0].tolist() == [True] * 7 + [False] * 2
    # s = 3 repeats s = 1 (label 1 after label 1): no skip; s = 5 (2 after 1): skip.
    assert np.flatnonzero(ext.skip[0]).tolist() == [5]


def nll_of_logits(y: np.ndarray, labels: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """loss(y) as the spec composes it: the primitive on log_softmax(y)."""
    return ctc_neg_log_likelihood(log_softmax(y), labels, lengths, blank=BLANK)


def complex_step_gradient(
    y: np.ndarray, labels: np.ndarray, lengths: np.ndarray, u: np.ndarray
) -> np.ndarray:
    """∂(uᵀ loss)/∂y element by element, as the oracle's gradient check computes it."""
    grad = np.zeros_like(y)
    for index in np.ndindex(y.shape):
        step = np.zeros(y.shape, dtype=complex)
        step[index] = 1j * COMPLEX_STEP
        grad[index] = np.vdot(u, np.imag(nll_of_logits(y + step, labels, lengths)) / COMPLEX_STEP)
    return grad


@pytest.fixture(scope="module")
def feasible_case() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    labels, lengths = batch([[], [1], [1, 1], [2, 1, 2]])
    rng = np.random.default_rng(7)
    return rng.normal(size=(5, 4, 3)), labels, lengths, rng.normal(size=4)


def test_complex_step_gradient_equals_central_differences(feasible_case):
    y, labels, lengths, u = feasible_case
    h = 1e-6
    central = np.zeros_like(y)
    for index in np.ndindex(y.shape):
        e = np.zeros_like(y)
        e[index] = h
        up, down = nll_of_logits(y + e, labels, lengths), nll_of_logits(y - e, labels, lengths)
        central[index] = u @ (up - down) / (2 * h)
    grad = complex_step_gradient(y, labels, lengths, u)
    np.testing.assert_allclose(grad, central, atol=1e-8)
    assert np.abs(grad).max() > 0.1


def test_complex_step_gradient_is_softmax_minus_occupancy(feasible_case):
    """Graves (2006) eq. 16: ∂L/∂y_t[k] = P(k|t) − Σ_{s: l'_s = k} α_t(s) β_t(s) / (y_t(k) p)."""
    y, labels, lengths, u = feasible_case
    fb = forward_backward(log_softmax(y), labels, lengths)
    loss = nll_of_logits(y, labels, lengths)
    gamma = np.exp(fb.log_alpha + fb.log_beta - fb.log_y + loss[None, :, None])
    occupancy = np.zeros_like(y)
    for b, s in itertools.product(range(y.shape[1]), range(fb.extended.labels.shape[1])):
        if fb.extended.valid[b, s]:
            occupancy[:, b, fb.extended.labels[b, s]] += gamma[:, b, s]
    expected = u[None, :, None] * (softmax(y) - occupancy)
    np.testing.assert_allclose(complex_step_gradient(y, labels, lengths, u), expected, atol=1e-13)


def test_infeasible_row_is_inf_with_zero_gradient_and_no_nan():
    labels, lengths = batch([[1, 1, 1], [1]])  # [1, 1, 1] needs 5 frames
    y = np.random.default_rng(5).normal(size=(3, 2, 2))
    loss = nll_of_logits(y, labels, lengths)
    assert loss[0] == np.inf and np.isfinite(loss[1])
    grad = complex_step_gradient(y, labels, lengths, np.array([1.0, 1.0]))
    assert np.all(np.isfinite(grad))
    assert np.all(grad[:, 0] == 0.0) and np.abs(grad[:, 1]).max() > 0.01


def test_extreme_logits_give_finite_loss_and_derivatives():
    rng = np.random.default_rng(11)
    y = rng.choice([-1.0, 1.0], (5, 4, 3)) * rng.uniform(500.0, 1000.0, (5, 4, 3))
    labels, lengths = batch([[], [1], [1, 1], [2, 1, 2]])
    loss = nll_of_logits(y, labels, lengths)
    assert np.all(np.isfinite(loss)) and loss.max() > 100.0
    grad = complex_step_gradient(y, labels, lengths, np.ones(4))
    assert np.all(np.isfinite(grad))
    # Each frame's gradient is a difference of two distributions over the classes: sums to 0.
    np.testing.assert_allclose(grad.sum(axis=2), 0.0, atol=1e-9)


def test_log_zero_stays_far_from_reachable_values_and_from_overflow():
    labels, lengths = batch([[2, 1, 2]])
    fb = forward_backward(random_log_probs(np.random.default_rng(2), 4, 1, 3), labels, lengths)
    unreachable = fb.log_alpha < LOG_ZERO / 2
    assert unreachable.any() and np.all(fb.log_alpha[~unreachable] > -1e3)
    assert np.all(np.isfinite(fb.log_alpha)) and np.all(np.isfinite(fb.log_beta))
