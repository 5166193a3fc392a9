"""Loading the TOML specs: the shipped catalog, and every error naming file, field and value."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conformance.errors import SpecError
from conformance.oracle.verify import load_checked_catalog
from conformance.spec.catalog import Catalog, default_spec_paths, spec_files
from conformance.spec.loader import load_catalog
from conformance.spec.model import ROUNDING_LIMIT, Tolerance

LSTM_IDS = [
    "lstm.forget_gate",
    "lstm.input_gate",
    "lstm.candidate",
    "lstm.output_gate",
    "lstm.cell_state",
    "lstm.hidden_state",
    "lstm.cell",
]

MINIMAL = """\
[family]
id = "mini"
title = "A minimal family"

[defaults]
sizes = [{ B = 2, D = 3, H = 4 }]

[symbols]
x = { shape = ["B", "D"], role = "input", domain = "normal(0, 1)" }
W_f = { shape = ["H", "D"], role = "parameter", domain = "normal(0, 0.5)" }
b_f = { shape = ["H"], role = "parameter" }
f = { shape = ["B", "H"], role = "output" }

[[spec]]
id = "mini.gate"
inputs = ["x", "W_f", "b_f"]
outputs = ["f"]
equations = ["f = sigmoid(x @ W_f.T + b_f)"]
invariants = ["0 <= f <= 1"]
"""
"""A valid one-spec family; each error test replaces one fragment of it."""


SIZES = "sizes = [{ B = 2, D = 3, H = 4 }]\n"
"""The family's sizes line: tolerance tests add a line after it, in ``[defaults]``."""


def mutate(old: str, new: str, text: str = MINIMAL) -> str:
    """``text`` with the single occurrence of ``old`` replaced by ``new``."""
    assert text.count(old) == 1, f"the template should contain {old!r} exactly once"
    return text.replace(old, new)


@pytest.fixture
def write(tmp_path: Path):
    """Write TOML text to ``tmp_path/<name>`` and return the path."""

    def _write(text: str, name: str = "mini.toml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return _write


def error_pattern(path: Path, rest: str) -> str:
    """A ``match`` regex: the file's name, then ``rest`` (literal) later in the message."""
    return re.escape(path.name) + r"\b.*" + re.escape(rest)


# --- the shipped catalog ----------------------------------------------------------------------


def test_load_catalog_ships_the_lstm_specs_in_file_order() -> None:
    catalog = load_checked_catalog()
    lstm_ids = [spec_id for spec_id in catalog.specs if spec_id.startswith("lstm.")]
    assert lstm_ids[: len(LSTM_IDS)] == LSTM_IDS
    assert "lstm" in catalog.families


def test_default_spec_paths_finds_lstm_toml() -> None:
    assert "lstm.toml" in [p.name for p in default_spec_paths()]


def test_load_catalog_lstm_cell_fields() -> None:
    cell = load_checked_catalog().get("lstm.cell")
    assert cell.family == "lstm"
    assert cell.inputs[:3] == ("x", "h_prev", "c_prev")
    assert cell.outputs == ("h", "c")
    assert cell.dims == ("B", "D", "H")
    assert cell.sizes[0] == {"B": 3, "D": 5, "H": 4}
    assert cell.differentiable == cell.inputs  # every float input by default
    assert cell.tolerance["float32"] == Tolerance()  # derived, not widened
    assert cell.tolerance["float32"].limit == ROUNDING_LIMIT
    assert cell.gradient_tolerance["float64"] == Tolerance()
    assert cell.stability == {"x": "extreme(1000)"}
    assert cell.symbols["h_prev"].next == "h"
    assert cell.symbols["W_f"].shape == ("H", "H + D")
    assert [s.targets for s in cell.equations] == [(n,) for n in "figoch"]


def test_load_catalog_spec_symbols_override_family_symbols() -> None:
    cell_state = load_checked_catalog().get("lstm.cell_state")
    assert cell_state.symbols["f"].role == "input"
    assert cell_state.symbols["f"].domain == "uniform(0, 1)"


def test_catalog_get_unknown_id_suggests_nearest() -> None:
    with pytest.raises(SpecError, match=r"unknown spec 'lstm.forgetgate' \(did you mean"):
        load_checked_catalog().get("lstm.forgetgate")


def test_catalog_select_by_glob() -> None:
    catalog = load_checked_catalog()
    assert [s.id for s in catalog.select(["lstm.*_gate"])] == [
        "lstm.forget_gate",
        "lstm.input_gate",
        "lstm.output_gate",
    ]
    assert len(catalog.select()) == len(catalog.specs) >= len(LSTM_IDS)
    unknown = r"no spec matches 'gru\.\*' \(known ids: .*lstm\.forget_gate"
    with pytest.raises(SpecError, match=unknown):
        catalog.select(["gru.*"])


def test_load_catalog_minimal_template_is_valid(write) -> None:
    catalog = load_checked_catalog([write(MINIMAL)])
    assert isinstance(catalog, Catalog)
    gate = catalog.get("mini.gate")
    assert gate.dims == ("B", "D", "H")
    assert gate.differentiable == ("x", "W_f", "b_f")
    assert gate.invariants[0].source == "0 <= f <= 1"


def test_load_catalog_names_file_relative_to_cwd(write, tmp_path, monkeypatch) -> None:
    path = write(mutate("W_f.T", "W_ff.T"))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SpecError, match=r"^mini\.toml: spec 'mini\.gate': equations\[0\]"):
        load_checked_catalog([path])


# --- errors: one fragment of the template changed ----------------------------------------------

ERRORS = [
    pytest.param(
        "W_f.T", "W_ff.T",
        "spec 'mini.gate': equations[0]: unknown symbol 'W_ff' (did you mean 'W_f'?)",
        id="unknown-symbol",
    ),
    pytest.param(
        "f = sigmoid(", "f = sigmod(",
        "spec 'mini.gate': equations[0]: unknown function 'sigmod' (did you mean 'sigmoid'?)",
        id="unknown-function",
    ),
    pytest.param(
        "equations = [", "equation = [",
        "spec 'mini.gate': unknown key 'equation' (did you mean 'equations'?)",
        id="unknown-spec-key",
    ),
    pytest.param(
        'title = "A minimal family"', 'titel = "A minimal family"',
        "family: unknown key 'titel' (did you mean 'title'?)",
        id="unknown-family-key",
    ),
    pytest.param(
        '[symbols]\n', '[symbols]\ny = { shap = ["B"], role = "input" }\n',
        "symbols.y: unknown key 'shap' (did you mean 'shape'?)",
        id="unknown-symbol-key",
    ),
    pytest.param(
        "[symbols]\n", "[symbol]\n",
        "unknown key 'symbol' (did you mean 'symbols'?)",
        id="unknown-top-level-key",
    ),
    pytest.param(
        'role = "parameter", domain = "normal(0, 0.5)"',
        'role = "paramter", domain = "normal(0, 0.5)"',
        "symbols.W_f: role 'paramter' (one of input, state, parameter, output)",
        id="bad-role",
    ),
    pytest.param(
        'b_f = { shape = ["H"], role = "parameter" }',
        'b_f = { shape = ["H"], role = "parameter", kind = "complex" }',
        "symbols.b_f: kind 'complex' ('float' or 'int')",
        id="bad-kind",
    ),
    pytest.param(
        'b_f = { shape = ["H"], role = "parameter" }', 'b_f = { role = "parameter" }',
        "symbols.b_f: missing required key 'shape'",
        id="missing-shape",
    ),
    pytest.param(
        SIZES, SIZES + 'tolerance.float32 = { factor = 4 }\n',
        "spec 'mini.gate'.tolerance.float32: a widened tolerance needs a reason",
        id="widening-without-reason",
    ),
    pytest.param(
        SIZES, SIZES + 'tolerance.float32 = { reason = "why not" }\n',
        "spec 'mini.gate'.tolerance.float32: reason without a widening",
        id="reason-without-widening",
    ),
    pytest.param(
        SIZES, SIZES + 'tolerance.float32 = { factor = 0.5, reason = "tighter" }\n',
        "spec 'mini.gate'.tolerance.float32: factor = 0.5 should be a number >= 1 "
        "(a spec may widen the derived tolerance, never narrow it)",
        id="narrowing-factor",
    ),
    pytest.param(
        SIZES, SIZES + 'tolerance.float64 = { atol = -1e-12, reason = "x" }\n',
        "spec 'mini.gate'.tolerance.float64: atol = -1e-12 should be a number >= 0",
        id="negative-atol",
    ),
    pytest.param(
        SIZES, SIZES + 'gradient_tolerance.float32 = { rtol = -2e-4, reason = "x" }\n',
        "spec 'mini.gate'.gradient_tolerance.float32: rtol = -0.0002 should be a number >= 0",
        id="negative-gradient-rtol",
    ),
    pytest.param(
        SIZES, SIZES + 'tolerance.float32 = { facter = 2, reason = "x" }\n',
        "spec 'mini.gate'.tolerance.float32: unknown key 'facter' (did you mean 'factor'?)",
        id="unknown-tolerance-key",
    ),
    pytest.param(
        SIZES, SIZES + 'tolerance.float16 = { factor = 2, reason = "x" }\n',
        "spec 'mini.gate'.tolerance: unknown key 'float16'",
        id="unknown-dtype",
    ),
    pytest.param(
        SIZES, SIZES + 'tolerance.float32 = 4\n',
        "spec 'mini.gate'.tolerance.float32: 4 should be a table",
        id="tolerance-not-a-table",
    ),
    pytest.param(
        SIZES, SIZES + 'tolerance.float32 = { factor = 2, reason = 3 }\n',
        "spec 'mini.gate'.tolerance.float32: reason = 3 should be a string",
        id="reason-not-a-string",
    ),
    pytest.param(
        "{ B = 2, D = 3, H = 4 }", "{ B = 2, D = 3 }",
        "spec 'mini.gate'.sizes[0]: no size for H",
        id="size-missing-dim",
    ),
    pytest.param(
        "{ B = 2, D = 3, H = 4 }", "{ B = 0, D = 3, H = 4 }",
        "spec 'mini.gate'.sizes[0]: B = 0 should be an integer >= 1",
        id="size-zero",
    ),
    pytest.param(
        "{ B = 2, D = 3, H = 4 }", "{ B = 2, D = 2.5, H = 4 }",
        "spec 'mini.gate'.sizes[0]: D = 2.5 should be an integer >= 1",
        id="size-float",
    ),
    pytest.param(
        "sizes = [{ B = 2, D = 3, H = 4 }]", "sizes = []",
        "spec 'mini.gate'.sizes: no sizes to try",
        id="no-sizes",
    ),
    pytest.param(
        '"f = sigmoid(', '"g = sigmoid(',
        "spec 'mini.gate'.equations: outputs never assigned: f",
        id="output-never-assigned",
    ),
    pytest.param(
        'inputs = ["x", "W_f", "b_f"]', 'inputs = ["x", "W_f", "b_f", "f"]',
        "spec 'mini.gate'.inputs: 'f' has role 'output'",
        id="input-with-role-output",
    ),
    pytest.param(
        'outputs = ["f"]', 'outputs = ["x"]',
        "spec 'mini.gate'.outputs: 'x' has role 'input' (outputs need role 'output')",
        id="output-with-role-input",
    ),
    pytest.param(
        'inputs = ["x", "W_f", "b_f"]', 'inputs = ["x", "W_g", "b_f"]',
        "spec 'mini.gate': inputs: unknown symbol 'W_g' (did you mean 'W_f'?)",
        id="unknown-input",
    ),
    pytest.param(
        'outputs = ["f"]', 'outputs = []',
        "spec 'mini.gate': no outputs",
        id="no-outputs",
    ),
    pytest.param(
        'outputs = ["f"]', 'outputs = ["f"]\ndifferentiable = ["x", "W_ff"]',
        "spec 'mini.gate'.differentiable: 'W_ff' is not a float input of this spec "
        "(did you mean 'W_f'?)",
        id="differentiable-non-input",
    ),
    pytest.param(
        'outputs = ["f"]', 'outputs = ["f"]\nstability = { W = "extreme(1000)" }',
        "spec 'mini.gate'.stability: 'W' is not a float input",
        id="stability-non-input",
    ),
    pytest.param(
        'outputs = ["f"]', 'outputs = ["f"]\nstability = { x = "huge(1000)" }',
        "spec 'mini.gate'.stability.x: unknown domain 'huge'",
        id="stability-bad-domain",
    ),
    pytest.param(
        'domain = "normal(0, 1)"', 'domain = "gauss(0, 1)"',
        "symbols.x.domain: unknown domain 'gauss'",
        id="bad-domain-function",
    ),
    pytest.param(
        'domain = "normal(0, 1)"', 'domain = "normal"',
        "symbols.x.domain: domain 'normal' (e.g. 'normal(0, 1)')",
        id="domain-not-a-call",
    ),
    pytest.param(
        'domain = "normal(0, 1)"', "domain = \"__import__('os')\"",
        "symbols.x.domain: dunder name '__import__'",
        id="domain-dunder",
    ),
    pytest.param(
        'id = "mini.gate"', 'id = "other.gate"',
        "spec 'other.gate': id 'other.gate' is outside family 'mini' (name it 'mini.<name>')",
        id="id-outside-family",
    ),
    pytest.param(
        '"f = sigmoid(x @ W_f.T + b_f)"', '"f = ().__class__"',
        "spec 'mini.gate': equations[0]: attribute '__class__' in 'f = ().__class__'",
        id="equation-dunder-attribute",
    ),
    pytest.param(
        '"f = sigmoid(x @ W_f.T + b_f)"', '"f = lambda: x"',
        "spec 'mini.gate': equations[0]: lambda is not allowed",
        id="equation-lambda",
    ),
    pytest.param(
        '"f = sigmoid(x @ W_f.T + b_f)"', '"f += x"',
        "spec 'mini.gate': equations[0]: 'f += x' is not an assignment",
        id="equation-not-assignment",
    ),
    pytest.param(
        '"f = sigmoid(x @ W_f.T + b_f)"', '"f = sigmoid(x @ W_f.T + b_f)", 3',
        "spec 'mini.gate'.equations: equations = ['f = sigmoid(x @ W_f.T + b_f)', 3] should be "
        "a list of strings",
        id="equation-not-string",
    ),
    pytest.param(
        '"0 <= f <= 1"', '"0 <= g <= 1"',
        "spec 'mini.gate': invariants[0]: unknown symbol 'g'",
        id="invariant-unknown-symbol",
    ),
    pytest.param(
        'f = { shape = ["B", "H"], role = "output" }',
        'f = { shape = ["B", "D"], role = "output" }',
        "spec 'mini.gate': equations: the equations give f.shape=(2, 4), but the symbol says "
        "(B, D) = (2, 3) at mini.gate(B=2, D=3, H=4)",
        id="output-shape-disagrees",
    ),
    pytest.param(
        '"f = sigmoid(x @ W_f.T + b_f)"', '"f = sigmoid(x @ W_f + b_f)"',
        "spec 'mini.gate': equations[0]: 'f = sigmoid(x @ W_f + b_f)': ValueError: matmul",
        id="equation-shape-error",
    ),
    pytest.param(
        "[[spec]]", "[[spec]",
        "not valid TOML",
        id="invalid-toml",
    ),
    pytest.param(
        '[family]\nid = "mini"\ntitle = "A minimal family"\n', "",
        "missing required key 'family'",
        id="missing-family",
    ),
    pytest.param(
        "[[spec]]", "[[specs]]",
        "unknown key 'specs' (did you mean 'spec'?)",
        id="spec-tables-misspelled",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("old", "new", "message"), ERRORS)
def test_load_catalog_error_names_file_field_and_value(write, old, new, message) -> None:
    path = write(mutate(old, new))
    with pytest.raises(SpecError, match=error_pattern(path, message)):
        load_checked_catalog([path])


def test_load_catalog_requires_a_spec_table(write) -> None:
    path = write(MINIMAL[: MINIMAL.index("[[spec]]")])
    with pytest.raises(SpecError, match=error_pattern(path, "no [[spec]] tables")):
        load_checked_catalog([path])


def test_load_catalog_missing_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "absent.toml"
    with pytest.raises(SpecError, match=error_pattern(path, "cannot read")):
        load_checked_catalog([path])


def test_load_catalog_state_next_must_name_an_output(write) -> None:
    text = mutate(
        "[symbols]\n",
        '[symbols]\nh_prev = { shape = ["B", "H"], role = "state", next = "x" }\n',
    )
    text = mutate('inputs = ["x", "W_f", "b_f"]', 'inputs = ["x", "h_prev", "W_f", "b_f"]', text)
    path = write(text)
    with pytest.raises(
        SpecError,
        match=error_pattern(
            path, "symbols.h_prev.next: state 'h_prev' has next = 'x', which is not an output"
        ),
    ):
        load_checked_catalog([path])


def test_load_catalog_unknown_spec_reference_suggests_nearest(write) -> None:
    text = mutate('"f = sigmoid(x @ W_f.T + b_f)"', '"f = lstm.forgetgate(x=x)"')
    path = write(text)
    with pytest.raises(
        SpecError,
        match=error_pattern(
            path,
            "spec 'mini.gate': equations[0]: unknown spec 'lstm.forgetgate' "
            "(did you mean 'lstm.forget_gate'?)",
        ),
    ):
        load_checked_catalog([*default_spec_paths(), path])


def test_load_catalog_accepts_reference_to_another_family(write) -> None:
    # A spec calling into the shipped lstm family: references resolve across files.
    text = mutate(
        '"f = sigmoid(x @ W_f.T + b_f)"', '"f = lstm.forget_gate(h_prev=0 * x[:, :H], x=x)"'
    )
    text = mutate('W_f = { shape = ["H", "D"]', 'W_f = { shape = ["H", "H + D"]', text)
    text = mutate("{ B = 2, D = 3, H = 4 }", "{ B = 2, D = 5, H = 4 }", text)
    catalog = load_checked_catalog([*default_spec_paths(), write(text)])
    assert "mini.gate" in catalog.specs


CYCLE = mutate(
    """[[spec]]
id = "mini.gate"
inputs = ["x", "W_f", "b_f"]
outputs = ["f"]
equations = ["f = sigmoid(x @ W_f.T + b_f)"]
invariants = ["0 <= f <= 1"]
""",
    """[[spec]]
id = "mini.a"
inputs = ["x", "W_f", "b_f"]
outputs = ["f"]
equations = ["f = mini.b()"]

[[spec]]
id = "mini.b"
inputs = ["x", "W_f", "b_f"]
outputs = ["f"]
equations = ["f = mini.a()"]
""",
)


def test_load_catalog_rejects_cycle_between_specs(write) -> None:
    path = write(CYCLE)
    with pytest.raises(
        SpecError,
        match=error_pattern(path, "specs call each other in a cycle: mini.a -> mini.b -> mini.a"),
    ):
        load_checked_catalog([path])


def test_load_catalog_rejects_spec_calling_itself(write) -> None:
    path = write(mutate('"f = sigmoid(x @ W_f.T + b_f)"', '"f = mini.gate()"'))
    with pytest.raises(SpecError, match=error_pattern(path, "cycle: mini.gate -> mini.gate")):
        load_checked_catalog([path])


def test_load_catalog_rejects_duplicate_id_across_files(write) -> None:
    first = write(MINIMAL, "first.toml")
    second = write(MINIMAL, "second.toml")
    with pytest.raises(
        SpecError,
        match=error_pattern(second, "duplicate spec id 'mini.gate' (also in ") + r".*first\.toml\)",
    ):
        load_checked_catalog([first, second])


def test_load_catalog_rejects_duplicate_id_within_a_file(write) -> None:
    spec = MINIMAL[MINIMAL.index("[[spec]]") :]
    path = write(MINIMAL + "\n" + spec)
    with pytest.raises(SpecError, match=error_pattern(path, "duplicate spec id 'mini.gate'")):
        load_checked_catalog([path])


def test_load_catalog_verify_false_skips_the_dry_run(write) -> None:
    path = write(mutate('f = { shape = ["B", "H"]', 'f = { shape = ["B", "D"]'))
    catalog = load_catalog([path])
    assert catalog.get("mini.gate").symbols["f"].shape == ("B", "D")


# --- once bugs, now fixed ---------------------------------------------------------


@pytest.mark.parametrize("bad", ["nan", "inf", "true"])
def test_load_catalog_rejects_non_finite_tolerance(write, bad: str) -> None:
    sizes = "sizes = [{ B = 2, D = 3, H = 4 }]\n"
    widened = f'{sizes}tolerance.float64 = {{ atol = {bad}, reason = "x" }}\n'
    path = write(mutate(sizes, widened))
    with pytest.raises(SpecError, match=error_pattern(path, "tolerance.float64: atol = ")):
        load_checked_catalog([path])


def test_load_catalog_widening_keeps_reason_and_merges_dtype_by_dtype(write) -> None:
    sizes = "sizes = [{ B = 2, D = 3, H = 4 }]\n"
    family = f'{sizes}tolerance.float64 = {{ atol = 1e-9, reason = "a float64 floor" }}\n'
    invariants = 'invariants = ["0 <= f <= 1"]'
    spec = f'{invariants}\ntolerance.float32 = {{ factor = 4, reason = "4-ulp tanh" }}'
    path = write(mutate(invariants, spec, mutate(sizes, family)))
    gate = load_checked_catalog([path]).get("mini.gate")
    assert gate.tolerance["float32"] == Tolerance(factor=4.0, reason="4-ulp tanh")
    assert gate.tolerance["float32"].limit == 4 * ROUNDING_LIMIT
    assert gate.tolerance["float64"] == Tolerance(atol=1e-9, reason="a float64 floor")
    assert gate.gradient_tolerance["float32"] == Tolerance()


def test_load_catalog_resolves_spec_references_in_invariants(write) -> None:
    path = write(mutate('invariants = ["0 <= f <= 1"]', 'invariants = ["allclose(f, mini.gat())"]'))
    with pytest.raises(
        SpecError,
        match=error_pattern(path, "invariants[0]: unknown spec 'mini.gat' (did you mean"),
    ):
        load_checked_catalog([path])


def test_load_catalog_differentiable_not_a_list_names_the_key(write) -> None:
    path = write(mutate('outputs = ["f"]', 'outputs = ["f"]\ndifferentiable = "x"'))
    with pytest.raises(SpecError, match=error_pattern(path, "differentiable = 'x' should be")):
        load_checked_catalog([path])


# --- spec files from elsewhere: more specs for a loaded family, folders of files ----------------

MORE_MINI = mutate(
    'title = "A minimal family"\n', "", mutate('id = "mini.gate"', 'id = "mini.other_gate"')
)
"""A second file that adds a spec to the ``mini`` family: its [family] gives only the id."""


def test_load_catalog_second_file_adds_specs_to_a_loaded_family(write) -> None:
    catalog = load_catalog([write(MINIMAL, "a.toml"), write(MORE_MINI, "b.toml")])
    assert [s for s in catalog.specs if s.startswith("mini.")] == ["mini.gate", "mini.other_gate"]
    assert catalog.families["mini"]["title"] == "A minimal family"
    assert catalog.specs["mini.other_gate"].file.endswith("b.toml")


def test_load_catalog_second_file_may_not_retitle_a_loaded_family(write) -> None:
    first = write(MINIMAL, "a.toml")
    second = write(mutate('id = "mini.gate"', 'id = "mini.other_gate"', MINIMAL.replace(
        "A minimal family", "Another title")), "b.toml")  # fmt: skip
    with pytest.raises(
        SpecError,
        match=error_pattern(second, "family: title = 'Another title', but family 'mini' is "
                            "already defined in ") + r".*a\.toml.*gives only its \[family\] id",
    ):  # fmt: skip
        load_catalog([first, second])


def test_spec_files_of_a_folder_are_its_toml_files_by_name(tmp_path: Path) -> None:
    for name in ("b.toml", "a.toml", "notes.txt"):
        (tmp_path / name).write_text("")
    assert [p.name for p in spec_files(tmp_path)] == ["a.toml", "b.toml"]
    assert spec_files(tmp_path / "b.toml") == [tmp_path / "b.toml"]


@pytest.mark.parametrize(
    ("name", "message"),
    [("missing", "no such file or folder"), ("empty", "no *.toml spec files in this folder")],
)
def test_spec_files_names_a_path_without_spec_files(tmp_path: Path, name, message) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(SpecError, match=re.escape(f"{tmp_path / name}: {message}")):
        spec_files(tmp_path / name)
