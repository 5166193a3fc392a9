"""What a backend offers: kernels by spec id, each a forward and an optional VJP.

A kernel takes the spec's inputs as named NumPy arrays and returns the spec's outputs
as named arrays. Its VJP takes the same inputs plus one cotangent per output and
returns one gradient per differentiable input.

A kernel *declares* what it supports instead of raising: the dtypes it takes, whether
it has a VJP, the inputs it returns gradients for, and the inputs it only takes as
zeros (a hard-coded zero initial state). What it does not declare is reported as
"not implemented", with ``reason``; everything it declares is checked.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from conformance.errors import PluginError
from conformance.spec.fields import did_you_mean
from conformance.typing import DTYPES, ForwardFn, VjpFn

if TYPE_CHECKING:
    from conformance.spec.model import Spec


@dataclass(frozen=True)
class Kernel:
    """One spec's implementation in a backend.

    ``forward(inputs) -> outputs`` and ``vjp(inputs, cotangents) -> gradients``, all
    keyed by the spec's symbol names. Both must return arrays of the input dtype.

    :ivar dtypes: the dtypes the kernel takes; the others are "not implemented".
    :ivar gradients: the inputs whose gradients ``vjp`` returns (None: every
        differentiable input). The others are reported missing, not failed.
    :ivar zero_inputs: inputs the kernel only takes as zeros (``("h_0", "c_0")`` for a
        kernel with a hard-coded zero initial state); they are drawn as zeros for it, and
        the report says "with h_0 = 0 only".
    :ivar reason: why something is not declared, e.g. "onnxruntime's LSTM takes float32
        only"; shown with every "not implemented" that the declaration causes.
    """

    forward: ForwardFn
    vjp: VjpFn | None = None
    dtypes: tuple[str, ...] = DTYPES
    gradients: tuple[str, ...] | None = None
    zero_inputs: tuple[str, ...] = ()
    reason: str = ""


@dataclass(frozen=True)
class Backend:
    """A named set of kernels, as registered by a plugin.

    :ivar environment: what produced the figures, beyond NumPy: framework versions,
        thread counts, the kernel path (``{"torch": "2.13.0", "torch threads": "2",
        "torch LSTM path": "oneDNN"}``). Shown in the report's environment row.
    """

    name: str
    kernels: Mapping[str, Kernel]
    version: str = "0"
    description: str = ""
    environment: Mapping[str, str] = field(default_factory=dict)
    plugin: str = field(default="", compare=False)
    """Name of the plugin that registered the backend (filled in by the registry)."""

    def kernel(self, spec_id: str) -> Kernel | None:
        """The kernel for ``spec_id``, or None when the backend does not implement it."""
        return self.kernels.get(spec_id)


BACKEND_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]*")
"""A backend name: letters, digits, ``.``, ``_``, ``-``, ``+``, not starting with a sign or
a dot. It appears unquoted in re-run commands (``--backend NAME``), in comma lists and in
``backend@machine`` labels, so nothing else is allowed."""


def check_backend_name(name: object, plugin: str) -> None:
    """A PluginError unless ``name`` is a valid :data:`BACKEND_NAME`."""
    if not isinstance(name, str) or not BACKEND_NAME.fullmatch(name):
        raise PluginError(
            f"plugin {plugin!r} registered a backend named {name!r}: a backend name is a "
            "non-empty string of letters, digits, '.', '_', '-' and '+', starting with a "
            "letter or digit"
        )


class BackendRegistry:
    """The object handed to ``conformance_register_backends``: collects backends.

    :param specs: the catalog's specs by id, when known at registration (the front ends
        load the catalog after the plugins, which may contribute spec files, and check
        it then: :meth:`~conformance.plugins.registry.Registry.reject_unknown_kernels`).
    """

    def __init__(self, specs: Mapping[str, Spec] | None = None) -> None:
        self._backends: dict[str, Backend] = {}
        self._plugin = ""
        self._specs = specs

    def add(self, backend: Backend) -> None:
        """Register ``backend``; its name must be new and its kernels well formed."""
        if not isinstance(backend, Backend):
            raise PluginError(
                f"plugin {self._plugin!r} registered {backend!r}, "
                "which is not a conformance.Backend"
            )
        check_backend_name(backend.name, self._plugin)
        if backend.name in self._backends:
            owner = self._backends[backend.name].plugin
            raise PluginError(
                f"plugin {self._plugin!r} registered backend {backend.name!r}, "
                f"already registered by plugin {owner!r}"
            )
        for spec_id, kernel in backend.kernels.items():
            where = f"backend {backend.name!r} (plugin {self._plugin!r}): kernel for {spec_id!r}"
            if not isinstance(kernel, Kernel) or not callable(kernel.forward):
                raise PluginError(f"{where} must be a conformance.Kernel with a callable forward")
            if not kernel.dtypes or any(d not in DTYPES for d in kernel.dtypes):
                raise PluginError(
                    f"{where}: dtypes={tuple(kernel.dtypes)!r}; declare some of {', '.join(DTYPES)}"
                )
        if self._specs is not None and (problem := kernel_problem(backend, self._specs)):
            raise PluginError(f"plugin {self._plugin!r}: {problem}")
        self._backends[backend.name] = replace(backend, plugin=self._plugin)

    @property
    def backends(self) -> dict[str, Backend]:
        return dict(self._backends)


def kernel_problem(backend: Backend, specs: Mapping[str, Spec]) -> str:
    """What is wrong with ``backend``'s kernels for this catalog: a kernel keyed by an id
    that is no spec (``lstm.hiden_state``), or a declaration naming a symbol the spec
    lacks, said with a did-you-mean; empty when nothing is."""
    for spec_id, kernel in backend.kernels.items():
        where = f"backend {backend.name!r}: kernel for {spec_id!r}"
        spec = specs.get(spec_id)
        if spec is None:
            hint = did_you_mean(spec_id, specs) or "conformance list shows the specs"
            return f"{where}: there is no spec {spec_id!r} ({hint})"
        for field_name, names, allowed in (
            ("gradients", kernel.gradients or (), spec.differentiable),
            ("zero_inputs", kernel.zero_inputs, spec.inputs),
        ):
            for name in names:
                if name not in allowed:
                    hint = did_you_mean(name, allowed) or f"{spec_id} has {', '.join(allowed)}"
                    return f"{where}: {field_name} names {name!r} ({hint})"
    return ""
