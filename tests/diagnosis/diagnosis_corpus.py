"""A corpus of broken backends for the diagnosis: each one correct kernel of
``numpy-vectorized`` with one bug, the check that catches it, and what a diagnosis that
names the bug must say.

``names`` holds phrases of which the diagnosis must contain one (a bug can have two
equally true names: a backward direction "not re-aligned in time" is also one whose
``h_bwd`` is "reversed in time"). ``names=()`` marks a bug that no single rewrite of
the spec expresses (inside the CTC recursion, a derivative changed with no trace in any
equation): it counts against the share, as it should.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
from mutants.lstm import forget_gate_vjp_slope_of_activated
from mutants.slstm import tree_vjp_without_right_child

from conformance.typing import ForwardFn, VjpFn
from implementations._common import sigmoid
from implementations.numpy_vectorized import bilstm, ctc, lstm, lstm_sequence, rnn, slstm

Arrays = Mapping[str, np.ndarray]
LSTM_PARAMETERS = lstm_sequence.PARAMETERS


@dataclass(frozen=True)
class Mutant:
    """One bug in one kernel, and how the diagnosis names it."""

    name: str
    spec: str
    check: str
    forward: ForwardFn
    vjp: VjpFn | None = None
    names: tuple[str, ...] = ()
    dtype: str = "float64"


def kernel(spec: str) -> tuple[ForwardFn, VjpFn]:
    """numpy-vectorized's (forward, vjp) for ``spec``."""
    modules = (lstm, lstm_sequence, bilstm, ctc, rnn, slstm)
    found = next(m.KERNELS[spec] for m in modules if spec in m.KERNELS)
    assert found.vjp is not None
    return found.forward, found.vjp


def renamed(spec: str, **mapping: str) -> ForwardFn:
    """The correct forward fed input ``mapping[name]`` as ``name``: inputs mixed up."""
    forward, _ = kernel(spec)
    return lambda a: forward({**a, **{k: a[v] for k, v in mapping.items()}})


def transformed(spec: str, **change: Callable[[np.ndarray], np.ndarray]) -> ForwardFn:
    """The correct forward fed ``change[name](a[name])`` for each changed input."""
    forward, _ = kernel(spec)
    return lambda a: forward({**a, **{k: f(a[k]) for k, f in change.items()}})


def outputs_changed(spec: str, change: Callable[[dict, Arrays], dict]) -> ForwardFn:
    """The correct forward with ``change(outputs, inputs)`` applied to what it returns."""
    forward, _ = kernel(spec)
    return lambda a: change(dict(forward(a)), a)


def gradients_changed(spec: str, change: Callable[[dict, Arrays], dict]) -> VjpFn:
    """The correct VJP with ``change(gradients, inputs)`` applied to what it returns."""
    _, vjp = kernel(spec)
    return lambda a, ct: change(dict(vjp(a, ct)), a)


# --- kernels written out, so that each bug sits where a person would make it ---------------


def cell(
    a: Arrays,
    *,
    order: str = "hx",
    candidate=np.tanh,
    use_i: bool = True,
    use_f: bool = True,
    b_o: str = "b_o",
    old_c: bool = False,
) -> dict:
    """The LSTM cell; each keyword is one bug."""
    z = np.concatenate([a["h_prev"], a["x"]] if order == "hx" else [a["x"], a["h_prev"]], -1)
    f = sigmoid(z @ a["W_f"].T + a["b_f"])
    i = sigmoid(z @ a["W_i"].T + a["b_i"])
    g = candidate(z @ a["W_c"].T + a["b_c"])
    o = sigmoid(z @ a["W_o"].T + a[b_o])
    c = (f * a["c_prev"] if use_f else 0.0) + (i * g if use_i else g)
    return {"h": o * np.tanh(a["c_prev"] if old_c else c), "c": c}  # fmt: skip


def sequence(a: Arrays, *, carry_h: bool = True, carry_c: bool = True, late: bool = False) -> dict:
    """The LSTM over time; ``carry_*=False`` restarts a state, ``late`` stores h_{t-1}."""
    params = {n: a[n] for n in LSTM_PARAMETERS}
    h, c, hs = a["h_0"], a["c_0"], []
    for x in a["xs"]:
        step = lstm.cell_forward({"x": x, "h_prev": h, "c_prev": c, **params})
        hs.append(h if late else step["h"])
        h = step["h"] if carry_h else a["h_0"]
        c = step["c"] if carry_c else a["c_0"]
    return {"hs": np.stack(hs), "h_T": step["h"], "c_T": step["c"]}


def directional(
    a: Arrays,
    *,
    flip_in: bool = True,
    flip_out: bool = True,
    weights: tuple[str, str] = ("fwd", "bwd"),
) -> dict:
    """The BiLSTM; ``flip_*=False`` forgets a reversal, ``weights`` says whose each uses."""

    def run(direction: str, own: str, xs: np.ndarray) -> dict:
        state = {"h_0": a[f"h_{direction}_init"], "c_0": a[f"c_{direction}_init"]}
        return lstm_sequence.sequence_forward(
            {"xs": xs, **state, **{n: a[f"{n}_{own}"] for n in LSTM_PARAMETERS}}
        )

    fwd = run("fwd", weights[0], a["xs"])
    bwd = run("bwd", weights[1], a["xs"][::-1] if flip_in else a["xs"])
    return {
        "h_fwd": fwd["hs"], "h_bwd": bwd["hs"][::-1] if flip_out else bwd["hs"],
        "h_fwd_final": fwd["h_T"], "c_fwd_final": fwd["c_T"],
        "h_bwd_final": bwd["h_T"], "c_bwd_final": bwd["c_T"],
    }  # fmt: skip


def rnn_sequence(a: Arrays, *, act=np.tanh, backward: bool = False) -> dict:
    h, hs = a["h_0"], []
    xs = a["xs"][::-1] if backward else a["xs"]
    for x in xs:
        h = act(x @ a["W_x"].T + h @ a["W_h"].T + a["b"])
        hs.append(h)
    hs = hs[::-1] if backward else hs
    return {"hs": np.stack(hs), "h_T": h}


def rnn_classifier_of(sequence_forward: ForwardFn) -> ForwardFn:
    head, _ = kernel("rnn.classifier")
    return lambda a: head({**a, "h_T": sequence_forward(a)["h_T"]})


def slstm_cell(a: Arrays, *, children: str = "LR", forgets: str = "LR", o_sees: str = "c") -> dict:
    """The S-LSTM block; ``children="RL"`` swaps the children, ``forgets="RL"`` the forget
    gates' roles, ``o_sees="c_L"`` feeds the output gate the left child's old cell."""
    h = {"L": a[f"h_{children[0]}"], "R": a[f"h_{children[1]}"]}
    c = {"L": a[f"c_{children[0]}"], "R": a[f"c_{children[1]}"]}
    src = {"Lh": h["L"], "Rh": h["R"], "Lc": c["L"], "Rc": c["R"]}

    def gate(g: str, names: tuple[str, ...]) -> np.ndarray:
        return sum(src[s] @ a[f"W_{g}_{s}"].T for s in names) + a[f"b_{g}"]

    i = sigmoid(gate("i", ("Lh", "Rh", "Lc", "Rc")))
    f = {side: sigmoid(gate(f"f{side}", ("Lh", "Rh", "Lc", "Rc"))) for side in "LR"}
    x = gate("x", ("Lh", "Rh"))
    new_c = f[forgets[0]] * c["L"] + f[forgets[1]] * c["R"] + i * np.tanh(x)
    seen = new_c if o_sees == "c" else a[o_sees]
    o = sigmoid(h["L"] @ a["W_o_Lh"].T + h["R"] @ a["W_o_Rh"].T + seen @ a["W_o_c"].T + a["b_o"])
    return {"h": o * np.tanh(new_c), "c": new_c}


# --- backward passes with one bug -------------------------------------------------------------


def rnn_cell_vjp_slope_of_pre_activation(a: Arrays, ct: Arrays) -> dict:
    """tanh′ written 1 − a² but fed the pre-activation a instead of h = tanh(a)."""
    pre = a["x"] @ a["W_x"].T + a["h_prev"] @ a["W_h"].T + a["b"]
    da = ct["h"] * (1 - pre * pre)
    return {"x": da @ a["W_x"], "h_prev": da @ a["W_h"], "W_x": da.T @ a["x"],
            "W_h": da.T @ a["h_prev"], "b": da.sum(axis=0)}  # fmt: skip


def lstm_bptt(a: Arrays, ct: Arrays, *, cell_path: bool = True) -> dict:
    """BPTT; ``cell_path=False`` drops ∂c_{t-1} between steps (only ∂h flows back)."""
    params = {n: a[n] for n in LSTM_PARAMETERS}
    hs, cs = lstm_sequence._states(a)
    grads = {n: np.zeros_like(a[n]) for n in LSTM_PARAMETERS}
    dxs = np.zeros_like(a["xs"])
    dh, dc = ct["h_T"], ct["c_T"]
    for t in reversed(range(a["xs"].shape[0])):
        step = {"x": a["xs"][t], "h_prev": hs[t], "c_prev": cs[t], **params}
        g = lstm.cell_vjp(step, {"h": dh + ct["hs"][t], "c": dc})
        for n in LSTM_PARAMETERS:
            grads[n] += g[n]
        dxs[t], dh = g["x"], g["h_prev"]
        dc = g["c_prev"] if cell_path else np.zeros_like(dc)
    return {"xs": dxs, "h_0": dh, "c_0": dc, **grads}


def rnn_bptt(a: Arrays, ct: Arrays, *, last_step_only: bool = False, h_0: bool = True) -> dict:
    """BPTT; ``last_step_only`` truncates it to the last step, ``h_0=False`` never
    accumulates the initial state's gradient."""
    xs, hs = a["xs"], rnn.sequence_forward(a)["hs"]
    previous = [a["h_0"], *hs[:-1]]
    g = {n: np.zeros_like(a[n]) for n in ("xs", "h_0", "W_x", "W_h", "b")}
    carried, T = ct["h_T"], len(hs)
    for t in [T - 1] if last_step_only else reversed(range(T)):
        da = (ct["hs"][t] + carried) * (1 - hs[t] * hs[t])
        g["W_x"] += da.T @ xs[t]
        g["W_h"] += da.T @ previous[t]
        g["b"] += da.sum(axis=0)
        g["xs"][t] = da @ a["W_x"]
        carried = da @ a["W_h"]
    if h_0 and (T == 1 or not last_step_only):
        g["h_0"] = carried
    return g


def rnn_classifier_bptt(a: Arrays, ct: Arrays, **bug: bool) -> dict:
    _, head_vjp = kernel("rnn.classifier")
    h_T = rnn.sequence_forward(a)["h_T"]
    head = dict(head_vjp({**a, "h_T": h_T}, ct))
    dh_T = head.pop("h_T")
    hs = np.zeros((a["xs"].shape[0], *h_T.shape))
    return {**rnn_bptt(a, {"hs": hs, "h_T": dh_T}, **bug), **head}


def ctc_vjp_occupancy_only(a: Arrays, ct: Arrays) -> dict:
    """∂y = −γ: the occupancy without the softmax's P (the normalizer's gradient left out)."""
    _, vjp = kernel("ctc.loss")
    correct = vjp(a, ct)["y"]
    P = ctc.softmax(a["y"])
    feasible = np.isfinite(ctc.loss_forward(a)["loss"])
    du = np.where(feasible, ct["loss"], 0)[None, :, None]
    return {"y": correct - du * P}


def cell_state_vjp_without_forget_factor(a: Arrays, ct: Arrays) -> dict:
    """∂c_{t-1} = ∂c instead of ∂c ⊙ f: a derivative changed with no trace in the forward."""
    _, vjp = kernel("lstm.cell_state")
    return {**vjp(a, ct), "c_prev": ct["c"]}


def softmax_head_vjp_without_normalizer(a: Arrays, ct: Arrays) -> dict:
    """∂z = ŷ ⊙ ∂ŷ: the softmax's Jacobian without its − ŷ ŷᵀ part."""
    forward, _ = kernel("rnn.classifier")
    dz = forward(a)["p"] * ct["p"]
    return {"h_T": dz @ a["W_out"].T, "W_out": a["h_T"].T @ dz, "b_out": dz.sum(axis=0)}


def _mean_over_batch(grads: dict, a: Arrays) -> dict:
    """Parameter gradients divided by B: a batch mean where the spec sums."""
    B = a["x"].shape[0]
    return {n: g / B if n in LSTM_PARAMETERS else g for n, g in grads.items()}


def _swapped(a: str, b: str) -> Callable[[dict, Arrays], dict]:
    return lambda grads, inputs: {**grads, a: grads[b], b: grads[a]}


def _flip_time(name: str) -> Callable[[dict, Arrays], dict]:
    return lambda out, a: {**out, name: np.ascontiguousarray(out[name][::-1])}


def _times(name: str, k: float) -> Callable[[dict, Arrays], dict]:
    return lambda out, a: {**out, name: out[name] * k}


FORWARD = kernel
M = Mutant
MUTANTS: tuple[Mutant, ...] = (
    # --- numeric: the values are wrong --------------------------------------------------------
    M("lstm-cell-gates-swapped", "lstm.cell", "numeric", renamed("lstm.cell", W_f="W_i", W_i="W_f"),
      names=("W_f and W_i swapped",)),
    M("lstm-forget-recurrent-block-untransposed", "lstm.forget_gate", "numeric",
      lambda a: {"f": sigmoid(a["h_prev"] @ a["W_f"][:, : a["h_prev"].shape[-1]]
                              + a["x"] @ a["W_f"][:, a["h_prev"].shape[-1]:].T + a["b_f"])},
      names=("the square block W_f[:, :H] transposed",)),
    M("lstm-cell-concat-x-h", "lstm.cell", "numeric", lambda a: cell(a, order="xh"),
      names=("concat(x, h_prev) for concat(h_prev, x)",)),
    M("lstm-candidate-sigmoid", "lstm.cell", "numeric", lambda a: cell(a, candidate=sigmoid),
      names=("sigmoid in place of tanh in g in lstm.candidate",)),
    M("lstm-cell-no-input-gate", "lstm.cell", "numeric", lambda a: cell(a, use_i=False),
      names=("the factor i dropped from i * g in c in lstm.cell_state",)),
    M("lstm-cell-no-forget-term", "lstm.cell", "numeric", lambda a: cell(a, use_f=False),
      names=("the term f * c_prev dropped in c in lstm.cell_state",)),
    M("lstm-cell-output-gate-with-forget-bias", "lstm.cell", "numeric",
      lambda a: cell(a, b_o="b_f"), names=("lstm.output_gate given b_f for b_o",)),
    M("lstm-cell-hidden-from-old-cell", "lstm.cell", "numeric", lambda a: cell(a, old_c=True),
      names=("lstm.hidden_state given c_prev for c",)),
    M("lstm-hidden-without-tanh", "lstm.hidden_state", "numeric",
      lambda a: {"h": a["o"] * a["c"]}, names=("no tanh in h",)),
    M("lstm-sequence-h-not-carried", "lstm.sequence", "numeric",
      lambda a: sequence(a, carry_h=False), names=("h_prev not carried (h_0 at every step)",)),
    M("lstm-sequence-c-not-carried", "lstm.sequence", "numeric",
      lambda a: sequence(a, carry_c=False), names=("c_prev not carried (c_0 at every step)",)),
    M("lstm-sequence-float32-gates-swapped", "lstm.sequence", "numeric",
      renamed("lstm.sequence", W_o="W_c", W_c="W_o"), names=("W_c and W_o swapped",),
      dtype="float32"),
    M("lstm-sequence-stores-previous-state", "lstm.sequence", "numeric",
      lambda a: sequence(a, late=True), names=("one step late",)),
    M("bilstm-backward-not-realigned", "bilstm.sequence", "numeric",
      lambda a: directional(a, flip_out=False),
      names=("not re-aligned in time", "h_bwd reversed in time")),
    M("bilstm-backward-reads-forward", "bilstm.sequence", "numeric",
      lambda a: directional(a, flip_in=False, flip_out=False),
      names=("scan(lstm.cell) run forward in time",)),
    M("bilstm-directions-weights-swapped", "bilstm.sequence", "numeric",
      lambda a: directional(a, weights=("bwd", "fwd")),
      names=("the bwd and fwd parameters swapped",)),
    M("bilstm-one-set-of-weights-for-both-directions", "bilstm.sequence", "numeric",
      lambda a: directional(a, weights=("fwd", "fwd")),
      names=("scan(lstm.cell) given the fwd parameters for the bwd ones",)),
    M("bilstm-output-direction-weights-swapped", "bilstm.output", "numeric",
      renamed("bilstm.output", W_fwd="W_bwd", W_bwd="W_fwd"), names=("W_fwd and W_bwd swapped",)),
    M("bilstm-output-no-bias", "bilstm.output", "numeric",
      lambda a: {"y": a["h_fwd"] @ a["W_fwd"].T + a["h_bwd"] @ a["W_bwd"].T},
      names=("the term b_y dropped",)),
    M("rnn-sequence-recurrent-weight-untransposed", "rnn.sequence", "numeric",
      transformed("rnn.sequence", W_h=lambda w: np.ascontiguousarray(w.T)),
      names=("W_h transposed",)),
    M("rnn-sequence-reads-backward", "rnn.sequence", "numeric",
      lambda a: rnn_sequence(a, backward=True), names=("scan(rnn.cell) run backward in time",)),
    M("rnn-cell-no-bias", "rnn.cell", "numeric",
      lambda a: {"h": np.tanh(a["x"] @ a["W_x"].T + a["h_prev"] @ a["W_h"].T)},
      names=("the term b dropped",)),
    M("rnn-classifier-softmax-over-batch", "rnn.classifier", "numeric",
      lambda a: {"p": ctc.softmax(np.swapaxes(a["h_T"] @ a["W_out"] + a["b_out"], 0, 1)).T},
      names=("softmax over axis -2",)),
    M("rnn-sequence-classifier-sigmoid-cell", "rnn.sequence_classifier", "numeric",
      rnn_classifier_of(lambda a: rnn_sequence(a, act=sigmoid)),
      names=("sigmoid in place of tanh in h in rnn.cell",)),
    M("slstm-cell-children-swapped", "slstm.cell", "numeric",
      lambda a: slstm_cell(a, children="RL"), names=("h_L ↔ h_R and c_L ↔ c_R swapped",)),
    M("slstm-cell-forget-gates-swapped", "slstm.cell", "numeric",
      lambda a: slstm_cell(a, forgets="RL"), names=("the fL and fR", "fL and fR")),
    M("slstm-cell-state-one-forget-gate-for-both", "slstm.cell_state", "numeric",
      lambda a: kernel("slstm.cell_state")[0]({**a, "f_R": a["f_L"]}),
      names=("f_L in place of f_R",)),
    M("slstm-input-gate-square-weight-transposed", "slstm.input_gate", "numeric",
      transformed("slstm.input_gate", W_i_Lh=lambda w: np.ascontiguousarray(w.T)),
      names=("W_i_Lh transposed",)),
    M("slstm-cell-output-gate-sees-old-cell", "slstm.cell", "numeric",
      lambda a: slstm_cell(a, o_sees="c_L"), names=("slstm.output_gate given c_L for c",)),
    M("ctc-log-softmax-over-time", "ctc.log_softmax", "numeric",
      lambda a: {"log_P": a["y"] - np.log(np.exp(a["y"]).sum(axis=0, keepdims=True))},
      names=("logsumexp over axis -3",)),
    M("ctc-softmax-returns-log-probabilities", "ctc.softmax", "numeric",
      lambda a: {"P": ctc.log_softmax(a["y"])}, names=("no exp in P",)),
    M("ctc-loss-log-likelihood", "ctc.loss", "numeric",
      outputs_changed("ctc.loss", _times("loss", -1.0)), names=("loss × −1",)),
    M("ctc-loss-doubled", "ctc.loss", "numeric",
      outputs_changed("ctc.loss", _times("loss", 2.0)), names=("loss × 2",)),
    # --- gradient: the values are right, the VJP is not ---------------------------------------
    M("lstm-forget-sigma-prime-of-activated", "lstm.forget_gate", "gradient",
      FORWARD("lstm.forget_gate")[0], forget_gate_vjp_slope_of_activated,
      names=("σ′ taken at σ(z)",)),
    M("rnn-cell-tanh-slope-of-pre-activation", "rnn.cell", "gradient",
      FORWARD("rnn.cell")[0], rnn_cell_vjp_slope_of_pre_activation,
      names=("tanh′ written 1 − t² but fed the pre-activation z",)),
    M("lstm-sequence-bptt-without-cell-path", "lstm.sequence", "gradient",
      FORWARD("lstm.sequence")[0], lambda a, ct: lstm_bptt(a, ct, cell_path=False),
      names=("no gradient through the carried c_prev",)),
    M("rnn-sequence-truncated-bptt", "rnn.sequence", "gradient", FORWARD("rnn.sequence")[0],
      lambda a, ct: rnn_bptt(a, ct, last_step_only=True),
      names=("BPTT truncated to the last step",)),
    M("rnn-classifier-truncated-bptt", "rnn.sequence_classifier", "gradient",
      FORWARD("rnn.sequence_classifier")[0],
      lambda a, ct: rnn_classifier_bptt(a, ct, last_step_only=True),
      names=("BPTT truncated to the last step", "no gradient through the carried h_prev")),
    M("rnn-sequence-no-initial-state-gradient", "rnn.sequence", "gradient",
      FORWARD("rnn.sequence")[0], lambda a, ct: rnn_bptt(a, ct, h_0=False),
      names=("grad h_0 = 0",)),
    M("slstm-tree-backward-skips-right-child", "slstm.tree", "gradient",
      FORWARD("slstm.tree")[0], tree_vjp_without_right_child,
      names=("no gradient into the right child",)),
    M("ctc-loss-gradient-occupancy-only", "ctc.loss", "gradient", FORWARD("ctc.loss")[0],
      ctc_vjp_occupancy_only, names=("no gradient through the term logsumexp",)),
    M("lstm-cell-parameter-gradients-averaged", "lstm.cell", "gradient",
      FORWARD("lstm.cell")[0], gradients_changed("lstm.cell", _mean_over_batch),
      names=("× 1/B",)),
    M("lstm-cell-output-weight-gradient-doubled", "lstm.cell", "gradient",
      FORWARD("lstm.cell")[0],
      gradients_changed("lstm.cell", lambda g, a: {**g, "W_o": 2 * g["W_o"]}),
      names=("grad W_o × 2",)),
    M("lstm-cell-gate-weight-gradients-swapped", "lstm.cell", "gradient",
      FORWARD("lstm.cell")[0], gradients_changed("lstm.cell", _swapped("W_f", "W_i")),
      names=("grad W_f and grad W_i swapped",)),
    M("bilstm-output-weight-gradients-swapped", "bilstm.output", "gradient",
      FORWARD("bilstm.output")[0], gradients_changed("bilstm.output", _swapped("W_fwd", "W_bwd")),
      names=("grad W_fwd and grad W_bwd swapped",)),
    M("lstm-cell-swapped-gates-forward-and-backward", "lstm.cell", "gradient",
      renamed("lstm.cell", W_f="W_i", W_i="W_f"),
      lambda a, ct: _swapped("W_f", "W_i")(
          dict(kernel("lstm.cell")[1]({**a, "W_f": a["W_i"], "W_i": a["W_f"]}, ct)), a),
      names=("W_f and W_i swapped",)),
    M("lstm-cell-state-vjp-without-forget-factor", "lstm.cell_state", "gradient",
      FORWARD("lstm.cell_state")[0], cell_state_vjp_without_forget_factor),
    M("rnn-classifier-softmax-vjp-without-normalizer", "rnn.classifier", "gradient",
      FORWARD("rnn.classifier")[0], softmax_head_vjp_without_normalizer),
)  # fmt: skip
"""The corpus: every family, both checks the diagnosis serves, named and unnamed bugs."""
