"""Drawing a spec's inputs: shapes from sizes, dtypes, seeded reproducibility, domains."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from conformance.errors import ExpressionError
from conformance.oracle.verify import load_checked_catalog
from conformance.spec.catalog import Catalog
from conformance.spec.draw import case_rng, draw, draw_cotangents, draw_inputs, shape_of
from conformance.spec.model import Spec

SIZES = {"B": 3, "D": 5, "H": 4}

LABELS = """\
[family]
id = "cls"

[defaults]
sizes = [{ B = 6, K = 4 }]

[symbols]
logits = { shape = ["B", "K"], role = "input" }
labels = { shape = ["B"], role = "input", kind = "int", domain = "integers(0, K)" }
mask = { shape = ["B"], role = "input", kind = "int" }
scale = { shape = [], role = "parameter", domain = "uniform(2, 3)" }
loss = { shape = ["B"], role = "output" }

[[spec]]
id = "cls.scaled_logsumexp"
inputs = ["logits", "labels", "mask", "scale"]
outputs = ["loss"]
equations = ["loss = logsumexp(logits * scale) + 0 * labels * mask"]
"""
"""A spec with int inputs (one domain over a dimension name, one default) and a scalar."""


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_checked_catalog()


@pytest.fixture(scope="module")
def cell(catalog: Catalog) -> Spec:
    return catalog.get("lstm.cell")


@pytest.fixture(scope="module")
def labels_spec(tmp_path_factory) -> Spec:
    path = Path(tmp_path_factory.mktemp("specs")) / "cls.toml"
    path.write_text(LABELS, encoding="utf-8")
    return load_checked_catalog([path]).get("cls.scaled_logsumexp")


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


# --- shapes and dtypes ------------------------------------------------------------------------


def test_shape_of_evaluates_symbolic_dimensions(cell: Spec) -> None:
    assert shape_of(cell.symbols["x"], SIZES) == (3, 5)
    assert shape_of(cell.symbols["W_f"], SIZES) == (4, 9)
    assert shape_of(cell.symbols["b_f"], SIZES) == (4,)


def test_draw_inputs_gives_every_input_at_its_shape(cell: Spec) -> None:
    inputs = draw_inputs(cell, SIZES, rng=rng())
    assert list(inputs) == list(cell.inputs)
    for symbol in cell.input_symbols:
        assert inputs[symbol.name].shape == shape_of(symbol, SIZES), symbol.name


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_draw_inputs_float_inputs_follow_dtype(dtype: str, cell: Spec) -> None:
    inputs = draw_inputs(cell, SIZES, dtype=dtype, rng=rng())
    assert {a.dtype for a in inputs.values()} == {np.dtype(dtype)}


def test_draw_inputs_float32_is_float64_draw_rounded(cell: Spec) -> None:
    wide = draw_inputs(cell, SIZES, dtype="float64", rng=rng(3))
    narrow = draw_inputs(cell, SIZES, dtype="float32", rng=rng(3))
    for name in cell.inputs:
        np.testing.assert_array_equal(narrow[name], wide[name].astype(np.float32), err_msg=name)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_draw_inputs_int_kind_is_int64(dtype: str, labels_spec: Spec) -> None:
    inputs = draw_inputs(labels_spec, {"B": 6, "K": 4}, dtype=dtype, rng=rng())
    assert inputs["labels"].dtype == np.int64
    assert inputs["mask"].dtype == np.int64
    assert inputs["logits"].dtype == np.dtype(dtype)
    assert inputs["scale"].dtype == np.dtype(dtype)


def test_draw_inputs_int_domain_uses_dimension_names(labels_spec: Spec) -> None:
    inputs = draw_inputs(labels_spec, {"B": 200, "K": 4}, rng=rng())
    assert set(np.unique(inputs["labels"])) == {0, 1, 2, 3}
    assert set(np.unique(inputs["mask"])) == {0, 1}  # the int default, integers(0, 2)


def test_draw_inputs_scalar_symbol(labels_spec: Spec) -> None:
    scale = draw_inputs(labels_spec, {"B": 2, "K": 3}, rng=rng())["scale"]
    assert scale.shape == ()
    assert 2.0 <= scale < 3.0


def test_draw_cotangents_one_per_float_output(cell: Spec) -> None:
    cotangents = draw_cotangents(cell, SIZES, dtype="float32", rng=rng())
    assert set(cotangents) == {"h", "c"}
    assert all(u.shape == (3, 4) and u.dtype == np.float32 for u in cotangents.values())


# --- seeding ----------------------------------------------------------------------------------


def assert_same(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> None:
    assert list(a) == list(b)
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)


def differs(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> bool:
    return all(not np.array_equal(a[name], b[name]) for name in a)


def test_case_rng_same_case_same_arrays(cell: Spec) -> None:
    first = draw_inputs(cell, SIZES, rng=case_rng(0, cell.id, 0))
    second = draw_inputs(cell, SIZES, rng=case_rng(0, cell.id, 0))
    assert_same(first, second)


@pytest.mark.parametrize(
    ("seed", "spec_id", "case", "stream"),
    [
        pytest.param(0, "lstm.cell", 1, "inputs", id="other-case"),
        pytest.param(1, "lstm.cell", 0, "inputs", id="other-seed"),
        pytest.param(0, "lstm.cel", 0, "inputs", id="other-spec"),
        pytest.param(0, "lstm.cell", 0, "cotangents", id="other-stream"),
    ],
)
def test_case_rng_different_case_different_arrays(seed, spec_id, case, stream, cell) -> None:
    base = draw_inputs(cell, SIZES, rng=case_rng(0, "lstm.cell", 0))
    other = draw_inputs(cell, SIZES, rng=case_rng(seed, spec_id, case, stream))
    assert differs(base, other)


def test_draw_inputs_each_symbol_has_its_own_draw(cell: Spec) -> None:
    inputs = draw_inputs(cell, SIZES, rng=rng())
    weights = [inputs[n] for n in ("W_f", "W_i", "W_c", "W_o")]
    biases = [inputs[n] for n in ("b_f", "b_i", "b_c", "b_o")]
    for group in (weights, biases):
        for i, a in enumerate(group):
            for b in group[i + 1 :]:
                assert not np.array_equal(a, b)


# --- domains ----------------------------------------------------------------------------------

BIG = {"B": 64, "D": 100, "H": 50}


def test_draw_inputs_follow_declared_domains(cell: Spec) -> None:
    inputs = draw_inputs(cell, BIG, rng=rng(1))
    h_prev = inputs["h_prev"]  # uniform(-1, 1)
    assert h_prev.min() >= -1.0 and h_prev.max() < 1.0
    assert h_prev.min() < -0.9 and h_prev.max() > 0.9
    # normal(0, 1.5 / (H + D) ** 0.5): the spread follows the fan-in
    assert np.std(inputs["W_f"]) == pytest.approx(1.5 / (50 + 100) ** 0.5, rel=0.03)
    assert np.std(inputs["x"]) == pytest.approx(1.0, rel=0.03)  # normal(0, 1)
    assert abs(np.mean(inputs["x"])) < 0.05


def test_draw_inputs_spec_symbols_use_their_own_domain(catalog: Catalog) -> None:
    spec = catalog.get("lstm.cell_state")
    inputs = draw_inputs(spec, BIG, rng=rng())
    assert inputs["f"].min() >= 0.0 and inputs["f"].max() < 1.0  # uniform(0, 1)
    assert inputs["g"].min() >= -1.0 and inputs["g"].min() < 0.0  # uniform(-1, 1)


@pytest.mark.parametrize("scale", [1000.0, 10.0])
def test_extreme_magnitudes_and_signs(scale: float, cell: Spec) -> None:
    x = draw(cell.symbols["x"], BIG, rng(), f"extreme({scale:g})")
    assert np.all(np.abs(x) >= 0.5 * scale)
    assert np.all(np.abs(x) <= scale)
    assert (x > 0).any() and (x < 0).any()
    assert np.abs(x).max() > 0.99 * scale


def test_draw_inputs_domains_override_only_the_named_inputs(cell: Spec) -> None:
    plain = draw_inputs(cell, BIG, rng=rng(2))
    stressed = draw_inputs(cell, BIG, rng=rng(2), domains={"x": "extreme(1000)"})
    assert np.all(np.abs(stressed["x"]) >= 500) and np.all(np.abs(stressed["x"]) <= 1000)
    assert np.abs(plain["x"]).max() < 10
    h_prev = stressed["h_prev"]
    assert h_prev.min() >= -1.0 and h_prev.max() < 1.0


def test_draw_inputs_with_spec_stability_domains(cell: Spec) -> None:
    inputs = draw_inputs(cell, SIZES, dtype="float32", rng=rng(), domains=cell.stability)
    assert inputs["x"].dtype == np.float32
    assert np.all(np.abs(inputs["x"]) >= 500)


@pytest.mark.parametrize(
    ("domain", "check"),
    [
        pytest.param("uniform(2, 3)", lambda a: a.min() >= 2 and a.max() < 3, id="uniform"),
        pytest.param("normal(5, 0.01)", lambda a: abs(a.mean() - 5) < 0.01, id="normal"),
        pytest.param("uniform(-H, H)", lambda a: a.min() >= -50 and a.max() < 50, id="dim-names"),
        pytest.param("integers(3, 4)", lambda a: np.all(a == 3), id="integers"),
    ],
)
def test_draw_domain_override(domain: str, check, cell: Spec) -> None:
    value = draw(cell.symbols["W_f"], BIG, rng(), domain)
    assert value.shape == (50, 150)
    assert check(value), domain


def test_draw_unknown_domain_function_suggests_nearest(cell: Spec) -> None:
    with pytest.raises(ExpressionError, match=r"unknown function 'gauss'"):
        draw(cell.symbols["x"], SIZES, rng(), "gauss(0, 1)")
    with pytest.raises(ExpressionError, match=r"unknown function 'uniforn' \(did you mean"):
        draw(cell.symbols["x"], SIZES, rng(), "uniforn(0, 1)")
