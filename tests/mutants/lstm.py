"""Mutants of the LSTM: its gates, the cell, and the cell scanned over a sequence.

Most start from ``numpy-vectorized`` (one matmul per gate); those whose bug lives in
stacked weights or preallocated buffers start from ``fused-gate``, and the row-loop bug
from the way ``numpy-loops`` walks a batch.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from conformance import Kernel
from conformance.spec.model import Spec
from implementations._common import sigmoid
from implementations.fused_gate import lstm as fused
from implementations.numpy_vectorized import lstm as vec
from implementations.numpy_vectorized import lstm_sequence as vec_seq
from mutants._activations import tanh_from_exponentials
from mutants._memory import raw_bytes_as_row_major
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

PARAMETERS = vec_seq.PARAMETERS
GATES = ("f", "i", "c", "o")


def _step(a: Arrays, z: np.ndarray, c_prev: np.ndarray) -> dict[str, np.ndarray]:
    """The cell's gates on a given z (the concatenated [h_{t-1}, x_t]), then c_t and h_t."""
    f = sigmoid(z @ a["W_f"].T + a["b_f"])
    i = sigmoid(z @ a["W_i"].T + a["b_i"])
    g = np.tanh(z @ a["W_c"].T + a["b_c"])
    o = sigmoid(z @ a["W_o"].T + a["b_o"])
    c = f * c_prev + i * g
    return {"h": o * np.tanh(c), "c": c}


def _params(a: Arrays) -> dict[str, np.ndarray]:
    return {name: a[name] for name in PARAMETERS}


# --- numeric ----------------------------------------------------------------------------


def cell_x_before_h(a: Arrays) -> dict[str, np.ndarray]:
    """z = [x_t, h_{t-1}]: the halves in the wrong order (the widths still add up)."""
    return _step(a, np.concatenate([a["x"], a["h_prev"]], axis=-1), a["c_prev"])


def forget_gate_square_block_untransposed(a: Arrays) -> dict[str, np.ndarray]:
    """W_f split into its h and x blocks, the square h block applied untransposed."""
    H = a["h_prev"].shape[-1]
    W = a["W_f"]
    return {"f": sigmoid(a["h_prev"] @ W[:, :H] + a["x"] @ W[:, H:].T + a["b_f"])}


def sequence_cell_state_not_carried(a: Arrays) -> dict[str, np.ndarray]:
    """Every step starts from c_0: the new c_t is computed and dropped."""
    h, hs = a["h_0"], []
    for x in a["xs"]:
        step = vec.cell_forward({"x": x, "h_prev": h, "c_prev": a["c_0"], **_params(a)})
        h = step["h"]
        hs.append(h)
    return {"hs": np.stack(hs), "h_T": h, "c_T": step["c"]}


def sequence_h_prev_from_hs_minus_one(a: Arrays) -> dict[str, np.ndarray]:
    """h_{t-1} read as hs[t - 1] of the output buffer: at t = 0 that is hs[-1], the
    still-zero last slot, not h_0."""
    xs = a["xs"]
    hs = np.zeros((xs.shape[0], *a["h_0"].shape), dtype=xs.dtype)
    c = a["c_0"]
    for t in range(xs.shape[0]):
        step = vec.cell_forward({"x": xs[t], "h_prev": hs[t - 1], "c_prev": c, **_params(a)})
        hs[t], c = step["h"], step["c"]
    return {"hs": hs, "h_T": hs[-1].copy(), "c_T": c}


# --- gradient ---------------------------------------------------------------------------


def forget_gate_vjp_slope_of_activated(a: Arrays, ct: Arrays) -> dict[str, np.ndarray]:
    """σ′ applied to the already-activated gate: s (1 − s) with s = σ(f), not f (1 − f)."""
    H = a["h_prev"].shape[-1]
    z = vec._concat(a["h_prev"], a["x"])
    s = sigmoid(sigmoid(z @ a["W_f"].T + a["b_f"]))
    da = ct["f"] * s * (1 - s)
    dz = da @ a["W_f"]
    return {"h_prev": dz[:, :H], "x": dz[:, H:], "W_f": da.T @ z, "b_f": da.sum(axis=0)}


def forget_gate_vjp_unsummed_bias(a: Arrays, ct: Arrays) -> dict[str, np.ndarray]:
    """∂b_f returned per row, (B, H): the sum over the batch rows left out."""
    grads = dict(builtin("lstm.forget_gate").vjp(a, ct))
    z = vec._concat(a["h_prev"], a["x"])
    f = sigmoid(z @ a["W_f"].T + a["b_f"])
    grads["b_f"] = ct["f"] * f * (1 - f)
    return grads


def sequence_bptt_without_cell_path(a: Arrays, ct: Arrays) -> dict[str, np.ndarray]:
    """BPTT that carries ∂h back between steps but drops ∂c_{t-1} (restarts it at 0)."""
    hs, cs = vec_seq._states(a)
    grads = {n: np.zeros_like(a[n]) for n in PARAMETERS}
    dxs = np.zeros_like(a["xs"])
    dh, dc = ct["h_T"], ct["c_T"]
    for t in reversed(range(a["xs"].shape[0])):
        step = {"x": a["xs"][t], "h_prev": hs[t], "c_prev": cs[t], **_params(a)}
        g = vec.cell_vjp(step, {"h": dh + ct["hs"][t], "c": dc})
        for n in PARAMETERS:
            grads[n] += g[n]
        dxs[t], dh, dc = g["x"], g["h_prev"], np.zeros_like(dc)
    return {"xs": dxs, "h_0": dh, "c_0": dc, **grads}


# --- stability, inputs left alone, dtype ------------------------------------------------


def hidden_state_tanh_from_exponentials(a: Arrays) -> dict[str, np.ndarray]:
    """h = o ⊙ tanh(c) with tanh written through e^{2c}."""
    return {"h": a["o"] * tanh_from_exponentials(a["c"])}


def _fused_step(a: Arrays, z: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple:
    """fused-gate's one GEMM for the four gates on z: the activated (f, i, o, c̃)."""
    H = a["h_prev"].shape[1]
    gates = fused._gates_forward(z, W, b, n_sigmoid=3 * H)
    return tuple(gates[:, k * H : (k + 1) * H] for k in range(4))


def cell_updates_c_prev_in_place(a: Arrays) -> dict[str, np.ndarray]:
    """c_t accumulated into the caller's c_{t-1} buffer (``c = c_prev; c *= f; c += i g``)."""
    W, b = fused._stack(a, fused.CELL_GATES)
    f, i, o, g = _fused_step(a, fused._concat(a["h_prev"], a["x"]), W, b)
    c = a["c_prev"]
    c *= f
    c += i * g
    return {"h": o * np.tanh(c), "c": c}


def cell_state_vjp_scales_cotangent_in_place(a: Arrays, ct: Arrays) -> dict[str, np.ndarray]:
    """∂c_{t-1} = ∂c ⊙ f made by scaling the caller's cotangent ∂c in place (after the
    other gradients read it, so every gradient is right)."""
    dc = ct["c"]
    grads = {"f": dc * a["c_prev"], "i": dc * a["g"], "g": dc * a["i"]}
    dc *= a["f"]
    return {**grads, "c_prev": dc}


def cell_concat_in_float64(a: Arrays) -> dict[str, np.ndarray]:
    """z = [h_{t-1}, x_t] written into ``np.empty`` without a dtype: float64, and every
    output with it."""
    B, H = a["h_prev"].shape
    z = np.empty((B, H + a["x"].shape[1]))
    z[:, :H], z[:, H:] = a["h_prev"], a["x"]
    W, b = fused._stack(a, fused.CELL_GATES)
    f, i, o, g = _fused_step(a, z, W, b)
    c = f * a["c_prev"] + i * g
    return {"h": o * np.tanh(c), "c": c}


# --- batch independence, layout, stateless ----------------------------------------------


def cell_rows_share_one_accumulator(a: Arrays) -> dict[str, np.ndarray]:
    """Row by row, the pre-activations added into one accumulator that is never reset:
    row n sees the sum of rows 0 … n."""
    W = np.concatenate([a[f"W_{g}"] for g in GATES])
    b = np.concatenate([a[f"b_{g}"] for g in GATES])
    B, H = a["h_prev"].shape
    pre = np.zeros(4 * H, dtype=W.dtype)
    h, c = np.empty_like(a["h_prev"]), np.empty_like(a["c_prev"])
    for n in range(B):
        pre += W @ np.concatenate([a["h_prev"][n], a["x"][n]]) + b
        f, i = sigmoid(pre[:H]), sigmoid(pre[H : 2 * H])
        g, o = np.tanh(pre[2 * H : 3 * H]), sigmoid(pre[3 * H :])
        c[n] = f * a["c_prev"][n] + i * g
        h[n] = o * np.tanh(c[n])
    return {"h": h, "c": c}


def cell_weights_stacked_once_per_shape(_spec: Spec) -> Kernel:
    """fused-gate's cell with its stacked [W_f; W_i; W_o; W_c] kept between calls, keyed
    by the weights' shape and dtype: new weights of the same shape get the old stack."""
    stacked: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}

    def forward(a: Arrays) -> dict[str, np.ndarray]:
        key = (a["W_f"].shape, a["W_f"].dtype)
        if key not in stacked:
            stacked[key] = fused._stack(a, fused.CELL_GATES)
        f, i, o, g = _fused_step(a, fused._concat(a["h_prev"], a["x"]), *stacked[key])
        c = f * a["c_prev"] + i * g
        return {"h": o * np.tanh(c), "c": c}

    return replace(builtin("lstm.cell", "fused_gate"), forward=forward)


# --- invariants, chunking, shape --------------------------------------------------------


def sequence_h_T_one_step_early(a: Arrays) -> dict[str, np.ndarray]:
    """h_T read as states[T - 1] of the list [h_0, h_1, …, h_T]: that is h_{T-1}."""
    hs, cs = vec_seq._states(a)
    T = a["xs"].shape[0]
    return {"hs": np.stack(hs[1:]), "h_T": hs[T - 1], "c_T": cs[-1]}


def sequence_from_zero_cell_state(a: Arrays) -> dict[str, np.ndarray]:
    """The given c_0 ignored: every call starts from c = 0."""
    return vec_seq.sequence_forward({**a, "c_0": np.zeros_like(a["c_0"])})


def sequence_batch_first(a: Arrays) -> dict[str, np.ndarray]:
    """hs stacked along axis 1: (B, T, H), batch first, where the spec is time first."""
    hs, cs = vec_seq._states(a)
    return {"hs": np.stack(hs[1:], axis=1), "h_T": hs[-1], "c_T": cs[-1]}


def hidden_state_squeezed(a: Arrays) -> dict[str, np.ndarray]:
    """h squeezed: every axis of size 1 dropped (B = 1 or H = 1 loses its axis)."""
    return {"h": np.squeeze(a["o"] * np.tanh(a["c"]))}


def _output_weight_gradient_doubled(grads: dict, _a: Arrays) -> dict:
    return {**grads, "W_o": 2 * grads["W_o"]}


M = Mutant
MUTANTS: tuple[Mutant, ...] = (
    M("swapped_gates", "lstm.cell", "numeric",
      "W_f and W_i swapped: the forget gate computed with the input gate's weights, and back",
      renamed("lstm.cell", W_f="W_i", W_i="W_f")),
    M("concat_order", "lstm.cell", "numeric",
      "z = [x_t, h_{t-1}] where the spec concatenates [h_{t-1}, x_t]",
      with_forward("lstm.cell", cell_x_before_h)),
    M("transposed_weight", "lstm.forget_gate", "numeric",
      "the square block W_f[:, :H] on h_{t-1} applied untransposed after splitting W_f",
      with_forward("lstm.forget_gate", forget_gate_square_block_untransposed)),
    M("cell_state_not_carried", "lstm.sequence", "numeric",
      "each step starts from c_0 instead of the previous step's c_t",
      with_forward("lstm.sequence", sequence_cell_state_not_carried)),
    M("index_minus_one_at_t0", "lstm.sequence", "numeric",
      "h_{t-1} read as hs[t - 1], which at t = 0 wraps to the zeroed last slot, not h_0",
      with_forward("lstm.sequence", sequence_h_prev_from_hs_minus_one)),
    M("sigmoid_slope_of_activation", "lstm.forget_gate", "gradient",
      "σ′ applied to the already-activated gate: σ(f)(1 − σ(f)) instead of f (1 − f)",
      with_vjp("lstm.forget_gate", forget_gate_vjp_slope_of_activated)),
    M("unsummed_bias_gradient", "lstm.forget_gate", "gradient",
      "∂b_f returned per batch row, shape (B, H), not summed over the rows",
      with_vjp("lstm.forget_gate", forget_gate_vjp_unsummed_bias)),
    M("gradient_off_by_a_constant", "lstm.cell", "gradient",
      "∂W_o twice what it is (a factor 2 left from a symmetric derivation)",
      gradients_changed("lstm.cell", _output_weight_gradient_doubled)),
    M("bptt_without_cell_path", "lstm.sequence", "gradient",
      "BPTT passes ∂h back between steps but not ∂c: the carried cell's gradient is lost",
      with_vjp("lstm.sequence", sequence_bptt_without_cell_path), profiles=QUICK),
    M("tanh_from_exponentials", "lstm.hidden_state", "stability",
      "tanh(c) written (e^{2c} − 1)/(e^{2c} + 1): ∞/∞ = nan once e^{2c} overflows",
      with_forward("lstm.hidden_state", hidden_state_tanh_from_exponentials)),
    M("c_prev_updated_in_place", "lstm.cell", "inputs_unmodified",
      "c_t accumulated into the caller's c_prev array (c = c_prev; c *= f; c += i ⊙ g)",
      with_forward("lstm.cell", cell_updates_c_prev_in_place, "fused_gate"),
      source="fused_gate"),
    M("cotangent_scaled_in_place", "lstm.cell_state", "inputs_unmodified",
      "the VJP makes ∂c_prev by scaling the caller's cotangent ∂c in place",
      with_vjp("lstm.cell_state", cell_state_vjp_scales_cotangent_in_place)),
    M("float64_concat_buffer", "lstm.cell", "dtype",
      "the [h, x] buffer made by np.empty without a dtype: float64 outputs from float32 inputs",
      with_forward("lstm.cell", cell_concat_in_float64, "fused_gate"),
      dtypes=("float32",), source="fused_gate"),
    M("rows_share_an_accumulator", "lstm.cell", "batch_independence",
      "a row loop adds each row's pre-activations into one never-reset accumulator, so row n "
      "sees rows 0 … n",
      with_forward("lstm.cell", cell_rows_share_one_accumulator)),
    M("raw_buffer_read_as_row_major", "lstm.cell", "layout",
      "every input's raw bytes (tobytes(order='A')) reinterpreted as row-major: scrambled "
      "for Fortran-ordered inputs",
      inputs_changed("lstm.cell", raw_bytes_as_row_major)),
    M("weights_stacked_once_per_shape", "lstm.cell", "stateless",
      "the stacked gate weights cached by shape: new weights of the same shape get the old ones",
      cell_weights_stacked_once_per_shape, source="fused_gate"),
    M("h_T_one_step_early", "lstm.sequence", "invariants",
      "h_T taken as states[T - 1] of [h_0, …, h_T], which is h_{T-1}",
      with_forward("lstm.sequence", sequence_h_T_one_step_early)),
    M("initial_cell_state_ignored", "lstm.sequence", "chunking",
      "the given c_0 ignored: every call starts from c = 0, so a second chunk forgets the first",
      with_forward("lstm.sequence", sequence_from_zero_cell_state)),
    M("batch_first_outputs", "lstm.sequence", "shape",
      "hs stacked batch first, (B, T, H), where the spec's hs is time first",
      with_forward("lstm.sequence", sequence_batch_first)),
    M("squeezed_output", "lstm.hidden_state", "shape",
      "h squeezed, so that a batch of one row (or H = 1) loses its axis",
      with_forward("lstm.hidden_state", hidden_state_squeezed), profiles=QUICK),
)  # fmt: skip
"""The LSTM's mutants; ``squeezed_output`` shows only where an axis is 1 (never at the
realistic sizes), and ``bptt_without_cell_path``'s realistic gradient reference is too
slow for the suite."""
