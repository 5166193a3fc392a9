"""``torch``: the LSTM gates in torch operators, the cell as ``nn.LSTMCell`` and the
sequence as ``nn.LSTM``.

PyTorch's LSTM against the spec's:

- gates stacked in the order i, f, g, o (:data:`ORDER`): ``weight_ih`` (4H, D) is
  ``[W_ii; W_if; W_ig; W_io]`` and ``weight_hh`` (4H, H) likewise, the spec's W_* (H, H + D)
  on ``concat(h_prev, x)`` split into its recurrent block (first H columns) and input
  block (``layout.lstm_to_stacked``);
- two biases, ``bias_ih + bias_hh``: the spec's b as ``(b, 0)`` (``layout.split_bias``);
- states with a leading layers × directions axis, (1, B, H) (``layout.add_state_axis``);
- sequences time-major by default (``batch_first=False``), as in the spec.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812 (the torch idiom)

from conformance import Arrays, Kernel
from conformance.layout import (
    add_state_axis,
    drop_state_axis,
    lstm_to_stacked,
    split_bias,
    stacked_to_lstm,
)
from implementations.torch_backend._adapter import Adapter, Tensors, call_module

ORDER = "ifgo"
"""PyTorch's gate order in ``weight_ih``, ``weight_hh`` and both biases."""


@dataclass(frozen=True)
class LSTMLayout:
    """How the adapter maps the spec's LSTM parameters onto torch's stacked ones.

    :ivar order: the gate order of torch's stacked weights.
    :ivar concat: how the spec's W_* columns are read, ``"hx"`` (``concat(h_prev, x)``).
    :ivar biases: the spec's b (4H,) → torch's ``(bias_ih, bias_hh)``.
    """

    order: str = ORDER
    concat: str = "hx"
    biases: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]] = split_bias


TORCH = LSTMLayout()
"""PyTorch's layout: gates i, f, g, o; the spec's b as (b, 0)."""


def torch_params(
    inputs: Arrays, layout: LSTMLayout = TORCH, suffix: str = "", tail: str = ""
) -> dict[str, np.ndarray]:
    """torch's ``weight_ih{tail}``, ``weight_hh{tail}``, ``bias_ih{tail}``, ``bias_hh{tail}``
    from the spec's ``W_f{suffix}`` … ``b_o{suffix}`` (``tail``: ``""`` for ``nn.LSTMCell``,
    ``"_l0"`` and ``"_l0_reverse"`` for ``nn.LSTM``'s directions)."""
    W_ih, W_hh, b = lstm_to_stacked(inputs, layout.order, suffix, layout.concat)
    b_ih, b_hh = layout.biases(b)
    return {
        f"weight_ih{tail}": W_ih,
        f"weight_hh{tail}": W_hh,
        f"bias_ih{tail}": b_ih,
        f"bias_hh{tail}": b_hh,
    }


def spec_param_grads(
    grads: Arrays, layout: LSTMLayout = TORCH, suffix: str = "", tail: str = ""
) -> dict[str, np.ndarray]:
    """The spec's dW_f{suffix} … db_o{suffix} from the gradients of torch's parameters;
    b's gradient is bias_ih's (b = bias_ih + bias_hh)."""
    return stacked_to_lstm(
        grads[f"weight_ih{tail}"],
        grads[f"weight_hh{tail}"],
        grads[f"bias_ih{tail}"],
        layout.order,
        suffix,
        layout.concat,
    )


def parameters(tensors: Tensors) -> dict[str, torch.Tensor]:
    """The module parameters among an adapter's tensors (``weight_*``, ``bias_*``)."""
    return {k: v for k, v in tensors.items() if k.startswith(("weight_", "bias_"))}


# ---------------------------------------------------------------------------
# One gate, the cell state and the hidden state: torch operators
# ---------------------------------------------------------------------------


def _gate_kernel(
    weight: str, bias: str, out: str, act: Callable[[torch.Tensor], torch.Tensor]
) -> Kernel:
    """``out = act(F.linear(concat(h_prev, x), W, b))``: the spec's gate as torch ops."""

    def call(t: Tensors) -> dict[str, torch.Tensor]:
        z = torch.cat([t["h_prev"], t["x"]], dim=-1)
        return {out: act(F.linear(z, t[weight], t[bias]))}

    return Adapter(call).kernel()


def _cell_state(t: Tensors) -> dict[str, torch.Tensor]:
    """c_t = f ⊙ c_{t-1} + i ⊙ c̃."""
    return {"c": t["f"] * t["c_prev"] + t["i"] * t["g"]}


def _hidden_state(t: Tensors) -> dict[str, torch.Tensor]:
    """h_t = o ⊙ tanh(c_t)."""
    return {"h": t["o"] * torch.tanh(t["c"])}


# ---------------------------------------------------------------------------
# The cell: nn.LSTMCell
# ---------------------------------------------------------------------------


def cell_adapter(layout: LSTMLayout = TORCH) -> Adapter:
    """One step as ``nn.LSTMCell``: ``(h, c) = cell(x, (h_prev, c_prev))`` with the spec's
    weights stacked in ``layout``."""

    def inputs(a: Arrays) -> dict[str, np.ndarray]:
        return {"input": a["x"], "hx": a["h_prev"], "cx": a["c_prev"], **torch_params(a, layout)}

    def call(t: Tensors) -> dict[str, torch.Tensor]:
        h, c = call_module("lstm_cell", parameters(t), t["input"], (t["hx"], t["cx"]))
        return {"h": h, "c": c}

    def gradients(g: Arrays, _a: Arrays) -> dict[str, np.ndarray]:
        return {
            "x": g["input"],
            "h_prev": g["hx"],
            "c_prev": g["cx"],
            **spec_param_grads(g, layout),
        }

    return Adapter(call, inputs, gradients=gradients)


# ---------------------------------------------------------------------------
# The sequence: nn.LSTM
# ---------------------------------------------------------------------------


def sequence_adapter(layout: LSTMLayout = TORCH) -> Adapter:
    """The sequence as ``nn.LSTM``: ``output, (h_n, c_n) = lstm(xs, (h_0, c_0))``, states
    with torch's leading (layers × directions = 1) axis."""

    def inputs(a: Arrays) -> dict[str, np.ndarray]:
        return {
            "input": a["xs"],
            "h_0": add_state_axis(a["h_0"]),
            "c_0": add_state_axis(a["c_0"]),
            **torch_params(a, layout, tail="_l0"),
        }

    def call(t: Tensors) -> dict[str, torch.Tensor]:
        output, (h_n, c_n) = call_module("lstm", parameters(t), t["input"], (t["h_0"], t["c_0"]))
        return {"output": output, "h_n": h_n, "c_n": c_n}

    def outputs(r: Arrays, _a: Arrays) -> dict[str, np.ndarray]:
        return {
            "hs": r["output"],
            "h_T": drop_state_axis(r["h_n"]),
            "c_T": drop_state_axis(r["c_n"]),
        }

    def cotangents(u: Arrays, _a: Arrays) -> dict[str, np.ndarray]:
        return {"output": u["hs"], "h_n": add_state_axis(u["h_T"]), "c_n": add_state_axis(u["c_T"])}

    def gradients(g: Arrays, _a: Arrays) -> dict[str, np.ndarray]:
        return {
            "xs": g["input"],
            "h_0": drop_state_axis(g["h_0"]),
            "c_0": drop_state_axis(g["c_0"]),
            **spec_param_grads(g, layout, tail="_l0"),
        }

    return Adapter(call, inputs, outputs, cotangents, gradients)


KERNELS: dict[str, Kernel] = {
    "lstm.forget_gate": _gate_kernel("W_f", "b_f", "f", torch.sigmoid),
    "lstm.input_gate": _gate_kernel("W_i", "b_i", "i", torch.sigmoid),
    "lstm.candidate": _gate_kernel("W_c", "b_c", "g", torch.tanh),
    "lstm.output_gate": _gate_kernel("W_o", "b_o", "o", torch.sigmoid),
    "lstm.cell_state": Adapter(_cell_state).kernel(),
    "lstm.hidden_state": Adapter(_hidden_state).kernel(),
    "lstm.cell": cell_adapter().kernel(),
    "lstm.sequence": sequence_adapter().kernel(),
}
