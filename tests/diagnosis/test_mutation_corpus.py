"""The diagnosis over the project's mutation corpus (``tests/mutants``), where it exists:
every mutant caught by a numeric or gradient check at the quick sizes is diagnosed, and
the share whose diagnosis names its bug is printed and held above half.

The corpus is written for the kill rate, so it says what each bug is in words for people
(``Mutant.bug``); :data:`NAMES` says, per mutant, what a diagnosis that names it says.
A mutant missing from :data:`NAMES` counts as not named.
"""

from __future__ import annotations

import pytest

from conformance import Backend
from conformance.engine import CheckRequest, run_check

mutants = pytest.importorskip("mutants", reason="tests/mutants is not in this checkout")

NAMES: dict[str, tuple[str, ...]] = {
    "lstm.cell:swapped_gates": ("W_f and W_i swapped",),
    "lstm.cell:concat_order": ("concat(x, h_prev) for concat(h_prev, x)",),
    "lstm.forget_gate:transposed_weight": ("the square block W_f[:, :H] transposed",),
    "lstm.forget_gate:sigmoid_slope_of_activation": ("σ′ taken at σ(z)",),
    "lstm.cell:gradient_off_by_a_constant": ("grad W_o × 2", "grad W_o × 1/2"),
    "lstm.forget_gate:unsummed_bias_gradient": ("grad b_f not summed over its leading axis",),
    "lstm.sequence:cell_state_not_carried": ("c_prev not carried", "c_prev never updated"),
    "lstm.sequence:index_minus_one_at_t0": ("h_0 taken as zeros",),
    "lstm.sequence:bptt_without_cell_path": ("no gradient through the carried c_prev",),
    "bilstm.sequence:shared_direction_weights": ("parameters for the",),
    "bilstm.output:swapped_output_weights": ("W_fwd and W_bwd swapped",),
    "ctc.loss:gradient_without_softmax_term": ("no gradient through the term logsumexp",),
    "rnn.cell:untransposed_recurrent_weight": ("W_h transposed",),
    "rnn.cell:tanh_slope_of_pre_activation": ("fed the pre-activation z",),
    "rnn.sequence:dropped_initial_state_gradient": ("grad h_0 = 0",),
    "slstm.cell:children_swapped": ("h_L ↔ h_R and c_L ↔ c_R swapped",),
    "slstm.cell:output_gate_sees_old_cell": ("slstm.output_gate given c_L for c",),
    "slstm.cell_state:one_forget_gate_for_both": ("f_L in place of f_R",),
    "slstm.input_gate:transposed_square_weight": ("W_i_Lh transposed",),
    "slstm.tree:backward_drops_right_subtree": ("no gradient into the right child",),
    # Not named today: no single rewrite of the spec expresses these (a sum over time cut
    # to its last term, the skip rule inside the CTC recursion, a transposed weight
    # gradient, float16 arithmetic), so they count against the share, as they should.
    "bilstm.output:weight_gradient_of_last_step_only": (),
    "ctc.loss:skip_rule_ignores_repeats": (),
    "slstm.cell:output_weight_gradient_transposed": (),
    "lstm.cell:gate_sums_in_float16": (),
}
"""What the diagnosis of each mutant says when it names the bug (any of the phrases)."""
NAMED_FLOOR = 0.5


def diagnosed(catalog, oracle) -> list[tuple[str, str, bool]]:
    """(mutant id, diagnosis, named) for every numeric or gradient mutant that fails."""
    found = []
    for m in mutants.corpus():
        if m.caught_by not in ("numeric", "gradient") or "quick" not in m.profiles:
            continue
        spec = catalog.get(m.spec)
        backend = Backend(f"mutant-{m.name}", {m.spec: m.make(spec)})
        for dtype in m.dtypes or ("float64",):
            result = run_check(CheckRequest(spec, backend, dtype, m.caught_by), oracle)
            if result.ok:
                continue  # the kill rate is the mutation test's to judge
            sentence = result.message.split(" — ", 1)[1] if " — " in result.message else ""
            named = any(phrase in sentence for phrase in NAMES.get(m.id, ()))
            found.append((m.id, sentence, named))
            break
    return found


def test_diagnosis_names_most_of_the_mutation_corpus(catalog, oracle, capsys):
    found = diagnosed(catalog, oracle)
    assert found, "the corpus has numeric and gradient mutants"
    named = sum(n for _, _, n in found)
    share = named / len(found)
    with capsys.disabled():
        print(f"\ndiagnosis (tests/mutants): {named}/{len(found)} ({share:.0%}) named")
    assert share > NAMED_FLOOR, [(i, s) for i, s, n in found if not n]
