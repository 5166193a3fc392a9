"""``fused-gate``: the LSTM over a sequence with the input projection of every step in one GEMM.

With the gate weights stacked as in :mod:`.lstm`, W = [W_f; W_i; W_o; W_c] of shape
(4H, H + D), split into the recurrent block W_h = W[:, :H] and the input block
W_x = W[:, H:]:

    A = xs W_xᵀ + b                          one GEMM over all T·B rows, (T, B, 4H)
    a_t = A_t + h_{t-1} W_hᵀ                  the only GEMM left inside the time loop
    [f, i, o] = σ(a_t[:, :3H]),  c̃ = tanh(a_t[:, 3H:])   in place, in A's buffer
    c_t = f ⊙ c_{t-1} + i ⊙ c̃,  h_t = o ⊙ tanh(c_t)     written into preallocated (T, B, H)

The backward walks the steps in reverse with in-place ufuncs, keeping only ∂h and ∂c
across steps and writing each step's pre-activation gradient ∂a_t into one (T, B, 4H)
buffer; the weight gradients then come out of the loop as single GEMMs,
∂W = ∂Aᵀ [h_prev, x] over all T·B rows, ∂xs = ∂A W_x, ∂b = Σ ∂A.

Every loop can also run from t = T down to 1 (``reverse``), storing each state at its
own index t: the BiLSTM's backward direction (:mod:`.bilstm`) uses the same functions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from conformance import Arrays, Kernel
from implementations._common import sigmoid
from implementations.fused_gate.lstm import CELL_GATES


def stack(inputs: Arrays, suffix: str = "") -> tuple[np.ndarray, np.ndarray]:
    """W = [W_f; W_i; W_o; W_c] (4H, H + D) and b = [b_f; b_i; b_o; b_c], names + ``suffix``."""
    W = np.concatenate([inputs[f"W_{gate}{suffix}"] for gate in CELL_GATES], axis=0)
    b = np.concatenate([inputs[f"b_{gate}{suffix}"] for gate in CELL_GATES], axis=0)
    return W, b


def unstack(dW: np.ndarray, db: np.ndarray, suffix: str = "") -> dict[str, np.ndarray]:
    """∂W_g, ∂b_g per gate (row blocks of H of the stacked gradients), names + ``suffix``."""
    H = db.shape[0] // len(CELL_GATES)
    grads = {}
    for k, gate in enumerate(CELL_GATES):
        grads[f"W_{gate}{suffix}"] = dW[k * H : (k + 1) * H]
        grads[f"b_{gate}{suffix}"] = db[k * H : (k + 1) * H]
    return grads


def project(xs: np.ndarray, W_x: np.ndarray, b: np.ndarray) -> np.ndarray:
    """A = xs W_xᵀ + b for every step at once: one (T·B, D) × (D, G) GEMM, shape (T, B, G)."""
    T, B, D = xs.shape
    A = np.empty((T, B, W_x.shape[0]), dtype=np.result_type(xs, W_x, b))
    np.matmul(xs.reshape(T * B, D), W_x.T, out=A.reshape(T * B, -1))
    A += b
    return A


def _order(T: int, reverse: bool) -> list[int]:
    """The steps in reading order: 0 … T−1, or T−1 … 0 for the backward direction."""
    return list(range(T - 1, -1, -1) if reverse else range(T))


@dataclass(frozen=True)
class Tape:
    """What the forward keeps for the backward, each (T, B, ·) at the step's own index.

    :ivar gates: the activated [f, i, o, c̃] (T, B, 4H), in the buffer A was projected into.
    """

    gates: np.ndarray
    cs: np.ndarray
    tanh_cs: np.ndarray
    hs: np.ndarray


def recur(
    A: np.ndarray, W_h: np.ndarray, h_0: np.ndarray, c_0: np.ndarray, reverse: bool = False
) -> Tape:
    """The recurrence over the projected inputs A (T, B, 4H), which it activates in place.

    For each t in reading order, with (h_prev, c_prev) the state read before t:
    a_t = A_t + h_prev W_hᵀ;  [f, i, o] = σ(a_t[:, :3H]), c̃ = tanh(a_t[:, 3H:]);
    c_t = f ⊙ c_prev + i ⊙ c̃;  h_t = o ⊙ tanh(c_t).
    """
    T, B, G = A.shape
    H = G // 4
    cs = np.empty((T, B, H), dtype=A.dtype)
    tanh_cs, hs = np.empty_like(cs), np.empty_like(cs)
    recurrent = np.empty((B, G), dtype=A.dtype)
    ig = np.empty((B, H), dtype=A.dtype)
    h, c = h_0, c_0
    for t in _order(T, reverse):
        a = A[t]
        np.matmul(h, W_h.T, out=recurrent)
        a += recurrent
        sigmoid(a[:, : 3 * H], out=a[:, : 3 * H])
        np.tanh(a[:, 3 * H :], out=a[:, 3 * H :])
        f, i, o, g = a[:, :H], a[:, H : 2 * H], a[:, 2 * H : 3 * H], a[:, 3 * H :]
        np.multiply(f, c, out=cs[t])
        np.multiply(i, g, out=ig)
        cs[t] += ig
        np.tanh(cs[t], out=tanh_cs[t])
        np.multiply(o, tanh_cs[t], out=hs[t])
        h, c = hs[t], cs[t]
    return Tape(A, cs, tanh_cs, hs)


def recur_backward(
    tape: Tape,
    W_h: np.ndarray,
    c_0: np.ndarray,
    dhs: np.ndarray,
    dh_last: np.ndarray,
    dc_last: np.ndarray,
    dA: np.ndarray,
    reverse: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """BPTT through :func:`recur`: fills ∂A (T, B, 4H, pre-activations), returns (∂h_0, ∂c_0).

    From ∂h = ∂h_last, ∂c = ∂c_last, for each t against reading order:
    ∂h += ∂hs[t];  ∂c += ∂h ⊙ o ⊙ (1 − tanh²(c_t));
    ∂[f, i, o, c̃] = [∂c ⊙ c_prev, ∂c ⊙ c̃, ∂h ⊙ tanh(c_t), ∂c ⊙ i]  (one (B, 4H) row block),
    ∂a_t = ∂[f, i, o, c̃] ⊙ [s (1 − s) | 1 − c̃²];
    then ∂c ← ∂c ⊙ f and ∂h ← ∂a_t W_h carry the gradient to the state read before t.
    """
    T, B, G = tape.gates.shape
    H = G // 4
    dh = np.array(dh_last, dtype=dA.dtype)  # copies: both are overwritten step by step
    dc = np.array(dc_last, dtype=dA.dtype)
    dc_h = np.empty((B, H), dtype=dA.dtype)
    slope = np.empty((B, G), dtype=dA.dtype)
    order = _order(T, reverse)
    for k in reversed(range(T)):
        t = order[k]
        c_prev = tape.cs[order[k - 1]] if k > 0 else c_0
        gates, tanh_c, da = tape.gates[t], tape.tanh_cs[t], dA[t]
        f, i, o, g = gates[:, :H], gates[:, H : 2 * H], gates[:, 2 * H : 3 * H], gates[:, 3 * H :]
        dh += dhs[t]
        np.square(tanh_c, out=dc_h)
        np.subtract(1.0, dc_h, out=dc_h)
        dc_h *= o
        dc_h *= dh
        dc += dc_h  # ∂c_t, through c_{t+1} and through h_t
        np.multiply(dc, c_prev, out=da[:, :H])  # ∂f
        np.multiply(dc, g, out=da[:, H : 2 * H])  # ∂i
        np.multiply(dh, tanh_c, out=da[:, 2 * H : 3 * H])  # ∂o
        np.multiply(dc, i, out=da[:, 3 * H :])  # ∂c̃
        np.subtract(1.0, gates[:, : 3 * H], out=slope[:, : 3 * H])
        slope[:, : 3 * H] *= gates[:, : 3 * H]  # σ' = s (1 − s)
        np.square(g, out=slope[:, 3 * H :])
        np.subtract(1.0, slope[:, 3 * H :], out=slope[:, 3 * H :])  # tanh' = 1 − c̃²
        da *= slope
        dc *= f  # ∂c_prev
        np.matmul(da, W_h, out=dh)  # ∂h_prev
    return dh, dc


def weight_grads(
    dA: np.ndarray, xs: np.ndarray, tape: Tape, h_0: np.ndarray, reverse: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """∂W = ∂Aᵀ [h_prev, x] (4H, H + D) and ∂b = Σ_{t,n} ∂A: one GEMM over all T·B rows.

    h_prev at step t is the state read before it: h_{t-1} forward, h_{t+1} with ``reverse``.
    """
    T, B, D = xs.shape
    H = tape.hs.shape[2]
    Z = np.empty((T, B, H + D), dtype=dA.dtype)  # [h_prev, x_t] for every step
    Z[:, :, H:] = xs
    if reverse:
        Z[T - 1, :, :H] = h_0
        Z[: T - 1, :, :H] = tape.hs[1:]
    else:
        Z[0, :, :H] = h_0
        Z[1:, :, :H] = tape.hs[:-1]
    rows = dA.reshape(T * B, -1)
    return rows.T @ Z.reshape(T * B, H + D), rows.sum(axis=0)


def sequence_forward(inputs: Arrays) -> dict[str, np.ndarray]:
    """hs, h_T, c_T: A = xs W_xᵀ + b in one GEMM, then the recurrence (see the module)."""
    W, b = stack(inputs)
    H = inputs["h_0"].shape[1]
    tape = recur(project(inputs["xs"], W[:, H:], b), W[:, :H], inputs["h_0"], inputs["c_0"])
    return {"hs": tape.hs, "h_T": tape.hs[-1].copy(), "c_T": tape.cs[-1].copy()}


def sequence_vjp(inputs: Arrays, cotangents: Arrays) -> dict[str, np.ndarray]:
    """BPTT into one ∂A buffer, then ∂W, ∂b and ∂xs = ∂A W_x as single GEMMs."""
    xs, h_0, c_0 = inputs["xs"], inputs["h_0"], inputs["c_0"]
    W, b = stack(inputs)
    H = h_0.shape[1]
    tape = recur(project(xs, W[:, H:], b), W[:, :H], h_0, c_0)
    dA = np.empty_like(tape.gates)
    dh_0, dc_0 = recur_backward(
        tape, W[:, :H], c_0, cotangents["hs"], cotangents["h_T"], cotangents["c_T"], dA
    )
    dW, db = weight_grads(dA, xs, tape, h_0)
    T, B, D = xs.shape
    dxs = (dA.reshape(T * B, -1) @ W[:, H:]).reshape(T, B, D)
    return {"xs": dxs, "h_0": dh_0, "c_0": dc_0, **unstack(dW, db)}


KERNELS: dict[str, Kernel] = {"lstm.sequence": Kernel(sequence_forward, sequence_vjp)}
