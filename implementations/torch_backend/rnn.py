"""``torch``: the Elman RNN as ``nn.RNNCell`` and ``nn.RNN`` (tanh), the classifier head
in torch operators.

PyTorch's RNN against the spec's:

- ``weight_ih`` (H, D) is the spec's W_x and ``weight_hh`` (H, H) its W_h, unstacked
  (one gate);
- two biases, ``bias_ih + bias_hh``: the spec's b as ``(b, 0)`` (``layout.split_bias``);
- ``h_0`` and ``h_n`` with a leading layers × directions axis, (1, B, H);
- the head keeps the spec's orientation, ``h_T @ W_out`` with W_out (H, K), where an
  ``nn.Linear`` would hold its transpose.
"""

from __future__ import annotations

import numpy as np
import torch

from conformance import Arrays, Kernel
from conformance.layout import add_state_axis, drop_state_axis, split_bias
from implementations.torch_backend._adapter import Adapter, Tensors, call_module
from implementations.torch_backend.lstm import parameters


def torch_params(a: Arrays, tail: str = "") -> dict[str, np.ndarray]:
    """torch's ``weight_ih{tail}``, ``weight_hh{tail}``, ``bias_ih{tail}``,
    ``bias_hh{tail}`` from the spec's W_x, W_h, b."""
    b_ih, b_hh = split_bias(a["b"])
    return {
        f"weight_ih{tail}": a["W_x"],
        f"weight_hh{tail}": a["W_h"],
        f"bias_ih{tail}": b_ih,
        f"bias_hh{tail}": b_hh,
    }


def spec_param_grads(g: Arrays, tail: str = "") -> dict[str, np.ndarray]:
    """The spec's dW_x, dW_h, db; b's gradient is bias_ih's (b = bias_ih + bias_hh)."""
    return {"W_x": g[f"weight_ih{tail}"], "W_h": g[f"weight_hh{tail}"], "b": g[f"bias_ih{tail}"]}


def _head(h_T: torch.Tensor, W_out: torch.Tensor, b_out: torch.Tensor) -> torch.Tensor:
    """ŷ = softmax(h_T W_out + b_out) over the classes."""
    return torch.softmax(torch.addmm(b_out, h_T, W_out), dim=-1)


def cell_adapter() -> Adapter:
    """One step as ``nn.RNNCell``: h = cell(x, h_prev)."""

    def inputs(a: Arrays) -> dict[str, np.ndarray]:
        return {"input": a["x"], "hx": a["h_prev"], **torch_params(a)}

    def call(t: Tensors) -> dict[str, torch.Tensor]:
        return {"h": call_module("rnn_cell", parameters(t), t["input"], t["hx"])}  # type: ignore[dict-item]

    def gradients(g: Arrays, _a: Arrays) -> dict[str, np.ndarray]:
        return {"x": g["input"], "h_prev": g["hx"], **spec_param_grads(g)}

    return Adapter(call, inputs, gradients=gradients)


def _sequence_inputs(a: Arrays) -> dict[str, np.ndarray]:
    return {"input": a["xs"], "h_0": add_state_axis(a["h_0"]), **torch_params(a, "_l0")}


def _sequence_gradients(g: Arrays) -> dict[str, np.ndarray]:
    return {"xs": g["input"], "h_0": drop_state_axis(g["h_0"]), **spec_param_grads(g, "_l0")}


def sequence_adapter() -> Adapter:
    """The sequence as ``nn.RNN``: ``output, h_n = rnn(xs, h_0)``."""

    def call(t: Tensors) -> dict[str, torch.Tensor]:
        output, h_n = call_module("rnn", parameters(t), t["input"], t["h_0"])
        return {"output": output, "h_n": h_n}

    def outputs(r: Arrays, _a: Arrays) -> dict[str, np.ndarray]:
        return {"hs": r["output"], "h_T": drop_state_axis(r["h_n"])}

    def cotangents(u: Arrays, _a: Arrays) -> dict[str, np.ndarray]:
        return {"output": u["hs"], "h_n": add_state_axis(u["h_T"])}

    return Adapter(
        call,
        _sequence_inputs,
        outputs,
        cotangents,
        lambda g, _a: _sequence_gradients(g),
    )


def _classifier(t: Tensors) -> dict[str, torch.Tensor]:
    """ŷ = softmax(h_T W_out + b_out)."""
    return {"p": _head(t["h_T"], t["W_out"], t["b_out"])}


def sequence_classifier_adapter() -> Adapter:
    """``nn.RNN`` over the sequence, then the head on its last state ``h_n[0]``."""

    def inputs(a: Arrays) -> dict[str, np.ndarray]:
        return {**_sequence_inputs(a), "W_out": a["W_out"], "b_out": a["b_out"]}

    def call(t: Tensors) -> dict[str, torch.Tensor]:
        _, h_n = call_module("rnn", parameters(t), t["input"], t["h_0"])
        return {"p": _head(h_n[0], t["W_out"], t["b_out"])}

    def gradients(g: Arrays, _a: Arrays) -> dict[str, np.ndarray]:
        return {**_sequence_gradients(g), "W_out": g["W_out"], "b_out": g["b_out"]}

    return Adapter(call, inputs, gradients=gradients)


KERNELS: dict[str, Kernel] = {
    "rnn.cell": cell_adapter().kernel(),
    "rnn.sequence": sequence_adapter().kernel(),
    "rnn.classifier": Adapter(_classifier).kernel(),
    "rnn.sequence_classifier": sequence_classifier_adapter().kernel(),
}
