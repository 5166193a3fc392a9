"""What a backend offers: kernels by spec id, each a forward and an optional VJP.

A kernel takes the spec's inputs as named NumPy arrays and returns the spec's outputs
as named arrays. Its VJP takes the same inputs plus one cotangent per output and
returns one gradient per differentiable input. A backend that lacks a spec simply
omits it; a kernel without ``vjp`` is reported "not implemented" for gradients.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from conformance.typing import ForwardFn, VjpFn


@dataclass(frozen=True)
class Kernel:
    """One spec's implementation in a backend.

    ``forward(inputs) -> outputs`` and ``vjp(inputs, cotangents) -> gradients``, all
    keyed by the spec's symbol names. Both must return arrays of the input dtype.
    """

    forward: ForwardFn
    vjp: VjpFn | None = None


@dataclass(frozen=True)
class Backend:
    """A named set of kernels, as registered by a plugin."""

    name: str
    kernels: Mapping[str, Kernel]
    version: str = "0"
    description: str = ""
    plugin: str = field(default="", compare=False)
    """Name of the plugin that registered the backend (filled in by the registry)."""

    def kernel(self, spec_id: str) -> Kernel | None:
        """The kernel for ``spec_id``, or None when the backend does not implement it."""
        return self.kernels.get(spec_id)
