"""The engine's plan: what gets checked, and refusing to check nothing."""

from __future__ import annotations

import numpy as np
import pytest

from conformance import Backend, Kernel
from conformance.checks import CheckContext
from conformance.engine import plan, run_requests
from conformance.errors import UsageError
from conformance.oracle.evaluate import Oracle
from conformance.oracle.verify import load_checked_catalog
from conformance.results.model import Status

CATALOG = load_checked_catalog()
BACKEND = Backend("b", {"lstm.hidden_state": Kernel(lambda a: {"h": a["o"] * np.tanh(a["c"])})})


def test_plan_without_backends_is_a_usage_error():
    with pytest.raises(UsageError, match="no backend selected"):
        plan(CATALOG.select(), [])


def test_plan_without_specs_is_a_usage_error():
    with pytest.raises(UsageError, match="no spec selected"):
        plan([], [BACKEND])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"dtypes": ["float16"]}, "unknown dtype 'float16'"),
        ({"checks": ["speed"]}, "unknown check 'speed'"),
    ],
)
def test_plan_rejects_unknown_dtype_and_check(kwargs, message):
    with pytest.raises(UsageError, match=message):
        plan(CATALOG.select(["lstm.cell"]), [BACKEND], **kwargs)


def test_plan_skips_checks_that_do_not_apply():
    backend = Backend("c", {s: Kernel(lambda a: {}) for s in ("lstm.cell_state", "lstm.sequence")})
    # lstm.cell_state declares no invariants, no stability domains and no identities.
    cell_state = plan(CATALOG.select(["lstm.cell_state"]), [backend], ["float64"])
    assert [r.check for r in cell_state] == [
        "shape", "dtype", "numeric", "gradient", "inputs_unmodified", "batch_independence",
        "layout", "stateless",
    ]  # fmt: skip
    # lstm.sequence declares invariants, stability and chunking, but no reversal.
    sequence = plan(CATALOG.select(["lstm.sequence"]), [backend], ["float64"])
    assert [r.check for r in sequence] == [
        "shape", "dtype", "numeric", "gradient", "invariants", "stability",
        "inputs_unmodified", "batch_independence", "layout", "stateless", "chunking",
    ]  # fmt: skip


def test_plan_ids_read_like_the_matrix():
    backend = Backend("b", {"lstm.forget_gate": Kernel(lambda a: {})})
    requests = plan(CATALOG.select(["lstm.forget_gate"]), [backend], ["float32"], ["gradient"])
    assert [r.id for r in requests] == ["lstm.forget_gate-b-float32-gradient"]


def test_run_yields_every_result_and_reports_progress():
    seen = []
    requests = plan(
        CATALOG.select(["lstm.hidden_state", "lstm.cell"]), [BACKEND], ["float64"], ["numeric"]
    )
    results = list(
        run_requests(requests, Oracle(CATALOG.specs), progress=lambda req, res: seen.append(req.id))
    )
    assert [r.status for r in results] == [Status.PASS, Status.NOT_IMPLEMENTED]
    assert seen == [r.id for r in requests]


def test_seed_changes_inputs_but_not_verdict():
    requests = plan(CATALOG.select(["lstm.hidden_state"]), [BACKEND], ["float64"], ["numeric"])
    oracle = Oracle(CATALOG.specs)
    a, b = (next(run_requests(requests, oracle, seed=s)) for s in (0, 1))
    assert a.status is b.status is Status.PASS
    assert (a.seed, b.seed) == (0, 1)
    spec = CATALOG.get("lstm.hidden_state")
    kernel = BACKEND.kernel(spec.id)
    x0, x1 = (
        CheckContext(spec, BACKEND, kernel, "float64", s, oracle).inputs(0, spec.sizes[0])
        for s in (0, 1)
    )
    assert not np.array_equal(x0["c"], x1["c"])
