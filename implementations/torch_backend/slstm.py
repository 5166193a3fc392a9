"""``torch``: the S-LSTM (Zhu, Sobhani & Guo 2015) written with torch operators.

PyTorch has no S-LSTM module, so every equation is torch operators on the spec's own
layout: each source s (h^L, h^R, c^L, c^R, or the new c for the output gate) reaches a
gate through its own (H, H) weight, ``F.linear(s, W_g_s)``. The tree runs the cell over
the node table in index (post-)order; autograd differentiates through it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F  # noqa: N812 (the torch idiom)

from conformance import Kernel
from implementations.torch_backend._adapter import Adapter, Tensors

CHILDREN = ("h_L", "h_R", "c_L", "c_R")
"""What the input and forget gates see: both children's hidden and cell states."""
HIDDEN = ("h_L", "h_R")
"""What the cell input x_t sees: the children's hidden states."""
OUTPUT = ("h_L", "h_R", "c")
"""What the output gate sees: the children's hidden states and the node's new c_t."""
SUFFIX = {"h_L": "Lh", "h_R": "Rh", "c_L": "Lc", "c_R": "Rc", "c": "c"}
"""Source symbol → the subscript of its weight: W_i_Lh is the input gate's on h^L."""
GATES = {"i": CHILDREN, "fL": CHILDREN, "fR": CHILDREN, "x": HIDDEN, "o": OUTPUT}
"""Every gate's sources, by the gate's name in its weights (W_fL_*, b_fL, …)."""

Activation = Callable[[torch.Tensor], torch.Tensor]


def _affine(t: Tensors, gate: str, sources: Sequence[str]) -> torch.Tensor:
    """a_g = Σ_s F.linear(s, W_g_s) + b_g over the gate's sources."""
    a = t[f"b_{gate}"] + F.linear(t[sources[0]], t[f"W_{gate}_{SUFFIX[sources[0]]}"])
    for s in sources[1:]:
        a = a + F.linear(t[s], t[f"W_{gate}_{SUFFIX[s]}"])
    return a


def _gate_kernel(gate: str, out: str, act: Activation | None) -> Kernel:
    """The kernel for one gate, ``out = act(a_g)`` (the affine map itself for x_t)."""
    sources = GATES[gate]

    def call(t: Tensors) -> dict[str, torch.Tensor]:
        a = _affine(t, gate, sources)
        return {out: a if act is None else act(a)}

    return Adapter(call).kernel()


def _cell_state(t: Tensors) -> dict[str, torch.Tensor]:
    """c_t = f^L ⊙ c^L + f^R ⊙ c^R + i ⊙ tanh(x_t)."""
    return {"c": t["f_L"] * t["c_L"] + t["f_R"] * t["c_R"] + t["i"] * torch.tanh(t["x"])}


def _hidden_state(t: Tensors) -> dict[str, torch.Tensor]:
    """h_t = o ⊙ tanh(c_t)."""
    return {"h": t["o"] * torch.tanh(t["c"])}


def node(t: Tensors, children: Tensors) -> tuple[torch.Tensor, torch.Tensor]:
    """One memory block, eqs. (1)-(7): (h, c) from the children's (h^L, c^L, h^R, c^R) in
    ``children`` and the weights in ``t``; the output gate sees the new c."""
    both = {**t, **children}
    i = torch.sigmoid(_affine(both, "i", CHILDREN))
    f_L = torch.sigmoid(_affine(both, "fL", CHILDREN))
    f_R = torch.sigmoid(_affine(both, "fR", CHILDREN))
    x = _affine(both, "x", HIDDEN)
    c = f_L * children["c_L"] + f_R * children["c_R"] + i * torch.tanh(x)
    o = torch.sigmoid(_affine({**both, "c": c}, "o", OUTPUT))
    return o * torch.tanh(c), c


def _cell(t: Tensors) -> dict[str, torch.Tensor]:
    """The memory block of one node."""
    h, c = node(t, {name: t[name] for name in CHILDREN})
    return {"h": h, "c": c}


def _tree(t: Tensors) -> dict[str, torch.Tensor]:
    """The cell bottom-up over the node table: leaves 0 … L−1, internal node n at L + n
    with children ``children[n]`` (both before it), the root last."""
    hs, cs = list(t["leaf_h"].unbind(0)), list(t["leaf_c"].unbind(0))
    for left, right in t["children"].tolist():
        h, c = node(t, {"h_L": hs[left], "c_L": cs[left], "h_R": hs[right], "c_R": cs[right]})
        hs.append(h)
        cs.append(c)
    leaves = t["leaf_h"].shape[0]
    h_nodes, c_nodes = torch.stack(hs[leaves:]), torch.stack(cs[leaves:])
    return {"h_nodes": h_nodes, "c_nodes": c_nodes, "h_root": h_nodes[-1]}


KERNELS: dict[str, Kernel] = {
    "slstm.input_gate": _gate_kernel("i", "i", torch.sigmoid),
    "slstm.forget_gate_left": _gate_kernel("fL", "f_L", torch.sigmoid),
    "slstm.forget_gate_right": _gate_kernel("fR", "f_R", torch.sigmoid),
    "slstm.cell_input": _gate_kernel("x", "x", None),
    "slstm.cell_state": Adapter(_cell_state).kernel(),
    "slstm.output_gate": _gate_kernel("o", "o", torch.sigmoid),
    "slstm.hidden_state": Adapter(_hidden_state).kernel(),
    "slstm.cell": Adapter(_cell).kernel(),
    "slstm.tree": Adapter(_tree).kernel(),
}
