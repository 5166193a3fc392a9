"""The S-LSTM family: the ``tree`` primitive, the ``binary_tree`` domain, and broken backends.

The primitive is checked against hand-written recursions (a toy spec whose node rule tells
left from right, and the S-LSTM cell itself on an unbalanced tree). The broken backends
are inline and tiny, each one mutation of a correct S-LSTM: the children swapped (the left
weights applied to the right child), an output gate that sees c^L_{t-1} instead of the new
c_t, and a tree backward that never passes a gradient into the right subtree.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from conformance.errors import EvaluationError
from conformance.oracle.evaluate import Oracle
from conformance.results.model import Status
from conformance.spec.catalog import Catalog
from conformance.spec.draw import case_rng, draw, draw_inputs
from conformance.spec.loader import load_catalog
from implementations.numpy_vectorized import slstm as vectorized

# --- the tree primitive -------------------------------------------------------------------------

TOY = """\
[family]
id = "toy"

[defaults]
sizes = [{ B = 2, L = 4 }]

[symbols]
u_L = { shape = ["B"], role = "state", next = "u" }
v_L = { shape = ["B"], role = "state", next = "v" }
u_R = { shape = ["B"], role = "state", next = "u" }
v_R = { shape = ["B"], role = "state", next = "v" }
w = { shape = ["B"], role = "parameter" }
u = { shape = ["B"], role = "output" }
v = { shape = ["B"], role = "output" }
children = { shape = ["L - 1", "2"], role = "input", kind = "int", domain = "binary_tree()" }
leaf_u = { shape = ["L", "B"], role = "input" }
leaf_v = { shape = ["L", "B"], role = "input" }
us = { shape = ["L - 1", "B"], role = "output" }
vs = { shape = ["L - 1", "B"], role = "output" }

[[spec]]
id = "toy.node"
inputs = ["u_L", "v_L", "u_R", "v_R", "w"]
outputs = ["u", "v"]
equations = ["u = u_L + 2 * v_R + w", "v = v_L * u_R"]

[[spec]]
id = "toy.tree"
inputs = ["children", "leaf_u", "leaf_v", "w"]
outputs = ["us", "vs"]
equations = ["us, vs = tree(toy.node, children=children, u=leaf_u, v=leaf_v)"]

[[spec]]
id = "toy.one_state"
inputs = ["u_L", "w"]
outputs = ["u"]
equations = ["u = u_L + w"]

[[spec]]
id = "toy.no_pairs"
inputs = ["children", "leaf_u", "w"]
outputs = ["u"]
equations = ["u = tree(toy.one_state, children=children, u=leaf_u)"]
"""

UNBALANCED = np.array([[0, 1], [4, 2], [3, 5]])
"""Leaves 0–3; node 4 = (0, 1), node 5 = (4, 2), the root 6 = (3, 5): right-deep at the root."""


@pytest.fixture(scope="module")
def toy(tmp_path_factory) -> Catalog:
    path = Path(tmp_path_factory.mktemp("specs")) / "toy.toml"
    path.write_text(TOY, encoding="utf-8")
    return load_catalog([path])  # toy.no_pairs fails on purpose


def toy_by_hand(children, leaf_u, leaf_v, w) -> tuple[np.ndarray, np.ndarray]:
    """The toy rule by recursion from the root: u = u_L + 2 v_R + w, v = v_L u_R."""
    L = len(leaf_u)

    def node(k: int) -> tuple[np.ndarray, np.ndarray]:
        if k < L:
            return leaf_u[k], leaf_v[k]
        (u_L, v_L), (u_R, v_R) = node(children[k - L][0]), node(children[k - L][1])
        return u_L + 2 * v_R + w, v_L * u_R

    nodes = [node(L + n) for n in range(len(children))]
    return np.stack([u for u, _ in nodes]), np.stack([v for _, v in nodes])


@pytest.mark.parametrize("children", [UNBALANCED, np.array([[2, 0], [1, 3], [4, 5]])])
def test_tree_matches_hand_recursion_on_toy_rule(toy, children):
    rng = np.random.default_rng(0)
    leaf_u, leaf_v, w = rng.normal(size=(4, 2)), rng.normal(size=(4, 2)), rng.normal(size=2)
    out = Oracle(toy.specs).evaluate(
        toy.get("toy.tree"), {"children": children, "leaf_u": leaf_u, "leaf_v": leaf_v, "w": w}
    )
    us, vs = toy_by_hand(children, leaf_u, leaf_v, w)
    np.testing.assert_allclose(out["us"], us, rtol=1e-15)
    np.testing.assert_allclose(out["vs"], vs, rtol=1e-15)


def test_tree_matches_hand_recursion_on_slstm_cell(catalog, oracle):
    spec, cell = catalog.get("slstm.tree"), catalog.get("slstm.cell")
    sizes = {"L": 4, "B": 2, "H": 3}
    inputs = {**draw_inputs(spec, sizes, rng=case_rng(0, spec.id, 0)), "children": UNBALANCED}
    weights = {n: inputs[n] for n in cell.inputs if n in inputs}
    L = sizes["L"]

    def node(k: int) -> tuple[np.ndarray, np.ndarray]:
        if k < L:
            return inputs["leaf_h"][k], inputs["leaf_c"][k]
        (h_L, c_L), (h_R, c_R) = (node(child) for child in UNBALANCED[k - L])
        out = oracle.evaluate(cell, {**weights, "h_L": h_L, "c_L": c_L, "h_R": h_R, "c_R": c_R})
        return out["h"], out["c"]

    out = oracle.evaluate(spec, inputs)
    for n in range(L - 1):
        h, c = node(L + n)
        np.testing.assert_array_equal(out["h_nodes"][n], h)
        np.testing.assert_array_equal(out["c_nodes"][n], c)
    np.testing.assert_array_equal(out["h_root"], node(2 * L - 2)[0])


@pytest.mark.parametrize(
    ("children", "message"),
    [
        (np.array([[0, 5], [4, 2], [3, 1]]), r"children\[0\] = \[0, 5\]: 5 is not a node before"),
        (np.array([[0, 1], [4, 1], [3, 5]]), r"node 1 is a child twice \(at children\[1\]\)"),
        (np.array([[0, 0], [4, 2], [3, 1]]), r"node 0 is a child twice \(at children\[0\]\)"),
        (np.array([[0, 1], [2, 3]]), r"2 internal node\(s\) need 3 leaves, got 4"),
        (np.array([[0.0, 1.0], [4, 2], [3, 5]]), r"children should be integers of shape \(N, 2\)"),
    ],
)
def test_tree_rejects_invalid_children(toy, children, message):
    inputs = {"leaf_u": np.zeros((4, 2)), "leaf_v": np.zeros((4, 2)), "w": np.zeros(2)}
    spec = toy.get("toy.tree")
    with pytest.raises(EvaluationError, match=message):
        Oracle(toy.specs).interpreter.execute(spec.equations, {**inputs, "children": children})


def test_tree_rejects_a_child_state_passed_as_keyword(toy):
    oracle = Oracle(toy.specs)
    tree, step = oracle.interpreter.functions["tree"], oracle.interpreter.references["toy.node"]
    leaves = {"u": np.zeros((4, 2)), "v": np.zeros((4, 2))}
    with pytest.raises(EvaluationError, match=r"u_L come\(s\) from the children; pass leaf"):
        tree(step, _scope={"w": np.zeros(2)}, children=UNBALANCED, u_L=np.zeros(2), **leaves)


def test_tree_rejects_step_without_left_right_states(toy):
    inputs = {"children": UNBALANCED, "leaf_u": np.zeros((4, 2)), "w": np.zeros(2)}
    with pytest.raises(EvaluationError, match=r"two role-'state' inputs \(left, right\)"):
        Oracle(toy.specs).evaluate(toy.get("toy.no_pairs"), inputs)


# --- the binary_tree domain ---------------------------------------------------------------------


def shape_of_tree(children: np.ndarray) -> str:
    """The tree as nested parentheses of leaf indices, e.g. ((0 1) 2)."""
    L = len(children) + 1

    def node(k: int) -> str:
        return str(k) if k < L else "({} {})".format(*(node(c) for c in children[k - L]))

    return node(2 * L - 2)


@pytest.mark.parametrize("L", [2, 3, 5, 9])
def test_binary_tree_draws_valid_post_order_trees(toy, L):
    symbol = toy.get("toy.tree").symbols["children"]
    for seed in range(20):
        children = draw(symbol, {"B": 1, "L": L}, np.random.default_rng(seed))
        assert children.shape == (L - 1, 2) and children.dtype == np.int64
        flat = children.ravel()
        assert sorted(flat) == list(range(2 * L - 2))  # every node but the root, once
        assert all(children[n].max() < L + n for n in range(L - 1))  # children first


def test_binary_tree_draws_both_balanced_and_unbalanced_shapes(toy):
    symbol = toy.get("toy.tree").symbols["children"]
    shapes = {
        shape_of_tree(draw(symbol, {"B": 1, "L": 4}, np.random.default_rng(seed))).count("((")
        for seed in range(30)
    }
    assert shapes == {0, 1}  # ((a b) (c d)) has no "((", a caterpillar ((…) …) has one


def test_binary_tree_rejects_wrong_shape(toy):
    symbol = toy.get("toy.tree").symbols["leaf_u"]
    with pytest.raises(ValueError, match=r"binary_tree\(\) draws shape \(N, 2\)"):
        draw(symbol, {"B": 3, "L": 4}, np.random.default_rng(0), domain="binary_tree()")


# --- broken backends ----------------------------------------------------------------------------


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def gate(inputs: dict, g: str, **sources: np.ndarray) -> np.ndarray:
    """Σ_s s W_{g,s}ᵀ + b_g, with sources by weight subscript (Lh=…, Rc=…)."""
    return sum(value @ inputs[f"W_{g}_{s}"].T for s, value in sources.items()) + inputs[f"b_{g}"]


def cell_forward(inputs: dict, *, swap_children: bool = False, stale_c: bool = False) -> dict:
    """The S-LSTM block; ``swap_children`` feeds h^R, c^R to the left weights and vice versa,

    ``stale_c`` lets the output gate see the left child's c^L_{t-1} instead of the new c_t.
    """
    h_L, c_L, h_R, c_R = (inputs[n] for n in ("h_L", "c_L", "h_R", "c_R"))
    if swap_children:
        h_L, c_L, h_R, c_R = h_R, c_R, h_L, c_L
    children = {"Lh": h_L, "Rh": h_R, "Lc": c_L, "Rc": c_R}
    i = sigmoid(gate(inputs, "i", **children))
    f_L = sigmoid(gate(inputs, "fL", **children))
    f_R = sigmoid(gate(inputs, "fR", **children))
    x = gate(inputs, "x", Lh=h_L, Rh=h_R)
    c = f_L * c_L + f_R * c_R + i * np.tanh(x)
    o = sigmoid(gate(inputs, "o", Lh=h_L, Rh=h_R, c=c_L if stale_c else c))
    return {"h": o * np.tanh(c), "c": c}


def tree_vjp(inputs: dict, cotangents: dict, *, drop_right: bool = False) -> dict:
    """Back-propagation through structure; ``drop_right`` never passes ∂ to a right child."""
    children, h, c, params = vectorized._tree(inputs)
    L = inputs["leaf_h"].shape[0]
    dh, dc = np.zeros_like(h), np.zeros_like(c)
    dh[L:], dc[L:] = cotangents["h_nodes"], cotangents["c_nodes"]
    dh[-1] += cotangents["h_root"]
    grads = {name: np.zeros_like(params[name]) for name in vectorized.PARAMETERS}
    for n in reversed(range(len(children))):
        left, right = children[n]
        node = vectorized._node_inputs(params, h, c, left, right)
        d = vectorized._cell_backward(node, vectorized._cell(node), dh[L + n], dc[L + n])
        for name in vectorized.PARAMETERS:
            grads[name] += d[name]
        dh[left] += d["h_L"]
        dc[left] += d["c_L"]
        if not drop_right:
            dh[right] += d["h_R"]
            dc[right] += d["c_R"]
    return {**grads, "leaf_h": dh[:L], "leaf_c": dc[:L]}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_inline_cell_passes_numeric(dtype, check_kernel):
    result = check_kernel("slstm.cell", "numeric", cell_forward, dtype=dtype)
    assert result.status is Status.PASS, result.message


def test_numeric_catches_swapped_children(check_kernel):
    forward = lambda inputs: cell_forward(inputs, swap_children=True)  # noqa: E731
    result = check_kernel("slstm.cell", "numeric", forward)
    assert result.status is Status.FAIL
    assert result.tol_fraction > 1 and result.worst.startswith(("h[", "c["))
    assert "slstm.cell(B=3, H=2)" in result.message and "seed=0" in result.message


def test_numeric_catches_output_gate_seeing_the_old_cell(check_kernel):
    forward = lambda inputs: cell_forward(inputs, stale_c=True)  # noqa: E731
    result = check_kernel("slstm.cell", "numeric", forward)
    assert result.status is Status.FAIL
    assert result.worst.startswith("h[")  # c_t is right; only o, hence h_t, is wrong


def test_gradient_passes_full_tree_backward(check_kernel):
    result = check_kernel("slstm.tree", "gradient", vectorized.tree_forward, tree_vjp)
    assert result.status is Status.PASS, result.message


def test_gradient_catches_backward_that_drops_the_right_subtree(check_kernel):
    vjp = lambda inputs, cotangents: tree_vjp(inputs, cotangents, drop_right=True)  # noqa: E731
    result = check_kernel("slstm.tree", "gradient", vectorized.tree_forward, vjp)
    assert result.status is Status.FAIL
    assert result.worst.startswith("grad ")
    assert "× the expected float" in result.message
    assert check_kernel("slstm.tree", "numeric", vectorized.tree_forward).ok
