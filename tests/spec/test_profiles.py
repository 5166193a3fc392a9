"""Size profiles: quick as declared, realistic as declared, awkward drawn on purpose,
explicit sizes checked as a spec file's are."""

from __future__ import annotations

import numpy as np
import pytest

from conformance.errors import SpecError, UsageError
from conformance.spec.draw import shape_of
from conformance.spec.loader import load_catalog
from conformance.spec.profiles import (
    AWKWARD_ELEMENTS,
    QUICK,
    SizeChoice,
    at_sizes,
    awkward_sizes,
    catalog_at,
    parse_sizes,
    smaller,
)


@pytest.mark.parametrize(
    ("text", "choice"),
    [
        ("quick", QUICK),
        (" realistic ", SizeChoice("realistic")),
        ("awkward", SizeChoice("awkward")),
        ("B=17, H=33,D=5", SizeChoice("explicit", {"B": 17, "H": 33, "D": 5})),
    ],
)
def test_parse_sizes(text, choice):
    assert parse_sizes(text) == choice


@pytest.mark.parametrize("text", ["huge", "B=", "B=0", "B=3,B=4", "B=-1", "B=3;H=4", ""])
def test_parse_sizes_refuses_what_is_neither_a_profile_nor_sizes(text):
    with pytest.raises(UsageError, match="--sizes"):
        parse_sizes(text)


def test_explicit_sizes_print_as_given():
    assert str(parse_sizes("B=17,H=33")) == "B=17,H=33" and str(QUICK) == "quick"


def test_quick_is_the_spec_itself_and_realistic_its_declared_profile(catalog):
    cell = catalog.get("lstm.cell")
    assert at_sizes(cell, QUICK) is cell
    realistic = at_sizes(cell, SizeChoice("realistic"))
    assert realistic.profile == "realistic"
    assert realistic.sizes == cell.profiles["realistic"]
    assert all(16 <= s["B"] <= 64 and 64 <= s["H"] <= 512 for s in realistic.sizes)


def test_every_shipped_spec_declares_realistic_sizes_without_a_batch_of_8k(catalog):
    for spec in catalog.specs.values():
        cases = spec.profiles.get("realistic")
        assert cases, f"{spec.id} has no realistic sizes"
        assert all(case.get("B", 1) % 8 for case in cases), (spec.id, cases)  # a remainder
        if "T" in spec.dims:
            assert max(case["T"] for case in cases) >= 50, spec.id


def test_a_spec_without_realistic_sizes_keeps_its_quick_ones(tmp_path, catalog):
    cell = catalog.get("lstm.cell")
    bare = cell.__class__(**{**cell.__dict__, "profiles": {}})
    assert at_sizes(bare, SizeChoice("realistic")).sizes == cell.sizes


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_awkward_sizes_are_awkward_valid_and_seeded(catalog, seed):
    for spec in catalog.specs.values():
        cases = awkward_sizes(spec, seed)
        assert cases == awkward_sizes(spec, seed), spec.id  # the same seed, the same sizes
        assert len(cases) == 3 and len({tuple(c.items()) for c in cases}) == 3, (spec.id, cases)
        for sizes in cases:
            distinct = [sizes[d] for d in ("B", "D", "H") if d in sizes]
            assert len(set(distinct)) == len(distinct), (spec.id, sizes)
            assert sizes.get("T", 9) > 8, (spec.id, sizes)
            for symbol in spec.symbols.values():
                assert np.prod(shape_of(symbol, sizes)) <= AWKWARD_ELEMENTS, (spec.id, sizes)
    sizes_seen = {
        v for s in catalog.specs.values() for c in awkward_sizes(s, seed) for v in c.values()
    }
    assert {1, 17, 33} & sizes_seen and {5, 7, 13} & sizes_seen  # edges, widths + 1, primes


def test_awkward_sizes_differ_by_seed(catalog):
    cell = catalog.get("lstm.cell")
    assert awkward_sizes(cell, 0) != awkward_sizes(cell, 1)


def test_explicit_sizes_fill_missing_dimensions_from_the_first_quick_case(catalog):
    sequence = catalog.get("lstm.sequence")
    at = at_sizes(sequence, parse_sizes("B=17,H=33"))
    assert at.sizes == ({"T": 5, "B": 17, "D": 3, "H": 33},)
    assert at.profile == "B=17,H=33"


def test_explicit_sizes_a_spec_cannot_take_name_it(catalog):
    with pytest.raises(UsageError, match=r"not sizes lstm\.cell can take.*elements"):
        at_sizes(catalog.get("lstm.cell"), parse_sizes("H=1000,D=2000"))


def test_catalog_at_explicit_sizes_is_strict_for_the_selected_specs_only(catalog):
    huge = parse_sizes("H=1000,D=2000")
    lenient = catalog_at(catalog, huge, strict=["ctc.softmax"])
    assert lenient.get("lstm.cell").sizes == catalog.get("lstm.cell").sizes  # left quick
    with pytest.raises(UsageError, match=r"lstm\.cell"):
        catalog_at(catalog, huge, strict=["lstm.cell"])


def test_smaller_tries_each_dimension_at_one_half_and_one_less():
    assert list(smaller({"B": 20, "H": 2})) == [
        {"B": 1, "H": 2}, {"B": 10, "H": 2}, {"B": 19, "H": 2}, {"B": 20, "H": 1},
    ]  # fmt: skip
    assert list(smaller({"B": 1})) == []


def test_a_spec_file_declares_realistic_sizes_and_nothing_else(tmp_path):
    text = (
        (load_catalog.__globals__["default_spec_paths"]()[0])
        .read_text()
        .replace("profiles = { realistic", "profiles = { huge", 1)
    )
    path = tmp_path / "bilstm.toml"
    path.write_text(text)
    with pytest.raises(SpecError, match="unknown size profile 'huge'"):
        load_catalog([path])
