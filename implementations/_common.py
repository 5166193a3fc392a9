"""Helpers shared by the built-in backends.

Only what is genuinely the same in all three lives here: the logistic sigmoid, and
collecting a backend's kernels from its family modules. Each
backend writes its own LSTM math, so that the three stay independent witnesses.
"""

from __future__ import annotations

import importlib
import pkgutil

import numpy as np

from conformance import Backend, Kernel


def sigmoid(z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """σ(z) = 1 / (1 + e^{-z}), evaluated as σ(z) = ½ (1 + tanh(z / 2)).

    The two are equal in exact arithmetic. The tanh form has no exponential, so it
    cannot overflow or warn at |z| = 1000 in float32, never produces NaN for finite z,
    and lands in [0, 1] exactly (tanh is bounded by ±1). Its error is a few ulp of 1
    in absolute terms, so deep in the negative tail (σ ≪ eps) it rounds to 0: that is
    the same absolute accuracy as the exp form, not the same relative one.

    Every step is a dtype-preserving ufunc with a Python scalar, so float32 stays
    float32. ``out`` (which may be ``z`` itself, or a view) receives the result;
    without it a new array is returned. The derivative, in terms of the value
    s = σ(z), is σ'(z) = s (1 − s).
    """
    out = np.multiply(z, 0.5, out=out)
    np.tanh(out, out=out)
    np.add(out, 1.0, out=out)
    np.multiply(out, 0.5, out=out)
    return out


def family_kernels(package: str) -> dict[str, Kernel]:
    """Every ``KERNELS`` entry of the family modules in ``package``, by spec id.

    A backend package holds one module per spec family (``lstm.py``, ``ctc.py``, …);
    adding a family is adding a module, with no list to keep in step.
    """
    kernels: dict[str, Kernel] = {}
    for info in pkgutil.iter_modules(importlib.import_module(package).__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package}.{info.name}")
        kernels.update(getattr(module, "KERNELS", {}))
    return kernels


def package_backend(package: str, name: str, version: str, description: str) -> Backend:
    """The backend ``name`` whose kernels are every family module's in ``package``."""
    return Backend(
        name=name, version=version, description=description, kernels=family_kernels(package)
    )
