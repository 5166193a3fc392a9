"""CTC's forward-backward, the oracle primitive behind ``ctc.loss`` (Graves et al. 2006).

A target z of length L is aligned to T frames through the blank-extended sequence
l' = (∅, z_1, ∅, z_2, …, z_L, ∅) of length 2L + 1. With y_t(k) the probability of class k
at frame t, the forward and backward variables (both including y_t, as in the paper) are

    α_1(1) = y_1(∅),  α_1(2) = y_1(z_1),  α_1(s) = 0 for s > 2,
    α_t(s) = (α_{t−1}(s) + α_{t−1}(s−1) + [skip_s] α_{t−1}(s−2)) · y_t(l'_s),
    β_T(|l'|) = y_T(∅),  β_T(|l'|−1) = y_T(z_L),  β_T(s) = 0 otherwise,
    β_t(s) = (β_{t+1}(s) + β_{t+1}(s+1) + [skip_{s+2}] β_{t+1}(s+2)) · y_t(l'_s),

where skip_s holds when l'_s ≠ ∅ and l'_s ≠ l'_{s−2}: a path may jump over a blank only
between two different labels. Then p(z|x) = α_T(|l'|) + α_T(|l'|−1), and at every t
p(z|x) = Σ_s α_t(s) β_t(s) / y_t(l'_s).

Everything runs in log space on float64 *or complex128*, with only complex-safe steps
(:func:`conformance.lang.primitives.logsumexp`, whose shift is the max of the real part,
``take_along_axis``, ``where`` on real masks), so that complex-step differentiation of the
oracle gives the exact gradient with respect to the logits. ln 0 is the finite
:data:`LOG_ZERO`, never −inf: on complex input −inf meets −inf − (−inf) or ∞·0 and
turns into NaN, while exp(LOG_ZERO − m) is exactly 0 for any reachable m. A result
below LOG_ZERO / 2 means p = 0 and becomes ln p = −inf (loss +inf) with a zero
imaginary part, so an infeasible target has loss +inf and zero gradient.

All input sequences are T frames long; target lengths vary by row (0 allowed).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from conformance.lang.primitives import as_array, logsumexp
from conformance.lang.rounding import Rounded
from conformance.lang.rounding_functions import logsumexp as rounded_logsumexp
from conformance.typing import Array

LOG_ZERO = -1e30
"""ln 0 as a finite number: far below any reachable log-probability, far above −inf."""


def _logsumexp(a: Array, axis: int) -> Array:
    """ln Σ exp(a) over ``axis``, by the oracle's complex-safe ``primitives.logsumexp``, or
    with its rounding as one function when ``a`` carries a rounding estimate."""
    if isinstance(a, Rounded):
        return rounded_logsumexp(a, axis=axis)
    return logsumexp(a, axis=axis)


def _shift(a: Array, by: int) -> Array:
    """a[..., s − by] along the last axis, LOG_ZERO where s − by < 0 (nothing to come from)."""
    n = a.shape[-1]
    pad = np.full((*a.shape[:-1], by), LOG_ZERO, dtype=a.dtype)
    return np.concatenate([pad, a], axis=-1)[..., :n]


def _unshift(a: Array, by: int) -> Array:
    """a[..., s + by] along the last axis, LOG_ZERO where s + by is past the end."""
    return np.flip(_shift(np.flip(a, axis=-1), by), axis=-1)


class Extended(NamedTuple):
    """The blank-extended labels l' of every row, padded to 2S + 1.

    :ivar labels: (B, 2S + 1) l'_s: the blank at even s, z_{(s+1)/2} at odd s.
    :ivar valid: (B, 2S + 1) whether s < 2 L_b + 1 (inside row b's l').
    :ivar skip: (B, 2S + 1) whether α_t(s) may come from α_{t−1}(s − 2).
    """

    labels: Array
    valid: Array
    skip: Array


def extend(labels: Array, lengths: Array, blank: int = 0) -> Extended:
    """l' = (∅, z_1, ∅, …, z_L, ∅) per row, with its valid positions and skip transitions."""
    labels, lengths = np.asarray(labels), np.asarray(lengths)
    B, S = labels.shape
    extended = np.full((B, 2 * S + 1), blank, dtype=np.int64)
    extended[:, 1::2] = labels
    s = np.arange(2 * S + 1)
    valid = s[None, :] < 2 * lengths[:, None] + 1
    before = np.concatenate([np.full((B, 2), blank), extended[:, :-2]], axis=1)
    skip = (s[None, :] >= 2) & (extended != blank) & (extended != before)
    return Extended(extended, valid, skip)


class ForwardBackward(NamedTuple):
    """ln α, ln β and ln y_t(l'_s), each (T, B, 2S + 1), LOG_ZERO outside each row's l'."""

    log_alpha: Array
    log_beta: Array
    log_y: Array
    extended: Extended


def forward_backward(
    log_probs: Array, labels: Array, lengths: Array, blank: int = 0
) -> ForwardBackward:
    """The recursions of the module docstring in log space, over all rows and s at once.

    :param log_probs: (T, B, C) ln y_t(k), e.g. a log-softmax (float64 or complex128).
    :param labels: (B, S) targets, padded; entries at and past ``lengths[b]`` are ignored.
    :param lengths: (B,) target lengths L_b, 0 … S.
    :param blank: the class index of ∅.
    """
    log_probs = as_array(log_probs)
    lengths = np.asarray(lengths)
    ext = extend(labels, lengths, blank)
    T = log_probs.shape[0]
    log_y = np.take_along_axis(log_probs, ext.labels[None, :, :], axis=2)
    log_y = np.where(ext.valid[None], log_y, LOG_ZERO)
    s = np.arange(ext.labels.shape[1])
    ends = s[None, :] >= 2 * lengths[:, None] - 1  # the last label and the last blank

    # Each frame's variables are a new array (no writes into a preallocated one), so that
    # values carrying a rounding estimate (conformance.lang.rounding) run through unchanged.
    alphas = [np.where(s[None, :] < 2, log_y[0], LOG_ZERO)]
    for t in range(1, T):
        a = alphas[-1]
        jump = np.where(ext.skip, _shift(a, 2), LOG_ZERO)
        step = _logsumexp(np.stack([a, _shift(a, 1), jump]), axis=0) + log_y[t]
        alphas.append(np.where(ext.valid, step, LOG_ZERO))

    betas = [np.where(ends & ext.valid, log_y[T - 1], LOG_ZERO)]
    for t in range(T - 2, -1, -1):
        b = betas[-1]
        jump = _unshift(np.where(ext.skip, b, LOG_ZERO), 2)
        step = _logsumexp(np.stack([b, _unshift(b, 1), jump]), axis=0) + log_y[t]
        betas.append(np.where(ext.valid, step, LOG_ZERO))
    log_alpha, log_beta = np.stack(alphas), np.stack(betas[::-1])
    return ForwardBackward(log_alpha, log_beta, log_y, ext)


def _log_zero_to_inf(log_p: Array) -> Array:
    """ln p, with anything at the LOG_ZERO level made exactly −inf (p = 0, gradient 0)."""
    return np.where(np.real(log_p) < LOG_ZERO / 2, -np.inf, log_p)


def log_likelihood(fb: ForwardBackward, lengths: Array) -> Array:
    """ln p(z|x) = ln(α_T(|l'|) + α_T(|l'| − 1)) per row, (B,); −inf for infeasible rows."""
    lengths = np.asarray(lengths)
    last = fb.log_alpha[-1]
    ends = np.stack([2 * lengths, np.maximum(2 * lengths - 1, 0)], axis=1)
    final = np.take_along_axis(last, ends, axis=1)
    last_label = np.where(lengths > 0, final[:, 1], LOG_ZERO)  # L = 0: l' is one blank
    final = np.stack([final[:, 0], last_label], axis=1)
    return _log_zero_to_inf(_logsumexp(final, axis=1))


def occupancy_log_likelihood(fb: ForwardBackward) -> Array:
    """ln Σ_s α_t(s) β_t(s) / y_t(l'_s) at every frame, (T, B): each row equals ln p(z|x)."""
    return _log_zero_to_inf(_logsumexp(fb.log_alpha + fb.log_beta - fb.log_y, axis=2))


def ctc_neg_log_likelihood(
    log_probs: Array, labels: Array, lengths: Array, blank: int = 0, per_step: bool = False
) -> Array:
    """−ln p(z|x) per row (B,), from α; +inf where no alignment fits in T frames.

    With ``per_step=True``: −ln Σ_s α_t(s) β_t(s) / y_t(l'_s) at every frame t, (T, B),
    which equals −ln p(z|x) for every t (the identity behind CTC's gradient).
    """
    fb = forward_backward(log_probs, labels, lengths, blank)
    if per_step:
        return -occupancy_log_likelihood(fb)
    return -log_likelihood(fb, lengths)
