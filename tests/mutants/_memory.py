"""Ways of reading an array that are right only for C-contiguous memory.

Each is what a wrapper around a raw-memory kernel (ctypes, a CUDA binding) does when it
skips ``np.ascontiguousarray``: it hands over the buffer and the shape, and the kernel
walks the buffer as row-major. The values come out right for C-ordered inputs and
scrambled for column-major or strided ones.
"""

from __future__ import annotations

import numpy as np


def raw_bytes_as_row_major(a: np.ndarray) -> np.ndarray:
    """The array's bytes in memory order (``tobytes(order="A")``: column-major for a
    Fortran array) reinterpreted as a row-major array of its shape."""
    return np.frombuffer(a.tobytes(order="A"), dtype=a.dtype).reshape(a.shape)


def ravel_k_as_row_major(a: np.ndarray) -> np.ndarray:
    """The elements in memory order (``ravel(order="K")``) reshaped as if row-major."""
    return a.ravel(order="K").reshape(a.shape)


def strides_assumed_row_major(a: np.ndarray) -> np.ndarray:
    """A view of the array's buffer with the strides of a C-contiguous array of its shape:
    right for C order, transposed for Fortran order, and reading the gaps of a strided
    view (the view never reaches past the buffer: it spans fewer bytes than the array)."""
    strides = [a.itemsize] * a.ndim
    for axis in range(a.ndim - 2, -1, -1):
        strides[axis] = strides[axis + 1] * a.shape[axis + 1]
    view = np.lib.stride_tricks.as_strided(a, a.shape, tuple(strides), writeable=False)
    return np.array(view)
