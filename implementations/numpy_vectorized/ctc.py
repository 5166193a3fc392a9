"""``numpy-vectorized``: CTC softmax and loss over whole batches, one loop over time.

y is (T, B, C): frame t, batch row b, class k, with the blank at class 0 as the spec
says. The softmax runs over the last axis for every frame and row at once. The
forward-backward keeps ln α and ln β as (T, B, 2S + 1) arrays over all rows and every
position s of the blank-extended targets l' = (∅, z_1, ∅, …, z_L, ∅), padded to the
longest; a Python loop runs over t only. ln 0 is −inf, and np.logaddexp adds
probabilities in log space (it returns −inf, without a warning, for −inf + −inf).

Each forward sits next to its hand-derived backward. With P = softmax(y):
softmax ∂y = P ⊙ (∂P − ⟨∂P, P⟩),  log-softmax ∂y = ∂ln P − P Σ_k ∂ln P,
and the loss ∂y_t[k] = ∂L · (P(k|t) − γ_t(k)) with the occupancy
γ_t(k) = Σ_{s: l'_s = k} α_t(s) β_t(s) / (P(l'_s|t) p(z|x)), zero on infeasible rows.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from conformance import Arrays, Kernel

BLANK = 0
"""The blank's class index, as the spec declares (PyTorch's default)."""


# ---------------------------------------------------------------------------
# Softmax and log-softmax over the classes of every frame and row
# ---------------------------------------------------------------------------


def log_softmax(y: np.ndarray) -> np.ndarray:
    """ln P(k|t) = (y_t[k] − m) − ln Σ_k' exp(y_t[k'] − m), with m the max over k."""
    shifted = y - y.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def softmax(y: np.ndarray) -> np.ndarray:
    """P(k|t) = exp(y_t[k] − m) / Σ_k' exp(y_t[k'] − m), with m the max over k."""
    e = np.exp(y - y.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def softmax_forward(inputs: Arrays) -> dict[str, np.ndarray]:
    """P = softmax(y) over the classes."""
    return {"P": softmax(inputs["y"])}


def softmax_vjp(inputs: Arrays, cotangents: Arrays) -> dict[str, np.ndarray]:
    """∂y = P ⊙ (∂P − Σ_k ∂P_k P_k)."""
    P, dP = softmax(inputs["y"]), cotangents["P"]
    return {"y": P * (dP - (dP * P).sum(axis=-1, keepdims=True))}


def log_softmax_forward(inputs: Arrays) -> dict[str, np.ndarray]:
    """ln P = log_softmax(y) over the classes."""
    return {"log_P": log_softmax(inputs["y"])}


def log_softmax_vjp(inputs: Arrays, cotangents: Arrays) -> dict[str, np.ndarray]:
    """∂y = ∂ln P − P Σ_k ∂ln P_k."""
    dlog_P = cotangents["log_P"]
    return {"y": dlog_P - softmax(inputs["y"]) * dlog_P.sum(axis=-1, keepdims=True)}


# ---------------------------------------------------------------------------
# CTC: the blank-extended targets and the forward-backward in log space
# ---------------------------------------------------------------------------


class Targets(NamedTuple):
    """l' for every row, padded to 2S + 1, with where each row's l' ends and may skip."""

    extended: np.ndarray  # (B, 2S + 1) l'_s: the blank at even s, z_{(s+1)/2} at odd s
    valid: np.ndarray  # (B, 2S + 1) s < 2 L_b + 1
    skip: np.ndarray  # (B, 2S + 1) l'_s ≠ ∅ and l'_s ≠ l'_{s−2}: may come from s − 2


def extend(labels: np.ndarray, lengths: np.ndarray) -> Targets:
    """l' = (∅, z_1, ∅, …, z_L, ∅) per row, its valid positions and its skip transitions."""
    B, S = labels.shape
    extended = np.full((B, 2 * S + 1), BLANK, dtype=labels.dtype)
    extended[:, 1::2] = labels
    s = np.arange(2 * S + 1)
    two_back = np.full_like(extended, BLANK)
    two_back[:, 2:] = extended[:, :-2]
    skip = (extended != BLANK) & (extended != two_back)
    return Targets(extended, s < 2 * lengths[:, None] + 1, skip)


def _shift(a: np.ndarray, by: int) -> np.ndarray:
    """a[..., s − by] (−inf where s < by): where position s comes from."""
    out = np.full_like(a, -np.inf)
    out[..., by:] = a[..., : a.shape[-1] - by]
    return out


def _unshift(a: np.ndarray, by: int) -> np.ndarray:
    """a[..., s + by] (−inf past the end): where position s goes to."""
    out = np.full_like(a, -np.inf)
    out[..., : a.shape[-1] - by] = a[..., by:]
    return out


def forward_backward(
    log_P: np.ndarray, targets: Targets
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ln α, ln β and ln P(l'_s|t), each (T, B, 2S + 1), −inf outside each row's l'.

    ln α_t = ln(α_{t−1}(s) + α_{t−1}(s−1) + [skip_s] α_{t−1}(s−2)) + ln P(l'_s|t),
    ln β_t = ln(β_{t+1}(s) + β_{t+1}(s+1) + [skip_{s+2}] β_{t+1}(s+2)) + ln P(l'_s|t).
    """
    T = log_P.shape[0]
    extended, valid, skip = targets
    log_y = np.take_along_axis(log_P, extended[None], axis=2)
    log_y[:, ~valid] = -np.inf
    s = np.arange(extended.shape[1])
    lengths = (valid.sum(axis=1) - 1) // 2

    log_alpha = np.full_like(log_y, -np.inf)
    log_alpha[0, :, :2] = log_y[0, :, :2]
    for t in range(1, T):
        a = log_alpha[t - 1]
        came = np.logaddexp(a, _shift(a, 1))
        came = np.logaddexp(came, np.where(skip, _shift(a, 2), -np.inf))
        log_alpha[t] = came + log_y[t]

    log_beta = np.full_like(log_y, -np.inf)
    ends = s >= 2 * lengths[:, None] - 1
    log_beta[T - 1] = np.where(ends, log_y[T - 1], -np.inf)
    for t in range(T - 2, -1, -1):
        b = log_beta[t + 1]
        goes = np.logaddexp(b, _unshift(b, 1))
        goes = np.logaddexp(goes, _unshift(np.where(skip, b, -np.inf), 2))
        log_beta[t] = goes + log_y[t]
    return log_alpha, log_beta, log_y


def _neg_log_likelihood(log_alpha: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """−ln p(z|x) = −ln(α_T(2L) + α_T(2L − 1)) per row (0-based s); +inf if infeasible."""
    rows = np.arange(lengths.shape[0])
    last = log_alpha[-1, rows, 2 * lengths]
    before = np.where(lengths > 0, log_alpha[-1, rows, np.maximum(2 * lengths - 1, 0)], -np.inf)
    return -np.logaddexp(last, before)


def loss_forward(inputs: Arrays) -> dict[str, np.ndarray]:
    """loss_b = −ln p(z_b|x_b) from ln α on ln P = log_softmax(y)."""
    lengths = inputs["lengths"]
    log_alpha, _, _ = forward_backward(log_softmax(inputs["y"]), extend(inputs["labels"], lengths))
    return {"loss": _neg_log_likelihood(log_alpha, lengths)}


def loss_vjp(inputs: Arrays, cotangents: Arrays) -> dict[str, np.ndarray]:
    """∂y_t[b, k] = ∂loss_b (P(k|t) − γ_t(k)), zero on rows with loss +inf.

    γ_t(k) = Σ_{s: l'_s = k} exp(ln α_t(s) + ln β_t(s) − ln P(l'_s|t) + loss_b), summed
    into the classes by one contraction with the one-hot (B, 2S + 1, C) of l'.
    """
    y, lengths = inputs["y"], inputs["lengths"]
    log_P = log_softmax(y)
    targets = extend(inputs["labels"], lengths)
    log_alpha, log_beta, log_y = forward_backward(log_P, targets)
    loss = _neg_log_likelihood(log_alpha, lengths)
    feasible = np.isfinite(loss)
    log_y = np.where(targets.valid, log_y, 0)  # finite, so that padding gives −inf, not NaN
    log_gamma = log_alpha + log_beta - log_y + np.where(feasible, loss, 0)[None, :, None]
    gamma = np.exp(log_gamma)
    one_hot = (targets.extended[:, :, None] == np.arange(y.shape[-1])).astype(y.dtype)
    occupancy = np.einsum("tbs,bsk->tbk", gamma, one_hot)
    du = np.where(feasible, cotangents["loss"], 0)[None, :, None]
    return {"y": du * (np.exp(log_P) - occupancy)}


# ---------------------------------------------------------------------------
# Registration
# ---------------------------------------------------------------------------

KERNELS: dict[str, Kernel] = {
    "ctc.softmax": Kernel(softmax_forward, softmax_vjp),
    "ctc.log_softmax": Kernel(log_softmax_forward, log_softmax_vjp),
    "ctc.loss": Kernel(loss_forward, loss_vjp),
}
