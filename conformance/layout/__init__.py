"""Conversions between the specs' canonical layout and the layouts frameworks use.

The specs (``specs/*.toml``) fix one layout, and a backend whose framework stores its
weights or arrays differently converts inside its own adapter. These are the
conversions, in NumPy only, each a pure function that never writes into its arguments.

The canonical layout:

- **Gates** in the order i, f, g, o (:data:`GATES`): input gate, forget gate, candidate
  c̃ (called ``g`` here and ``c`` in the spec's weight names ``W_c``, ``b_c``), output gate.
- **Gate weights** ``W_*`` of shape (H, H + D) act on the concatenation
  ``concat(h_prev, x)``, the recurrent block first: ``W = [W_h | W_x]`` with
  W_h (H, H) and W_x (H, D), so that ``concat(h, x) @ W.T = h @ W_h.T + x @ W_x.T``.
- **One bias per gate**, ``b_*`` of shape (H,).
- **Batch rows**: x is (B, D), h and c are (B, H); **sequences time-major**: xs is
  (T, B, D), hs is (T, B, H).
- **Bidirectional outputs** as two arrays, ``h_fwd`` and ``h_bwd``, each (T, B, H),
  ``h_bwd[t]`` being the state after reading x_T … x_t.

Frameworks stack the four gates' weights into one matrix (rows ``[W_i; W_f; W_g; W_o]``
in PyTorch, ``[W_i; W_o; W_f; W_c]`` in ONNX), keep the input and recurrent blocks
apart (W_ih (4H, D), W_hh (4H, H)), carry two biases (b_ih + b_hh), put a
layers × directions axis in front of states, and concatenate the two directions'
outputs on the feature axis. Each function below is one of those steps, and its inverse.

Every function checks the shapes it relies on and raises ValueError naming the function,
the argument and the shape it got.
"""

from __future__ import annotations

from conformance.layout._common import GATES
from conformance.layout.axes import (
    add_state_axis,
    batch_first,
    drop_state_axis,
    from_columns,
    join_directions,
    split_directions,
    time_major,
    to_columns,
)
from conformance.layout.gates import (
    join_concat,
    split_bias,
    split_concat,
    split_gates,
    stack_gates,
    sum_biases,
)
from conformance.layout.lstm import lstm_to_stacked, stacked_to_lstm

__all__ = [
    "GATES",
    "add_state_axis",
    "batch_first",
    "drop_state_axis",
    "from_columns",
    "join_concat",
    "join_directions",
    "lstm_to_stacked",
    "split_bias",
    "split_concat",
    "split_directions",
    "split_gates",
    "stack_gates",
    "stacked_to_lstm",
    "sum_biases",
    "time_major",
    "to_columns",
]
