"""Array axes: time-major and batch-first, the state axis, the halves of a bidirectional
output, column vectors."""

from __future__ import annotations

import numpy as np

from conformance.layout._common import _shape


def batch_first(xs: np.ndarray) -> np.ndarray:
    """(T, B, …) → (B, T, …): a time-major sequence as batch-first (axes 0 and 1 swapped)."""
    a = np.asarray(xs)
    if a.ndim < 2:
        raise ValueError(f"batch_first: xs has {_shape(a)}; a sequence needs (T, B, …)")
    return np.swapaxes(a, 0, 1)


def time_major(ys: np.ndarray) -> np.ndarray:
    """(B, T, …) → (T, B, …): a batch-first sequence as time-major; inverse of
    :func:`batch_first`."""
    a = np.asarray(ys)
    if a.ndim < 2:
        raise ValueError(f"time_major: ys has {_shape(a)}; a sequence needs (B, T, …)")
    return np.swapaxes(a, 0, 1)


def add_state_axis(h: np.ndarray, n: int = 1) -> np.ndarray:
    """(B, H) → (n, B, H): a state with the layers × directions axis frameworks put first.

    For n > 1 the same state is repeated for each of the n layers or directions (stack
    distinct states with ``np.stack``). A new array.
    """
    a = np.asarray(h)
    if a.ndim != 2:
        raise ValueError(f"add_state_axis: h has {_shape(a)}; a state is (B, H)")
    if n < 1:
        raise ValueError(f"add_state_axis: n={n}; it counts layers × directions, at least 1")
    return np.repeat(a[None], n, axis=0)


def drop_state_axis(h: np.ndarray) -> np.ndarray:
    """(1, B, H) → (B, H): a framework's one-layer, one-direction state as the spec's.

    Inverse of ``add_state_axis(h, 1)``; a state with several layers or directions must be
    indexed instead (``h_n[0]``, ``h_n[1]``).
    """
    a = np.asarray(h)
    if a.ndim != 3 or a.shape[0] != 1:
        raise ValueError(
            f"drop_state_axis: h has {_shape(a)}; expected (1, B, H), one layer and direction "
            f"(index a state with several)"
        )
    return a[0]


def split_directions(ys: np.ndarray, H: int) -> tuple[np.ndarray, np.ndarray]:
    """(T, B, 2H) → (fwd, bwd), each (T, B, H): a bidirectional output's two halves.

    PyTorch's ``nn.LSTM(bidirectional=True)`` output holds the forward direction in the
    first H features and the backward one in the last H, each already aligned with x_t.
    Views of ``ys``.
    """
    a = np.asarray(ys)
    if a.ndim < 1 or a.shape[-1] != 2 * H:
        raise ValueError(
            f"split_directions: ys has {_shape(a)}; its last axis must be 2H = {2 * H} "
            f"(forward then backward)"
        )
    return a[..., :H], a[..., H:]


def join_directions(fwd: np.ndarray, bwd: np.ndarray) -> np.ndarray:
    """(fwd, bwd), each (T, B, H) → (T, B, 2H), forward features first; inverse of
    :func:`split_directions`."""
    f, b = np.asarray(fwd), np.asarray(bwd)
    if f.shape != b.shape:
        raise ValueError(
            f"join_directions: fwd has {_shape(f)} and bwd has {_shape(b)}; they must agree"
        )
    return np.concatenate([f, b], axis=-1)


def to_columns(a: np.ndarray) -> np.ndarray:
    """(B, D) → (B, D, 1): each batch row as a column vector, for ``W @ x`` with W (H, D).

    ``(W @ to_columns(x))[..., 0]`` is the spec's ``x @ W.T``. A view of ``a``.
    """
    arr = np.asarray(a)
    if arr.ndim != 2:
        raise ValueError(f"to_columns: a has {_shape(arr)}; expected batch rows (B, D)")
    return arr[..., None]


def from_columns(a: np.ndarray) -> np.ndarray:
    """(B, D, 1) → (B, D): column vectors back as batch rows; inverse of :func:`to_columns`."""
    arr = np.asarray(a)
    if arr.ndim != 3 or arr.shape[-1] != 1:
        raise ValueError(f"from_columns: a has {_shape(arr)}; expected column vectors (B, D, 1)")
    return arr[..., 0]


# ---------------------------------------------------------------------------
# LSTM parameters: the spec's W_f … b_o ↔ stacked (W_ih, W_hh, b)
# ---------------------------------------------------------------------------
