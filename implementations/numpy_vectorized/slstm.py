"""``numpy-vectorized``: the S-LSTM (Zhu, Sobhani & Guo 2015) batched over rows.

Arrays are batch rows: the children's states h^L, c^L, h^R, c^R are (B, H), and each
source s reaches a gate g through its own (H, H) weight, ``s @ W_g_s.T``. No Python loop
over the batch; each gate is computed on its own, one matmul per (gate, source). The tree
loops over its internal nodes in post-order (index order) and back again.

Each forward sits next to its backward, hand-derived, using the derivatives in terms of
the activated values: σ' = s (1 − s) for s = σ(a), and tanh' = 1 − t² for t = tanh(a).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

from conformance import Arrays, Kernel
from implementations._common import sigmoid
from implementations.numpy_vectorized.lstm import KERNELS as LSTM_KERNELS

CHILDREN = ("h_L", "h_R", "c_L", "c_R")
"""What the input and forget gates see: both children's hidden and cell states."""
HIDDEN = ("h_L", "h_R")
"""What the cell input x_t sees: the children's hidden states."""
OUTPUT = ("h_L", "h_R", "c")
"""What the output gate sees: the children's hidden states and the node's new c_t."""
SUFFIX = {"h_L": "Lh", "h_R": "Rh", "c_L": "Lc", "c_R": "Rc", "c": "c"}
"""Source symbol → the subscript of its weight: W_i_Lh is the input gate's on h^L."""
GATES = {"i": CHILDREN, "fL": CHILDREN, "fR": CHILDREN, "x": HIDDEN, "o": OUTPUT}
"""Every gate's sources, by the gate's name in its weights (W_fL_*, b_fL, …)."""
PARAMETERS = tuple(
    name
    for gate, sources in GATES.items()
    for name in (*(f"W_{gate}_{SUFFIX[s]}" for s in sources), f"b_{gate}")
)


# ---------------------------------------------------------------------------
# One affine gate: a = Σ_s s W_{g,s}ᵀ + b_g, then σ (or nothing for x_t)
# ---------------------------------------------------------------------------


def _affine(inputs: Arrays, gate: str, sources: Sequence[str]) -> np.ndarray:
    """a_g = Σ_s s @ W_g_s.T + b_g over the gate's sources."""
    a = inputs[f"b_{gate}"] + inputs[sources[0]] @ inputs[f"W_{gate}_{SUFFIX[sources[0]]}"].T
    for s in sources[1:]:
        a += inputs[s] @ inputs[f"W_{gate}_{SUFFIX[s]}"].T
    return a


def _affine_vjp(
    inputs: Arrays, gate: str, sources: Sequence[str], da: np.ndarray, grads: dict
) -> None:
    """Given ∂a_g: ∂W_g_s = ∂aᵀ s,  ∂b_g = Σ_rows ∂a,  ∂s += ∂a W_g_s (added into grads)."""
    grads[f"b_{gate}"] = da.sum(axis=0)
    for s in sources:
        W = f"W_{gate}_{SUFFIX[s]}"
        grads[W] = da.T @ inputs[s]
        grads[s] = grads[s] + da @ inputs[W] if s in grads else da @ inputs[W]


def _gate_kernel(gate: str, out: str, act: Callable | None) -> Kernel:
    """The kernel for one gate, ``out = act(Σ_s s W_{g,s}ᵀ + b_g)`` (no act for x_t)."""
    sources = GATES[gate]

    def forward(inputs: Arrays) -> dict[str, np.ndarray]:
        """gate = σ(Σ_s s W_{g,s}ᵀ + b_g), or the affine map itself for x_t."""
        a = _affine(inputs, gate, sources)
        return {out: a if act is None else act(a)}

    def vjp(inputs: Arrays, cotangents: Arrays) -> dict[str, np.ndarray]:
        """∂a = ∂gate ⊙ s (1 − s) for σ (∂gate for x_t); then the affine backward."""
        da = cotangents[out]
        if act is not None:
            s = act(_affine(inputs, gate, sources))
            da = da * s * (1 - s)
        grads: dict[str, np.ndarray] = {}
        _affine_vjp(inputs, gate, sources, da, grads)
        return grads

    return Kernel(forward, vjp)


# ---------------------------------------------------------------------------
# Cell state: c_t = f^L ⊙ c^L + f^R ⊙ c^R + i ⊙ tanh(x_t)
# ---------------------------------------------------------------------------


def cell_state_forward(inputs: Arrays) -> dict[str, np.ndarray]:
    """c_t = f^L ⊙ c^L + f^R ⊙ c^R + i ⊙ tanh(x_t)."""
    f_L, c_L, f_R, c_R, i, x = (inputs[n] for n in ("f_L", "c_L", "f_R", "c_R", "i", "x"))
    return {"c": f_L * c_L + f_R * c_R + i * np.tanh(x)}


def cell_state_vjp(inputs: Arrays, cotangents: Arrays) -> dict[str, np.ndarray]:
    """∂f^L = ∂c ⊙ c^L, ∂c^L = ∂c ⊙ f^L (and so on right), ∂i = ∂c ⊙ g, ∂x = ∂c ⊙ i (1 − g²)."""
    dc, g = cotangents["c"], np.tanh(inputs["x"])
    return {
        "f_L": dc * inputs["c_L"],
        "c_L": dc * inputs["f_L"],
        "f_R": dc * inputs["c_R"],
        "c_R": dc * inputs["f_R"],
        "i": dc * g,
        "x": dc * inputs["i"] * (1 - g * g),
    }


# ---------------------------------------------------------------------------
# The memory block: one node of the tree
# ---------------------------------------------------------------------------


def _cell(inputs: Arrays) -> dict[str, np.ndarray]:
    """Every intermediate of one node: i, f_L, f_R, g = tanh(x_t), c, o, tanh_c, h."""
    i = sigmoid(_affine(inputs, "i", CHILDREN))
    f_L = sigmoid(_affine(inputs, "fL", CHILDREN))
    f_R = sigmoid(_affine(inputs, "fR", CHILDREN))
    g = np.tanh(_affine(inputs, "x", HIDDEN))
    c = f_L * inputs["c_L"] + f_R * inputs["c_R"] + i * g
    o = sigmoid(_affine({**inputs, "c": c}, "o", OUTPUT))
    tanh_c = np.tanh(c)
    return {"i": i, "f_L": f_L, "f_R": f_R, "g": g, "c": c, "o": o, "tanh_c": tanh_c}


def _cell_backward(
    inputs: Arrays, s: Mapping[str, np.ndarray], dh: np.ndarray, dc_out: np.ndarray
) -> dict[str, np.ndarray]:
    """Backward through one node given ∂h_t, ∂c_t: ∂ of the children and every weight.

    ∂c = ∂c_t + ∂h ⊙ o ⊙ (1 − tanh²c) + ∂a_o W^o_c  (o sees the new c_t),
    ∂a_o = ∂h ⊙ tanh(c) ⊙ o (1 − o),  ∂a_i = ∂c ⊙ g ⊙ i (1 − i),
    ∂a_{fL} = ∂c ⊙ c^L ⊙ f^L (1 − f^L),  ∂a_{fR} = ∂c ⊙ c^R ⊙ f^R (1 − f^R),
    ∂a_x = ∂c ⊙ i ⊙ (1 − g²),  ∂c^L += ∂c ⊙ f^L,  ∂c^R += ∂c ⊙ f^R.
    """
    i, f_L, f_R, g, o, tanh_c = (s[n] for n in ("i", "f_L", "f_R", "g", "o", "tanh_c"))
    grads: dict[str, np.ndarray] = {}
    _affine_vjp({**inputs, "c": s["c"]}, "o", OUTPUT, dh * tanh_c * o * (1 - o), grads)
    dc = dc_out + dh * o * (1 - tanh_c * tanh_c) + grads.pop("c")
    _affine_vjp(inputs, "i", CHILDREN, dc * g * i * (1 - i), grads)
    _affine_vjp(inputs, "fL", CHILDREN, dc * inputs["c_L"] * f_L * (1 - f_L), grads)
    _affine_vjp(inputs, "fR", CHILDREN, dc * inputs["c_R"] * f_R * (1 - f_R), grads)
    _affine_vjp(inputs, "x", HIDDEN, dc * i * (1 - g * g), grads)
    grads["c_L"] += dc * f_L
    grads["c_R"] += dc * f_R
    return grads


def cell_forward(inputs: Arrays) -> dict[str, np.ndarray]:
    """One node: i, f^L, f^R = σ(…), x_t = W^x_{Lh} h^L + W^x_{Rh} h^R + b_x,

    c_t = f^L ⊙ c^L + f^R ⊙ c^R + i ⊙ tanh(x_t),  o = σ(… + W^o_c c_t + b_o),
    h_t = o ⊙ tanh(c_t).
    """
    s = _cell(inputs)
    return {"h": s["o"] * s["tanh_c"], "c": s["c"]}


def cell_vjp(inputs: Arrays, cotangents: Arrays) -> dict[str, np.ndarray]:
    """The node's backward (see ``_cell_backward``) for cotangents ∂h_t, ∂c_t."""
    return _cell_backward(inputs, _cell(inputs), cotangents["h"], cotangents["c"])


# ---------------------------------------------------------------------------
# The tree: the block at every internal node, in post-order
# ---------------------------------------------------------------------------


def _node_inputs(
    params: Arrays, h: np.ndarray, c: np.ndarray, left: int, right: int
) -> dict[str, np.ndarray]:
    """The block's inputs at a node: the weights, and the children's rows of the table."""
    return {**params, "h_L": h[left], "c_L": c[left], "h_R": h[right], "c_R": c[right]}


def _tree(inputs: Arrays) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """The node table (h, c) of shape (L + N, B, H): leaves, then every internal node.

    Node L + n is the block on children[n] = (left, right); both index the table and come
    before n, so one pass in index order fills it.
    """
    children, leaf_h, leaf_c = inputs["children"], inputs["leaf_h"], inputs["leaf_c"]
    L, N = leaf_h.shape[0], children.shape[0]
    params = {name: inputs[name] for name in PARAMETERS}
    h = np.empty((L + N, *leaf_h.shape[1:]), dtype=leaf_h.dtype)
    c = np.empty_like(h)
    h[:L], c[:L] = leaf_h, leaf_c
    for n, (left, right) in enumerate(children):
        s = _cell(_node_inputs(params, h, c, left, right))
        h[L + n], c[L + n] = s["o"] * s["tanh_c"], s["c"]
    return children, h, c, params


def tree_forward(inputs: Arrays) -> dict[str, np.ndarray]:
    """h_n, c_n = SLSTM(h_left(n), c_left(n), h_right(n), c_right(n)) in post-order."""
    L = inputs["leaf_h"].shape[0]
    _, h, c, _ = _tree(inputs)
    return {"h_nodes": h[L:], "c_nodes": c[L:], "h_root": h[-1].copy()}


def tree_vjp(inputs: Arrays, cotangents: Arrays) -> dict[str, np.ndarray]:
    """Back-propagation through structure: nodes in reverse index order (parents first).

    The table ∂h, ∂c starts from the cotangents of h_nodes, c_nodes (and h_root on the
    root); each node's backward adds into its children's rows, which are complete by the
    time a child is reached because every parent has a larger index.
    """
    children, h, c, params = _tree(inputs)
    L = inputs["leaf_h"].shape[0]
    dh, dc = np.zeros_like(h), np.zeros_like(c)
    dh[L:], dc[L:] = cotangents["h_nodes"], cotangents["c_nodes"]
    dh[-1] += cotangents["h_root"]
    grads = {name: np.zeros_like(params[name]) for name in PARAMETERS}
    for n in reversed(range(children.shape[0])):
        left, right = children[n]
        node = _node_inputs(params, h, c, left, right)
        node_grads = _cell_backward(node, _cell(node), dh[L + n], dc[L + n])
        for name in PARAMETERS:
            grads[name] += node_grads[name]
        dh[left] += node_grads["h_L"]
        dc[left] += node_grads["c_L"]
        dh[right] += node_grads["h_R"]
        dc[right] += node_grads["c_R"]
    grads["leaf_h"], grads["leaf_c"] = dh[:L], dc[:L]
    return grads


# ---------------------------------------------------------------------------
# Registration
# ---------------------------------------------------------------------------

KERNELS: dict[str, Kernel] = {
    "slstm.input_gate": _gate_kernel("i", "i", sigmoid),
    "slstm.forget_gate_left": _gate_kernel("fL", "f_L", sigmoid),
    "slstm.forget_gate_right": _gate_kernel("fR", "f_R", sigmoid),
    "slstm.cell_input": _gate_kernel("x", "x", None),
    "slstm.cell_state": Kernel(cell_state_forward, cell_state_vjp),
    "slstm.output_gate": _gate_kernel("o", "o", sigmoid),
    "slstm.hidden_state": LSTM_KERNELS["lstm.hidden_state"],  # eq. (7) is the LSTM's own
    "slstm.cell": Kernel(cell_forward, cell_vjp),
    "slstm.tree": Kernel(tree_forward, tree_vjp),
}
