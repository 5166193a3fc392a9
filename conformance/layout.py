"""Conversions between the specs' canonical layout and the layouts frameworks use.

The specs (``specs/*.toml``) fix one layout, and a backend whose framework stores its
weights or arrays differently converts inside its own adapter. These are the
conversions, in NumPy only, each a pure function that never writes into its arguments.

The canonical layout:

- **Gates** in the order i, f, g, o (:data:`GATES`): input gate, forget gate, candidate
  c̃ (called ``g`` here and ``c`` in the spec's weight names ``W_c``, ``b_c``), output gate.
- **Gate weights** ``W_*`` of shape (H, H + D) act on the concatenation
  ``concat(h_prev, x)``, the recurrent block first: ``W = [W_h | W_x]`` with
  W_h (H, H) and W_x (H, D), so that ``concat(h, x) @ W.T = h @ W_h.T + x @ W_x.T``.
- **One bias per gate**, ``b_*`` of shape (H,).
- **Batch rows**: x is (B, D), h and c are (B, H); **sequences time-major**: xs is
  (T, B, D), hs is (T, B, H).
- **Bidirectional outputs** as two arrays, ``h_fwd`` and ``h_bwd``, each (T, B, H),
  ``h_bwd[t]`` being the state after reading x_T … x_t.

Frameworks stack the four gates' weights into one matrix (rows ``[W_i; W_f; W_g; W_o]``
in PyTorch, ``[W_i; W_o; W_f; W_c]`` in ONNX), keep the input and recurrent blocks
apart (W_ih (4H, D), W_hh (4H, H)), carry two biases (b_ih + b_hh), put a
layers × directions axis in front of states, and concatenate the two directions'
outputs on the feature axis. Each function below is one of those steps, and its inverse.

Every function checks the shapes it relies on and raises ValueError naming the function,
the argument and the shape it got.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

__all__ = [
    "GATES",
    "add_state_axis",
    "batch_first",
    "drop_state_axis",
    "from_columns",
    "join_concat",
    "join_directions",
    "lstm_to_stacked",
    "split_bias",
    "split_concat",
    "split_directions",
    "split_gates",
    "stack_gates",
    "stacked_to_lstm",
    "sum_biases",
    "time_major",
    "to_columns",
]

GATES = "ifgo"
"""The canonical gate order: input, forget, candidate (g = c̃), output."""

_ALIASES = {"c": "g"}
"""Other letters for a gate: ONNX calls the candidate ``c`` (its order is "iofc")."""

SPEC_GATE_NAMES = {"i": "i", "f": "f", "g": "c", "o": "o"}
"""Gate letter → the letter in the spec's parameter names (the candidate is W_c, b_c)."""


def _gate_order(order: str, where: str) -> str:
    """``order`` as four canonical letters (``"iofc"`` → ``"iofg"``), or ValueError."""
    letters = "".join(_ALIASES.get(letter, letter) for letter in order)
    if len(letters) != 4 or set(letters) != set(GATES):
        raise ValueError(
            f"{where}: order={order!r} is not a permutation of the gates i, f, g, o "
            f"('c' may stand for g, as in ONNX's 'iofc')"
        )
    return letters


def _concat_order(order: str, where: str) -> str:
    if order not in ("hx", "xh"):
        raise ValueError(
            f"{where}: order={order!r} must be 'hx' (recurrent block first, the spec's "
            f"concat(h_prev, x)) or 'xh' (input block first)"
        )
    return order


def _shape(a: np.ndarray) -> str:
    return f"shape {tuple(np.shape(a))}"


# ---------------------------------------------------------------------------
# Gates stacked along one axis
# ---------------------------------------------------------------------------


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


def batch_first(xs: np.ndarray) -> np.ndarray:
    """(T, B, …) → (B, T, …): a time-major sequence as batch-first (axes 0 and 1 swapped)."""
    a = np.asarray(xs)
    if a.ndim < 2:
        raise ValueError(f"batch_first: xs has {_shape(a)}; a sequence needs (T, B, …)")
    return np.swapaxes(a, 0, 1)


def time_major(ys: np.ndarray) -> np.ndarray:
    """(B, T, …) → (T, B, …): a batch-first sequence as time-major; inverse of
    :func:`batch_first`."""
    a = np.asarray(ys)
    if a.ndim < 2:
        raise ValueError(f"time_major: ys has {_shape(a)}; a sequence needs (B, T, …)")
    return np.swapaxes(a, 0, 1)


def add_state_axis(h: np.ndarray, n: int = 1) -> np.ndarray:
    """(B, H) → (n, B, H): a state with the layers × directions axis frameworks put first.

    For n > 1 the same state is repeated for each of the n layers or directions (stack
    distinct states with ``np.stack``). A new array.
    """
    a = np.asarray(h)
    if a.ndim != 2:
        raise ValueError(f"add_state_axis: h has {_shape(a)}; a state is (B, H)")
    if n < 1:
        raise ValueError(f"add_state_axis: n={n}; it counts layers × directions, at least 1")
    return np.repeat(a[None], n, axis=0)


def drop_state_axis(h: np.ndarray) -> np.ndarray:
    """(1, B, H) → (B, H): a framework's one-layer, one-direction state as the spec's.

    Inverse of ``add_state_axis(h, 1)``; a state with several layers or directions must be
    indexed instead (``h_n[0]``, ``h_n[1]``).
    """
    a = np.asarray(h)
    if a.ndim != 3 or a.shape[0] != 1:
        raise ValueError(
            f"drop_state_axis: h has {_shape(a)}; expected (1, B, H), one layer and direction "
            f"(index a state with several)"
        )
    return a[0]


def split_directions(ys: np.ndarray, H: int) -> tuple[np.ndarray, np.ndarray]:
    """(T, B, 2H) → (fwd, bwd), each (T, B, H): a bidirectional output's two halves.

    PyTorch's ``nn.LSTM(bidirectional=True)`` output holds the forward direction in the
    first H features and the backward one in the last H, each already aligned with x_t.
    Views of ``ys``.
    """
    a = np.asarray(ys)
    if a.ndim < 1 or a.shape[-1] != 2 * H:
        raise ValueError(
            f"split_directions: ys has {_shape(a)}; its last axis must be 2H = {2 * H} "
            f"(forward then backward)"
        )
    return a[..., :H], a[..., H:]


def join_directions(fwd: np.ndarray, bwd: np.ndarray) -> np.ndarray:
    """(fwd, bwd), each (T, B, H) → (T, B, 2H), forward features first; inverse of
    :func:`split_directions`."""
    f, b = np.asarray(fwd), np.asarray(bwd)
    if f.shape != b.shape:
        raise ValueError(
            f"join_directions: fwd has {_shape(f)} and bwd has {_shape(b)}; they must agree"
        )
    return np.concatenate([f, b], axis=-1)


def to_columns(a: np.ndarray) -> np.ndarray:
    """(B, D) → (B, D, 1): each batch row as a column vector, for ``W @ x`` with W (H, D).

    ``(W @ to_columns(x))[..., 0]`` is the spec's ``x @ W.T``. A view of ``a``.
    """
    arr = np.asarray(a)
    if arr.ndim != 2:
        raise ValueError(f"to_columns: a has {_shape(arr)}; expected batch rows (B, D)")
    return arr[..., None]


def from_columns(a: np.ndarray) -> np.ndarray:
    """(B, D, 1) → (B, D): column vectors back as batch rows; inverse of :func:`to_columns`."""
    arr = np.asarray(a)
    if arr.ndim != 3 or arr.shape[-1] != 1:
        raise ValueError(f"from_columns: a has {_shape(arr)}; expected column vectors (B, D, 1)")
    return arr[..., 0]


# ---------------------------------------------------------------------------
# LSTM parameters: the spec's W_f … b_o ↔ stacked (W_ih, W_hh, b)
# ---------------------------------------------------------------------------


def _spec_name(kind: str, gate: str, suffix: str) -> str:
    """``W_c_fwd`` for (``"W"``, ``"g"``, ``"_fwd"``): the spec's parameter name."""
    return f"{kind}_{SPEC_GATE_NAMES[gate]}{suffix}"


def lstm_to_stacked(
    params: Mapping[str, np.ndarray],
    order: str = GATES,
    suffix: str = "",
    concat: str = "hx",
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(W_ih (4H, D), W_hh (4H, H), b (4H,)) from the spec's W_f, W_i, W_c, W_o, b_f … b_o.

    Each gate's W (H, H + D) is split into its recurrent and input blocks
    (:func:`split_concat`; ``concat`` is how its columns are ordered, ``"hx"`` for the
    spec's ``concat(h_prev, x)``), and the four gates' blocks and biases are stacked in
    ``order`` (:func:`stack_gates`): ``"ifgo"`` for PyTorch, ``"iofc"`` for ONNX. Then
    ``x @ W_ih.T + h @ W_hh.T + b``, split into gates in ``order``, is every gate's
    pre-activation. ``suffix`` picks a direction's parameters (``"_fwd"`` reads
    ``W_f_fwd`` …). Give b to a framework with two biases as ``split_bias(b)``.
    """
    concat = _concat_order(concat, "lstm_to_stacked")
    wanted = [_spec_name(kind, gate, suffix) for gate in GATES for kind in "Wb"]
    missing = [name for name in wanted if name not in params]
    if missing:
        raise ValueError(f"lstm_to_stacked: params has no {', '.join(missing)}")
    input_blocks: dict[str, np.ndarray] = {}
    recurrent_blocks: dict[str, np.ndarray] = {}
    biases: dict[str, np.ndarray] = {}
    for gate in GATES:
        w_name, b_name = _spec_name("W", gate, suffix), _spec_name("b", gate, suffix)
        W, b = np.asarray(params[w_name]), np.asarray(params[b_name])
        if b.ndim != 1 or W.ndim != 2 or W.shape[0] != b.shape[0] or W.shape[1] <= b.shape[0]:
            raise ValueError(
                f"lstm_to_stacked: {w_name} has {_shape(W)} and {b_name} has {_shape(b)}; "
                f"expected W (H, H + D) with D >= 1 and b (H,)"
            )
        H = b.shape[0]
        first = H if concat == "hx" else W.shape[1] - H
        recurrent_blocks[gate], input_blocks[gate] = split_concat(W, first, concat)
        biases[gate] = b
    return (
        stack_gates(input_blocks, order),
        stack_gates(recurrent_blocks, order),
        stack_gates(biases, order),
    )


def stacked_to_lstm(
    dW_ih: np.ndarray,
    dW_hh: np.ndarray,
    db: np.ndarray,
    order: str = GATES,
    suffix: str = "",
    concat: str = "hx",
) -> dict[str, np.ndarray]:
    """The spec's dW_f, dW_i, dW_c, dW_o, db_f … db_o from stacked gradients; the inverse
    of :func:`lstm_to_stacked` (and the map of its gradients, as it only moves entries).

    ``dW_ih`` (4H, D), ``dW_hh`` (4H, H) and ``db`` (4H,) hold the gates in ``order``;
    each gate's dW (H, H + D) is ``join_concat(dW_h, dW_x, concat)``. Keys carry
    ``suffix`` (``"W_f_bwd"`` …). For a framework with two biases, pass the gradient of
    b_ih (b = b_ih + b_hh, so it is also b's). New arrays.
    """
    ih, hh, bias = np.asarray(dW_ih), np.asarray(dW_hh), np.asarray(db)
    if (
        ih.ndim != 2
        or hh.ndim != 2
        or bias.ndim != 1
        or not ih.shape[0] == hh.shape[0] == bias.shape[0]
        or hh.shape[0] != 4 * hh.shape[1]
    ):
        raise ValueError(
            f"stacked_to_lstm: dW_ih has {_shape(ih)}, dW_hh {_shape(hh)}, db {_shape(bias)}; "
            f"expected (4H, D), (4H, H) and (4H,)"
        )
    x_blocks, h_blocks = split_gates(ih, order), split_gates(hh, order)
    b_blocks = split_gates(bias, order)
    grads: dict[str, np.ndarray] = {}
    for gate in GATES:
        grads[_spec_name("W", gate, suffix)] = join_concat(h_blocks[gate], x_blocks[gate], concat)
        grads[_spec_name("b", gate, suffix)] = b_blocks[gate].copy()
    return grads
