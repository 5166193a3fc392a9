"""``numpy-loops``: the S-LSTM (Zhu, Sobhani & Guo 2015) as a seed notebook writes it.

A Python loop over the batch rows; inside it each row is a column vector (h^L, c^L, h^R,
c^R are (H, 1)) and each gate is the paper's equation, one matmul per weight:
``i = σ(W_i_Lh @ h_L + W_i_Rh @ h_R + W_i_Lc @ c_L + W_i_Rc @ c_R + b_i)``. The tree is
a node table per row, filled in post-order (index order) and walked back in reverse.

Each forward sits next to its backward, hand-derived (back-propagation through
structure), using the derivatives in terms of the activated values: σ' = s (1 − s) for
s = σ(a), and tanh' = 1 − t² for t = tanh(a).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from conformance import Arrays, Kernel
from implementations._common import sigmoid
from implementations.numpy_loops.lstm import KERNELS as LSTM_KERNELS

SOURCES = {"Lh": "h_L", "Rh": "h_R", "Lc": "c_L", "Rc": "c_R", "c": "c"}
"""Weight subscript → the symbol it multiplies: W_i_Lh @ h_L, W_o_c @ c (the new c_t)."""
GATES = {
    "i": ("Lh", "Rh", "Lc", "Rc"),
    "fL": ("Lh", "Rh", "Lc", "Rc"),
    "fR": ("Lh", "Rh", "Lc", "Rc"),
    "x": ("Lh", "Rh"),
    "o": ("Lh", "Rh", "c"),
}
"""Every gate's weights by subscript (eqs. 1–4 and 6 of the paper)."""
PARAMETERS = tuple(
    name for gate, subs in GATES.items() for name in (*(f"W_{gate}_{s}" for s in subs), f"b_{gate}")
)


def _column(row: np.ndarray) -> np.ndarray:
    """A (n,) row of a batch as an (n, 1) column vector (a view, never a copy)."""
    return row[:, None]


# ---------------------------------------------------------------------------
# One gate: a = Σ W_{g,s} s + b_g, then σ (or nothing for the cell input x_t)
# ---------------------------------------------------------------------------


def _gate_kernel(gate: str, out: str, squash: bool) -> Kernel:
    """The kernel for one gate, ``out = σ(Σ_s W_{g,s} s + b_g)`` (no σ for x_t)."""
    subs = GATES[gate]

    def pre(inputs: Arrays, n: int) -> np.ndarray:
        """a_g = Σ_s W_{g,s} s + b_g for row n, an (H, 1) column."""
        a = _column(inputs[f"b_{gate}"]).copy()
        for sub in subs:
            a += inputs[f"W_{gate}_{sub}"] @ _column(inputs[SOURCES[sub]][n])
        return a

    def forward(inputs: Arrays) -> dict[str, np.ndarray]:
        """gate = σ(Σ_s W_{g,s} s + b_g), one batch row at a time."""
        rows = []
        for n in range(inputs["h_L"].shape[0]):
            a = pre(inputs, n)
            rows.append((sigmoid(a) if squash else a)[:, 0])
        return {out: np.stack(rows)}

    def vjp(inputs: Arrays, cotangents: Arrays) -> dict[str, np.ndarray]:
        """Per row: ∂a = ∂gate ⊙ s (1 − s) (∂gate for x_t), ∂W_{g,s} += ∂a sᵀ,

        ∂b_g += ∂a,  ∂s = W_{g,s}ᵀ ∂a.
        """
        grads = {f"W_{gate}_{sub}": np.zeros_like(inputs[f"W_{gate}_{sub}"]) for sub in subs}
        grads[f"b_{gate}"] = np.zeros_like(inputs[f"b_{gate}"])
        rows: dict[str, list[np.ndarray]] = {SOURCES[sub]: [] for sub in subs}
        for n in range(inputs["h_L"].shape[0]):
            da = _column(cotangents[out][n])
            if squash:
                s = sigmoid(pre(inputs, n))
                da = da * s * (1 - s)
            grads[f"b_{gate}"] += da[:, 0]
            for sub in subs:
                W, value = inputs[f"W_{gate}_{sub}"], _column(inputs[SOURCES[sub]][n])
                grads[f"W_{gate}_{sub}"] += da @ value.T
                rows[SOURCES[sub]].append((W.T @ da)[:, 0])
        return {**grads, **{name: np.stack(r) for name, r in rows.items()}}

    return Kernel(forward, vjp)


# ---------------------------------------------------------------------------
# Cell state: c_t = f^L ⊙ c^L + f^R ⊙ c^R + i ⊙ tanh(x_t)
# ---------------------------------------------------------------------------


def cell_state_forward(inputs: Arrays) -> dict[str, np.ndarray]:
    """c_t = f^L ⊙ c^L + f^R ⊙ c^R + i ⊙ tanh(x_t), one batch row at a time."""
    rows = []
    for n in range(inputs["c_L"].shape[0]):
        f_L, c_L, f_R, c_R, i, x = (
            _column(inputs[k][n]) for k in ("f_L", "c_L", "f_R", "c_R", "i", "x")
        )
        rows.append((f_L * c_L + f_R * c_R + i * np.tanh(x))[:, 0])
    return {"c": np.stack(rows)}


def cell_state_vjp(inputs: Arrays, cotangents: Arrays) -> dict[str, np.ndarray]:
    """∂f^L = ∂c ⊙ c^L, ∂c^L = ∂c ⊙ f^L (likewise right), ∂i = ∂c ⊙ g, ∂x = ∂c ⊙ i (1 − g²)."""
    grads: dict[str, list[np.ndarray]] = {k: [] for k in ("f_L", "c_L", "f_R", "c_R", "i", "x")}
    for n in range(inputs["c_L"].shape[0]):
        f_L, c_L, f_R, c_R, i, x = (
            _column(inputs[k][n]) for k in ("f_L", "c_L", "f_R", "c_R", "i", "x")
        )
        dc, g = _column(cotangents["c"][n]), np.tanh(x)
        for name, value in (
            ("f_L", dc * c_L), ("c_L", dc * f_L), ("f_R", dc * c_R), ("c_R", dc * f_R),
            ("i", dc * g), ("x", dc * i * (1 - g * g)),
        ):  # fmt: skip
            grads[name].append(value[:, 0])
    return {name: np.stack(rows) for name, rows in grads.items()}


# ---------------------------------------------------------------------------
# The memory block, one node and one row: eqs. (1)–(7)
# ---------------------------------------------------------------------------


def _block(p: Arrays, h_L: np.ndarray, c_L: np.ndarray, h_R: np.ndarray, c_R: np.ndarray) -> dict:
    """One node for one row, all (H, 1) columns; returns every intermediate."""
    i = sigmoid(p["W_i_Lh"] @ h_L + p["W_i_Rh"] @ h_R + p["W_i_Lc"] @ c_L + p["W_i_Rc"] @ c_R
                + _column(p["b_i"]))  # fmt: skip
    f_L = sigmoid(p["W_fL_Lh"] @ h_L + p["W_fL_Rh"] @ h_R + p["W_fL_Lc"] @ c_L
                  + p["W_fL_Rc"] @ c_R + _column(p["b_fL"]))  # fmt: skip
    f_R = sigmoid(p["W_fR_Lh"] @ h_L + p["W_fR_Rh"] @ h_R + p["W_fR_Lc"] @ c_L
                  + p["W_fR_Rc"] @ c_R + _column(p["b_fR"]))  # fmt: skip
    x = p["W_x_Lh"] @ h_L + p["W_x_Rh"] @ h_R + _column(p["b_x"])
    c = f_L * c_L + f_R * c_R + i * np.tanh(x)
    o = sigmoid(p["W_o_Lh"] @ h_L + p["W_o_Rh"] @ h_R + p["W_o_c"] @ c + _column(p["b_o"]))
    h = o * np.tanh(c)
    children = {"h_L": h_L, "c_L": c_L, "h_R": h_R, "c_R": c_R}
    return {**children, "i": i, "f_L": f_L, "f_R": f_R, "x": x, "c": c, "o": o, "h": h}


def _block_backward(
    p: Arrays, s: Mapping[str, np.ndarray], dh: np.ndarray, dc_out: np.ndarray, grads: dict
) -> dict[str, np.ndarray]:
    """Backward through one node and row: weight gradients added into ``grads``;

    returns ∂h^L, ∂c^L, ∂h^R, ∂c^R. With g = tanh(x_t) and t = tanh(c_t):
    ∂a_o = ∂h ⊙ t ⊙ o (1 − o),  ∂c = ∂c_t + ∂h ⊙ o ⊙ (1 − t²) + W^{oT}_c ∂a_o,
    ∂a_i = ∂c ⊙ g ⊙ i (1 − i),  ∂a_{fL} = ∂c ⊙ c^L ⊙ f^L (1 − f^L),
    ∂a_{fR} = ∂c ⊙ c^R ⊙ f^R (1 − f^R),  ∂a_x = ∂c ⊙ i ⊙ (1 − g²),
    ∂W_{g,s} += ∂a_g sᵀ,  ∂b_g += ∂a_g,  ∂s += W_{g,s}ᵀ ∂a_g,  ∂c^L += ∂c ⊙ f^L, ∂c^R += ∂c ⊙ f^R.
    """
    i, f_L, f_R, o = s["i"], s["f_L"], s["f_R"], s["o"]
    g, t = np.tanh(s["x"]), np.tanh(s["c"])
    da = {"o": dh * t * o * (1 - o)}
    dc = dc_out + dh * o * (1 - t * t) + p["W_o_c"].T @ da["o"]
    da["i"] = dc * g * i * (1 - i)
    da["fL"] = dc * s["c_L"] * f_L * (1 - f_L)
    da["fR"] = dc * s["c_R"] * f_R * (1 - f_R)
    da["x"] = dc * i * (1 - g * g)
    d = {"h_L": np.zeros_like(dh), "h_R": np.zeros_like(dh), "c_L": dc * f_L, "c_R": dc * f_R}
    for gate, subs in GATES.items():
        grads[f"b_{gate}"] += da[gate][:, 0]
        for sub in subs:
            grads[f"W_{gate}_{sub}"] += da[gate] @ s[SOURCES[sub]].T
            if sub != "c":  # W^o_c's path into c_t is already in ∂c
                d[SOURCES[sub]] += p[f"W_{gate}_{sub}"].T @ da[gate]
    return d


def _row_children(inputs: Arrays, n: int) -> tuple[np.ndarray, ...]:
    """Row n's h^L, c^L, h^R, c^R as (H, 1) columns."""
    return tuple(_column(inputs[k][n]) for k in ("h_L", "c_L", "h_R", "c_R"))


def cell_forward(inputs: Arrays) -> dict[str, np.ndarray]:
    """One node, row by row: i, f^L, f^R, x_t, c_t, o, h_t as in eqs. (1)–(7)."""
    blocks = [_block(inputs, *_row_children(inputs, n)) for n in range(inputs["h_L"].shape[0])]
    return {k: np.stack([s[k][:, 0] for s in blocks]) for k in ("h", "c")}


def cell_vjp(inputs: Arrays, cotangents: Arrays) -> dict[str, np.ndarray]:
    """The node's backward (see ``_block_backward``), row by row."""
    grads = {name: np.zeros_like(inputs[name]) for name in PARAMETERS}
    rows: dict[str, list[np.ndarray]] = {k: [] for k in ("h_L", "c_L", "h_R", "c_R")}
    for n in range(inputs["h_L"].shape[0]):
        s = _block(inputs, *_row_children(inputs, n))
        dh, dc = _column(cotangents["h"][n]), _column(cotangents["c"][n])
        for name, value in _block_backward(inputs, s, dh, dc, grads).items():
            rows[name].append(value[:, 0])
    return {**grads, **{name: np.stack(r) for name, r in rows.items()}}


# ---------------------------------------------------------------------------
# The tree: one node table per row, filled in post-order
# ---------------------------------------------------------------------------


def _tree_row(inputs: Arrays, n: int) -> list[dict]:
    """Row n's node table: leaves (h, c only), then the block at each internal node."""
    table: list[dict] = [
        {"h": _column(h), "c": _column(c)}
        for h, c in zip(inputs["leaf_h"][:, n], inputs["leaf_c"][:, n], strict=True)
    ]
    for left, right in inputs["children"]:
        table.append(_block(inputs, table[left]["h"], table[left]["c"],
                            table[right]["h"], table[right]["c"]))  # fmt: skip
    return table


def tree_forward(inputs: Arrays) -> dict[str, np.ndarray]:
    """h_n, c_n = SLSTM(h_left(n), c_left(n), h_right(n), c_right(n)), children first."""
    L, B = inputs["leaf_h"].shape[:2]
    tables = [_tree_row(inputs, n) for n in range(B)]
    h = np.stack([np.stack([node["h"][:, 0] for node in t[L:]]) for t in tables], axis=1)
    c = np.stack([np.stack([node["c"][:, 0] for node in t[L:]]) for t in tables], axis=1)
    return {"h_nodes": h, "c_nodes": c, "h_root": h[-1].copy()}


def tree_vjp(inputs: Arrays, cotangents: Arrays) -> dict[str, np.ndarray]:
    """Back-propagation through structure, row by row, parents before children.

    Each node's ∂h, ∂c starts from the cotangents of h_nodes, c_nodes (plus h_root at the
    root) and collects what its parent passes down; visiting nodes in reverse index
    order finishes every parent before its children.
    """
    L, B = inputs["leaf_h"].shape[:2]
    grads = {name: np.zeros_like(inputs[name]) for name in PARAMETERS}
    grads["leaf_h"], grads["leaf_c"] = (
        np.zeros_like(inputs["leaf_h"]),
        np.zeros_like(inputs["leaf_c"]),
    )
    for n in range(B):
        table = _tree_row(inputs, n)
        dh = [np.zeros_like(node["h"]) for node in table]
        dc = [np.zeros_like(node["c"]) for node in table]
        for k in range(L, len(table)):
            dh[k] += _column(cotangents["h_nodes"][k - L, n])
            dc[k] += _column(cotangents["c_nodes"][k - L, n])
        dh[-1] += _column(cotangents["h_root"][n])
        for k in reversed(range(L, len(table))):
            left, right = inputs["children"][k - L]
            d = _block_backward(inputs, table[k], dh[k], dc[k], grads)
            dh[left] += d["h_L"]
            dc[left] += d["c_L"]
            dh[right] += d["h_R"]
            dc[right] += d["c_R"]
        for k in range(L):
            grads["leaf_h"][k, n] = dh[k][:, 0]
            grads["leaf_c"][k, n] = dc[k][:, 0]
    return grads


# ---------------------------------------------------------------------------
# Registration
# ---------------------------------------------------------------------------

KERNELS: dict[str, Kernel] = {
    "slstm.input_gate": _gate_kernel("i", "i", squash=True),
    "slstm.forget_gate_left": _gate_kernel("fL", "f_L", squash=True),
    "slstm.forget_gate_right": _gate_kernel("fR", "f_R", squash=True),
    "slstm.cell_input": _gate_kernel("x", "x", squash=False),
    "slstm.cell_state": Kernel(cell_state_forward, cell_state_vjp),
    "slstm.output_gate": _gate_kernel("o", "o", squash=True),
    "slstm.hidden_state": LSTM_KERNELS["lstm.hidden_state"],  # eq. (7) is the LSTM's own
    "slstm.cell": Kernel(cell_forward, cell_vjp),
    "slstm.tree": Kernel(tree_forward, tree_vjp),
}
