"""Size profiles: which sizes a run checks each spec at.

- ``quick``: a spec's ``sizes``, tiny cases that run in seconds (the default, and CI's);
- ``realistic``: its ``profiles.realistic`` sizes, those of real models (B = 16–64,
  D, H = 64–512, T = 50–100), where a fixed float32 tolerance would fail a correct
  kernel and a bug of a blocked loop or a tile first shows;
- ``awkward``: sizes drawn on purpose from where kernels go wrong: 1, primes, powers of
  two ± 1, one past common block widths (17, 33, 65, 129), B, D and H all different,
  T past 8; seeded by the run's seed, so the same seed draws the same sizes;
- explicit sizes, ``B=17,D=33,H=65``, for every selected spec: how a failure shrunk to
  its smallest sizes is re-run.

A spec without realistic sizes keeps its quick ones at ``realistic``. The profile a spec
was put at is in :attr:`Spec.profile`, and a result says it, so its re-run command
selects the same sizes.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace

import numpy as np

from conformance.errors import SpecError, UsageError
from conformance.spec.cases import check_cases
from conformance.spec.catalog import Catalog
from conformance.spec.draw import shape_of
from conformance.spec.model import Spec
from conformance.typing import Sizes

PROFILES = ("quick", "realistic", "awkward")
"""The named profiles, smallest first."""
_EXPLICIT = re.compile(r"^\s*[A-Za-z_]\w*\s*=\s*\d+\s*(,\s*[A-Za-z_]\w*\s*=\s*\d+\s*)*$")

AWKWARD_POOLS = (
    (2, 3, 5, 7, 11, 13),  # primes: no block width divides them
    (17, 31, 33, 63, 65, 127, 129),  # one past (or short of) a block width
    (1, 9, 17, 33),  # the edge of 1, and one past 8, 16 and 32
)
"""Each awkward case draws its sizes from one pool, in turn."""
AWKWARD_TIME = (9, 13, 17, 33)
"""A time axis (``T``) at ``awkward`` always goes past step 8."""
AWKWARD_ELEMENTS = 200_000
"""The most elements an array may have at an awkward case (the checks stay seconds)."""
DISTINCT = ("B", "D", "H")
"""Dimensions that must all differ at an awkward case: a swapped axis cannot pass."""


@dataclass(frozen=True)
class SizeChoice:
    """What sizes a run checks: a named profile, or the same explicit sizes for every spec.

    :ivar profile: one of :data:`PROFILES`, or ``explicit``.
    :ivar explicit: the sizes by dimension name, for ``explicit``; a spec takes those of
        its dimensions, and its first quick case's size for any not given.
    """

    profile: str = "quick"
    explicit: Mapping[str, int] | None = None

    def __str__(self) -> str:
        """``realistic``, or ``B=17,D=33`` (what ``--sizes`` takes)."""
        if self.explicit is None:
            return self.profile
        return ",".join(f"{k}={v}" for k, v in self.explicit.items())

    @property
    def quick(self) -> bool:
        return self.explicit is None and self.profile == "quick"


QUICK = SizeChoice()
SIZES_HELP = (
    "sizes to check at: quick (default: tiny cases, seconds), realistic (those of real "
    "models, minutes), awkward (1, primes, block widths + 1, seeded), or B=17,H=33 "
    "(explicit, as a shrunk failure's re-run gives)"
)
"""The help of ``--sizes`` and ``--conformance-sizes``."""


def parse_sizes(text: str) -> SizeChoice:
    """``quick``, ``realistic``, ``awkward`` or ``B=17,D=33,H=65``; UsageError otherwise."""
    value = text.strip()
    if value in PROFILES:
        return SizeChoice(value)
    if not _EXPLICIT.match(value):
        raise UsageError(
            f"--sizes {text!r}: give a profile ({', '.join(PROFILES)}) or sizes like B=17,H=33"
        )
    sizes: dict[str, int] = {}
    for part in value.split(","):
        name, size = (s.strip() for s in part.split("="))
        if name in sizes:
            raise UsageError(f"--sizes {text!r}: {name} is given twice")
        if int(size) < 1:
            raise UsageError(f"--sizes {text!r}: {name} = {size}; a size is an integer >= 1")
        sizes[name] = int(size)
    return SizeChoice("explicit", sizes)


def at_sizes(spec: Spec, choice: SizeChoice, seed: int = 0) -> Spec:
    """``spec`` with the sizes ``choice`` selects (itself at ``quick``).

    Explicit sizes are checked as a spec file's are (shapes, domains, the element bound),
    and a UsageError names the spec when they do not fit it.
    """
    if choice.quick:
        return spec
    if choice.explicit is not None:
        sizes = ({d: choice.explicit.get(d, spec.sizes[0][d]) for d in spec.dims},)
        try:
            check_cases(spec.symbols, spec.inputs, sizes, spec.stability, spec.file, spec.id)
        except SpecError as exc:
            raise UsageError(f"--sizes {choice}: not sizes {spec.id} can take: {exc}") from None
        return replace(spec, sizes=sizes, profile=str(choice))
    if choice.profile == "realistic":
        return replace(spec, sizes=spec.profiles.get("realistic", spec.sizes), profile="realistic")
    if choice.profile == "awkward":
        return replace(spec, sizes=awkward_sizes(spec, seed), profile="awkward")
    raise UsageError(f"unknown size profile {choice.profile!r}; known: {', '.join(PROFILES)}")


def catalog_at(
    catalog: Catalog, choice: SizeChoice, seed: int = 0, strict: Iterable[str] = ()
) -> Catalog:
    """``catalog`` with every spec at the sizes ``choice`` selects.

    Explicit sizes that a spec cannot take leave it at its quick sizes, unless it is one
    of ``strict`` (the specs a run checks): then they are a UsageError naming it.
    """
    if choice.quick:
        return catalog
    must = set(strict)
    specs = {}
    for spec_id, spec in catalog.specs.items():
        try:
            specs[spec_id] = at_sizes(spec, choice, seed)
        except UsageError:
            if spec_id in must:
                raise
            specs[spec_id] = spec
    return Catalog(specs, dict(catalog.families))


def awkward_sizes(spec: Spec, seed: int, cases: int = len(AWKWARD_POOLS)) -> tuple[Sizes, ...]:
    """``cases`` sizes drawn from :data:`AWKWARD_POOLS` (one pool per case), seeded by
    ``seed`` and the spec: B, D and H all different, T past 8, every array within
    :data:`AWKWARD_ELEMENTS` and every shape and domain valid. A case that finds no such
    sizes in a few hundred draws falls back to the spec's first quick case."""
    rng = np.random.default_rng([seed, zlib.crc32(spec.id.encode()), zlib.crc32(b"awkward")])
    found: list[Sizes] = []
    for case in range(cases):
        pool = AWKWARD_POOLS[case % len(AWKWARD_POOLS)]
        for _ in range(300):
            sizes = {d: int(rng.choice(AWKWARD_TIME if d == "T" else pool)) for d in spec.dims}
            distinct = [sizes[d] for d in DISTINCT if d in sizes]
            if len(set(distinct)) == len(distinct) and sizes not in found and _fits(spec, sizes):
                found.append(sizes)
                break
        else:
            found.append(dict(spec.sizes[0]))
    return tuple(found)


def _fits(spec: Spec, sizes: Sizes) -> bool:
    """Whether every array of ``spec`` at ``sizes`` is small enough, and draws."""
    try:
        if any(
            np.prod(shape_of(s, sizes), dtype=np.int64) > AWKWARD_ELEMENTS
            for s in spec.symbols.values()
        ):
            return False
        check_cases(spec.symbols, spec.inputs, (sizes,), spec.stability, spec.file, spec.id)
    except (SpecError, ValueError, ArithmeticError):
        return False
    return True


def smaller(sizes: Sizes) -> Iterator[dict[str, int]]:
    """Sizes one step smaller than ``sizes``, the biggest steps first: each dimension in
    turn to 1, to half, and one less (what shrinking a failure tries, in this order)."""
    for dim, size in sizes.items():
        for candidate in dict.fromkeys((1, size // 2, size - 1)):
            if 1 <= candidate < size:
                yield {**sizes, dim: candidate}
