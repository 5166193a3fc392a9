"""Variants of a spec: what one plausible mistake would compute, and which rules make them.

A :class:`Variant` is the failing spec with one change somewhere in its call tree: the
spec itself or a spec it calls (``lstm.cell`` calls ``lstm.forget_gate``;
``lstm.sequence`` scans ``lstm.cell``) gets new equations, and the oracle evaluates the
whole tree with that callee replaced. :func:`variants_of` applies every rule to every
spec of the tree, in order of how common the mistake is, drops duplicates, and stops at
:data:`MAX_VARIANTS`. The rules read only the spec's symbols and expression trees, so a
new spec gets its variants for free.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from conformance.lang.parse import dotted_name
from conformance.spec.model import Spec
from conformance.typing import Array, Sizes

MAX_VARIANTS = 200
"""At most this many variants are evaluated for one failure."""

OutputMap = Callable[[dict[str, Array], Sizes], dict[str, Array]]
"""A change to the outputs of the failing spec itself (flipped in time, scaled)."""


@dataclass(frozen=True)
class Variant:
    """The failing spec with one change.

    :ivar rule: the rule that made it (``swap``, ``transpose``, ``activation``, …).
    :ivar change: what changed, readable after "with": ``W_f and W_i swapped``.
    :ivar spec: the spec whose equations changed (the failing one or a callee).
    :ivar replaced: the changed specs by id; every other spec is the catalog's.
    :ivar outputs: a change to the failing spec's outputs, applied after evaluation.
    :ivar gradient_only: the change keeps every value and alters only derivatives
        (a slope taken at the wrong point, a detached term), so only a gradient can show it.
    :ivar key: what makes two variants the same, whichever spec of the tree made them.
    """

    rule: str
    change: str
    spec: str
    replaced: Mapping[str, Spec] = field(default_factory=dict)
    outputs: OutputMap | None = None
    gradient_only: bool = False
    key: tuple = ()
    tier: int = 0
    """Its rule's rank: the search stops after the first tier with a match."""
    pattern: str = ""
    """The change without its place (``sigmoid in place of tanh``), for :func:`everywhere`."""

    def describe(self, top: str) -> str:
        """``lstm.cell with W_f and W_i swapped``; a callee's change says where it is."""
        where = "" if self.spec == top else f" in {self.spec}"
        return f"{top} with {self.change}{where}"


Rule = Callable[[Spec, Mapping[str, Spec], bool], Iterable[Variant]]
"""(a spec of the tree, the catalog, whether it is the failing spec itself) → variants."""


def call_tree(spec: Spec, specs: Mapping[str, Spec]) -> list[Spec]:
    """``spec`` and every spec it calls, directly or through ``scan``/``tree``, outer first."""
    order, queue = [spec.id], [spec]
    while queue:
        current = queue.pop(0)
        for statement in current.equations:
            for node in ast.walk(statement.expr):
                name = dotted_name(node) if isinstance(node, ast.Attribute) else None
                if name is not None and name in specs and name not in order:
                    order.append(name)
                    queue.append(specs[name])
    return [specs[i] for i in order]


def variants_of(
    spec: Spec,
    specs: Mapping[str, Spec],
    tiers: Iterable[Iterable[Rule]],
    *,
    limit: int = MAX_VARIANTS,
) -> list[Variant]:
    """Every variant the rules make of ``spec``'s call tree, tier by tier, at most ``limit``.

    Within a tier every spec of the tree is visited, outer first, so that the failing
    spec's own variants come before its callees'; a variant whose ``key`` was already
    made (the same two weights swapped at two levels) is dropped.
    """
    tree = call_tree(spec, specs)
    found: list[Variant] = []
    seen: set[tuple] = set()
    for tier in tiers:
        made = list(_tier(tree, specs, spec.id, list(tier)))
        for variant in everywhere(made, spec.id) + made:
            if variant.key and variant.key in seen:
                continue
            seen.add(variant.key)
            found.append(variant)
            if len(found) >= limit:
                return found
    return found


def everywhere(variants: list[Variant], top: str) -> list[Variant]:
    """The same change made in every spec where a rule made it, as one variant.

    A backend that concatenates [x, h] does so in every gate: that is one variant with
    ``concat(x, h_prev)`` in each of the four gate specs, not four variants of one gate.
    Only changes in distinct specs combine (one per spec, the first).
    """
    groups: dict[tuple[str, str], dict[str, Variant]] = {}
    for v in variants:
        if v.pattern and v.replaced and not v.outputs:
            groups.setdefault((v.rule, v.pattern), {}).setdefault(v.spec, v)
    combined = []
    for (rule, pattern), members in groups.items():
        if len(members) < 2:
            continue
        names = ", ".join(members)
        first = next(iter(members.values()))
        combined.append(
            Variant(
                rule,
                f"{pattern} in each of {names}",
                top,
                {k: s for v in members.values() for k, s in v.replaced.items()},
                gradient_only=first.gradient_only,
                key=("everywhere", rule, pattern, tuple(members)),
            )
        )
    return combined


def _tier(
    tree: list[Spec], specs: Mapping[str, Spec], top: str, rules: list[Rule]
) -> Iterator[Variant]:
    for rule in rules:
        for member in tree:
            yield from rule(member, specs, member.id == top)
