"""Mutants whose bug only real sizes show: blocked loops over the batch, time loops past
step 8, fixed-size workspaces, and an accumulation in float16.

The quick sizes have B ≤ 6, T ≤ 7 and trees of at most 5 leaves, so a loop that goes
wrong only past one block of 8, or a buffer sized for 16 rows or 32 nodes, passes them;
the realistic sizes (B = 20–50, never a multiple of 8; T = 50–100; trees of 32 and 48
leaves) do not. Each keeps a fast path or a block that covers the small cases, as real
kernels do.
"""

from __future__ import annotations

import numpy as np

from implementations._common import sigmoid
from implementations.numpy_vectorized import lstm as vec
from implementations.numpy_vectorized import lstm_sequence as vec_seq
from implementations.numpy_vectorized import rnn as vec_rnn
from implementations.numpy_vectorized import slstm as vec_slstm
from mutants._model import PROFILES, REALISTIC, Mutant
from mutants._origin import Arrays, with_forward

BLOCK = 8
"""The block width of the blocked loops (rows of a batch, steps of a time loop)."""
WORKSPACE_ROWS = 16
"""The rows of the fixed gate workspace: the largest batch it was tried with."""
TABLE_NODES = 32
"""The slots of the fixed node table, indexed modulo its size."""


def _rows(a: Arrays, rows: slice) -> dict[str, np.ndarray]:
    """The cell's inputs restricted to some batch rows (weights whole)."""
    return {**a, **{n: a[n][rows] for n in ("x", "h_prev", "c_prev")}}


def cell_in_blocks_dropping_remainder(a: Arrays) -> dict[str, np.ndarray]:
    """Rows in blocks of 8, max(1, B // 8) blocks: one block covers a batch of up to 8,
    and past that the B % 8 rows after the last full block are never computed (zeros)."""
    B = a["x"].shape[0]
    h, c = np.zeros_like(a["h_prev"]), np.zeros_like(a["c_prev"])
    for k in range(max(1, B // BLOCK)):
        rows = slice(k * BLOCK, (k + 1) * BLOCK)
        step = vec.cell_forward(_rows(a, rows))
        h[rows], c[rows] = step["h"], step["c"]
    return {"h": h, "c": c}


def sequence_blocks_written_from_nominal_start(a: Arrays) -> dict[str, np.ndarray]:
    """Rows in blocks of 8, the last block shifted back to end at B so that it stays full
    (rows B − 8 … B − 1), but its results written from the block's nominal start: rows
    past the last full block get the results of the rows 8 − B % 8 before them."""
    B = a["h_0"].shape[0]
    hs = np.empty((a["xs"].shape[0], *a["h_0"].shape), dtype=a["xs"].dtype)
    for start in range(0, B, BLOCK):
        first = max(0, min(start, B - BLOCK))
        rows = slice(first, first + BLOCK)
        block = vec_rnn.sequence_forward({**a, "xs": a["xs"][:, rows], "h_0": a["h_0"][rows]})
        n = min(BLOCK, B - start)
        hs[:, start : start + n] = block["hs"][:, :n]
    return {"hs": hs, "h_T": hs[-1].copy()}


def sequence_state_restarted_every_block(a: Arrays) -> dict[str, np.ndarray]:
    """Time unrolled in blocks of 8 steps, the state (h, c) initialised inside the block
    loop: every block restarts from (h_0, c_0)."""
    params = {n: a[n] for n in vec_seq.PARAMETERS}
    xs, hs = a["xs"], []
    for t0 in range(0, xs.shape[0], BLOCK):
        h, c = a["h_0"], a["c_0"]
        for x in xs[t0 : t0 + BLOCK]:
            step = vec.cell_forward({"x": x, "h_prev": h, "c_prev": c, **params})
            h, c = step["h"], step["c"]
            hs.append(h)
    return {"hs": np.stack(hs), "h_T": h, "c_T": c}


def sequence_remainder_steps_from_zero(a: Arrays) -> dict[str, np.ndarray]:
    """Time unrolled by 8: the full blocks, then a remainder loop that counts from 0, not
    from the end of the last full block. With T < 8 the remainder is the whole sequence;
    past that the last T % 8 steps are never run and the first ones run twice."""
    xs = a["xs"]
    T = xs.shape[0]
    hs = np.zeros((T, *a["h_0"].shape), dtype=xs.dtype)
    h = a["h_0"]
    full = T - T % BLOCK
    for t in [*range(full), *range(T % BLOCK)]:
        h = vec_rnn._step(xs[t], h, a)
        hs[t] = h
    return {"hs": hs, "h_T": hs[-1].copy()}


def cell_gate_sums_in_float16(a: Arrays) -> dict[str, np.ndarray]:
    """Each gate's z Wᵀ summed in float16 (operands cast down, result cast back)."""
    z = vec._concat(a["h_prev"], a["x"]).astype(np.float16)

    def pre(gate: str) -> np.ndarray:
        s = z @ a[f"W_{gate}"].astype(np.float16).T
        return s.astype(a["x"].dtype) + a[f"b_{gate}"]

    f, i, o = sigmoid(pre("f")), sigmoid(pre("i")), sigmoid(pre("o"))
    c = f * a["c_prev"] + i * np.tanh(pre("c"))
    return {"h": o * np.tanh(c), "c": c}


def cell_fixed_workspace(a: Arrays) -> dict[str, np.ndarray]:
    """The four gates' pre-activations written into a workspace of 16 rows: a batch of
    more rows raises (a ValueError from the broadcast)."""
    B, H = a["h_prev"].shape
    W = np.concatenate([a[f"W_{g}"] for g in ("f", "i", "c", "o")])
    b = np.concatenate([a[f"b_{g}"] for g in ("f", "i", "c", "o")])
    work = np.empty((WORKSPACE_ROWS, 4 * H), dtype=W.dtype)
    work[:B] = vec._concat(a["h_prev"], a["x"]) @ W.T + b
    pre = work[:B]
    f, i = sigmoid(pre[:, :H]), sigmoid(pre[:, H : 2 * H])
    g, o = np.tanh(pre[:, 2 * H : 3 * H]), sigmoid(pre[:, 3 * H :])
    c = f * a["c_prev"] + i * g
    return {"h": o * np.tanh(c), "c": c}


def tree_in_table_of_32(a: Arrays) -> dict[str, np.ndarray]:
    """The node table kept in 32 slots indexed modulo 32: past 32 leaves and nodes, a new
    node overwrites a leaf or node still to be read."""
    children, leaf_h = a["children"], a["leaf_h"]
    L, N = leaf_h.shape[0], children.shape[0]
    params = {name: a[name] for name in vec_slstm.PARAMETERS}
    h = np.empty((TABLE_NODES, *leaf_h.shape[1:]), dtype=leaf_h.dtype)
    c = np.empty_like(h)
    for n in range(L):
        h[n % TABLE_NODES], c[n % TABLE_NODES] = leaf_h[n], a["leaf_c"][n]
    h_nodes, c_nodes = np.empty((N, *h.shape[1:]), h.dtype), np.empty((N, *h.shape[1:]), h.dtype)
    for n, (left, right) in enumerate(children):
        node = vec_slstm._node_inputs(params, h, c, left % TABLE_NODES, right % TABLE_NODES)
        s = vec_slstm._cell(node)
        h_nodes[n], c_nodes[n] = s["o"] * s["tanh_c"], s["c"]
        h[(L + n) % TABLE_NODES], c[(L + n) % TABLE_NODES] = h_nodes[n], c_nodes[n]
    return {"h_nodes": h_nodes, "c_nodes": c_nodes, "h_root": h_nodes[-1].copy()}


M = Mutant
MUTANTS: tuple[Mutant, ...] = (
    M("blocks_of_8_drop_remainder", "lstm.cell", "numeric",
      "rows processed in max(1, B // 8) blocks of 8: the B % 8 rows past the last full "
      "block are never computed",
      with_forward("lstm.cell", cell_in_blocks_dropping_remainder), profiles=REALISTIC),
    M("last_block_written_from_nominal_start", "rnn.sequence", "batch_independence",
      "the last block of 8 rows is shifted back to stay full, but written from its nominal "
      "start, so the remainder rows repeat the results of earlier rows",
      with_forward("rnn.sequence", sequence_blocks_written_from_nominal_start),
      profiles=REALISTIC),
    M("state_restarted_every_8_steps", "lstm.sequence", "numeric",
      "time unrolled in blocks of 8 steps with (h, c) initialised inside the block loop: "
      "the state restarts from (h_0, c_0) at step 8, 16, …",
      with_forward("lstm.sequence", sequence_state_restarted_every_block), profiles=REALISTIC),
    M("remainder_steps_counted_from_zero", "rnn.sequence", "numeric",
      "time unrolled by 8, and the remainder loop counts from 0: past T = 8 the last "
      "T % 8 steps never run and the first ones run again",
      with_forward("rnn.sequence", sequence_remainder_steps_from_zero), profiles=REALISTIC),
    M("gate_sums_in_float16", "lstm.cell", "numeric",
      "the gate pre-activations z Wᵀ summed in float16, then cast back",
      with_forward("lstm.cell", cell_gate_sums_in_float16), profiles=PROFILES,
      dtypes=("float32",)),
    M("workspace_of_16_rows", "lstm.cell", "numeric",
      "the gates' pre-activations written into a fixed workspace of 16 rows: a larger batch "
      "raises",
      with_forward("lstm.cell", cell_fixed_workspace), profiles=REALISTIC, crash=True),
    M("node_table_of_32_slots", "slstm.tree", "numeric",
      "the node table kept in 32 slots indexed modulo 32: a bigger tree overwrites nodes "
      "still to be read",
      with_forward("slstm.tree", tree_in_table_of_32), profiles=REALISTIC),
)  # fmt: skip
"""The real-size mutants; ``gate_sums_in_float16`` shows at every size (float16's
rounding is far past float32's tolerance), and is here for what it shares with them:
arithmetic a kernel might choose for speed."""
