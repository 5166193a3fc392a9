"""The directional gradient check, which every realistic case takes (more than
FULL_GRADIENT_LIMIT differentiable elements): a right VJP passes it, and a VJP wrong in
one gradient by 1 % fails it, named, in both dtypes."""

from __future__ import annotations

import numpy as np
import pytest

from conformance import Backend, Kernel
from conformance.checks.gradient import FULL_GRADIENT_LIMIT
from conformance.engine import CheckRequest, run_check
from conformance.results.model import Status
from conformance.spec.draw import shape_of
from conformance.spec.profiles import SizeChoice, at_sizes
from implementations.numpy_vectorized import lstm_sequence

SEQUENCE = lstm_sequence.KERNELS["lstm.sequence"]


def slightly_wrong_vjp(inputs, cotangents):
    grads = dict(SEQUENCE.vjp(inputs, cotangents))
    grads["W_o"] = grads["W_o"] * 1.01
    return grads


@pytest.fixture(scope="module")
def realistic(catalog):
    spec = at_sizes(catalog.get("lstm.sequence"), SizeChoice("realistic"))
    return spec.__class__(**{**spec.__dict__, "sizes": spec.sizes[:1]})  # T=50, B=20


def test_every_realistic_case_is_past_the_element_by_element_limit(catalog):
    for spec in catalog.specs.values():
        if not spec.differentiable:
            continue
        realistic = at_sizes(spec, SizeChoice("realistic"))
        for sizes in realistic.sizes:
            elements = sum(
                int(np.prod(shape_of(spec.symbols[n], sizes))) for n in spec.differentiable
            )
            assert elements > FULL_GRADIENT_LIMIT, (spec.id, sizes, elements)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_directional_check_passes_a_right_vjp_and_fails_one_off_by_a_percent(
    realistic, oracle, dtype
):
    right = Backend("right", {"lstm.sequence": SEQUENCE})
    passed = run_check(CheckRequest(realistic, right, dtype, "gradient"), oracle)
    assert passed.status is Status.PASS, passed.message
    assert passed.worst is not None and passed.worst.startswith("⟨grad ")  # directional
    wrong = Backend("wrong", {"lstm.sequence": Kernel(SEQUENCE.forward, slightly_wrong_vjp)})
    failed = run_check(CheckRequest(realistic, wrong, dtype, "gradient"), oracle, diagnose=False)
    assert failed.status is Status.FAIL
    assert "wrong gradient for 'W_o' (1 of 11 compared)" in failed.message
    assert "⟨grad W_o, v" in failed.message
