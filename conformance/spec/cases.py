"""What must hold at every size a spec declares, checked when the spec loads.

At each entry of ``sizes``, every symbol's shape must be whole numbers >= 0 with at
most :data:`MAX_ELEMENTS` elements, and every input's domain (and stability domain)
must draw. A spec that passes here can be drawn at all its sizes in bounded memory,
so a wrong shape (``D - 10``) or domain (``uniform(1, 0)``) is a :class:`SpecError`
naming the file, spec and size, not a crash of every backend's checks later.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from conformance.errors import ExpressionError, SpecError
from conformance.lang.interpreter import EVALUATION_ERRORS, Interpreter, describe_exception
from conformance.spec.draw import draw
from conformance.spec.model import Symbol
from conformance.typing import Sizes

_FAILURES: tuple[type[BaseException], ...] = (ExpressionError, *EVALUATION_ERRORS)

MAX_ELEMENTS = 1_000_000
"""Elements of one array at any declared size (8 MB in float64); the shipped specs' largest
array has 90. The oracle's element-wise gradient reference runs once per input element."""


def describe(sizes: Sizes) -> str:
    """``B=3, D=5, H=4``."""
    return ", ".join(f"{k}={v}" for k, v in sizes.items())


def check_cases(
    symbols: Mapping[str, Symbol],
    inputs: Sequence[str],
    sizes: Sequence[Sizes],
    stability: Mapping[str, str],
    file: str,
    where: str,
) -> None:
    """Every shape evaluates, and every domain draws, at every declared size."""
    for i, case in enumerate(sizes):
        field = f"{where}.sizes[{i}]"
        for symbol in symbols.values():
            shape = _shape(symbol, case, file, field)
            elements = int(np.prod(shape, dtype=object))
            if elements > MAX_ELEMENTS:
                dims = " × ".join(map(str, shape))
                raise SpecError(
                    f"{symbol.name} would have {elements} elements ({dims}) at {describe(case)}; "
                    f"an array has at most {MAX_ELEMENTS}",
                    file=file,
                    field=field,
                    hint="the sizes are test cases: keep them small",
                )
        rng = np.random.default_rng(0)
        for name in inputs:
            _draws(symbols[name], case, rng, None, file, field)
            if name in stability:
                _draws(symbols[name], case, rng, stability[name], file, f"{where}.stability")


def _shape(symbol: Symbol, sizes: Sizes, file: str, field: str) -> tuple[int, ...]:
    interpreter = Interpreter({}, {})
    shape = []
    for axis, (source, node) in enumerate(zip(symbol.shape, symbol.shape_ast, strict=True)):
        try:
            value = interpreter.eval(node, sizes)
        except _FAILURES as exc:
            problem = exc.problem if isinstance(exc, ExpressionError) else describe_exception(exc)
            raise SpecError(
                f"{symbol.name}.shape[{axis}] = {source!r} fails at {describe(sizes)}: {problem}",
                file=file,
                field=field,
            ) from None
        whole = isinstance(value, int | float) and float(value).is_integer() and value >= 0
        if not whole:
            raise SpecError(
                f"{symbol.name}.shape[{axis}] = {source!r} is {value!r} at {describe(sizes)}; "
                "a dimension must be a whole number >= 0",
                file=file,
                field=field,
            )
        shape.append(int(value))
    return tuple(shape)


def _draws(
    symbol: Symbol,
    sizes: Sizes,
    rng: np.random.Generator,
    domain: str | None,
    file: str,
    field: str,
) -> None:
    source = domain or symbol.domain
    try:
        with np.errstate(all="ignore"):
            draw(symbol, sizes, rng, domain)
    except _FAILURES as exc:
        problem = exc.problem if isinstance(exc, ExpressionError) else describe_exception(exc)
        raise SpecError(
            f"cannot draw {symbol.name} from {source!r} at {describe(sizes)}: {problem}",
            file=file,
            field=field,
        ) from None
