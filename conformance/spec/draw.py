"""Drawing a spec's inputs: concrete shapes from sizes, values from domains, seeded.

Values are drawn in float64 and rounded to the dtype under test; the oracle then
sees exactly the rounded values, so only a backend's own arithmetic is measured.
Every symbol gets its own draw, so each gate has its own weights and a swapped
gate or a transposed weight cannot pass by accident.
"""

from __future__ import annotations

import ast
import functools
import math
import zlib
from collections.abc import Mapping
from typing import Any

import numpy as np

from conformance.lang.interpreter import Interpreter
from conformance.lang.parse import parse_expression
from conformance.spec.model import Spec, Symbol
from conformance.typing import Array, Sizes


def shape_of(symbol: Symbol, sizes: Sizes) -> tuple[int, ...]:
    """The concrete shape of ``symbol`` at ``sizes`` (``("H", "H + D")`` → ``(4, 9)``)."""
    interpreter = Interpreter({}, {})
    return tuple(int(interpreter.eval(node, sizes)) for node in symbol.shape_ast)


def case_rng(seed: int, spec_id: str, case: int, stream: str = "inputs") -> np.random.Generator:
    """The generator for one case: a pure function of the seed, spec, case index and stream."""
    return np.random.default_rng(
        [seed, zlib.crc32(spec_id.encode()), case, zlib.crc32(stream.encode())]
    )


def _require(holds: bool, problem: str) -> None:
    """A domain's arguments are checked before drawing, so a bad one is named plainly."""
    if not holds:
        raise ValueError(problem)


def _finite(*values: Any) -> bool:
    """Whether every value is one real, finite number."""
    for v in values:
        if isinstance(v, int | float):  # bool and Python numbers: the usual case, and fast
            if not math.isfinite(v):
                return False
        elif not (np.ndim(v) == 0 and np.isrealobj(v) and bool(np.isfinite(v))):
            return False
    return True


def _domain_functions(rng: np.random.Generator, shape: tuple[int, ...]) -> dict[str, Any]:
    def normal(mean: float = 0.0, std: float = 1.0) -> Array:
        _require(_finite(mean, std) and std >= 0, f"normal({mean}, {std}): std must be >= 0")
        return rng.normal(mean, std, shape)

    def uniform(low: float = -1.0, high: float = 1.0) -> Array:
        _require(_finite(low, high) and low <= high, f"uniform({low}, {high}): low > high")
        return rng.uniform(low, high, shape)

    def integers(low: int, high: int) -> Array:
        _require(_finite(low, high) and low < high, f"integers({low}, {high}): low >= high")
        return rng.integers(low, high, shape, dtype=np.int64)

    def extreme(scale: float = 1e3) -> Array:
        """Values of magnitude scale/2..scale with random signs: saturating inputs."""
        _require(_finite(scale) and scale > 0, f"extreme({scale}): scale must be > 0")
        return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.5 * scale, scale, shape)

    def binary_tree() -> Array:
        """A random binary tree over L = N + 1 leaves, as (N, 2) post-order child indices.

        Leaves are nodes 0 … L−1 and internal node n is L + n. Each internal node in turn
        joins two nodes drawn from those not yet joined (left and right in random order),
        so children come before parents, the last node is the root, and every shape
        (balanced, left- or right-deep) can come out.
        """
        if len(shape) != 2 or shape[1] != 2 or shape[0] < 1:
            raise ValueError(f"binary_tree() draws shape (N, 2) with N >= 1, not {shape}")
        N = shape[0]
        roots = list(range(N + 1))
        children = np.empty(shape, dtype=np.int64)
        for n in range(N):
            picked = rng.choice(len(roots), size=2, replace=False)
            children[n] = [roots[k] for k in picked]
            roots = [r for k, r in enumerate(roots) if k not in picked] + [N + 1 + n]
        return children

    def cycle(low: int, high: int) -> Array:
        """low, low + 1, …, high − 1, low, … along the array in C order, without randomness.

        Every value is sure to appear once the array has high − low elements (CTC target
        lengths 0 … S, the empty target included), whatever the seed.
        """
        _require(_finite(low, high) and low < high, f"cycle({low}, {high}): low >= high")
        return low + np.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape) % (high - low)

    return {
        "binary_tree": binary_tree,
        "cycle": cycle,
        "normal": normal,
        "uniform": uniform,
        "extreme": extreme,
        "integers": integers,
    }


DOMAIN_FUNCTIONS = frozenset(_domain_functions(np.random.default_rng(0), ()))
"""The functions a symbol's ``domain`` may call (``normal(0, 1)``, ``extreme(1000)``, …)."""


@functools.lru_cache(maxsize=1024)
def _parse_domain(source: str, where: str) -> ast.expr:
    """A domain's AST, parsed once per distinct string (drawing is on every check's path)."""
    return parse_expression(source, where=where)


def draw(
    symbol: Symbol, sizes: Sizes, rng: np.random.Generator, domain: str | None = None
) -> Array:
    """One array for ``symbol`` at ``sizes``, drawn from its domain (or ``domain``)."""
    shape = shape_of(symbol, sizes)
    node = _parse_domain(domain or symbol.domain, f"symbols.{symbol.name}.domain")
    value = Interpreter(_domain_functions(rng, shape), {}).eval(node, dict(sizes))
    return np.broadcast_to(np.asarray(value), shape).copy()


def draw_inputs(
    spec: Spec,
    sizes: Sizes,
    *,
    dtype: str = "float64",
    rng: np.random.Generator,
    domains: Mapping[str, str] | None = None,
) -> dict[str, Array]:
    """Every input of ``spec`` at ``sizes``, float ones rounded to ``dtype``."""
    domains = domains or {}
    arrays = {}
    for symbol in spec.input_symbols:
        value = draw(symbol, sizes, rng, domains.get(symbol.name))
        arrays[symbol.name] = value.astype(np.int64 if symbol.kind == "int" else dtype)
    return arrays


def draw_cotangents(
    spec: Spec, sizes: Sizes, *, dtype: str, rng: np.random.Generator
) -> dict[str, Array]:
    """A random cotangent for each float output: the ``u`` in the VJP gᵀ = uᵀJ."""
    return {
        s.name: rng.normal(0.0, 1.0, shape_of(s, sizes)).astype(dtype)
        for s in spec.output_symbols
        if s.kind == "float"
    }
