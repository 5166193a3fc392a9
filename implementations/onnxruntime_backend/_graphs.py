"""The ONNX graphs the ``onnxruntime`` kernels run, their cached sessions, and the kernel
wrapper that keeps each kernel to the dtypes it declares.

Graphs are built in memory with ``onnx.helper`` and checked with ``onnx.checker``. Every
array the spec gives, weights included, is a graph *input*: a session is cached under
(graph kind, dtype, sizes), and nothing cached depends on a weight's value.

ONNX's recurrent operators against the spec's layout:

- ``LSTM``: gates stacked i, o, f, c (:data:`LSTM_ORDER`); ``W`` [num_directions, 4H, D]
  and ``R`` [num_directions, 4H, H] hold each gate's input and recurrent blocks; ``B``
  [num_directions, 8H] is ``[Wb, Rb]``, the spec's b then zeros; ``initial_h``,
  ``initial_c``, ``Y_h``, ``Y_c`` are [num_directions, B, H]; ``Y`` is
  [T, num_directions, B, H], time-major, and a reverse direction's Y[t] is its state
  after reading x_T … x_t, aligned with x_t as the spec's ``h_bwd``.
- ``RNN``: ``W`` [1, H, D] is W_x, ``R`` [1, H, H] is W_h, ``B`` [1, 2H] is ``[Wb, Rb]``;
  the activation is tanh by default.
- ``Softmax``, ``LogSoftmax`` with ``axis=-1`` (opset ≥ 13: over that one axis).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import onnx
import onnxruntime
from onnx import TensorProto, helper

from conformance import DTYPES, Arrays, Kernel
from implementations._frameworks import thread_count

OPSET = 17
"""The ONNX opset the graphs are built for."""
PROVIDER = "CPUExecutionProvider"
THREADS = thread_count()
"""onnxruntime's intra-op threads: the BLAS thread count (``implementations._frameworks``)."""
LSTM_ORDER = "iofc"
"""ONNX's gate order in the LSTM's W, R and B (c is the candidate, the spec's g)."""

ELEMENT_TYPES = {"float32": TensorProto.FLOAT, "float64": TensorProto.DOUBLE}

Shapes = Mapping[str, Sequence[int]]
Builder = Callable[..., onnx.ModelProto]


def _model(
    name: str, nodes: list[onnx.NodeProto], inputs: Shapes, outputs: Shapes, dtype: str
) -> onnx.ModelProto:
    """A checked one-graph model whose inputs and outputs are all of ``dtype``."""
    element = ELEMENT_TYPES[dtype]
    graph = helper.make_graph(
        nodes,
        name,
        [helper.make_tensor_value_info(n, element, list(s)) for n, s in inputs.items()],
        [helper.make_tensor_value_info(n, element, list(s)) for n, s in outputs.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    onnx.checker.check_model(model, full_check=True)
    return model


def lstm_graph(dtype: str, *, direction: str, T: int, B: int, D: int, H: int) -> onnx.ModelProto:
    """``Y, Y_h, Y_c = LSTM(X, W, R, B, , initial_h, initial_c)`` in ``direction``
    (``forward``, ``reverse`` or ``bidirectional``)."""
    n = 2 if direction == "bidirectional" else 1
    node = helper.make_node(
        "LSTM",
        ["X", "W", "R", "B", "", "initial_h", "initial_c"],
        ["Y", "Y_h", "Y_c"],
        hidden_size=H,
        direction=direction,
    )
    inputs = {
        "X": (T, B, D),
        "W": (n, 4 * H, D),
        "R": (n, 4 * H, H),
        "B": (n, 8 * H),
        "initial_h": (n, B, H),
        "initial_c": (n, B, H),
    }
    outputs = {"Y": (T, n, B, H), "Y_h": (n, B, H), "Y_c": (n, B, H)}
    return _model(f"lstm_{direction}", [node], inputs, outputs, dtype)


def _rnn_node(H: int) -> onnx.NodeProto:
    """``Y, Y_h = RNN(X, W, R, B, , initial_h)``, tanh (the default), one direction."""
    return helper.make_node(
        "RNN", ["X", "W", "R", "B", "", "initial_h"], ["Y", "Y_h"], hidden_size=H
    )


def _rnn_inputs(T: int, B: int, D: int, H: int) -> dict[str, tuple[int, ...]]:
    return {"X": (T, B, D), "W": (1, H, D), "R": (1, H, H), "B": (1, 2 * H), "initial_h": (1, B, H)}


def rnn_graph(dtype: str, *, T: int, B: int, D: int, H: int) -> onnx.ModelProto:
    """``Y, Y_h = RNN(X, W, R, B, , initial_h)``, tanh, one direction."""
    outputs = {"Y": (T, 1, B, H), "Y_h": (1, B, H)}
    return _model("rnn", [_rnn_node(H)], _rnn_inputs(T, B, D, H), outputs, dtype)


def _head_nodes(h: str) -> list[onnx.NodeProto]:
    """p = Softmax(MatMul(h, W_out) + b_out) over the classes."""
    return [
        helper.make_node("MatMul", [h, "W_out"], ["logits_raw"]),
        helper.make_node("Add", ["logits_raw", "b_out"], ["logits"]),
        helper.make_node("Softmax", ["logits"], ["p"], axis=-1),
    ]


def classifier_graph(dtype: str, *, B: int, H: int, K: int) -> onnx.ModelProto:
    """``p = Softmax(MatMul(h_T, W_out) + b_out)``."""
    inputs = {"h_T": (B, H), "W_out": (H, K), "b_out": (K,)}
    return _model("classifier", _head_nodes("h_T"), inputs, {"p": (B, K)}, dtype)


def rnn_classifier_graph(dtype: str, *, T: int, B: int, D: int, H: int, K: int) -> onnx.ModelProto:
    """The RNN, its last state ``Y_h[0]`` (``Squeeze``), then the classifier head."""
    axes = helper.make_tensor("axes", TensorProto.INT64, [1], [0])
    nodes = [
        _rnn_node(H),
        helper.make_node("Constant", [], ["axes"], value=axes),
        helper.make_node("Squeeze", ["Y_h", "axes"], ["h_T"]),
        *_head_nodes("h_T"),
    ]
    inputs = {**_rnn_inputs(T, B, D, H), "W_out": (H, K), "b_out": (K,)}
    return _model("rnn_classifier", nodes, inputs, {"p": (B, K)}, dtype)


def softmax_graph(dtype: str, *, op: str, T: int, B: int, C: int) -> onnx.ModelProto:
    """``out = op(y, axis=-1)`` for ``op`` ``Softmax`` or ``LogSoftmax``."""
    node = helper.make_node(op, ["y"], ["out"], axis=-1)
    return _model(op.lower(), [node], {"y": (T, B, C)}, {"out": (T, B, C)}, dtype)


BUILDERS: dict[str, Builder] = {
    "lstm-forward": functools.partial(lstm_graph, direction="forward"),
    "lstm-reverse": functools.partial(lstm_graph, direction="reverse"),
    "lstm-bidirectional": functools.partial(lstm_graph, direction="bidirectional"),
    "rnn": rnn_graph,
    "classifier": classifier_graph,
    "rnn-classifier": rnn_classifier_graph,
    "softmax": functools.partial(softmax_graph, op="Softmax"),
    "log-softmax": functools.partial(softmax_graph, op="LogSoftmax"),
}
"""Every graph kind by name: ``builder(dtype, **sizes)``."""


def session_options() -> onnxruntime.SessionOptions:
    """Sequential execution, :data:`THREADS` intra-op threads that do not spin when idle,
    warnings off (onnxruntime logs a failing node on stderr besides raising)."""
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = THREADS
    options.inter_op_num_threads = 1
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    options.log_severity_level = 3
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return options


@functools.lru_cache(maxsize=256)
def session(
    kind: str, dtype: str, sizes: tuple[tuple[str, int], ...]
) -> onnxruntime.InferenceSession:
    """The session of graph ``kind`` in ``dtype`` at ``sizes``, built once.

    The key holds no array values: weights are inputs of the graph, fed on every run.
    """
    model = BUILDERS[kind](dtype, **dict(sizes))
    return onnxruntime.InferenceSession(
        model.SerializeToString(), session_options(), providers=[PROVIDER]
    )


def run(
    kind: str, dtype: str, sizes: Mapping[str, int], feeds: Mapping[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """Every output of graph ``kind`` by name, fed ``feeds`` (C-contiguous, never written)."""
    s = session(kind, dtype, tuple(sorted(sizes.items())))
    names = [o.name for o in s.get_outputs()]
    given = {name: np.ascontiguousarray(value, dtype=dtype) for name, value in feeds.items()}
    return dict(zip(names, s.run(names, given), strict=True))


def float_dtype(inputs: Arrays) -> str:
    """The dtype under test: that of the float inputs (``float32`` or ``float64``)."""
    kinds = {a.dtype.name for a in inputs.values() if a.dtype.kind == "f"}
    if len(kinds) != 1:
        raise TypeError(f"expected float inputs of one dtype, got {sorted(kinds) or 'none'}")
    return kinds.pop()


def kernel(
    forward: Callable[[Arrays, str], dict[str, np.ndarray]],
    dtypes: tuple[str, ...] = DTYPES,
    reason: str = "",
) -> Kernel:
    """A forward-only kernel declaring ``dtypes``; ``forward(inputs, dtype)``.

    Called in another dtype anyway (by a harness that does not read the declaration),
    it raises NotImplementedError with ``reason`` instead of handing onnxruntime a graph
    it cannot run, and never casts.
    """

    def guarded(inputs: Arrays) -> dict[str, np.ndarray]:
        dtype = float_dtype(inputs)
        if dtype not in dtypes:
            raise NotImplementedError(f"{reason} (given {dtype})")
        return forward(inputs, dtype)

    guarded.__doc__ = forward.__doc__
    return Kernel(guarded, dtypes=dtypes, reason=reason)
