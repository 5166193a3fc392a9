"""The ``notebook-lstm`` backend: the spec's canonical LSTM mapped onto ``LSTMCell``.

The spec (``specs/lstm.toml``) and the notebook disagree on layout, and the adapter,
not the model, converts:

- spec weights ``W_f``… are (H, H + D) on ``concat(h_prev, x)``, the recurrent block
  first; the notebook's ``Wf``… are (H, D + H) on ``np.vstack([x, h])``, the input
  block first. ``conformance.layout.split_concat``/``join_concat`` swap the column
  blocks, both ways (weights in, weight gradients out);
- spec biases are (H,), the notebook's (H, 1) columns;
- spec arrays are batch rows (B, ·); the notebook takes one (·, 1) column at a time, so
  the adapter turns each batch into columns (``to_columns``) and loops over the rows.

Declared: ``lstm.cell`` with forward and VJP (the notebook's ``backward`` returns
every gradient the spec checks: x, h_prev, c_prev and the weights and biases), in
float32 and float64 (the notebook never creates an array of its own dtype, so float32
stays float32). The four gates, forward only: the notebook computes each gate inside
``forward`` and keeps it, but its ``backward`` starts from (dh, dc), not from one gate.
``lstm.cell_state`` and ``lstm.hidden_state`` take gate values, which the notebook's
API has no way to be given, so they are not implemented.
"""

from __future__ import annotations

import numpy as np

from conformance import Backend, Kernel, hookimpl
from conformance.layout import from_columns, join_concat, split_concat, to_columns
from notebook_lstm.cell import LSTMCell

__version__ = "0.1.0"

GATES = {
    # gate: (spec weight, spec bias, spec output, notebook weight, bias, forward attribute)
    "f": ("W_f", "b_f", "f", "Wf", "bf", "f"),
    "i": ("W_i", "b_i", "i", "Wi", "bi", "i"),
    "c": ("W_c", "b_c", "g", "Wc", "bc", "c_tilde"),
    "o": ("W_o", "b_o", "o", "Wo", "bo", "o"),
}


def _notebook_cell(inputs, gates="fico"):
    """An ``LSTMCell`` carrying the spec's weights for ``gates``, in the notebook's layout."""
    D, H = inputs["x"].shape[1], inputs["h_prev"].shape[1]
    cell = LSTMCell(D, H)
    for gate in gates:
        weight, bias, _, nb_weight, nb_bias, _ = GATES[gate]
        W_h, W_x = split_concat(inputs[weight], H, order="hx")
        setattr(cell, nb_weight, join_concat(W_h, W_x, order="xh"))
        setattr(cell, nb_bias, inputs[bias][:, None])
    return cell


def _rows(inputs, *names):
    """Each batch row of the named (B, n) inputs as (n, 1) columns, row by row."""
    return zip(*(to_columns(inputs[name]) for name in names), strict=True)


def cell_forward(inputs):
    cell = _notebook_cell(inputs)
    hs, cs = [], []
    for x, h_prev, c_prev in _rows(inputs, "x", "h_prev", "c_prev"):
        h, c = cell.forward(x, h_prev, c_prev)
        hs.append(h)
        cs.append(c)
    return {"h": from_columns(np.stack(hs)), "c": from_columns(np.stack(cs))}


def cell_vjp(inputs, cotangents):
    cell = _notebook_cell(inputs)
    D = inputs["x"].shape[1]
    per_row = {"x": [], "h_prev": [], "c_prev": []}
    summed = {}  # the weights and biases are shared by the rows: their gradients add up
    rows = zip(_rows(inputs, "x", "h_prev", "c_prev"), _rows(cotangents, "h", "c"), strict=True)
    for (x, h_prev, c_prev), (dh, dc) in rows:
        cell.forward(x, h_prev, c_prev)
        grads = cell.backward(dh, dc)
        for name, columns in per_row.items():
            columns.append(grads["d" + name])
        for key in grads.keys() - {"dx", "dh_prev", "dc_prev"}:
            summed[key] = summed.get(key, 0) + grads[key]
    out = {name: from_columns(np.stack(columns)) for name, columns in per_row.items()}
    for weight, bias, _, nb_weight, nb_bias, _ in GATES.values():
        dW_h, dW_x = split_concat(summed["d" + nb_weight], D, order="xh")
        out[weight] = join_concat(dW_h, dW_x, order="hx")
        out[bias] = summed["d" + nb_bias][:, 0]
    return out


def gate_kernel(gate):
    """The notebook's value of one gate: its ``forward``, carrying only that gate's weights."""
    _, _, output, _, _, attribute = GATES[gate]

    def forward(inputs):
        cell = _notebook_cell(inputs, gates=gate)
        values = []
        for x, h_prev in _rows(inputs, "x", "h_prev"):
            cell.forward(x, h_prev, np.zeros_like(h_prev))  # c_prev: no gate depends on it
            values.append(getattr(cell, attribute))
        return {output: from_columns(np.stack(values))}

    return Kernel(forward, reason="the notebook's backward starts from (dh, dc), not one gate")


KERNELS = {
    "lstm.cell": Kernel(cell_forward, cell_vjp),
    "lstm.forget_gate": gate_kernel("f"),
    "lstm.input_gate": gate_kernel("i"),
    "lstm.candidate": gate_kernel("c"),
    "lstm.output_gate": gate_kernel("o"),
}


@hookimpl
def conformance_register_backends(register):
    register.add(
        Backend(
            name="notebook-lstm",
            version=__version__,
            description="A tutorial-notebook LSTMCell (column vectors, W on [x; h]), adapted.",
            kernels=KERNELS,
        )
    )
