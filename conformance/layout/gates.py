"""Gate weights: stacking and splitting the four gates, the concatenation's column blocks,
one bias or two."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from conformance.layout._common import _ALIASES, GATES, _concat_order, _gate_order, _shape


def split_gates(stacked: np.ndarray, order: str = GATES, axis: int = 0) -> dict[str, np.ndarray]:
    """The four gate blocks of ``stacked``, by canonical letter ``'i', 'f', 'g', 'o'``.

    ``stacked`` holds the gates one after another along ``axis`` in ``order``: a PyTorch
    ``weight_ih`` (4H, D) is ``[W_i; W_f; W_g; W_o]`` (order ``"ifgo"``), an ONNX ``W``
    row block ``[W_i; W_o; W_f; W_c]`` (order ``"iofc"``; ``'c'`` is read as ``'g'``).
    Block k is ``stacked[k H : (k + 1) H]`` along ``axis``, with H = size / 4.
    The blocks are views of ``stacked``.
    """
    letters = _gate_order(order, "split_gates")
    a = np.asarray(stacked)
    if a.ndim == 0:
        raise ValueError("split_gates: stacked is a scalar; it needs an axis of 4H gate rows")
    size = a.shape[axis]
    if size % 4:
        raise ValueError(
            f"split_gates: stacked has {_shape(a)}, whose axis {axis} ({size}) is not "
            f"4H: one block of H per gate in {order!r}"
        )
    blocks = np.split(a, 4, axis=axis)
    return dict(zip(letters, blocks, strict=True))


def stack_gates(gates: Mapping[str, np.ndarray], order: str = GATES, axis: int = 0) -> np.ndarray:
    """The four gate blocks concatenated along ``axis`` in ``order``; inverse of
    :func:`split_gates`.

    ``gates`` is keyed by canonical letter (``'i', 'f', 'g', 'o'``; ``'c'`` is accepted
    for ``'g'``). ``stack_gates({'i': W_i, 'f': W_f, 'g': W_c, 'o': W_o}, "iofc")`` is
    ONNX's ``[W_i; W_o; W_f; W_c]``. Every block must have the same shape.
    """
    letters = _gate_order(order, "stack_gates")
    named = {_ALIASES.get(k, k): v for k, v in gates.items()}
    if set(named) != set(GATES) or len(named) != len(gates):
        raise ValueError(
            f"stack_gates: gates has keys {sorted(gates)}, but needs exactly one block for "
            f"each of 'i', 'f', 'g', 'o' ('c' may stand for 'g')"
        )
    blocks = [np.asarray(named[letter]) for letter in letters]
    shapes = {letter: b.shape for letter, b in zip(letters, blocks, strict=True)}
    if len(set(shapes.values())) != 1:
        raise ValueError(f"stack_gates: the gate blocks differ in shape: {shapes}")
    if blocks[0].ndim == 0:
        raise ValueError("stack_gates: the gate blocks are scalars; they need an axis to stack on")
    return np.concatenate(blocks, axis=axis)


# ---------------------------------------------------------------------------
# A weight acting on a concatenation: [W_h | W_x]
# ---------------------------------------------------------------------------


def split_concat(W: np.ndarray, first: int, order: str = "hx") -> tuple[np.ndarray, np.ndarray]:
    """The recurrent and input column blocks ``(W_h, W_x)`` of a weight on a concatenation.

    ``W`` (…, H + D) acts on ``concat(a, b)`` along its last axis: its first ``first``
    columns multiply a, the rest multiply b, and ``concat(a, b) @ W.T = a @ W_a.T +
    b @ W_b.T``. With ``order="hx"`` (the spec's ``concat(h_prev, x)``) a is h, so
    ``first`` is H; with ``order="xh"`` a is x, so ``first`` is D. Either way the result
    is ``(W_h, W_x)``, recurrent block first. Both blocks are views of ``W``.
    """
    order = _concat_order(order, "split_concat")
    a = np.asarray(W)
    if a.ndim < 1:
        raise ValueError("split_concat: W is a scalar; it needs a column axis to split")
    width = a.shape[-1]
    if not 0 < first < width:
        raise ValueError(
            f"split_concat: W has {_shape(a)}; first={first} must leave both column blocks "
            f"non-empty (0 < first < {width})"
        )
    head, tail = a[..., :first], a[..., first:]
    return (head, tail) if order == "hx" else (tail, head)


def join_concat(W_h: np.ndarray, W_x: np.ndarray, order: str = "hx") -> np.ndarray:
    """``[W_h | W_x]`` (``order="hx"``, the spec's) or ``[W_x | W_h]`` (``"xh"``), joined
    along the last axis; inverse of :func:`split_concat`.

    The blocks must agree in every axis but the last (the gate's H rows).
    """
    order = _concat_order(order, "join_concat")
    h, x = np.asarray(W_h), np.asarray(W_x)
    if h.ndim < 1 or h.shape[:-1] != x.shape[:-1]:
        raise ValueError(
            f"join_concat: W_h has {_shape(h)} and W_x has {_shape(x)}; they must agree in "
            f"every axis but the last"
        )
    return np.concatenate([h, x] if order == "hx" else [x, h], axis=-1)


# ---------------------------------------------------------------------------
# One bias or two
# ---------------------------------------------------------------------------


def sum_biases(b_ih: np.ndarray, b_hh: np.ndarray) -> np.ndarray:
    """b = b_ih + b_hh: the one bias the spec has, from a framework's two.

    PyTorch and ONNX add an input bias and a recurrent bias into every pre-activation;
    only their sum matters.
    """
    a, b = np.asarray(b_ih), np.asarray(b_hh)
    if a.shape != b.shape:
        raise ValueError(
            f"sum_biases: b_ih has {_shape(a)} and b_hh has {_shape(b)}; they must agree"
        )
    return a + b


def split_bias(b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(b_ih, b_hh) = (b, 0): the spec's one bias as a framework's two, the second zero.

    ``sum_biases(*split_bias(b))`` is b. The gradient of b is that of b_ih (equal to
    b_hh's, as both enter the same sum). Both are new arrays of b's dtype.
    """
    a = np.asarray(b)
    return a.copy(), np.zeros_like(a)


# ---------------------------------------------------------------------------
# Axes: batch-first sequences, state axes, directions, column vectors
# ---------------------------------------------------------------------------
