"""``fused-gate``: the S-LSTM (Zhu, Sobhani & Guo 2015) with stacked gate weights.

Gates that see the same inputs share one GEMM. With z = [h^L, h^R, c^L, c^R] (B, 4H):

    W_σ = [W_i_*; W_fL_*; W_fR_*]  (3H, 4H)   i, f^L, f^R see all four children's states
    W_h = [W_o_Lh W_o_Rh; W_x_Lh W_x_Rh]  (2H, 2H)   o and x_t see z[:, :2H] = [h^L, h^R]
    a = [z W_σᵀ | z[:, :2H] W_hᵀ] + b  →  (B, 5H) gate buffer [i, f^L, f^R, o, x]

then c_t, and o's own term a_o += c_t W^{oT}_c once c_t exists. The tree runs level by
level (a node's level is its height above the leaves): all nodes of a level go through one
pair of GEMMs, their inputs gathered from the node table into a preallocated buffer kept in
level order; the backward walks the levels top-down, and the weight gradients are single
large GEMMs over every node at once, outside the level loop.

Each forward sits next to its backward, hand-derived, using the derivatives in terms of
the activated values: σ' = s (1 − s) for s = σ(a), and tanh' = 1 − t² for t = tanh(a).
Inputs are only ever read; nothing is cached between calls.
"""

from __future__ import annotations

import itertools
from typing import NamedTuple

import numpy as np

from conformance import Arrays, Kernel
from implementations._common import sigmoid
from implementations.fused_gate.lstm import KERNELS as LSTM_KERNELS

SOURCES = {"Lh": "h_L", "Rh": "h_R", "Lc": "c_L", "Rc": "c_R", "c": "c"}
"""Weight subscript → the symbol it multiplies: W_i_Lh on h^L, W_o_c on the new c_t."""
GATES = {
    "i": ("Lh", "Rh", "Lc", "Rc"),
    "fL": ("Lh", "Rh", "Lc", "Rc"),
    "fR": ("Lh", "Rh", "Lc", "Rc"),
    "o": ("Lh", "Rh", "c"),
    "x": ("Lh", "Rh"),
}
"""Every gate's weights by subscript (eqs. 1–4 and 6 of the paper)."""
SIGMA_GATES, HIDDEN_GATES = ("i", "fL", "fR"), ("o", "x")
"""Row blocks of W_σ (on z) and of W_h (on [h^L, h^R]), in gate-buffer order."""


class Stacked(NamedTuple):
    """The block's weights, stacked once per call."""

    sigma: np.ndarray  # W_σ (3H, 4H)
    hidden: np.ndarray  # W_h (2H, 2H)
    o_c: np.ndarray  # W^o_c (H, H)
    bias: np.ndarray  # [b_i; b_fL; b_fR; b_o; b_x] (5H,)


def _stack(inputs: Arrays) -> Stacked:
    """W_σ, W_h, W^o_c and the stacked bias, from the spec's per-gate weights."""
    sigma = np.block([[inputs[f"W_{g}_{s}"] for s in GATES["i"]] for g in SIGMA_GATES])
    hidden = np.block([[inputs[f"W_{g}_{s}"] for s in ("Lh", "Rh")] for g in HIDDEN_GATES])
    bias = np.concatenate([inputs[f"b_{g}"] for g in (*SIGMA_GATES, *HIDDEN_GATES)])
    return Stacked(sigma, hidden, inputs["W_o_c"], bias)


def _unstack(dW: Stacked, H: int) -> dict[str, np.ndarray]:
    """∂W_σ, ∂W_h, ∂W^o_c, ∂b split back into the spec's (H, H) and (H,) blocks."""
    grads = {"W_o_c": dW.o_c}
    blocks = ((dW.sigma, SIGMA_GATES, GATES["i"]), (dW.hidden, HIDDEN_GATES, ("Lh", "Rh")))
    for rows, gates, subs in blocks:
        for k, g in enumerate(gates):
            for j, s in enumerate(subs):
                grads[f"W_{g}_{s}"] = rows[k * H : (k + 1) * H, j * H : (j + 1) * H]
    for k, g in enumerate((*SIGMA_GATES, *HIDDEN_GATES)):
        grads[f"b_{g}"] = dW.bias[k * H : (k + 1) * H]
    return grads


# ---------------------------------------------------------------------------
# The block on M rows (a batch, or every node of a tree level times the batch)
# ---------------------------------------------------------------------------


def _block(z: np.ndarray, W: Stacked, a: np.ndarray, c: np.ndarray, tanh_c: np.ndarray) -> None:
    """One S-LSTM block on the rows of z = [h^L, h^R, c^L, c^R], into the given buffers:

    a ← [i, f^L, f^R, o, g] with [i, f^L, f^R] = σ(z W_σᵀ + b), g = tanh(x_t),
    c ← f^L ⊙ c^L + f^R ⊙ c^R + i ⊙ g,  o = σ([h^L, h^R] W^{oT}_h + c W^{oT}_c + b_o),
    tanh_c ← tanh(c).
    """
    H = c.shape[1]
    np.matmul(z, W.sigma.T, out=a[:, : 3 * H])
    np.matmul(z[:, : 2 * H], W.hidden.T, out=a[:, 3 * H :])
    a += W.bias
    sigmoid(a[:, : 3 * H], out=a[:, : 3 * H])
    np.tanh(a[:, 4 * H :], out=a[:, 4 * H :])
    i, f_L, f_R, g = a[:, :H], a[:, H : 2 * H], a[:, 2 * H : 3 * H], a[:, 4 * H :]
    np.multiply(f_L, z[:, 2 * H : 3 * H], out=c)
    c += f_R * z[:, 3 * H :]
    c += i * g
    o = a[:, 3 * H : 4 * H]
    o += c @ W.o_c.T
    sigmoid(o, out=o)
    np.tanh(c, out=tanh_c)


def _block_backward(
    z: np.ndarray,
    W: Stacked,
    a: np.ndarray,
    tanh_c: np.ndarray,
    dh: np.ndarray,
    dc_out: np.ndarray,
    da: np.ndarray,
) -> np.ndarray:
    """Backward of ``_block`` given ∂h_t, ∂c_t: ∂pre into ``da`` (M, 5H); returns ∂z.

    ∂a_o = ∂h ⊙ tanh c ⊙ o (1 − o),  ∂c = ∂c_t + ∂h ⊙ o ⊙ (1 − tanh² c) + ∂a_o W^o_c,
    ∂[i, f^L, f^R] = ∂c ⊙ [g, c^L, c^R] ⊙ s (1 − s),  ∂a_x = ∂c ⊙ i ⊙ (1 − g²),
    ∂z = ∂a_σ W_σ + [∂a_h W_h, 0] + [0, 0, ∂c ⊙ f^L, ∂c ⊙ f^R].
    """
    H = tanh_c.shape[1]
    i, f_L, f_R, o, g = (a[:, k * H : (k + 1) * H] for k in range(5))
    da_sigma, da_o, da_x = da[:, : 3 * H], da[:, 3 * H : 4 * H], da[:, 4 * H :]
    np.subtract(1.0, o, out=da_o)
    da_o *= o
    da_o *= tanh_c
    da_o *= dh
    dc = np.square(tanh_c)
    np.subtract(1.0, dc, out=dc)
    dc *= o
    dc *= dh
    dc += dc_out
    dc += da_o @ W.o_c
    np.multiply(dc, g, out=da[:, :H])
    np.multiply(dc, z[:, 2 * H : 3 * H], out=da[:, H : 2 * H])
    np.multiply(dc, z[:, 3 * H :], out=da[:, 2 * H : 3 * H])
    slope = np.subtract(1.0, a[:, : 3 * H])
    slope *= a[:, : 3 * H]
    da_sigma *= slope
    np.square(g, out=da_x)
    np.subtract(1.0, da_x, out=da_x)
    da_x *= i
    da_x *= dc
    dz = da_sigma @ W.sigma
    dz[:, : 2 * H] += da[:, 3 * H :] @ W.hidden
    dz[:, 2 * H : 3 * H] += dc * f_L
    dz[:, 3 * H :] += dc * f_R
    return dz


def _weight_grads(da: np.ndarray, z: np.ndarray, c: np.ndarray) -> Stacked:
    """∂W_σ = ∂a_σᵀ z,  ∂W_h = ∂a_hᵀ [h^L, h^R],  ∂W^o_c = ∂a_oᵀ c,  ∂b = Σ_rows ∂a."""
    H = c.shape[1]
    return Stacked(
        da[:, : 3 * H].T @ z,
        da[:, 3 * H :].T @ z[:, : 2 * H],
        da[:, 3 * H : 4 * H].T @ c,
        da.sum(axis=0),
    )


# ---------------------------------------------------------------------------
# One node: the cell, and the single-gate specs on a one-gate stack
# ---------------------------------------------------------------------------


def _cell(inputs: Arrays) -> tuple[np.ndarray, Stacked, np.ndarray, np.ndarray, np.ndarray]:
    """z, the stacked weights, and the buffers a, c, tanh(c) of one block on the batch."""
    h_L = inputs["h_L"]
    B, H = h_L.shape
    z = np.empty((B, 4 * H), dtype=h_L.dtype)
    for k, name in enumerate(("h_L", "h_R", "c_L", "c_R")):
        z[:, k * H : (k + 1) * H] = inputs[name]
    W = _stack(inputs)
    a, c, tanh_c = np.empty((B, 5 * H), h_L.dtype), np.empty_like(h_L), np.empty_like(h_L)
    _block(z, W, a, c, tanh_c)
    return z, W, a, c, tanh_c


def cell_forward(inputs: Arrays) -> dict[str, np.ndarray]:
    """One node: ``_block`` on the batch, then h_t = o ⊙ tanh(c_t)."""
    H = inputs["h_L"].shape[1]
    _, _, a, c, tanh_c = _cell(inputs)
    tanh_c *= a[:, 3 * H : 4 * H]  # tanh_c is ours: it becomes h_t
    return {"h": tanh_c, "c": c}


def cell_vjp(inputs: Arrays, cotangents: Arrays) -> dict[str, np.ndarray]:
    """``_block_backward`` on the batch, then the weight gradients as three GEMMs."""
    H = inputs["h_L"].shape[1]
    z, W, a, c, tanh_c = _cell(inputs)
    da = np.empty_like(a)
    dz = _block_backward(z, W, a, tanh_c, cotangents["h"], cotangents["c"], da)
    grads = _unstack(_weight_grads(da, z, c), H)
    for k, name in enumerate(("h_L", "h_R", "c_L", "c_R")):
        grads[name] = dz[:, k * H : (k + 1) * H]
    return grads


def _gate_kernel(gate: str, out: str, squash: bool) -> Kernel:
    """``out = σ(z W_gᵀ + b_g)`` with z the gate's sources side by side and W_g = [W_g_s …]."""
    subs = GATES[gate]

    def pre(inputs: Arrays) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        z = np.concatenate([inputs[SOURCES[s]] for s in subs], axis=1)
        W = np.concatenate([inputs[f"W_{gate}_{s}"] for s in subs], axis=1)
        a = np.matmul(z, W.T)
        a += inputs[f"b_{gate}"]
        if squash:
            sigmoid(a, out=a)
        return z, W, a

    def forward(inputs: Arrays) -> dict[str, np.ndarray]:
        """gate = σ(Σ_s s W_{g,s}ᵀ + b_g) as one GEMM (no σ for x_t)."""
        return {out: pre(inputs)[2]}

    def vjp(inputs: Arrays, cotangents: Arrays) -> dict[str, np.ndarray]:
        """∂a = ∂gate ⊙ s (1 − s);  ∂W_g = ∂aᵀ z,  ∂b_g = Σ_rows ∂a,  ∂z = ∂a W_g."""
        z, W, a = pre(inputs)
        H = W.shape[0]
        da = np.array(cotangents[out], dtype=a.dtype)  # a copy: it is scaled in place
        if squash:  # a = s is not needed after this: it becomes 1 − s
            da *= a
            da *= np.subtract(1.0, a, out=a)
        dW, dz = da.T @ z, da @ W
        grads = {f"b_{gate}": da.sum(axis=0)}
        for j, s in enumerate(subs):
            grads[f"W_{gate}_{s}"] = dW[:, j * H : (j + 1) * H]
            grads[SOURCES[s]] = dz[:, j * H : (j + 1) * H]
        return grads

    return Kernel(forward, vjp)


def cell_state_forward(inputs: Arrays) -> dict[str, np.ndarray]:
    """c_t = f^L ⊙ c^L + f^R ⊙ c^R + i ⊙ tanh(x_t)."""
    c = np.tanh(inputs["x"])
    c *= inputs["i"]
    c += inputs["f_L"] * inputs["c_L"]
    c += inputs["f_R"] * inputs["c_R"]
    return {"c": c}


def cell_state_vjp(inputs: Arrays, cotangents: Arrays) -> dict[str, np.ndarray]:
    """∂f^L = ∂c ⊙ c^L, ∂c^L = ∂c ⊙ f^L (likewise right), ∂i = ∂c ⊙ g, ∂x = ∂c ⊙ i (1 − g²)."""
    dc, g = cotangents["c"], np.tanh(inputs["x"])
    dx = np.square(g)
    np.subtract(1.0, dx, out=dx)
    dx *= inputs["i"]
    dx *= dc
    grads = {"x": dx, "i": np.multiply(dc, g, out=g)}
    for side in ("L", "R"):
        grads[f"f_{side}"] = np.multiply(dc, inputs[f"c_{side}"])
        grads[f"c_{side}"] = np.multiply(dc, inputs[f"f_{side}"])
    return grads


# ---------------------------------------------------------------------------
# The tree, level by level
# ---------------------------------------------------------------------------


def _levels(children: np.ndarray, L: int) -> tuple[np.ndarray, list[slice]]:
    """Internal nodes in level order (height above the leaves, then index) and each level's

    slice of that order. A node's children are on lower levels, so levels run bottom-up.
    """
    height = np.zeros(L + children.shape[0], dtype=np.int64)
    for n, (left, right) in enumerate(children):
        height[L + n] = 1 + max(height[left], height[right])
    order = np.argsort(height[L:], kind="stable")
    starts = np.searchsorted(height[L:][order], np.arange(1, height.max() + 2))
    return order, [slice(s, e) for s, e in itertools.pairwise(starts)]


class _Tree(NamedTuple):
    """The forward's state: node table and per-node buffers (level order, flattened rows)."""

    h: np.ndarray  # (L + N, B, H) node table
    c: np.ndarray
    order: np.ndarray
    levels: list[slice]
    W: Stacked
    z: np.ndarray  # (N, B, 4H) children's [h^L, h^R, c^L, c^R]
    a: np.ndarray  # (N, B, 5H) gates
    c_t: np.ndarray  # (N, B, H)
    tanh_c: np.ndarray  # (N, B, H)


def _tree(inputs: Arrays) -> _Tree:
    """Fill the node table level by level, one ``_block`` (two GEMMs) per level."""
    children, leaf_h = inputs["children"], inputs["leaf_h"]
    (L, B, H), N, dtype = leaf_h.shape, children.shape[0], leaf_h.dtype
    order, levels = _levels(children, L)
    h, c = np.empty((L + N, B, H), dtype), np.empty((L + N, B, H), dtype)
    h[:L], c[:L] = leaf_h, inputs["leaf_c"]
    z, a = np.empty((N, B, 4 * H), dtype), np.empty((N, B, 5 * H), dtype)
    c_t, tanh_c = np.empty((N, B, H), dtype), np.empty((N, B, H), dtype)
    W = _stack(inputs)
    for level in levels:
        nodes, rows = order[level], (level.stop - level.start) * B
        left, right = children[nodes, 0], children[nodes, 1]
        for k, part in enumerate((h[left], h[right], c[left], c[right])):
            z[level, :, k * H : (k + 1) * H] = part
        z_l, a_l, c_l, tanh_l = (x[level].reshape(rows, -1) for x in (z, a, c_t, tanh_c))
        _block(z_l, W, a_l, c_l, tanh_l)  # views: fills the level's rows of the buffers
        c[L + nodes] = c_t[level]
        h[L + nodes] = a[level, :, 3 * H : 4 * H] * tanh_c[level]
    return _Tree(h, c, order, levels, W, z, a, c_t, tanh_c)


def tree_forward(inputs: Arrays) -> dict[str, np.ndarray]:
    """h_n, c_n = SLSTM(h_left(n), c_left(n), h_right(n), c_right(n)), level by level."""
    L = inputs["leaf_h"].shape[0]
    t = _tree(inputs)
    return {"h_nodes": t.h[L:], "c_nodes": t.c[L:], "h_root": t.h[-1].copy()}


def tree_vjp(inputs: Arrays, cotangents: Arrays) -> dict[str, np.ndarray]:
    """Back-propagation through structure, top level first (parents before children).

    Each level gathers its nodes' ∂h, ∂c from the table, runs ``_block_backward`` on all
    of them at once and scatters ∂z into the children's rows (each node has one parent, so
    no row is hit twice in a level). The weight gradients are then three GEMMs over the
    ∂pre, z and c_t of every node.
    """
    children, (L, B, H) = inputs["children"], inputs["leaf_h"].shape
    t = _tree(inputs)
    dh, dc = np.zeros_like(t.h), np.zeros_like(t.c)
    dh[L:], dc[L:] = cotangents["h_nodes"], cotangents["c_nodes"]
    dh[-1] += cotangents["h_root"]
    da = np.empty_like(t.a)
    for level in reversed(t.levels):
        nodes, rows = t.order[level], (level.stop - level.start) * B
        z, a, tanh_c, da_level = (x[level].reshape(rows, -1) for x in (t.z, t.a, t.tanh_c, da))
        dh_t, dc_t = (d[L + nodes].reshape(rows, H) for d in (dh, dc))
        dz = _block_backward(z, t.W, a, tanh_c, dh_t, dc_t, da_level)
        dz = dz.reshape(len(nodes), B, 4 * H)
        left, right = children[nodes, 0], children[nodes, 1]
        for k, (table, side) in enumerate(((dh, left), (dh, right), (dc, left), (dc, right))):
            table[side] += dz[:, :, k * H : (k + 1) * H]
    rows = children.shape[0] * B
    dW = _weight_grads(da.reshape(rows, -1), t.z.reshape(rows, -1), t.c_t.reshape(rows, -1))
    grads = _unstack(dW, H)
    grads["leaf_h"], grads["leaf_c"] = dh[:L], dc[:L]
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
