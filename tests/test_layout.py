"""conformance.layout: the conversions between the specs' layout and the frameworks'."""

from __future__ import annotations

import numpy as np
import pytest

from conformance import layout
from conformance.layout import (
    GATES,
    add_state_axis,
    batch_first,
    drop_state_axis,
    from_columns,
    join_concat,
    join_directions,
    lstm_to_stacked,
    split_bias,
    split_concat,
    split_directions,
    split_gates,
    stack_gates,
    stacked_to_lstm,
    sum_biases,
    time_major,
    to_columns,
)

H, D, B, T = 2, 3, 4, 5


def _params(rng: np.random.Generator, suffix: str = "") -> dict[str, np.ndarray]:
    """The spec's W_f … b_o for one direction, each gate with its own draw."""
    params = {}
    for gate in "fico":
        params[f"W_{gate}{suffix}"] = rng.normal(size=(H, H + D))
        params[f"b_{gate}{suffix}"] = rng.normal(size=H)
    return params


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-z))


# ---------------------------------------------------------------------------
# Gates
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("order", ["ifgo", "iofc", "fgio", "oigf"])
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_split_and_stack_gates_round_trip(order: str, axis: int) -> None:
    stacked = np.arange(8 * 12, dtype=np.float64).reshape(8, 12)
    blocks = split_gates(stacked, order, axis=axis)
    assert set(blocks) == set(GATES)
    np.testing.assert_array_equal(stack_gates(blocks, order, axis=axis), stacked)


def test_split_gates_reads_blocks_in_the_order_given() -> None:
    stacked = np.repeat(np.arange(4.0), 3)  # blocks 0, 1, 2, 3 of H = 3
    by_gate = {k: v[0] for k, v in split_gates(stacked, "iofc").items()}
    assert by_gate == {"i": 0.0, "o": 1.0, "f": 2.0, "g": 3.0}


def test_stack_gates_accepts_c_for_the_candidate() -> None:
    gates = {"i": np.zeros(2), "f": np.ones(2), "c": np.full(2, 2.0), "o": np.full(2, 3.0)}
    np.testing.assert_array_equal(stack_gates(gates, "ifgo"), [0, 0, 1, 1, 2, 2, 3, 3])


def test_gate_errors_are_clear() -> None:
    with pytest.raises(ValueError, match=r"split_gates: stacked has shape \(10, 3\).*not 4H"):
        split_gates(np.zeros((10, 3)))
    with pytest.raises(ValueError, match="not a permutation of the gates"):
        split_gates(np.zeros((8, 3)), "ifgg")
    with pytest.raises(ValueError, match="needs exactly one block for each"):
        stack_gates({"i": np.zeros(2), "f": np.zeros(2), "g": np.zeros(2)})
    with pytest.raises(ValueError, match="differ in shape"):
        stack_gates({"i": np.zeros(2), "f": np.zeros(2), "g": np.zeros(2), "o": np.zeros(3)})


# ---------------------------------------------------------------------------
# Concatenations, biases, axes
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("order", ["hx", "xh"])
def test_split_and_join_concat_round_trip(order: str) -> None:
    W = np.random.default_rng(0).normal(size=(H, H + D))
    first = H if order == "hx" else D
    W_h, W_x = split_concat(W, first, order)
    assert W_h.shape == (H, H) and W_x.shape == (H, D)
    np.testing.assert_array_equal(join_concat(W_h, W_x, order), W)


def test_split_concat_matches_the_matmul_on_the_concatenation() -> None:
    rng = np.random.default_rng(1)
    W, h, x = rng.normal(size=(H, H + D)), rng.normal(size=(B, H)), rng.normal(size=(B, D))
    W_h, W_x = split_concat(W, H)
    np.testing.assert_allclose(np.concatenate([h, x], 1) @ W.T, h @ W_h.T + x @ W_x.T)
    # The same weight read as acting on [x, h] gives back the same blocks.
    W_xh = join_concat(W_h, W_x, "xh")
    np.testing.assert_allclose(np.concatenate([x, h], 1) @ W_xh.T, h @ W_h.T + x @ W_x.T)
    got_h, got_x = split_concat(W_xh, D, "xh")
    np.testing.assert_array_equal(got_h, W_h)
    np.testing.assert_array_equal(got_x, W_x)


def test_concat_errors_are_clear() -> None:
    with pytest.raises(ValueError, match=r"split_concat: W has shape \(2, 5\); first=5"):
        split_concat(np.zeros((2, 5)), 5)
    with pytest.raises(ValueError, match="order='hh' must be 'hx'"):
        split_concat(np.zeros((2, 5)), 2, "hh")
    with pytest.raises(ValueError, match="must agree in every axis but the last"):
        join_concat(np.zeros((2, 2)), np.zeros((3, 3)))


def test_biases() -> None:
    b = np.array([1.0, -2.0], dtype=np.float32)
    b_ih, b_hh = split_bias(b)
    assert b_ih.dtype == b_hh.dtype == np.float32
    np.testing.assert_array_equal(b_hh, 0)
    np.testing.assert_array_equal(sum_biases(b_ih, b_hh), b)
    b_ih[0] = 7  # a new array, not a view of b
    assert b[0] == 1.0
    with pytest.raises(ValueError, match=r"sum_biases: b_ih has shape \(2,\) and b_hh"):
        sum_biases(np.zeros(2), np.zeros(3))


def test_sequence_and_state_axes() -> None:
    xs = np.arange(T * B * D).reshape(T, B, D)
    assert batch_first(xs).shape == (B, T, D)
    np.testing.assert_array_equal(batch_first(xs)[1, 2], xs[2, 1])
    np.testing.assert_array_equal(time_major(batch_first(xs)), xs)
    h = np.arange(B * H, dtype=np.float64).reshape(B, H)
    assert add_state_axis(h).shape == (1, B, H)
    assert add_state_axis(h, 2).shape == (2, B, H)
    np.testing.assert_array_equal(add_state_axis(h, 2)[1], h)
    np.testing.assert_array_equal(drop_state_axis(add_state_axis(h)), h)
    with pytest.raises(ValueError, match=r"drop_state_axis: h has shape \(2, 4, 2\)"):
        drop_state_axis(add_state_axis(h, 2))
    with pytest.raises(ValueError, match="a state is \\(B, H\\)"):
        add_state_axis(xs)
    with pytest.raises(ValueError, match="batch_first: xs has shape \\(3,\\)"):
        batch_first(np.zeros(3))


def test_directions() -> None:
    rng = np.random.default_rng(2)
    fwd, bwd = rng.normal(size=(T, B, H)), rng.normal(size=(T, B, H))
    ys = join_directions(fwd, bwd)
    assert ys.shape == (T, B, 2 * H)
    np.testing.assert_array_equal(ys[..., :H], fwd)
    got_fwd, got_bwd = split_directions(ys, H)
    np.testing.assert_array_equal(got_fwd, fwd)
    np.testing.assert_array_equal(got_bwd, bwd)
    with pytest.raises(ValueError, match=r"last axis must be 2H = 6"):
        split_directions(ys, 3)
    with pytest.raises(ValueError, match="join_directions: fwd has shape"):
        join_directions(fwd, bwd[:1])


def test_column_vectors() -> None:
    rng = np.random.default_rng(3)
    x, W = rng.normal(size=(B, D)), rng.normal(size=(H, D))
    columns = to_columns(x)
    assert columns.shape == (B, D, 1)
    np.testing.assert_allclose(from_columns(W @ columns), x @ W.T)
    np.testing.assert_array_equal(from_columns(columns), x)
    with pytest.raises(ValueError, match=r"to_columns: a has shape \(5, 4, 3\)"):
        to_columns(np.zeros((T, B, D)))
    with pytest.raises(ValueError, match=r"from_columns: a has shape \(4, 3\)"):
        from_columns(x)


# ---------------------------------------------------------------------------
# LSTM parameters
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("order", ["ifgo", "iofc"])
@pytest.mark.parametrize("suffix", ["", "_bwd"])
def test_lstm_stacked_round_trip(order: str, suffix: str) -> None:
    params = _params(np.random.default_rng(4), suffix)
    W_ih, W_hh, b = lstm_to_stacked(params, order, suffix)
    assert (W_ih.shape, W_hh.shape, b.shape) == ((4 * H, D), (4 * H, H), (4 * H,))
    back = stacked_to_lstm(W_ih, W_hh, b, order, suffix)
    assert set(back) == set(params)
    for name, value in params.items():
        np.testing.assert_array_equal(back[name], value)


def test_lstm_stacked_computes_every_gate() -> None:
    """x W_ih^T + h W_hh^T + b, split in the stacked order, is each gate's pre-activation."""
    rng = np.random.default_rng(5)
    params, x, h = _params(rng), rng.normal(size=(B, D)), rng.normal(size=(B, H))
    z = np.concatenate([h, x], 1)
    for order in ("ifgo", "iofc", "gofi"):
        W_ih, W_hh, b = lstm_to_stacked(params, order)
        pre = split_gates(x @ W_ih.T + h @ W_hh.T + b, order, axis=1)
        for gate, name in (("i", "i"), ("f", "f"), ("g", "c"), ("o", "o")):
            np.testing.assert_allclose(pre[gate], z @ params[f"W_{name}"].T + params[f"b_{name}"])


def test_onnx_iofc_by_hand() -> None:
    """ONNX's LSTM stacks W as [W_i; W_o; W_f; W_c]: checked on H = D = 1 by hand.

    W_gate = [[recurrent, input]] on [h, x]: W_i = [[1, 2]], W_f = [[3, 4]],
    W_c = [[5, 6]], W_o = [[7, 8]], and b_gate = 10 × the gate's number.
    """
    params = {
        "W_i": np.array([[1.0, 2.0]]),
        "W_f": np.array([[3.0, 4.0]]),
        "W_c": np.array([[5.0, 6.0]]),
        "W_o": np.array([[7.0, 8.0]]),
        "b_i": np.array([10.0]),
        "b_f": np.array([30.0]),
        "b_c": np.array([50.0]),
        "b_o": np.array([70.0]),
    }
    W, R, Wb = lstm_to_stacked(params, order="iofc")
    np.testing.assert_array_equal(W, [[2.0], [8.0], [4.0], [6.0]])  # input columns: i, o, f, c
    np.testing.assert_array_equal(R, [[1.0], [7.0], [3.0], [5.0]])  # recurrent columns
    np.testing.assert_array_equal(Wb, [10.0, 70.0, 30.0, 50.0])
    # ONNX's B is [Wb, Rb] of 8H: the spec's one bias, then zeros.
    np.testing.assert_array_equal(np.concatenate(split_bias(Wb)), [10, 70, 30, 50, 0, 0, 0, 0])
    # One ONNX step by hand from h = 0.5, x = -1, c = 0.25, with ONNX's gate formulas:
    h, x, c = 0.5, -1.0, 0.25
    it, ot, ft, ct = (W[k, 0] * x + R[k, 0] * h + Wb[k] for k in range(4))
    c_new = _sigmoid(ft) * c + _sigmoid(it) * np.tanh(ct)
    h_new = _sigmoid(ot) * np.tanh(c_new)
    # … equals the spec's cell on the spec's weights.
    z = np.array([h, x])
    gate = {g: z @ params[f"W_{g}"][0] + params[f"b_{g}"][0] for g in "ifco"}
    c_spec = _sigmoid(gate["f"]) * c + _sigmoid(gate["i"]) * np.tanh(gate["c"])
    assert c_new == pytest.approx(c_spec, rel=1e-15)
    assert h_new == pytest.approx(_sigmoid(gate["o"]) * np.tanh(c_spec), rel=1e-15)


def test_lstm_to_stacked_reads_concat_xh() -> None:
    """With ``concat="xh"`` the given weights act on [x, h]; the stacked result is the same."""
    params = _params(np.random.default_rng(6))
    swapped = {
        name: join_concat(*split_concat(value, H), order="xh") if name.startswith("W") else value
        for name, value in params.items()
    }
    for got, want in zip(
        lstm_to_stacked(swapped, concat="xh"), lstm_to_stacked(params), strict=True
    ):
        np.testing.assert_array_equal(got, want)
    back = stacked_to_lstm(*lstm_to_stacked(params), concat="xh")
    np.testing.assert_array_equal(back["W_f"], swapped["W_f"])


def test_lstm_errors_are_clear() -> None:
    params = _params(np.random.default_rng(7))
    with pytest.raises(ValueError, match="params has no W_i_fwd, b_i_fwd, W_f_fwd"):
        lstm_to_stacked(params, suffix="_fwd")
    bad = {**params, "W_i": np.zeros((H + 1, H + D))}
    with pytest.raises(ValueError, match=r"W_i has shape \(3, 5\) and b_i has shape \(2,\)"):
        lstm_to_stacked(bad)
    with pytest.raises(ValueError, match=r"stacked_to_lstm: dW_ih has shape \(8, 3\), dW_hh"):
        stacked_to_lstm(np.zeros((8, D)), np.zeros((8, 3)), np.zeros(8))


def test_conversions_never_write_into_their_arguments() -> None:
    params = _params(np.random.default_rng(8))
    frozen = {k: v.copy() for k, v in params.items()}
    for v in params.values():
        v.flags.writeable = False
    W_ih, W_hh, b = lstm_to_stacked(params, "iofc")
    stacked_to_lstm(W_ih, W_hh, b, "iofc")
    split_bias(params["b_f"])
    for k, v in frozen.items():
        np.testing.assert_array_equal(params[k], v)


def test_public_names() -> None:
    assert layout.GATES == "ifgo"
    assert set(layout.__all__) >= {
        "split_gates", "stack_gates", "split_concat", "join_concat", "sum_biases",
        "split_bias", "batch_first", "time_major", "add_state_axis", "drop_state_axis",
        "split_directions", "join_directions", "to_columns", "from_columns",
        "lstm_to_stacked", "stacked_to_lstm",
    }  # fmt: skip
