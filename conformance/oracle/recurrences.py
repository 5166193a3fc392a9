"""The recurrence primitives of the language: ``scan`` over time and ``tree`` bottom-up.

Both apply a step spec (a :class:`~conformance.oracle.calls.SpecFunction`) repeatedly,
carrying each role-"state" input through its ``next`` output.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from conformance.errors import EvaluationError
from conformance.oracle.calls import SpecFunction
from conformance.typing import Array

CarryRule = Callable[[str, Any, Any], Any]
"""How a carried state reaches the next step: (state, its initial value, the step's output
that carries it) → the value the next step gets. The language's ``scan`` carries the
output itself; the diagnosis tries others (the initial value again, a detached value)."""
LinkRule = Callable[[str, Any], Any]
"""How a child's state reaches its parent in a ``tree``: (state, the child's value) → the
value the parent gets."""


def scan(
    step: SpecFunction, *, _scope: Mapping[str, Any], reverse: bool = False, **given: Any
) -> tuple:
    """Apply the ``step`` spec along axis 0 of its role-"input" arguments.

    Role-"state" inputs are carried: each state's ``next`` output feeds the next step.
    Parameters are constant. With ``reverse=True`` the steps run from the last index to
    the first, and each step's outputs are stored at that step's own index.

    :return: every output of ``step`` stacked over time (declared order), then the final
        value of every state (declared order).
    """
    return scan_carrying(step, None, _scope=_scope, reverse=reverse, **given)


scan.takes_scope = True  # type: ignore[attr-defined]


def scan_carrying(
    step: SpecFunction,
    rule: CarryRule | None,
    *,
    _scope: Mapping[str, Any],
    reverse: bool = False,
    **given: Any,
) -> tuple:
    """:func:`scan`, with each carried state passed on by ``rule`` (None: as the language
    does, the step's output itself)."""
    if not isinstance(step, SpecFunction):
        raise EvaluationError("scan: the first argument must be a spec, e.g. scan(lstm.cell, ...)")
    spec = step.spec
    bound = step.bind(_scope, given)
    sequences = [s.name for s in spec.input_symbols if s.role == "input"]
    states = [s for s in spec.input_symbols if s.role == "state"]
    for s in states:
        if s.next not in spec.outputs:
            raise EvaluationError(
                f"scan({spec.id}): state {s.name!r} needs 'next' naming one of its outputs "
                f"({', '.join(spec.outputs)}), has {s.next!r}"
            )
    if not sequences:
        raise EvaluationError(
            f"scan({spec.id}): the step spec has no role-'input' symbol to scan over"
        )
    lengths = {np.shape(bound[n])[0] for n in sequences}
    if len(lengths) != 1:
        raise EvaluationError(f"scan({spec.id}): sequences of different lengths {sorted(lengths)}")
    steps = range(lengths.pop())
    final = {s.name: bound[s.name] for s in states}
    carry = dict(final)
    stacked: dict[str, list[Array]] = {o: [] for o in spec.outputs}
    for t in reversed(steps) if reverse else steps:
        inputs = {**bound, **carry, **{n: bound[n][t] for n in sequences}}
        outputs = step.oracle.evaluate(spec, inputs)
        for name in spec.outputs:
            stacked[name].append(outputs[name])
        final = {s.name: outputs[str(s.next)] for s in states}
        carry = final if rule is None else {n: rule(n, bound[n], v) for n, v in final.items()}
    order = slice(None, None, -1) if reverse else slice(None)
    return (
        *(np.stack(stacked[o][order]) for o in spec.outputs),
        *(final[s.name] for s in states),
    )


def tree(step: SpecFunction, *, _scope: Mapping[str, Any], children: Array, **given: Any) -> tuple:
    """Apply the ``step`` spec bottom-up over a binary tree (post-order).

    Nodes are numbered in one table: 0 … L−1 are the leaves, L + n is internal node n,
    and ``children[n] = (left, right)`` indexes that table with both children before
    their parent (left, right < L + n), so index order is post-order and the last node
    is the root. Each carried output o of ``step`` (the ``next`` of its role-"state"
    inputs) takes its leaf values from the keyword ``o=`` (shape (L, …)). Every carried
    output has exactly two states: the first declared takes it from the left child,
    the second from the right. Parameters are constant, bound by name from the scope.

    :return: every output of ``step`` stacked over the internal nodes (declared order).
    """
    return tree_linking(step, None, _scope=_scope, children=children, **given)


tree.takes_scope = True  # type: ignore[attr-defined]


def tree_linking(
    step: SpecFunction,
    rule: LinkRule | None,
    *,
    _scope: Mapping[str, Any],
    children: Array,
    **given: Any,
) -> tuple:
    """:func:`tree`, with each child's state passed to its parent by ``rule`` (None: as is)."""
    if not isinstance(step, SpecFunction):
        raise EvaluationError("tree: the first argument must be a spec, e.g. tree(slstm.cell, ...)")
    spec = step.spec
    where = f"tree({spec.id})"
    states = [s for s in spec.input_symbols if s.role == "state"]
    carried = [str(o) for o in dict.fromkeys(s.next for s in states)]
    pairs = {o: [s.name for s in states if s.next == o] for o in carried}
    unpaired = any(len(p) != 2 for p in pairs.values()) or any(s.next is None for s in states)
    if not states or unpaired:
        raise EvaluationError(
            f"{where}: needs two role-'state' inputs (left, right) per carried output, "
            f"has {', '.join(f'{s.name} -> {s.next}' for s in states) or 'none'}"
        )
    if any(s.role == "input" for s in spec.input_symbols):
        raise EvaluationError(f"{where}: role-'input' symbols are not supported in a tree step")
    missing = [o for o in carried if o not in given]
    if missing:
        raise EvaluationError(
            f"{where}: no leaf values for {', '.join(missing)} (pass {missing[0]}=...)"
        )
    leaves = {o: given.pop(o) for o in carried}
    pinned = {n: None for pair in pairs.values() for n in pair}  # bound per node below
    if set(given) & set(pinned):
        raise EvaluationError(
            f"{where}: {', '.join(sorted(set(given) & set(pinned)))} come(s) from the children; "
            f"pass leaf values as {', '.join(f'{o}=...' for o in carried)}"
        )
    params = step.bind({**_scope, **pinned}, given)
    table = {o: list(leaves[o]) for o in carried}
    links = _tree_links(np.asarray(children), len(table[carried[0]]), where)
    stacked: dict[str, list[Array]] = {o: [] for o in spec.outputs}
    for left, right in links:
        inputs = dict(params)
        for o, (to_left, to_right) in pairs.items():
            inputs[to_left], inputs[to_right] = table[o][left], table[o][right]
            if rule is not None:
                inputs[to_left], inputs[to_right] = (
                    rule(to_left, inputs[to_left]),
                    rule(to_right, inputs[to_right]),
                )
        outputs = step.oracle.evaluate(spec, inputs)
        for o in spec.outputs:
            stacked[o].append(outputs[o])
        for o in carried:
            table[o].append(outputs[o])
    return tuple(np.stack(stacked[o]) for o in spec.outputs)


def _tree_links(children: Array, leaves: int, where: str) -> list[tuple[int, int]]:
    """``children`` as (left, right) pairs, after checking that it is one post-order tree."""
    if (
        children.ndim != 2
        or children.shape[1] != 2
        or not np.issubdtype(children.dtype, np.integer)
    ):
        raise EvaluationError(
            f"{where}: children should be integers of shape (N, 2), got {children.shape}"
        )
    N = children.shape[0]
    if N == 0 or leaves != N + 1:
        raise EvaluationError(
            f"{where}: {N} internal node(s) need {N + 1} leaves, got {leaves} (N ≥ 1, L = N + 1)"
        )
    seen: set[int] = set()
    for n, (left, right) in enumerate(children.tolist()):
        for child in (left, right):
            if not 0 <= child < leaves + n:
                raise EvaluationError(
                    f"{where}: children[{n}] = {[left, right]}: {child} is not a node before "
                    f"internal node {n} (table index {leaves + n})"
                )
            if child in seen:
                raise EvaluationError(f"{where}: node {child} is a child twice (at children[{n}])")
            seen.add(child)
    return [(int(left), int(right)) for left, right in children.tolist()]
