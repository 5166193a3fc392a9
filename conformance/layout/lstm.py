"""The spec's LSTM parameters (W_f … b_o) as a framework's stacked weights, and the
stacked gradients back."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from conformance.layout._common import GATES, SPEC_GATE_NAMES, _concat_order, _shape
from conformance.layout.gates import join_concat, split_concat, split_gates, stack_gates


def _spec_name(kind: str, gate: str, suffix: str) -> str:
    """``W_c_fwd`` for (``"W"``, ``"g"``, ``"_fwd"``): the spec's parameter name."""
    return f"{kind}_{SPEC_GATE_NAMES[gate]}{suffix}"


def lstm_to_stacked(
    params: Mapping[str, np.ndarray],
    order: str = GATES,
    suffix: str = "",
    concat: str = "hx",
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(W_ih (4H, D), W_hh (4H, H), b (4H,)) from the spec's W_f, W_i, W_c, W_o, b_f … b_o.

    Each gate's W (H, H + D) is split into its recurrent and input blocks
    (:func:`split_concat`; ``concat`` is how its columns are ordered, ``"hx"`` for the
    spec's ``concat(h_prev, x)``), and the four gates' blocks and biases are stacked in
    ``order`` (:func:`stack_gates`): ``"ifgo"`` for PyTorch, ``"iofc"`` for ONNX. Then
    ``x @ W_ih.T + h @ W_hh.T + b``, split into gates in ``order``, is every gate's
    pre-activation. ``suffix`` picks a direction's parameters (``"_fwd"`` reads
    ``W_f_fwd`` …). Give b to a framework with two biases as ``split_bias(b)``.
    """
    concat = _concat_order(concat, "lstm_to_stacked")
    wanted = [_spec_name(kind, gate, suffix) for gate in GATES for kind in "Wb"]
    missing = [name for name in wanted if name not in params]
    if missing:
        raise ValueError(f"lstm_to_stacked: params has no {', '.join(missing)}")
    input_blocks: dict[str, np.ndarray] = {}
    recurrent_blocks: dict[str, np.ndarray] = {}
    biases: dict[str, np.ndarray] = {}
    for gate in GATES:
        w_name, b_name = _spec_name("W", gate, suffix), _spec_name("b", gate, suffix)
        W, b = np.asarray(params[w_name]), np.asarray(params[b_name])
        if b.ndim != 1 or W.ndim != 2 or W.shape[0] != b.shape[0] or W.shape[1] <= b.shape[0]:
            raise ValueError(
                f"lstm_to_stacked: {w_name} has {_shape(W)} and {b_name} has {_shape(b)}; "
                f"expected W (H, H + D) with D >= 1 and b (H,)"
            )
        H = b.shape[0]
        first = H if concat == "hx" else W.shape[1] - H
        recurrent_blocks[gate], input_blocks[gate] = split_concat(W, first, concat)
        biases[gate] = b
    return (
        stack_gates(input_blocks, order),
        stack_gates(recurrent_blocks, order),
        stack_gates(biases, order),
    )


def stacked_to_lstm(
    dW_ih: np.ndarray,
    dW_hh: np.ndarray,
    db: np.ndarray,
    order: str = GATES,
    suffix: str = "",
    concat: str = "hx",
) -> dict[str, np.ndarray]:
    """The spec's dW_f, dW_i, dW_c, dW_o, db_f … db_o from stacked gradients; the inverse
    of :func:`lstm_to_stacked` (and the map of its gradients, as it only moves entries).

    ``dW_ih`` (4H, D), ``dW_hh`` (4H, H) and ``db`` (4H,) hold the gates in ``order``;
    each gate's dW (H, H + D) is ``join_concat(dW_h, dW_x, concat)``. Keys carry
    ``suffix`` (``"W_f_bwd"`` …). For a framework with two biases, pass the gradient of
    b_ih (b = b_ih + b_hh, so it is also b's). New arrays.
    """
    ih, hh, bias = np.asarray(dW_ih), np.asarray(dW_hh), np.asarray(db)
    if (
        ih.ndim != 2
        or hh.ndim != 2
        or bias.ndim != 1
        or not ih.shape[0] == hh.shape[0] == bias.shape[0]
        or hh.shape[0] != 4 * hh.shape[1]
    ):
        raise ValueError(
            f"stacked_to_lstm: dW_ih has {_shape(ih)}, dW_hh {_shape(hh)}, db {_shape(bias)}; "
            f"expected (4H, D), (4H, H) and (4H,)"
        )
    x_blocks, h_blocks = split_gates(ih, order), split_gates(hh, order)
    b_blocks = split_gates(bias, order)
    grads: dict[str, np.ndarray] = {}
    for gate in GATES:
        grads[_spec_name("W", gate, suffix)] = join_concat(h_blocks[gate], x_blocks[gate], concat)
        grads[_spec_name("b", gate, suffix)] = b_blocks[gate].copy()
    return grads
