"""``torch``: CTC as ``torch.softmax``, ``F.log_softmax`` and ``F.ctc_loss``.

PyTorch's CTC against the spec's:

- ``log_probs`` (T, B, C) time-major, the blank at class 0 (``blank=0``), as in the spec;
  the loss is taken on ``F.log_softmax(y)`` (``F.ctc_loss`` expects log-probabilities);
- targets padded (B, S) with ``target_lengths`` = the spec's ``lengths``; every row has
  all T frames (``input_lengths`` = T);
- ``reduction="none"``: one loss per row, not the batch mean of loss / target length;
- infeasible targets: the spec's loss is +inf with a zero gradient. ``zero_infinity``
  replaces both the loss and the gradient by zero, so the forward runs with
  ``zero_infinity=False`` (loss +inf) and the VJP with ``zero_infinity=True``
  (gradient 0; without it the gradient is NaN there).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F  # noqa: N812 (the torch idiom)

from conformance import Kernel
from implementations.torch_backend._adapter import Adapter, Tensors

BLANK = 0
"""The blank's class, as the spec declares (PyTorch's default)."""


def _softmax(t: Tensors) -> dict[str, torch.Tensor]:
    """P = softmax(y) over the classes."""
    return {"P": torch.softmax(t["y"], dim=-1)}


def _log_softmax(t: Tensors) -> dict[str, torch.Tensor]:
    """ln P = log_softmax(y) over the classes."""
    return {"log_P": F.log_softmax(t["y"], dim=-1)}


def ctc_loss(t: Tensors, *, zero_infinity: bool) -> dict[str, torch.Tensor]:
    """loss_b = −ln p(z_b|x_b): ``F.ctc_loss`` per row on ``log_softmax(y)``, all T frames."""
    y = t["y"]
    T, B = y.shape[0], y.shape[1]
    loss = F.ctc_loss(
        F.log_softmax(y, dim=-1),
        t["labels"],
        torch.full((B,), T, dtype=torch.long),
        t["lengths"],
        blank=BLANK,
        reduction="none",
        zero_infinity=zero_infinity,
    )
    return {"loss": loss}


def loss_adapter(zero_infinity_forward: bool = False, zero_infinity_vjp: bool = True) -> Adapter:
    """The loss with +inf for infeasible targets (forward) and a zero gradient there (VJP)."""
    return Adapter(
        lambda t: ctc_loss(t, zero_infinity=zero_infinity_forward),
        call_vjp=lambda t: ctc_loss(t, zero_infinity=zero_infinity_vjp),
    )


KERNELS: dict[str, Kernel] = {
    "ctc.softmax": Adapter(_softmax).kernel(),
    "ctc.log_softmax": Adapter(_log_softmax).kernel(),
    "ctc.loss": loss_adapter().kernel(),
}
