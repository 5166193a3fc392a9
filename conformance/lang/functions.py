"""The function table of the equation language: every function a spec may call, by name."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from conformance.lang.ctc import ctc_neg_log_likelihood
from conformance.lang.primitives import (
    allclose,
    amax,
    cabs,
    concat,
    flip,
    log_softmax,
    logsumexp,
    sigmoid,
    softmax,
)

FUNCTIONS: dict[str, Callable[..., Any]] = {
    "sigmoid": sigmoid,
    "tanh": np.tanh,
    "exp": np.exp,
    "log": np.log,
    "sqrt": np.sqrt,
    "abs": cabs,
    "max": amax,
    "sum": np.sum,
    "mean": np.mean,
    "concat": concat,
    "stack": np.stack,
    "softmax": softmax,
    "log_softmax": log_softmax,
    "logsumexp": logsumexp,
    "flip": flip,
    "swapaxes": np.swapaxes,
    "zeros_like": np.zeros_like,
    "ones_like": np.ones_like,
    "all": np.all,
    "allclose": allclose,
    "ctc_neg_log_likelihood": ctc_neg_log_likelihood,
}
"""Functions an equation may call, by name. Spec calls and ``scan`` are added by the oracle."""
