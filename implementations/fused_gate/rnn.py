"""``fused-gate``: the Elman RNN with its GEMMs fused, and the classifier head in place.

The cell fuses its two weights into one (H, D + H) matrix on z = [x_t, h_{t-1}]:

    W = [W_x | W_h],  a = z Wᵀ + b  (one GEMM),  h_t = tanh(a)  (in place)

The sequence hoists the input projection out of the time loop: one (T·B, D) × (D, H)
GEMM writes x_t W_xᵀ + b for every step straight into the (T + 1, B, H) state buffer
[h_0, h_1, …, h_T], and each step adds h_{t-1} W_hᵀ and takes tanh in place. The
backward loop only carries ∂h back through W_h; ∂W_x, ∂W_h, ∂b and every ∂x_t are
single large GEMMs (or one reduction) over all T·B rows, after the loop.

Buffers are allocated once per call and filled with ``out=`` ufuncs; nothing is
cached between calls, so kernels stay reentrant, and inputs are only ever read.
Each forward sits next to its hand-derived backward; tanh' is taken from the value,
1 − h² for h = tanh(a).
"""

from __future__ import annotations

import numpy as np

from conformance import Arrays, Kernel


def _dtype(inputs: Arrays, *names: str) -> np.dtype:
    """The common float dtype of the named inputs (float32 stays float32)."""
    return np.result_type(*(inputs[name] for name in names))


def _tanh_slope(h: np.ndarray) -> np.ndarray:
    """tanh' from the value: 1 − h², in a new buffer of h's shape."""
    slope = np.square(h)
    np.subtract(1.0, slope, out=slope)
    return slope


# ---------------------------------------------------------------------------
# One step: h_t = tanh([x_t, h_{t-1}] [W_x | W_h]ᵀ + b), one GEMM
# ---------------------------------------------------------------------------


def _cell(inputs: Arrays) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """z = [x_t, h_{t-1}], W = [W_x | W_h] and h_t = tanh(z Wᵀ + b), each in one buffer."""
    x, h_prev = inputs["x"], inputs["h_prev"]
    D = x.shape[1]
    dtype = _dtype(inputs, "x", "h_prev", "W_x", "W_h", "b")
    z = np.empty((x.shape[0], D + h_prev.shape[1]), dtype=dtype)
    z[:, :D], z[:, D:] = x, h_prev
    W = np.concatenate([inputs["W_x"], inputs["W_h"]], axis=1)
    h = np.matmul(z, W.T)
    h += inputs["b"]
    np.tanh(h, out=h)
    return z, W, h


def cell_forward(inputs: Arrays) -> dict[str, np.ndarray]:
    """h_t = tanh(z Wᵀ + b) with z = [x_t, h_{t-1}] and W = [W_x | W_h]."""
    return {"h": _cell(inputs)[2]}


def cell_vjp(inputs: Arrays, cotangents: Arrays) -> dict[str, np.ndarray]:
    """∂a = ∂h ⊙ (1 − h²);  ∂W = ∂aᵀ z = [∂W_x | ∂W_h],  ∂b = Σ_rows ∂a,

    ∂z = ∂a W = [∂x_t, ∂h_{t-1}].
    """
    z, W, h = _cell(inputs)
    D = inputs["x"].shape[1]
    da = _tanh_slope(h)
    da *= cotangents["h"]
    dW, dz = da.T @ z, da @ W
    return {
        "x": dz[:, :D],
        "h_prev": dz[:, D:],
        "W_x": dW[:, :D],
        "W_h": dW[:, D:],
        "b": da.sum(axis=0),
    }


# ---------------------------------------------------------------------------
# The sequence: the input projection of every step in one GEMM, then the recurrence
# ---------------------------------------------------------------------------


def _states(inputs: Arrays) -> np.ndarray:
    """[h_0, h_1, …, h_T] in one (T + 1, B, H) buffer.

    states[1:] first receives x_t W_xᵀ + b for all t in one GEMM; step t then adds
    h_{t-1} W_hᵀ into it and takes tanh in place.
    """
    xs, h_0, W_h = inputs["xs"], inputs["h_0"], inputs["W_h"]
    T, B, D = xs.shape
    H = h_0.shape[1]
    states = np.empty((T + 1, B, H), dtype=_dtype(inputs, "xs", "h_0", "W_x", "W_h", "b"))
    states[0] = h_0
    np.matmul(xs.reshape(T * B, D), inputs["W_x"].T, out=states[1:].reshape(T * B, H))
    states[1:] += inputs["b"]
    recurrent = np.empty((B, H), dtype=states.dtype)
    for t in range(1, T + 1):
        np.matmul(states[t - 1], W_h.T, out=recurrent)
        states[t] += recurrent
        np.tanh(states[t], out=states[t])
    return states


def _bptt(
    inputs: Arrays, states: np.ndarray, dhs: np.ndarray | None, dh_T: np.ndarray
) -> dict[str, np.ndarray]:
    """Backpropagation through time from ∂h_1 … ∂h_T (None: all zero) and ∂h_T.

    In the loop only ∂a_t = (∂hs_t + ∂h_t carried) ⊙ (1 − h_t²) and the carried
    ∂h_{t-1} = ∂a_t W_h; then over all T·B rows at once:
    ∂W_x = ∂Aᵀ X,  ∂W_h = ∂Aᵀ [h_0 … h_{T-1}],  ∂b = Σ ∂A,  ∂X = ∂A W_x.
    """
    xs, W_h = inputs["xs"], inputs["W_h"]
    T, B, D = xs.shape
    H = states.shape[2]
    da = _tanh_slope(states[1:])  # (T, B, H): 1 − h_t², multiplied by ∂h_t step by step
    carried = np.array(dh_T, dtype=states.dtype)  # a copy: the loop overwrites it
    dh = np.empty((B, H), dtype=states.dtype)
    for t in reversed(range(T)):
        if dhs is None:
            da[t] *= carried
        else:
            np.add(dhs[t], carried, out=dh)
            da[t] *= dh
        np.matmul(da[t], W_h, out=carried)
    dA = da.reshape(T * B, H)
    return {
        "xs": (dA @ inputs["W_x"]).reshape(T, B, D),
        "h_0": carried,
        "W_x": dA.T @ xs.reshape(T * B, D),
        "W_h": dA.T @ states[:-1].reshape(T * B, H),
        "b": dA.sum(axis=0),
    }


def sequence_forward(inputs: Arrays) -> dict[str, np.ndarray]:
    """h_t = tanh(x_t W_xᵀ + b + h_{t-1} W_hᵀ) for t = 1 … T, x_t W_xᵀ + b for all t at once."""
    states = _states(inputs)
    return {"hs": states[1:], "h_T": states[-1].copy()}


def sequence_vjp(inputs: Arrays, cotangents: Arrays) -> dict[str, np.ndarray]:
    """BPTT given ∂h_1 … ∂h_T and ∂h_T; weight gradients as single GEMMs after the loop."""
    return _bptt(inputs, _states(inputs), cotangents["hs"], cotangents["h_T"])


# ---------------------------------------------------------------------------
# The classifier head: ŷ = softmax(h_T W_out + b_out), in one buffer
# ---------------------------------------------------------------------------


def _head(h_T: np.ndarray, W_out: np.ndarray, b_out: np.ndarray) -> np.ndarray:
    """ŷ = softmax(h_T W_out + b_out): the logits shifted by each row's max, exp'd in place."""
    p = np.matmul(h_T, W_out)
    p += b_out
    p -= p.max(axis=-1, keepdims=True)
    np.exp(p, out=p)
    p /= p.sum(axis=-1, keepdims=True)
    return p


def _head_backward(
    p: np.ndarray, dp: np.ndarray, h_T: np.ndarray, W_out: np.ndarray
) -> dict[str, np.ndarray]:
    """∂z = ŷ ⊙ ∂ŷ − ŷ Σ_k ŷ_k ∂ŷ_k (``p`` is overwritten);  ∂W_out = h_Tᵀ ∂z,

    ∂b_out = Σ_rows ∂z,  ∂h_T = ∂z W_outᵀ.
    """
    dz = np.multiply(p, dp)
    p *= dz.sum(axis=-1, keepdims=True)
    dz -= p
    return {"h_T": dz @ W_out.T, "W_out": h_T.T @ dz, "b_out": dz.sum(axis=0)}


def classifier_forward(inputs: Arrays) -> dict[str, np.ndarray]:
    """ŷ = softmax(h_T W_out + b_out)."""
    return {"p": _head(inputs["h_T"], inputs["W_out"], inputs["b_out"])}


def classifier_vjp(inputs: Arrays, cotangents: Arrays) -> dict[str, np.ndarray]:
    """∂z = ŷ ⊙ (∂ŷ − ŷᵀ∂ŷ);  ∂W_out = h_Tᵀ ∂z,  ∂b_out = Σ_rows ∂z,  ∂h_T = ∂z W_outᵀ."""
    h_T, W_out = inputs["h_T"], inputs["W_out"]
    return _head_backward(_head(h_T, W_out, inputs["b_out"]), cotangents["p"], h_T, W_out)


# ---------------------------------------------------------------------------
# The whole classifier: the sequence, then the head on h_T
# ---------------------------------------------------------------------------


def sequence_classifier_forward(inputs: Arrays) -> dict[str, np.ndarray]:
    """ŷ = softmax(h_T W_out + b_out) with h_T the last state of the sequence."""
    return {"p": _head(_states(inputs)[-1], inputs["W_out"], inputs["b_out"])}


def sequence_classifier_vjp(inputs: Arrays, cotangents: Arrays) -> dict[str, np.ndarray]:
    """The head's backward gives ∂h_T; BPTT from it alone (only h_T feeds the head)."""
    states, W_out = _states(inputs), inputs["W_out"]
    p = _head(states[-1], W_out, inputs["b_out"])
    head = _head_backward(p, cotangents["p"], states[-1], W_out)
    return {**_bptt(inputs, states, None, head.pop("h_T")), **head}


# ---------------------------------------------------------------------------
# Registration
# ---------------------------------------------------------------------------

KERNELS: dict[str, Kernel] = {
    "rnn.cell": Kernel(cell_forward, cell_vjp),
    "rnn.sequence": Kernel(sequence_forward, sequence_vjp),
    "rnn.classifier": Kernel(classifier_forward, classifier_vjp),
    "rnn.sequence_classifier": Kernel(sequence_classifier_forward, sequence_classifier_vjp),
}
