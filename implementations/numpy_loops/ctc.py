"""``numpy-loops``: CTC softmax and loss as Graves et al. (2006) write them.

Python loops over frames t and batch rows b; each frame of a row is a column vector
y_t of the C = K + 1 class scores, with the blank at class 0 as the spec says. The
forward-backward is the paper's recursion, one position s of the blank-extended target
l' = (∅, z_1, ∅, …, z_L, ∅) at a time, in log space (ln 0 = −inf, sums by
np.logaddexp). Slow, and a line-for-line transcription, which is what a reference
backend is for.

Each forward sits next to its hand-derived backward. With P(k|t) the softmax:
softmax ∂y_t = P_t ⊙ (∂P_t − ⟨∂P_t, P_t⟩),  log-softmax ∂y_t = ∂ln P_t − P_t Σ_k ∂ln P_t(k),
and the loss (Graves 2006, eq. 16)
∂L/∂y_t[k] = P(k|t) − (1 / (P(k|t) p(z|x))) Σ_{s: l'_s = k} α_t(s) β_t(s),
zero for a target that does not fit in T frames (loss +inf).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from conformance import Arrays, Kernel

BLANK = 0
"""The blank's class index, as the spec declares (PyTorch's default)."""


# ---------------------------------------------------------------------------
# Softmax and log-softmax, one column y_t at a time
# ---------------------------------------------------------------------------


def _softmax_column(y_t: np.ndarray) -> np.ndarray:
    """P_t = exp(y_t − max y_t) / Σ exp(y_t − max y_t) for one (C, 1) column."""
    e = np.exp(y_t - y_t.max())
    return e / e.sum()


def _log_softmax_column(y_t: np.ndarray) -> np.ndarray:
    """ln P_t = (y_t − max y_t) − ln Σ exp(y_t − max y_t) for one (C, 1) column."""
    shifted = y_t - y_t.max()
    return shifted - np.log(np.exp(shifted).sum())


def _per_column(column_fn: Callable[[np.ndarray], np.ndarray], y: np.ndarray) -> np.ndarray:
    """Apply ``column_fn`` to every frame t and row b of y (T, B, C), as (C, 1) columns."""
    out = np.empty_like(y)
    for t in range(y.shape[0]):
        for b in range(y.shape[1]):
            out[t, b] = column_fn(y[t, b][:, None])[:, 0]
    return out


def softmax_forward(inputs: Arrays) -> dict[str, np.ndarray]:
    """P(k|t) = exp(y_t[k]) / Σ_k' exp(y_t[k']), frame by frame, row by row."""
    return {"P": _per_column(_softmax_column, inputs["y"])}


def softmax_vjp(inputs: Arrays, cotangents: Arrays) -> dict[str, np.ndarray]:
    """∂y_t = P_t ⊙ (∂P_t − P_tᵀ ∂P_t) per column."""
    y, dP = inputs["y"], cotangents["P"]
    dy = np.empty_like(y)
    for t in range(y.shape[0]):
        for b in range(y.shape[1]):
            P_t, dP_t = _softmax_column(y[t, b][:, None]), dP[t, b][:, None]
            dy[t, b] = (P_t * (dP_t - P_t.T @ dP_t))[:, 0]
    return {"y": dy}


def log_softmax_forward(inputs: Arrays) -> dict[str, np.ndarray]:
    """ln P(k|t) = y_t[k] − ln Σ_k' exp(y_t[k']), frame by frame, row by row."""
    return {"log_P": _per_column(_log_softmax_column, inputs["y"])}


def log_softmax_vjp(inputs: Arrays, cotangents: Arrays) -> dict[str, np.ndarray]:
    """∂y_t = ∂ln P_t − P_t (Σ_k ∂ln P_t(k)) per column."""
    y, dlog_P = inputs["y"], cotangents["log_P"]
    dy = np.empty_like(y)
    for t in range(y.shape[0]):
        for b in range(y.shape[1]):
            P_t, d_t = _softmax_column(y[t, b][:, None]), dlog_P[t, b][:, None]
            dy[t, b] = (d_t - P_t * d_t.sum())[:, 0]
    return {"y": dy}


# ---------------------------------------------------------------------------
# CTC for one row: l', ln α, ln β
# ---------------------------------------------------------------------------


def extend(z: np.ndarray) -> list[int]:
    """l' = (∅, z_1, ∅, z_2, …, z_L, ∅): a blank before, between and after the labels."""
    extended = [BLANK]
    for label in z:
        extended += [int(label), BLANK]
    return extended


def _can_skip(l_ext: list[int], s: int) -> bool:
    """Whether a path may enter l'_s from l'_{s−2}: l'_s is a label unlike l'_{s−2}."""
    return s >= 2 and l_ext[s] != BLANK and l_ext[s] != l_ext[s - 2]


def forward_variables(log_P: np.ndarray, l_ext: list[int]) -> np.ndarray:
    """ln α (T, |l'|) for one row with ln P(k|t) of shape (T, C) (Graves 2006, eq. 6–7).

    α_1(1) = y_1(∅), α_1(2) = y_1(l'_2), and
    α_t(s) = (α_{t−1}(s) + α_{t−1}(s−1) + [skip] α_{t−1}(s−2)) · y_t(l'_s).
    """
    T = log_P.shape[0]
    log_alpha = np.full((T, len(l_ext)), -np.inf, dtype=log_P.dtype)
    for s in range(min(2, len(l_ext))):
        log_alpha[0, s] = log_P[0, l_ext[s]]
    for t in range(1, T):
        for s in range(len(l_ext)):
            total = log_alpha[t - 1, s]
            if s >= 1:
                total = np.logaddexp(total, log_alpha[t - 1, s - 1])
            if _can_skip(l_ext, s):
                total = np.logaddexp(total, log_alpha[t - 1, s - 2])
            log_alpha[t, s] = total + log_P[t, l_ext[s]]
    return log_alpha


def backward_variables(log_P: np.ndarray, l_ext: list[int]) -> np.ndarray:
    """ln β (T, |l'|) for one row (Graves 2006, eq. 10–11).

    β_T(|l'|) = y_T(∅), β_T(|l'| − 1) = y_T(l'_{|l'|−1}), and
    β_t(s) = (β_{t+1}(s) + β_{t+1}(s+1) + [skip into s+2] β_{t+1}(s+2)) · y_t(l'_s).
    """
    T, n = log_P.shape[0], len(l_ext)
    log_beta = np.full((T, n), -np.inf, dtype=log_P.dtype)
    for s in range(max(n - 2, 0), n):
        log_beta[T - 1, s] = log_P[T - 1, l_ext[s]]
    for t in range(T - 2, -1, -1):
        for s in range(n):
            total = log_beta[t + 1, s]
            if s + 1 < n:
                total = np.logaddexp(total, log_beta[t + 1, s + 1])
            if s + 2 < n and _can_skip(l_ext, s + 2):
                total = np.logaddexp(total, log_beta[t + 1, s + 2])
            log_beta[t, s] = total + log_P[t, l_ext[s]]
    return log_beta


def _log_likelihood(log_alpha: np.ndarray) -> np.ndarray:
    """ln p(z|x) = ln(α_T(|l'|) + α_T(|l'| − 1)) (just α_T(1) when l' is one blank)."""
    if log_alpha.shape[1] == 1:
        return log_alpha[-1, 0]
    return np.logaddexp(log_alpha[-1, -1], log_alpha[-1, -2])


def _row(inputs: Arrays, b: int) -> tuple[np.ndarray, list[int]]:
    """Row b's ln P(k|t) (T, C) and its blank-extended target l'."""
    log_P = _per_column(_log_softmax_column, inputs["y"][:, b : b + 1])[:, 0]
    return log_P, extend(inputs["labels"][b, : inputs["lengths"][b]])


def loss_forward(inputs: Arrays) -> dict[str, np.ndarray]:
    """loss_b = −ln p(z_b|x_b), one row at a time; +inf when no path fits in T frames."""
    y = inputs["y"]
    loss = np.empty(y.shape[1], dtype=y.dtype)
    for b in range(y.shape[1]):
        log_P, l_ext = _row(inputs, b)
        loss[b] = -_log_likelihood(forward_variables(log_P, l_ext))
    return {"loss": loss}


def loss_vjp(inputs: Arrays, cotangents: Arrays) -> dict[str, np.ndarray]:
    """∂y_t[b, k] = ∂loss_b (P(k|t) − Σ_{s: l'_s = k} α_t(s) β_t(s) / (P(k|t) p(z|x))).

    In log space each term is exp(ln α_t(s) + ln β_t(s) − ln P(l'_s|t) − ln p(z|x)).
    A row with p(z|x) = 0 (loss +inf) gets a zero gradient.
    """
    y = inputs["y"]
    T = y.shape[0]
    dy = np.zeros_like(y)
    for b in range(y.shape[1]):
        log_P, l_ext = _row(inputs, b)
        log_alpha = forward_variables(log_P, l_ext)
        log_p = _log_likelihood(log_alpha)
        if not np.isfinite(log_p):
            continue
        log_beta = backward_variables(log_P, l_ext)
        du = cotangents["loss"][b]
        for t in range(T):
            dy[t, b] = du * np.exp(log_P[t])
            for s, k in enumerate(l_ext):
                occupancy = np.exp(log_alpha[t, s] + log_beta[t, s] - log_P[t, k] - log_p)
                dy[t, b, k] -= du * occupancy
    return {"y": dy}


# ---------------------------------------------------------------------------
# Registration
# ---------------------------------------------------------------------------

KERNELS: dict[str, Kernel] = {
    "ctc.softmax": Kernel(softmax_forward, softmax_vjp),
    "ctc.log_softmax": Kernel(log_softmax_forward, log_softmax_vjp),
    "ctc.loss": Kernel(loss_forward, loss_vjp),
}
