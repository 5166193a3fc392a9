"""Type aliases shared across the harness."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypeAlias

import numpy as np

Array: TypeAlias = np.ndarray
Arrays: TypeAlias = Mapping[str, np.ndarray]
"""Arrays by spec symbol name, e.g. ``{"x": ..., "h_prev": ...}``."""
Sizes: TypeAlias = Mapping[str, int]
"""Concrete values of a spec's dimension symbols, e.g. ``{"B": 3, "D": 5, "H": 4}``."""
ForwardFn: TypeAlias = Callable[[Arrays], Mapping[str, np.ndarray]]
VjpFn: TypeAlias = Callable[[Arrays, Arrays], Mapping[str, np.ndarray]]

DTYPES: tuple[str, ...] = ("float32", "float64")
"""The float dtypes every spec is checked in."""
