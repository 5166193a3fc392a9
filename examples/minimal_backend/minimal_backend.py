"""The smallest installable backend: ``lstm.hidden_state``, h = o ⊙ tanh(c), with its VJP.

Inputs and outputs are the spec's symbols (``specs/lstm.toml``), as batch rows (B, H).
Every other spec shows as "not implemented".
"""

import numpy as np

from conformance import Backend, Kernel, hookimpl


def hidden_state(inputs):
    return {"h": inputs["o"] * np.tanh(inputs["c"])}


def hidden_state_vjp(inputs, cotangents):
    t = np.tanh(inputs["c"])
    dh = cotangents["h"]
    return {"o": dh * t, "c": dh * inputs["o"] * (1 - t * t)}


@hookimpl
def conformance_register_backends(register):
    register.add(
        Backend(
            name="minimal-example",
            version="0.1.0",
            description="The README's plugin, packaged: lstm.hidden_state only.",
            kernels={"lstm.hidden_state": Kernel(hidden_state, hidden_state_vjp)},
        )
    )
