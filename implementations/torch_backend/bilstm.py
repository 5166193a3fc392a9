"""``torch``: the BiLSTM as ``nn.LSTM(bidirectional=True)`` and its output layer as
``F.linear`` on both directions' features.

PyTorch's bidirectional LSTM against the spec's:

- the forward direction's parameters are ``*_l0``, the backward one's ``*_l0_reverse``,
  each stacked as in :mod:`.lstm` (gates i, f, g, o; the spec's b as ``(b, 0)``);
- ``h_0``, ``c_0``, ``h_n``, ``c_n`` are (2, B, H): index 0 the forward direction, 1 the
  backward one; ``h_n[1]`` is the backward state after reading x_1 (the spec's
  ``h_bwd_final``);
- ``output`` is (T, B, 2H), the forward features first (``layout.split_directions``),
  and its backward half at t is already the state after reading x_T … x_t, aligned
  with x_t as the spec's ``h_bwd`` is.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812 (the torch idiom)

from conformance import Arrays, Kernel
from conformance.layout import join_directions, split_directions
from implementations.torch_backend._adapter import Adapter, Tensors, call_module
from implementations.torch_backend.lstm import (
    TORCH,
    LSTMLayout,
    parameters,
    spec_param_grads,
    torch_params,
)

DIRECTIONS = (("_fwd", "_l0"), ("_bwd", "_l0_reverse"))
"""The spec's parameter suffix of each direction → torch's parameter-name tail."""

Split = Callable[[np.ndarray, int], tuple[np.ndarray, np.ndarray]]
Join = Callable[[np.ndarray, np.ndarray], np.ndarray]


def sequence_adapter(
    layout: LSTMLayout = TORCH, split: Split = split_directions, join: Join = join_directions
) -> Adapter:
    """Both directions as one ``nn.LSTM(bidirectional=True)`` call.

    ``split`` cuts torch's (T, B, 2H) output into (h_fwd, h_bwd) and ``join`` is its
    inverse for the cotangents.
    """

    def inputs(a: Arrays) -> dict[str, np.ndarray]:
        params: dict[str, np.ndarray] = {}
        for suffix, tail in DIRECTIONS:
            params.update(torch_params(a, layout, suffix, tail))
        return {
            "input": a["xs"],
            "h_0": np.stack([a["h_fwd_init"], a["h_bwd_init"]]),
            "c_0": np.stack([a["c_fwd_init"], a["c_bwd_init"]]),
            **params,
        }

    def call(t: Tensors) -> dict[str, torch.Tensor]:
        output, (h_n, c_n) = call_module("bilstm", parameters(t), t["input"], (t["h_0"], t["c_0"]))
        return {"output": output, "h_n": h_n, "c_n": c_n}

    def outputs(r: Arrays, a: Arrays) -> dict[str, np.ndarray]:
        h_fwd, h_bwd = split(r["output"], a["h_fwd_init"].shape[-1])
        return {
            "h_fwd": h_fwd,
            "h_bwd": h_bwd,
            "h_fwd_final": r["h_n"][0],
            "c_fwd_final": r["c_n"][0],
            "h_bwd_final": r["h_n"][1],
            "c_bwd_final": r["c_n"][1],
        }

    def cotangents(u: Arrays, _a: Arrays) -> dict[str, np.ndarray]:
        return {
            "output": join(u["h_fwd"], u["h_bwd"]),
            "h_n": np.stack([u["h_fwd_final"], u["h_bwd_final"]]),
            "c_n": np.stack([u["c_fwd_final"], u["c_bwd_final"]]),
        }

    def gradients(g: Arrays, _a: Arrays) -> dict[str, np.ndarray]:
        grads = {
            "xs": g["input"],
            "h_fwd_init": g["h_0"][0],
            "h_bwd_init": g["h_0"][1],
            "c_fwd_init": g["c_0"][0],
            "c_bwd_init": g["c_0"][1],
        }
        for suffix, tail in DIRECTIONS:
            grads.update(spec_param_grads(g, layout, suffix, tail))
        return grads

    return Adapter(call, inputs, outputs, cotangents, gradients)


def output_adapter() -> Adapter:
    """y = F.linear([→h, ←h], [W_fwd | W_bwd], b_y): one linear layer on torch's
    (T, B, 2H) bidirectional features, as a model on ``nn.LSTM`` would have it."""

    def inputs(a: Arrays) -> dict[str, np.ndarray]:
        return {
            "input": join_directions(a["h_fwd"], a["h_bwd"]),
            "weight": join_directions(a["W_fwd"], a["W_bwd"]),
            "bias": a["b_y"],
        }

    def call(t: Tensors) -> dict[str, torch.Tensor]:
        return {"y": F.linear(t["input"], t["weight"], t["bias"])}

    def gradients(g: Arrays, a: Arrays) -> dict[str, np.ndarray]:
        H = a["h_fwd"].shape[-1]
        h_fwd, h_bwd = split_directions(g["input"], H)
        W_fwd, W_bwd = split_directions(g["weight"], H)
        return {"h_fwd": h_fwd, "h_bwd": h_bwd, "W_fwd": W_fwd, "W_bwd": W_bwd, "b_y": g["bias"]}

    return Adapter(call, inputs, gradients=gradients)


KERNELS: dict[str, Kernel] = {
    "bilstm.sequence": sequence_adapter().kernel(),
    "bilstm.output": output_adapter().kernel(),
}
