"""The engine honours what a kernel declares, and tells a backend's fault from its own.

A kernel declares dtypes, the gradients its VJP returns, and inputs it takes only as
zeros; the registry rejects declarations (and kernel ids) the catalog does not know.
"""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import pytest

from conformance import Backend, Kernel
from conformance.checks import CHECKS
from conformance.engine import CheckRequest, plan, run_check
from conformance.errors import PluginError, UsageError
from conformance.plugins.backend import BackendRegistry
from conformance.plugins.registry import load_registry
from conformance.results.model import Status
from implementations.numpy_vectorized.lstm_sequence import sequence_forward


def hidden_state(a):
    return {"h": a["o"] * np.tanh(a["c"])}


def hidden_state_vjp_o_only(a, cot):
    return {"o": cot["h"] * np.tanh(a["c"])}


def zero_state_sequence(a):
    """An LSTM over a sequence that ignores the state it is given: h_0 = c_0 = 0."""
    return sequence_forward({**a, "h_0": np.zeros_like(a["h_0"]), "c_0": np.zeros_like(a["c_0"])})


@pytest.fixture
def check(catalog, oracle):
    def run(spec, check_name, kernel, dtype="float64", name="under-test"):
        backend = Backend(name, {spec: kernel})
        return run_check(CheckRequest(catalog.get(spec), backend, dtype, check_name), oracle)

    return run


def test_an_undeclared_dtype_is_not_implemented_with_the_kernels_reason(check):
    kernel = Kernel(hidden_state, dtypes=("float64",), reason="the library is float64 only")
    result = check("lstm.hidden_state", "numeric", kernel, dtype="float32")
    assert result.status is Status.NOT_IMPLEMENTED
    assert result.message == (
        "under-test declares lstm.hidden_state for float64 only: the library is float64 only"
    )
    assert check("lstm.hidden_state", "numeric", kernel).status is Status.PASS


def test_declared_gradients_are_checked_and_the_rest_listed_as_missing(check):
    kernel = Kernel(hidden_state, hidden_state_vjp_o_only, gradients=("o",), reason="o only")
    result = check("lstm.hidden_state", "gradient", kernel)
    assert result.status is Status.PASS
    assert result.extra["missing_gradients"] == ["c"]
    assert result.message == (
        "not implemented: gradient for 'c'; the gradients compared are right (o)"
    )


def test_a_declared_gradient_that_is_wrong_still_fails(check):
    def wrong_vjp(a, cot):
        return {"o": 2 * cot["h"] * np.tanh(a["c"])}

    result = check(
        "lstm.hidden_state", "gradient", Kernel(hidden_state, wrong_vjp, gradients=("o",))
    )
    assert result.status is Status.FAIL and "grad o" in result.worst


def test_a_missing_gradient_that_is_not_declared_fails(check):
    result = check("lstm.hidden_state", "gradient", Kernel(hidden_state, hidden_state_vjp_o_only))
    assert result.status is Status.FAIL
    assert "vjp returned no gradient for 'c'" in result.message


def test_zero_inputs_are_drawn_as_zeros_and_said_in_every_result(check):
    undeclared = check("lstm.sequence", "numeric", Kernel(zero_state_sequence))
    assert undeclared.status is Status.FAIL  # h_0 ≠ 0 in the draw: the kernel ignores it
    kernel = Kernel(zero_state_sequence, zero_inputs=("h_0", "c_0"), reason="no initial state")
    result = check("lstm.sequence", "numeric", kernel)
    assert result.status is Status.PASS, result.message
    assert result.extra["restrictions"] == ["with h_0 = 0, c_0 = 0 only"]


def test_the_reference_for_zeroed_inputs_is_not_the_reference_of_the_draw(check):
    """A backend with the full draw first, then one with zeroed inputs: no stale reference."""
    assert check("lstm.sequence", "numeric", Kernel(sequence_forward)).status is Status.PASS
    kernel = Kernel(zero_state_sequence, zero_inputs=("h_0", "c_0"))
    assert check("lstm.sequence", "numeric", kernel, name="zero").status is Status.PASS


def test_chunking_is_not_implemented_for_a_kernel_without_a_carried_state(check):
    kernel = Kernel(zero_state_sequence, zero_inputs=("h_0", "c_0"), reason="no initial state")
    result = check("lstm.sequence", "chunking", kernel)
    assert result.status is Status.NOT_IMPLEMENTED
    assert "takes h_0 = 0, c_0 = 0 only: no initial state" in result.message


def test_extra_outputs_fail_the_shape_check_naming_them(check):
    def chatty(a):
        return {**hidden_state(a), "tanh_c": np.tanh(a["c"]), "debug": np.zeros(1)}

    result = check("lstm.hidden_state", "shape", Kernel(chatty))
    assert result.status is Status.FAIL
    assert (
        "returned 'tanh_c', 'debug', which lstm.hidden_state does not output (its outputs: h)"
        in (result.message)
    )


def test_a_bug_of_the_harness_is_reported_as_the_harnesss(check, monkeypatch):
    def broken_check(ctx, case, sizes):
        ctx.forward(ctx.inputs(case, sizes))
        return {}["oops"]  # the harness's own code fails after the kernel call succeeded

    monkeypatch.setitem(CHECKS, "numeric", replace(CHECKS["numeric"], measure=broken_check))
    result = check("lstm.hidden_state", "numeric", Kernel(hidden_state))
    assert result.status is Status.ERROR
    assert result.message.startswith("harness error in the numeric check: KeyError: 'oops'")
    assert "a bug of the harness, not of under-test" in result.message
    assert "under-test raised" not in result.message
    assert result.extra["harness_error"].startswith("KeyError")


def test_unknown_kernel_ids_are_rejected_at_registration_with_a_hint(catalog):
    registry = BackendRegistry(catalog.specs)
    with pytest.raises(PluginError, match=r"there is no spec 'lstm.hiden_state' \(did you mean "):
        registry.add(Backend("typo", {"lstm.hiden_state": Kernel(hidden_state)}))


class TypoPlugin:
    from conformance import hookimpl

    @hookimpl
    def conformance_register_backends(self, register):
        register.add(Backend("typo", {"lstm.hiden_state": Kernel(hidden_state)}))


def test_a_plugin_with_an_unknown_kernel_id_fails_to_load(catalog):
    registry = load_registry(extra_plugins=[("typo", TypoPlugin())], use_entry_points=False)
    assert "typo" in registry.backends  # the catalog, loaded after the plugins, says no:
    registry.reject_unknown_kernels(catalog.specs)
    (health,) = registry.health
    assert health.state == "failed" and "did you mean 'lstm.hidden_state'?" in health.reason
    assert "typo" not in registry.backends


@pytest.mark.parametrize(
    ("kernel", "message"),
    [
        (Kernel(hidden_state, gradients=("h",)), "gradients names 'h'"),
        (Kernel(hidden_state, zero_inputs=("cc",)), "zero_inputs names 'cc' (did you mean 'c'?)"),
        (Kernel(hidden_state, dtypes=("float16",)), "dtypes=('float16',); declare some of"),
    ],
    ids=["gradient", "zero-input", "dtype"],
)
def test_declarations_naming_what_the_spec_lacks_are_rejected(catalog, kernel, message):
    with pytest.raises(PluginError, match=re.escape(message)):
        BackendRegistry(catalog.specs).add(Backend("b", {"lstm.hidden_state": kernel}))


def test_a_plan_in_which_no_backend_implements_a_selected_spec_is_a_usage_error(catalog):
    backend = Backend("cells-only", {"lstm.cell": Kernel(hidden_state)})
    with pytest.raises(UsageError, match=r"nothing to check: no selected backend \(cells-only\)"):
        plan(catalog.select(["lstm.forget_gate"]), [backend])
    float64_only = Backend("f64", {"lstm.cell": Kernel(hidden_state, dtypes=("float64",))})
    with pytest.raises(UsageError, match="in float32"):
        plan(catalog.select(["lstm.cell"]), [float64_only], ["float32"])
    assert plan(catalog.select(["lstm.cell"]), [float64_only], ["float64"])
