"""The canonical gate order and the argument checks every conversion shares."""

from __future__ import annotations

import numpy as np

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
