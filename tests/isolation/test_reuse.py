"""Identical plain forward calls share one reply; timed, watched and tracked calls always run."""

from __future__ import annotations

import numpy as np
import pytest

from conformance import Backend, Kernel
from conformance.checks.calls import Call, Reply
from conformance.engine import CheckRequest, run_check
from conformance.isolation import InProcess
from conformance.isolation.reuse import ReplyCache

SPEC = "lstm.hidden_state"


def test_the_checks_of_a_case_share_one_forward_call(catalog, oracle):
    calls = []

    def counted(a):
        calls.append(a["c"].shape)
        return {"h": a["o"] * np.tanh(a["c"])}

    backend, host = Backend("counted", {SPEC: Kernel(counted)}), InProcess()
    spec = catalog.get(SPEC)
    for check in ("shape", "dtype", "invariants"):
        run_check(CheckRequest(spec, backend, "float64", check), oracle, host=host)
    assert len(calls) == len(spec.sizes)  # one call per case, for the three checks
    run_check(CheckRequest(spec, backend, "float64", "inputs_unmodified"), oracle, host=host)
    assert len(calls) == 2 * len(spec.sizes)  # watched calls really run
    run_check(CheckRequest(spec, backend, "float32", "shape"), oracle, host=host)
    assert len(calls) == 3 * len(spec.sizes)  # other inputs, other calls


def test_cached_replies_are_read_only_copies():
    out = np.ones(3)
    cache = ReplyCache()
    call = Call(SPEC, "forward", ({"c": np.zeros(3)},))
    (reply,) = cache.call([call], lambda calls: [Reply({"h": out})])
    out[0] = 5.0  # the kernel reuses its buffer afterwards
    (again,) = cache.call([call], lambda calls: pytest.fail("ran again"))
    assert again is reply and again.values["h"][0] == 1.0
    with pytest.raises(ValueError, match="read-only"):
        again.values["h"][0] = 2.0


@pytest.mark.parametrize(
    "options",
    [{"repeats": 5}, {"watch": True}, {"track": "row 0 alone"}],
    ids=["timed", "watched", "tracked"],
)
def test_calls_that_must_run_are_never_answered_from_the_cache(options):
    runs = []
    cache = ReplyCache()
    call = Call(SPEC, "forward", ({"c": np.zeros(3)},), **options)
    for _ in range(2):
        cache.call([call], lambda calls: runs.append(1) or [Reply({"h": np.ones(3)})])
    assert len(runs) == 2
