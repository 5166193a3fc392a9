"""The worker's wire format: arrays cross the pipe unchanged, as arrays of their own."""

from __future__ import annotations

import numpy as np

from conformance.checks.calls import Call, Reply
from conformance.isolation.wire import decode_calls, decode_replies, encode_calls, encode_replies


def test_calls_cross_with_dtype_shape_values_and_flags():
    rng = np.random.default_rng(0)
    inputs = {
        "x": rng.normal(size=(3, 5)).astype(np.float32),
        "t": np.arange(6, dtype=np.int64).reshape(2, 3)[:, ::2],  # not contiguous
        "s": np.array(2.5),  # 0-d
        "e": np.zeros((0, 4)),  # empty
    }
    cot = {"h": np.full((3, 4), np.nan)}
    calls = [
        Call("lstm.cell", "forward", (inputs,), repeats=5, track="row 0 alone", track_reset=True),
        Call("lstm.cell", "vjp", (inputs, cot), watch=True),
    ]
    back = decode_calls(encode_calls(calls))
    assert [(c.spec, c.op, c.repeats, c.watch, c.track, c.track_reset) for c in back] == [
        ("lstm.cell", "forward", 5, False, "row 0 alone", True),
        ("lstm.cell", "vjp", 1, True, "", False),
    ]
    for name, array in inputs.items():
        got = back[0].arrays[0][name]
        assert got.dtype == array.dtype and got.shape == array.shape
        np.testing.assert_array_equal(got, array)
    assert np.isnan(back[1].arrays[1]["h"]).all()


def test_decoded_arrays_are_writable_and_own_their_memory():
    calls = decode_calls(
        encode_calls([Call("s", "forward", ({"a": np.ones(3), "b": np.ones(3)},))])
    )
    a, b = calls[0].arrays[0]["a"], calls[0].arrays[0]["b"]
    a[0] = 7.0  # a kernel may write into its inputs (and be caught doing so)
    assert a.flags.owndata and not np.shares_memory(a, b) and b[0] == 1.0


def test_replies_and_error_statuses_cross():
    replies = [
        Reply({"h": np.eye(2, dtype=np.float32)}, 1.5e-5, ("input 'x'",), ("alias",)),
        Reply({}, 0.0),
    ]
    status, back = decode_replies(encode_replies("ok", replies))
    assert status == "ok" and back[0].seconds == 1.5e-5 and back[1].values == {}
    assert back[0].modified == ("input 'x'",) and back[0].aliases == ("alias",)
    np.testing.assert_array_equal(back[0].values["h"], np.eye(2))
    assert decode_replies(encode_replies("raised", "ValueError: boom")) == (
        "raised",
        "ValueError: boom",
    )
