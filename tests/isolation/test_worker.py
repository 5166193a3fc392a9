"""Kernels in worker processes: a dead, exited or hung worker costs its own check only."""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from conformance import Backend, Kernel
from conformance.checks.calls import Call
from conformance.engine import CheckRequest, run_check
from conformance.errors import KernelRaised, KernelTimeout, WorkerLost
from conformance.isolation import InProcess, WorkerPool
from conformance.isolation.worker import Worker, describe_exit
from conformance.results.model import Status

SPEC = "lstm.hidden_state"


def hidden_state(a):
    return {"h": a["o"] * np.tanh(a["c"])}


def hidden_state_vjp(a, cot):
    t = np.tanh(a["c"])
    return {"o": cot["h"] * t, "c": cot["h"] * a["o"] * (1 - t * t)}


def segfault(a):
    ctypes.string_at(0)


def hard_exit(a):
    os._exit(4)


def polite_exit(a):
    sys.exit(3)


def hang(a):
    time.sleep(60)


@pytest.fixture
def pool():
    with WorkerPool(timeout=1.0) as pool:
        yield pool


@pytest.fixture
def check(catalog, oracle, pool):
    """``check(forward, check="numeric", name=..., host=pool)``: one check in a worker."""

    def run(forward, check_name="numeric", *, vjp=None, name=None, dtype="float32", host=pool):
        if isinstance(forward, Backend):
            backend = forward
        else:
            backend = Backend(name or forward.__name__, {SPEC: Kernel(forward, vjp)})
        request = CheckRequest(catalog.get(SPEC), backend, dtype, check_name)
        return run_check(request, oracle, host=host)

    return run


@pytest.mark.parametrize(
    ("kernel", "reason"),
    [
        (segfault, "worker died with SIGSEGV during forward of lstm.hidden_state, float32, case 0"),
        (hard_exit, "worker exited with status 4 during forward of lstm.hidden_state"),
        (polite_exit, "worker exited with status 3 during forward of lstm.hidden_state"),
    ],
    ids=["segfault", "os._exit", "sys.exit"],
)
def test_a_dying_worker_is_an_error_for_its_check_and_is_replaced(check, pool, kernel, reason):
    def float32_only(a):  # dies on float32, right on float64
        return kernel(a) if a["c"].dtype == np.float32 else hidden_state(a)

    backend = Backend("dies", {SPEC: Kernel(float32_only)})
    result = check(backend)
    assert result.status is Status.ERROR
    assert result.message.startswith(reason), result.message
    assert "the worker was replaced" in result.message
    assert result.case == 0 and result.sizes is not None
    assert check(backend, dtype="float64").status is Status.PASS  # in a fresh worker
    # One worker died running every case's call at once, the next running case 0 alone
    # (so that the check stops at its first failing case), the third passes float64.
    assert pool.workers["dies"].starts == 3


def test_a_segfault_names_the_kernel_line_where_it_died(check):
    message = check(segfault).message
    assert f"(at test_worker.py:{segfault.__code__.co_firstlineno + 1} in segfault)" in message


def test_a_hung_kernel_times_out_and_the_backend_goes_on(check):
    def float32_hangs(a):
        return hang(a) if a["c"].dtype == np.float32 else hidden_state(a)

    backend = Backend("hangs", {SPEC: Kernel(float32_hangs)})
    start = time.monotonic()
    result = check(backend)
    assert time.monotonic() - start < 5
    assert result.status is Status.ERROR
    assert result.message.startswith(
        "timed out after 1 s (the per-check timeout) during forward of lstm.hidden_state"
    )
    assert check(backend, dtype="float64").status is Status.PASS


def test_the_timeout_is_shared_by_the_calls_of_one_check(catalog, oracle):
    def slow(a):  # 0.3 s a call: one call fits in 1 s, the check's many calls do not
        time.sleep(0.3)
        return hidden_state(a)

    backend = Backend("slow", {SPEC: Kernel(slow)})
    with WorkerPool(timeout=1.0) as pool:
        request = CheckRequest(catalog.get(SPEC), backend, "float32", "numeric")
        result = run_check(request, oracle, host=pool)
    assert result.status is Status.ERROR and "timed out after 1 s" in result.message


def test_an_exception_in_the_worker_is_the_backends_with_its_location(check):
    def raises(a):
        raise ValueError("boom")

    result = check(raises)
    assert result.status is Status.ERROR
    assert result.message.startswith("raises raised ValueError: boom (at test_worker.py:")


def test_not_implemented_error_from_a_kernel_is_an_error(check):
    def half_done(a):
        if a["c"].shape[0] > 1:
            raise NotImplementedError("batches later")
        return {"h": a["c"] * 0}  # wrong where it does run

    result = check(half_done)
    assert result.status is Status.ERROR
    assert "raised NotImplementedError: batches later" in result.message


def test_inline_kernels_and_closures_run_in_the_worker_without_reimport(check):
    scale = np.float32(1.0)
    result = check(lambda a: {"h": scale * a["o"] * np.tanh(a["c"])}, name="closure")
    assert result.status is Status.PASS and result.seconds is not None


def test_a_kernels_print_goes_to_stderr_never_stdout(check, capfd):
    def chatty(a):
        print("chatty kernel says hi")
        os.write(1, b"and writes to fd 1\n")
        return hidden_state(a)

    assert check(chatty, "shape").status is Status.PASS
    out, err = capfd.readouterr()
    assert "chatty kernel says hi" not in out and "and writes to fd 1" not in out
    assert "chatty kernel says hi" in err and "and writes to fd 1" in err


def test_the_numeric_timing_is_the_kernels_own_time(check):
    def sleepy(a):
        time.sleep(0.02)
        return hidden_state(a)

    result = check(sleepy)
    assert result.status is Status.PASS
    assert 0.02 <= result.seconds < 0.1


@pytest.mark.parametrize("where", ["worker", "in-process"])
def test_in_place_writes_are_seen_where_the_kernel_runs(check, where):
    def scribbles(a):
        out = hidden_state(a)
        a["c"][...] = 0.0
        return out

    kwargs = {"host": InProcess()} if where == "in-process" else {}
    result = check(scribbles, "inputs_unmodified", **kwargs)
    assert result.status is Status.FAIL
    assert "forward modified input 'c' in place" in result.message


@pytest.mark.parametrize("where", ["worker", "in-process"])
def test_batch_independence_catches_a_buffer_cached_per_shape(check, where):
    buffers: dict[tuple, np.ndarray] = {}

    def cached(a):
        # The bug: one output buffer per shape, returned on every call of that shape.
        out = buffers.setdefault((a["c"].shape, a["c"].dtype.str), np.empty_like(a["c"]))
        np.multiply(a["o"], np.tanh(a["c"]), out=out)
        return {"h": out}

    kwargs = {"host": InProcess()} if where == "in-process" else {}
    assert check(cached, **kwargs).status is Status.PASS  # every single call is right
    result = check(cached, "batch_independence", **kwargs)
    assert result.status is Status.FAIL
    assert (
        "output 'h' of row 1 alone shares memory with output 'h' of row 0 alone "
        "(a buffer reused across calls)" in result.message
    )


def test_batch_independence_catches_an_output_that_is_an_input(check):
    result = check(lambda a: {"h": a["c"]}, "batch_independence", name="echo")
    assert result.status is Status.FAIL
    assert "output 'h' of the whole batch shares memory with its input 'c'" in result.message


def test_worker_calls_raise_the_backend_fault_kinds(pool):
    backend = Backend("b", {SPEC: Kernel(lambda a: 1 / 0)})
    calls = pool.calls(backend)
    call = Call(SPEC, "forward", ({"o": np.ones(2), "c": np.ones(2)},))
    with pytest.raises(KernelRaised, match="ZeroDivisionError: division by zero"):
        calls.call([call])
    hung = pool.calls(Backend("h", {SPEC: Kernel(hang)}))
    with pytest.raises(KernelTimeout) as timeout:
        hung.call([call])
    assert isinstance(timeout.value, WorkerLost) and timeout.value.during == f"forward of {SPEC}"


def test_exit_codes_are_named():
    assert describe_exit(-11) == "died with SIGSEGV"
    assert describe_exit(-9) == "died with SIGKILL"
    assert describe_exit(3) == "exited with status 3"
    assert describe_exit(-200) == "died with signal 200"


def test_in_process_records_sys_exit_as_an_error(check):
    result = check(polite_exit, host=InProcess())
    assert result.status is Status.ERROR
    assert "raised SystemExit: 3 (the kernel called sys.exit)" in result.message


ORPHAN = """
import os, sys, time
import numpy as np
from conformance import Backend, Kernel
from conformance.checks.calls import Call
from conformance.isolation import WorkerPool

calls = WorkerPool(timeout=600).calls(Backend("h", {"s": Kernel(lambda a: time.sleep(600))}))
print(os.getpid(), flush=True)
calls.call([Call("s", "forward", ({"x": np.ones(1)},))])
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_a_hung_worker_dies_with_a_killed_harness(tmp_path):
    harness = subprocess.Popen([sys.executable, "-c", ORPHAN], stdout=subprocess.PIPE, text=True)
    pid = int(harness.stdout.readline())
    deadline = time.monotonic() + 10
    workers: list[str] = []
    while not workers and time.monotonic() < deadline:  # the worker is forked on first call
        time.sleep(0.1)
        workers = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    assert workers, "no worker started"
    harness.kill()
    harness.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _alive(int(workers[0])):
        time.sleep(0.1)
    assert not _alive(int(workers[0])), "the worker outlived the harness"


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting to be reaped does not)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


def test_a_crash_in_a_later_case_is_that_cases_error(check, catalog):
    def dies_at_b2(a):  # the cases of lstm.hidden_state: B=3, B=1, B=2
        return segfault(a) if a["c"].shape[0] == 2 else hidden_state(a)

    result = check(dies_at_b2)
    assert result.status is Status.ERROR
    assert "during forward of lstm.hidden_state, float32, case 2" in result.message
    assert result.case == 2 and result.sizes == dict(catalog.get(SPEC).sizes[2])


def test_an_exception_in_a_later_case_is_that_cases_error(check):
    def raises_at_b1(a):
        if a["c"].shape[0] == 1:
            raise ValueError("no single rows")
        return hidden_state(a)

    result = check(raises_at_b1, "shape")
    assert result.status is Status.ERROR and result.case == 1
    assert result.message.startswith("raises_at_b1 raised ValueError: no single rows")


def test_a_check_costs_one_round_trip_and_the_next_one_none(check, pool, monkeypatch):
    trips = []
    request = Worker.request

    def counted(self, calls, budget, timeout):
        trips.append(len(calls))
        return request(self, calls, budget, timeout)

    monkeypatch.setattr(Worker, "request", counted)
    backend = Backend("counted", {SPEC: Kernel(hidden_state, hidden_state_vjp)})
    assert check(backend, "shape").status is Status.PASS
    assert trips == [3]  # the three cases' forward calls, in one message
    assert check(backend, "dtype").status is Status.PASS
    assert trips == [3]  # the same calls: answered from the first check's replies
    assert check(backend, "inputs_unmodified").status is Status.PASS
    assert trips == [3, 6]  # forward and VJP, watched, of each case
