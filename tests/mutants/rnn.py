"""Mutants of the Elman RNN: the cell, the sequence, and the classifier head on it."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from conformance import Kernel
from conformance.spec.model import Spec
from implementations.numpy_loops import rnn as loops
from implementations.numpy_vectorized import rnn as vec
from mutants._activations import softmax_unshifted, tanh_from_exponentials
from mutants._memory import strides_assumed_row_major
from mutants._model import Mutant
from mutants._origin import (
    Arrays,
    builtin,
    gradients_changed,
    inputs_changed,
    with_forward,
    with_vjp,
)


def cell_untransposed_recurrent_weight(a: Arrays) -> dict[str, np.ndarray]:
    """h_{t-1} @ W_h where the spec has h_{t-1} @ W_hᵀ (W_h is square: the shapes fit)."""
    return {"h": np.tanh(a["x"] @ a["W_x"].T + a["h_prev"] @ a["W_h"] + a["b"])}


def cell_vjp_slope_of_pre_activation(a: Arrays, ct: Arrays) -> dict[str, np.ndarray]:
    """tanh′ written 1 − z² but fed the pre-activation z instead of h = tanh(z)."""
    z = a["x"] @ a["W_x"].T + a["h_prev"] @ a["W_h"].T + a["b"]
    da = ct["h"] * (1 - z * z)
    return {"x": da @ a["W_x"], "h_prev": da @ a["W_h"], "W_x": da.T @ a["x"],
            "W_h": da.T @ a["h_prev"], "b": da.sum(axis=0)}  # fmt: skip


def _no_initial_state_gradient(grads: dict, _a: Arrays) -> dict:
    """∂h_0 = 0: the gradient carried out of the first step dropped."""
    return {**grads, "h_0": np.zeros_like(grads["h_0"])}


def classifier_softmax_without_max_shift(a: Arrays) -> dict[str, np.ndarray]:
    """ŷ = exp(z) / Σ exp(z) on the logits z, the max not subtracted first."""
    return {"p": softmax_unshifted(a["h_T"] @ a["W_out"] + a["b_out"])}


def sequence_tanh_from_exponentials(a: Arrays) -> dict[str, np.ndarray]:
    """Every step's tanh written through e^{2a}."""
    h, hs = a["h_0"], []
    for x in a["xs"]:
        h = tanh_from_exponentials(x @ a["W_x"].T + h @ a["W_h"].T + a["b"])
        hs.append(h)
    return {"hs": np.stack(hs), "h_T": h}


def sequence_state_kept_between_calls(_spec: Spec) -> Kernel:
    """A "stateful" sequence: each call starts from the previous call's h_T when the batch
    shape matches, instead of from its own h_0."""
    last: dict[tuple, np.ndarray] = {}

    def forward(a: Arrays) -> dict[str, np.ndarray]:
        key = a["h_0"].shape
        out = vec.sequence_forward({**a, "h_0": last.get(key, a["h_0"])})
        last[key] = out["h_T"]
        return out

    return replace(builtin("rnn.sequence"), forward=forward)


def sequence_classifier_head_in_float64(a: Arrays) -> dict[str, np.ndarray]:
    """The head's weights taken as ``np.asarray(W_out, dtype=float)``: float64 logits."""
    h_T = vec.sequence_forward(a)["h_T"]
    W_out = np.asarray(a["W_out"], dtype=float)
    return vec.classifier_forward({**a, "h_T": h_T, "W_out": W_out})


def sequence_from_zero_state(a: Arrays) -> dict[str, np.ndarray]:
    """The given h_0 ignored: every call starts from h = 0."""
    return vec.sequence_forward({**a, "h_0": np.zeros_like(a["h_0"])})


def classifier_softmax_over_the_batch(a: Arrays) -> dict[str, np.ndarray]:
    """The softmax normalised over axis 0, the batch rows, instead of the classes."""
    e = np.exp(a["h_T"] @ a["W_out"] + a["b_out"])
    return {"p": e / e.sum(axis=0, keepdims=True)}


def cell_writes_h_into_h_prev(a: Arrays) -> dict[str, np.ndarray]:
    """h_t written into the caller's h_{t-1} array (``np.tanh(…, out=h_prev)``), as a
    stateful step would update its state."""
    h = a["h_prev"]
    np.tanh(a["x"] @ a["W_x"].T + h @ a["W_h"].T + a["b"], out=h)
    return {"h": h}


def cell_rows_as_columns(a: Arrays) -> dict[str, np.ndarray]:
    """numpy-loops' cell with each row's (H, 1) column stacked as it is: h is (B, H, 1)."""
    weights = a["W_x"], a["W_h"], a["b"]
    x, h_prev = a["x"], a["h_prev"]
    rows = [loops._step(loops._column(x[n]), loops._column(h_prev[n]), *weights)
            for n in range(x.shape[0])]  # fmt: skip
    return {"h": np.stack(rows)}


M = Mutant
MUTANTS: tuple[Mutant, ...] = (
    M("untransposed_recurrent_weight", "rnn.cell", "numeric",
      "h_{t-1} @ W_h where the spec has h_{t-1} @ W_hᵀ",
      with_forward("rnn.cell", cell_untransposed_recurrent_weight)),
    M("tanh_slope_of_pre_activation", "rnn.cell", "gradient",
      "tanh′ written 1 − z² but fed the pre-activation z, not h = tanh(z)",
      with_vjp("rnn.cell", cell_vjp_slope_of_pre_activation)),
    M("dropped_initial_state_gradient", "rnn.sequence", "gradient",
      "∂h_0 returned as zeros: the gradient carried out of the first step dropped",
      gradients_changed("rnn.sequence", _no_initial_state_gradient)),
    M("softmax_without_max_shift", "rnn.classifier", "stability",
      "the head's softmax without subtracting the max: e^z overflows and ∞/∞ = nan",
      with_forward("rnn.classifier", classifier_softmax_without_max_shift)),
    M("tanh_from_exponentials", "rnn.sequence", "stability",
      "each step's tanh written (e^{2a} − 1)/(e^{2a} + 1): nan once e^{2a} overflows",
      with_forward("rnn.sequence", sequence_tanh_from_exponentials)),
    M("state_kept_between_calls", "rnn.sequence", "stateless",
      "a stateful sequence: a call starts from the previous call's h_T, not its own h_0",
      sequence_state_kept_between_calls),
    M("head_in_float64", "rnn.sequence_classifier", "dtype",
      "the head's weights cast with np.asarray(W_out, dtype=float): float64 from float32",
      with_forward("rnn.sequence_classifier", sequence_classifier_head_in_float64),
      dtypes=("float32",)),
    M("initial_state_ignored", "rnn.sequence", "chunking",
      "the given h_0 ignored: every call starts from h = 0, so a second chunk forgets the first",
      with_forward("rnn.sequence", sequence_from_zero_state)),
    M("softmax_over_the_batch", "rnn.classifier", "batch_independence",
      "the softmax normalised over the batch rows (axis 0) instead of the classes",
      with_forward("rnn.classifier", classifier_softmax_over_the_batch)),
    M("strides_assumed_row_major", "rnn.sequence", "layout",
      "every input viewed with the strides of a C-contiguous array of its shape",
      inputs_changed("rnn.sequence", strides_assumed_row_major, "fused_gate"),
      source="fused_gate"),
    M("h_written_into_h_prev", "rnn.cell", "inputs_unmodified",
      "h_t written into the caller's h_prev array (np.tanh(…, out=h_prev))",
      with_forward("rnn.cell", cell_writes_h_into_h_prev)),
    M("rows_as_columns", "rnn.cell", "shape",
      "each row's (H, 1) column stacked as it is: h of shape (B, H, 1)",
      with_forward("rnn.cell", cell_rows_as_columns, "numpy_loops"), source="numpy_loops"),
)  # fmt: skip
"""The Elman RNN's mutants."""
