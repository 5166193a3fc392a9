"""Mutants of CTC: the softmax and log-softmax over the classes, and the loss."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from conformance import Kernel
from conformance.spec.model import Spec
from implementations.numpy_loops import ctc as loops
from implementations.numpy_vectorized import ctc as vec
from mutants._activations import softmax_unshifted
from mutants._memory import raw_bytes_as_row_major
from mutants._model import Mutant
from mutants._origin import Arrays, builtin, inputs_changed, with_forward, with_vjp


def _loss(a: Arrays, targets: vec.Targets, lengths: np.ndarray) -> np.ndarray:
    """−ln p(z|x) per row from ln α on log_softmax(y), for the given extended targets."""
    log_alpha, _, _ = vec.forward_backward(vec.log_softmax(a["y"]), targets)
    return vec._neg_log_likelihood(log_alpha, lengths)


def loss_skip_over_repeats(a: Arrays) -> dict[str, np.ndarray]:
    """The skip transition s − 2 → s allowed at every label, also between two equal labels
    (the l'_s ≠ l'_{s−2} test left out), so [a, a] may be read as one a."""
    targets = vec.extend(a["labels"], a["lengths"])
    skip = targets.extended != vec.BLANK
    return {"loss": _loss(a, targets._replace(skip=skip), a["lengths"])}


def softmax_without_max_shift(a: Arrays) -> dict[str, np.ndarray]:
    """P = exp(y) / Σ exp(y), the max not subtracted first."""
    return {"P": softmax_unshifted(a["y"])}


def log_softmax_as_log_of_softmax(a: Arrays) -> dict[str, np.ndarray]:
    """ln P = ln(softmax(y)): a probability that underflows to 0 becomes −inf."""
    return {"log_P": np.log(vec.softmax(a["y"]))}


def loss_vjp_occupancy_only(a: Arrays, ct: Arrays) -> dict[str, np.ndarray]:
    """∂y = −∂L γ: the occupancy without the softmax's P(k|t) term."""
    correct = vec.loss_vjp(a, ct)["y"]
    feasible = np.isfinite(vec.loss_forward(a)["loss"])
    du = np.where(feasible, ct["loss"], 0)[None, :, None]
    return {"y": correct - du * vec.softmax(a["y"])}


def softmax_unnormalised(a: Arrays) -> dict[str, np.ndarray]:
    """P = exp(y − max y): shifted, and never divided by the sum."""
    return {"P": np.exp(a["y"] - a["y"].max(axis=-1, keepdims=True))}


def loss_log_likelihood(a: Arrays) -> dict[str, np.ndarray]:
    """ln p(z|x) returned for −ln p(z|x): the sign of the loss left off."""
    return {"loss": -vec.loss_forward(a)["loss"]}


def loss_rows_into_float64_buffer(a: Arrays) -> dict[str, np.ndarray]:
    """numpy-loops' loss with its per-row results written into ``np.empty(B)``: float64."""
    y = a["y"]
    loss = np.empty(y.shape[1])
    for b in range(y.shape[1]):
        log_P, l_ext = loops._row(a, b)
        loss[b] = -loops._log_likelihood(loops.forward_variables(log_P, l_ext))
    return {"loss": loss}


def loss_read_at_longest_target(a: Arrays) -> dict[str, np.ndarray]:
    """Every row's likelihood read at the end of the batch's longest target, 2 max(L) + 1,
    instead of its own: right for a row alone, +inf for the shorter rows of a batch."""
    lengths = a["lengths"]
    targets = vec.extend(a["labels"], lengths)
    return {"loss": _loss(a, targets, np.full_like(lengths, lengths.max()))}


def loss_shifts_logits_in_place(a: Arrays) -> dict[str, np.ndarray]:
    """y − max y taken in the caller's y (the loss is shift-invariant, so it is right)."""
    y = a["y"]
    y -= y.max(axis=-1, keepdims=True)
    return vec.loss_forward(a)


def loss_targets_cached_by_shape(_spec: Spec) -> Kernel:
    """The blank-extended targets cached by the labels' shape: new labels (and lengths) of
    the same shape get the old targets."""
    extended: dict[tuple, vec.Targets] = {}

    def forward(a: Arrays) -> dict[str, np.ndarray]:
        key = a["labels"].shape
        if key not in extended:
            extended[key] = vec.extend(a["labels"], a["lengths"])
        return {"loss": _loss(a, extended[key], a["lengths"])}

    return replace(builtin("ctc.loss"), forward=forward)


def loss_as_column(a: Arrays) -> dict[str, np.ndarray]:
    """The loss returned as a (B, 1) column (a reduction with keepdims)."""
    return {"loss": vec.loss_forward(a)["loss"][:, None]}


M = Mutant
MUTANTS: tuple[Mutant, ...] = (
    M("skip_rule_ignores_repeats", "ctc.loss", "numeric",
      "the skip over a blank allowed between two equal labels too, so [a, a] can be one a",
      with_forward("ctc.loss", loss_skip_over_repeats)),
    M("softmax_without_max_shift", "ctc.softmax", "stability",
      "softmax without subtracting the max: e^y overflows and ∞/∞ = nan",
      with_forward("ctc.softmax", softmax_without_max_shift)),
    M("log_of_softmax", "ctc.log_softmax", "stability",
      "log_softmax as ln(softmax(y)): an underflowed probability gives −inf for a finite value",
      with_forward("ctc.log_softmax", log_softmax_as_log_of_softmax)),
    M("gradient_without_softmax_term", "ctc.loss", "gradient",
      "∂y = −γ (the occupancy) without the softmax's P(k|t)",
      with_vjp("ctc.loss", loss_vjp_occupancy_only)),
    M("unnormalised_softmax", "ctc.softmax", "invariants",
      "softmax shifted by the max but never divided by the sum",
      with_forward("ctc.softmax", softmax_unnormalised)),
    M("log_likelihood_for_loss", "ctc.loss", "invariants",
      "ln p(z|x) returned where the loss is −ln p(z|x)",
      with_forward("ctc.loss", loss_log_likelihood)),
    M("loss_buffer_in_float64", "ctc.loss", "dtype",
      "the per-row losses written into np.empty(B) without a dtype: float64 from float32",
      with_forward("ctc.loss", loss_rows_into_float64_buffer, "numpy_loops"),
      dtypes=("float32",), source="numpy_loops"),
    M("likelihood_read_at_longest_target", "ctc.loss", "batch_independence",
      "every row's likelihood read at the end of the batch's longest target, not its own",
      with_forward("ctc.loss", loss_read_at_longest_target)),
    M("raw_buffer_read_as_row_major", "ctc.loss", "layout",
      "every input's raw bytes (tobytes(order='A')) reinterpreted as row-major",
      inputs_changed("ctc.loss", raw_bytes_as_row_major)),
    M("logits_shifted_in_place", "ctc.loss", "inputs_unmodified",
      "y − max y computed in the caller's y",
      with_forward("ctc.loss", loss_shifts_logits_in_place)),
    M("targets_cached_by_shape", "ctc.loss", "stateless",
      "the extended targets cached by the labels' shape: new labels get the old targets",
      loss_targets_cached_by_shape),
    M("loss_as_column", "ctc.loss", "shape",
      "the loss returned as a (B, 1) column instead of (B,)",
      with_forward("ctc.loss", loss_as_column)),
)  # fmt: skip
"""CTC's mutants."""
