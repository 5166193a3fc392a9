"""Mutants of the S-LSTM: its gates, the memory block on two children, and the tree."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np

from conformance import Kernel
from conformance.spec.model import Spec
from implementations._common import sigmoid
from implementations.fused_gate import slstm as fused
from implementations.numpy_vectorized import slstm as vec
from mutants._activations import tanh_from_exponentials
from mutants._memory import ravel_k_as_row_major
from mutants._model import QUICK, Mutant
from mutants._origin import (
    Arrays,
    builtin,
    gradients_changed,
    inputs_changed,
    renamed,
    with_forward,
    with_vjp,
)

SOURCES = ("Lh", "Rh", "Lc", "Rc")


def _block(
    a: Arrays, *, old_c_for_o: bool = False, tanh: Callable = np.tanh
) -> dict[str, np.ndarray]:
    """The memory block written out; ``old_c_for_o`` feeds the output gate the left
    child's old cell c^L instead of the new c_t, ``tanh`` is the cell input's squashing."""
    src = {"Lh": a["h_L"], "Rh": a["h_R"], "Lc": a["c_L"], "Rc": a["c_R"]}

    def affine(gate: str, sources: tuple[str, ...]) -> np.ndarray:
        return sum(src[s] @ a[f"W_{gate}_{s}"].T for s in sources) + a[f"b_{gate}"]

    i = sigmoid(affine("i", SOURCES))
    f_L, f_R = sigmoid(affine("fL", SOURCES)), sigmoid(affine("fR", SOURCES))
    c = f_L * a["c_L"] + f_R * a["c_R"] + i * tanh(affine("x", ("Lh", "Rh")))
    seen = a["c_L"] if old_c_for_o else c
    o = sigmoid(affine("o", ("Lh", "Rh")) + seen @ a["W_o_c"].T)
    return {"h": o * np.tanh(c), "c": c}


def cell_output_gate_sees_old_cell(a: Arrays) -> dict[str, np.ndarray]:
    """The output gate fed the left child's c^L where the spec feeds it the new c_t."""
    return _block(a, old_c_for_o=True)


def cell_input_tanh_from_exponentials(a: Arrays) -> dict[str, np.ndarray]:
    """tanh(x_t) of the cell input written through e^{2x}."""
    return _block(a, tanh=tanh_from_exponentials)


def input_gate_square_weight_transposed(a: Arrays) -> dict[str, np.ndarray]:
    """W_i_Lh applied transposed (it is square, so the shapes fit)."""
    return builtin("slstm.input_gate").forward({**a, "W_i_Lh": a["W_i_Lh"].T})


def tree_vjp_without_right_child(a: Arrays, ct: Arrays) -> dict[str, np.ndarray]:
    """Back-propagation through structure that never passes ∂ to a node's right child."""
    children, h, c, params = vec._tree(a)
    L = a["leaf_h"].shape[0]
    dh, dc = np.zeros_like(h), np.zeros_like(c)
    dh[L:], dc[L:] = ct["h_nodes"], ct["c_nodes"]
    dh[-1] += ct["h_root"]
    grads = {n: np.zeros_like(params[n]) for n in vec.PARAMETERS}
    for n in reversed(range(len(children))):
        left, right = children[n]
        node = vec._node_inputs(params, h, c, left, right)
        d = vec._cell_backward(node, vec._cell(node), dh[L + n], dc[L + n])
        for name in vec.PARAMETERS:
            grads[name] += d[name]
        dh[left] += d["h_L"]
        dc[left] += d["c_L"]
    return {**grads, "leaf_h": dh[:L], "leaf_c": dc[:L]}


def _output_weight_gradient_transposed(grads: dict, _a: Arrays) -> dict:
    """∂W_o_c = c_tᵀ ∂a_o where it is ∂a_oᵀ c_t: the weight gradient transposed."""
    return {**grads, "W_o_c": grads["W_o_c"].T}


def tree_root_is_first_node(a: Arrays) -> dict[str, np.ndarray]:
    """h_root taken from the first internal node (index L) instead of the last one."""
    out = dict(vec.tree_forward(a))
    return {**out, "h_root": out["h_nodes"][0].copy()}


def tree_vjp_adds_root_into_cotangent(a: Arrays, ct: Arrays) -> dict[str, np.ndarray]:
    """∂h_root added into the caller's ∂h_nodes[-1] in place (the gradient is right)."""
    dh_nodes = ct["h_nodes"]
    dh_nodes[-1] += ct["h_root"]
    return vec.tree_vjp(a, {**ct, "h_root": np.zeros_like(ct["h_root"])})


def tree_table_in_float64(a: Arrays) -> dict[str, np.ndarray]:
    """The node table made by ``np.empty((L + N, B, H))`` without a dtype: float64."""
    children, leaf_h = a["children"], a["leaf_h"]
    L, N = leaf_h.shape[0], children.shape[0]
    params = {name: a[name] for name in vec.PARAMETERS}
    h = np.empty((L + N, *leaf_h.shape[1:]))
    c = np.empty_like(h)
    h[:L], c[:L] = leaf_h, a["leaf_c"]
    for n, (left, right) in enumerate(children):
        s = vec._cell(vec._node_inputs(params, h, c, left, right))
        h[L + n], c[L + n] = s["o"] * s["tanh_c"], s["c"]
    return {"h_nodes": h[L:], "c_nodes": c[L:], "h_root": h[-1].copy()}


def cell_weights_stacked_once_per_shape(_spec: Spec) -> Kernel:
    """fused-gate's block with its stacked W_σ, W_h, W^o_c kept between calls, keyed by
    shape: new weights of the same shape get the old stack."""
    stacked: dict[tuple, fused.Stacked] = {}

    def forward(a: Arrays) -> dict[str, np.ndarray]:
        h_L = a["h_L"]
        B, H = h_L.shape
        z = np.empty((B, 4 * H), dtype=h_L.dtype)
        for k, name in enumerate(("h_L", "h_R", "c_L", "c_R")):
            z[:, k * H : (k + 1) * H] = a[name]
        key = (h_L.shape[1], h_L.dtype)
        if key not in stacked:
            stacked[key] = fused._stack(a)
        gates, c, tanh_c = np.empty((B, 5 * H), h_L.dtype), np.empty_like(h_L), np.empty_like(h_L)
        fused._block(z, stacked[key], gates, c, tanh_c)
        return {"h": gates[:, 3 * H : 4 * H] * tanh_c, "c": c}

    return replace(builtin("slstm.cell", "fused_gate"), forward=forward)


def _floats_in_memory_order(a: np.ndarray) -> np.ndarray:
    """Float arrays read in memory order as if row-major; the integer links as they are."""
    return ravel_k_as_row_major(a) if a.dtype.kind == "f" else a


def cell_state_candidate_centred_over_batch(a: Arrays) -> dict[str, np.ndarray]:
    """The cell input centred by its mean over axis 0, the batch (a normalisation meant
    for the hidden axis): each row's c_t depends on the other rows."""
    x = a["x"] - a["x"].mean(axis=0)
    return {"c": a["f_L"] * a["c_L"] + a["f_R"] * a["c_R"] + a["i"] * np.tanh(x)}


M = Mutant
MUTANTS: tuple[Mutant, ...] = (
    M("children_swapped", "slstm.cell", "numeric",
      "the left and right children swapped: h_L ↔ h_R and c_L ↔ c_R",
      renamed("slstm.cell", h_L="h_R", h_R="h_L", c_L="c_R", c_R="c_L")),
    M("output_gate_sees_old_cell", "slstm.cell", "numeric",
      "the output gate fed the left child's c_L instead of the node's new c_t",
      with_forward("slstm.cell", cell_output_gate_sees_old_cell)),
    M("one_forget_gate_for_both", "slstm.cell_state", "numeric",
      "f_L used for both children's cells: f_L ⊙ c_R where the spec has f_R ⊙ c_R",
      renamed("slstm.cell_state", f_R="f_L")),
    M("transposed_square_weight", "slstm.input_gate", "numeric",
      "W_i_Lh applied transposed (it is square, so nothing complains)",
      with_forward("slstm.input_gate", input_gate_square_weight_transposed)),
    M("backward_drops_right_subtree", "slstm.tree", "gradient",
      "back-propagation through structure passes no gradient into a node's right child",
      with_vjp("slstm.tree", tree_vjp_without_right_child), profiles=QUICK),
    M("output_weight_gradient_transposed", "slstm.cell", "gradient",
      "∂W_o_c returned transposed (c_tᵀ ∂a_o for ∂a_oᵀ c_t)",
      gradients_changed("slstm.cell", _output_weight_gradient_transposed)),
    M("root_is_first_internal_node", "slstm.tree", "invariants",
      "h_root taken from the first internal node instead of the last (the root)",
      with_forward("slstm.tree", tree_root_is_first_node)),
    M("root_cotangent_added_in_place", "slstm.tree", "inputs_unmodified",
      "the VJP adds ∂h_root into the caller's ∂h_nodes[-1] in place",
      with_vjp("slstm.tree", tree_vjp_adds_root_into_cotangent)),
    M("node_table_in_float64", "slstm.tree", "dtype",
      "the node table made by np.empty without a dtype: float64 outputs from float32 inputs",
      with_forward("slstm.tree", tree_table_in_float64), dtypes=("float32",)),
    M("weights_stacked_once_per_shape", "slstm.cell", "stateless",
      "the stacked gate weights cached by shape: new weights of the same shape get the old ones",
      cell_weights_stacked_once_per_shape, source="fused_gate"),
    M("tanh_from_exponentials", "slstm.cell", "stability",
      "tanh(x_t) written (e^{2x} − 1)/(e^{2x} + 1): nan once e^{2x} overflows",
      with_forward("slstm.cell", cell_input_tanh_from_exponentials)),
    M("inputs_read_in_memory_order", "slstm.tree", "layout",
      "the float inputs read as ravel(order='K') reshaped as if row-major",
      inputs_changed("slstm.tree", _floats_in_memory_order)),
    M("candidate_centred_over_batch", "slstm.cell_state", "batch_independence",
      "the cell input centred by its mean over the batch axis: rows leak into each other",
      with_forward("slstm.cell_state", cell_state_candidate_centred_over_batch)),
)  # fmt: skip
"""The S-LSTM's mutants; ``backward_drops_right_subtree``'s realistic gradient reference
(a tree of 47 nodes) is too slow for the suite."""
