"""What every torch kernel is: the spec's arrays mapped to torch's layout, one torch call,
and the results mapped back; the VJP is ``torch.autograd.grad`` through the same call.

An :class:`Adapter` holds the framework call and four NumPy maps, each done with
:mod:`conformance.layout`:

- ``inputs``: the spec's inputs → the framework's inputs (``h_0`` → ``add_state_axis``,
  the spec's W_f … b_o → stacked ``weight_ih_l0`` …);
- ``outputs``: the framework's outputs → the spec's (``h_n`` → ``drop_state_axis``);
- ``cotangents``: the spec's output cotangents → the framework's, the transpose of
  ``outputs``;
- ``gradients``: the framework's input gradients → the spec's, the transpose of
  ``inputs``.

The maps only move, split or join entries (plus the zero second bias), so each
transpose is the inverse map. Float arrays enter torch as copies in their own dtype
(never upcast), so no input is ever written; results come back as NumPy arrays of that
dtype.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from conformance import Arrays, Kernel

Tensors = Mapping[str, torch.Tensor]
Call = Callable[[Tensors], Mapping[str, torch.Tensor]]


def _same(arrays: Arrays, _spec_inputs: Arrays) -> dict[str, np.ndarray]:
    """The identity map, for kernels whose framework names are the spec's."""
    return dict(arrays)


@dataclass(frozen=True)
class Adapter:
    """A framework call between the spec's layout and torch's (see the module docstring).

    :ivar call: the framework call, framework-named tensors in, framework-named out.
    :ivar call_vjp: the call the VJP differentiates, when it must differ from the
        forward's (CTC: ``zero_infinity=True`` for the gradient only).
    """

    call: Call
    inputs: Callable[[Arrays], Mapping[str, np.ndarray]] = dict
    outputs: Callable[[Arrays, Arrays], Mapping[str, np.ndarray]] = _same
    cotangents: Callable[[Arrays, Arrays], Mapping[str, np.ndarray]] = _same
    gradients: Callable[[Arrays, Arrays], Mapping[str, np.ndarray]] = _same
    call_vjp: Call | None = None

    def forward(self, inputs: Arrays) -> dict[str, np.ndarray]:
        """The spec's outputs: ``outputs(call(inputs(x)))``, without autograd."""
        with torch.no_grad():
            results = self.call(to_tensors(self.inputs(inputs)))
        return dict(self.outputs(to_arrays(results), inputs))

    def vjp(self, inputs: Arrays, cotangents: Arrays) -> dict[str, np.ndarray]:
        """uᵀJ for every float input: autograd through the call, with the cotangents
        mapped to the framework's outputs and the gradients mapped back."""
        tensors = to_tensors(self.inputs(inputs))
        leaves = {k: t.requires_grad_() for k, t in tensors.items() if t.is_floating_point()}
        with torch.enable_grad():
            results = (self.call_vjp or self.call)(tensors)
        pairs = [
            (results[name], to_tensor(value))
            for name, value in self.cotangents(cotangents, inputs).items()
            if results[name].requires_grad
        ]
        found: tuple[torch.Tensor | None, ...] = (None,) * len(leaves)
        if pairs:
            found = torch.autograd.grad(
                [out for out, _ in pairs],
                list(leaves.values()),
                [cot for _, cot in pairs],
                allow_unused=True,
            )
        grads = {
            name: torch.zeros_like(leaf) if grad is None else grad
            for (name, leaf), grad in zip(leaves.items(), found, strict=True)
        }
        return dict(self.gradients(to_arrays(grads), inputs))

    def kernel(self, *, differentiable: bool = True, **declared: object) -> Kernel:
        """This adapter as a :class:`conformance.Kernel` (``declared``: its other fields)."""
        return Kernel(self.forward, self.vjp if differentiable else None, **declared)  # type: ignore[arg-type]


def to_tensor(a: np.ndarray) -> torch.Tensor:
    """A torch copy of ``a`` in its own dtype (float32 stays float32, int64 stays int64)."""
    return torch.from_numpy(np.array(a, order="C", copy=True))


def to_tensors(arrays: Mapping[str, np.ndarray]) -> dict[str, torch.Tensor]:
    """Every array as a torch copy (:func:`to_tensor`)."""
    return {name: to_tensor(value) for name, value in arrays.items()}


def to_arrays(tensors: Tensors) -> dict[str, np.ndarray]:
    """Every tensor as a NumPy array of its dtype (detached; fresh memory per call)."""
    return {name: t.detach().numpy() for name, t in tensors.items()}


@functools.lru_cache(maxsize=64)
def module(kind: str, input_size: int, hidden_size: int, dtype: torch.dtype) -> nn.Module:
    """An ``nn.LSTMCell``, ``nn.LSTM``, ``nn.LSTM(bidirectional=True)``, ``nn.RNNCell`` or
    ``nn.RNN`` (``kind``: ``lstm_cell``, ``lstm``, ``bilstm``, ``rnn_cell``, ``rnn``).

    Cached by (kind, sizes, dtype) only: every call replaces all of its parameters
    through ``functional_call``, so nothing cached depends on weight values.
    """
    make: dict[str, Callable[[], nn.Module]] = {
        "lstm_cell": lambda: nn.LSTMCell(input_size, hidden_size, dtype=dtype),
        "lstm": lambda: nn.LSTM(input_size, hidden_size, dtype=dtype),
        "bilstm": lambda: nn.LSTM(input_size, hidden_size, bidirectional=True, dtype=dtype),
        "rnn_cell": lambda: nn.RNNCell(input_size, hidden_size, nonlinearity="tanh", dtype=dtype),
        "rnn": lambda: nn.RNN(input_size, hidden_size, nonlinearity="tanh", dtype=dtype),
    }
    return make[kind]().eval()


def call_module(
    kind: str, params: Mapping[str, torch.Tensor], *args: object
) -> tuple[torch.Tensor, ...] | torch.Tensor:
    """``functional_call`` of the cached ``kind`` module with ``params`` as its parameters;
    sizes and dtype are read from ``weight_ih*`` and ``weight_hh*``."""
    weight_ih = next(t for n, t in params.items() if n.startswith("weight_ih"))
    weight_hh = next(t for n, t in params.items() if n.startswith("weight_hh"))
    hidden = weight_hh.shape[1]
    m = module(kind, weight_ih.shape[1], hidden, weight_ih.dtype)
    return torch.func.functional_call(m, dict(params), args)
