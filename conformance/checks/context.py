"""What every check shares: the context of one (spec, backend, dtype), its inputs and
references, the measurement a check returns, and the helpers that turn problems or
discrepancies into a verdict."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from conformance.checks.calls import Call, KernelCalls, Reply, call_key
from conformance.checks.compare import Allowance, Discrepancy, compare, worst
from conformance.errors import HarnessError, KernelFault, NotDeclared
from conformance.oracle.evaluate import Oracle, Projection
from conformance.plugins.backend import Backend, Kernel
from conformance.spec.draw import case_rng, draw_cotangents, draw_inputs, shape_of
from conformance.spec.model import Spec, Tolerance
from conformance.typing import Array, Arrays, Sizes


@dataclass(frozen=True)
class Evidence:
    """What a backend returned on a failing case, kept for the diagnosis.

    :ivar inputs: the case's inputs, in the dtype under test, as the backend got them.
    :ivar outputs: the backend's forward outputs (numeric check).
    :ivar cotangents, gradients: the cotangents given to the VJP and the gradients it
        returned with the right shape and dtype (gradient check); ``misshapen`` those
        with another shape.
    """

    case: int
    sizes: Sizes
    inputs: Arrays
    outputs: Arrays | None = None
    cotangents: Arrays | None = None
    gradients: Arrays | None = None
    misshapen: Arrays | None = None
    """Gradients returned with a shape other than their input's."""


@dataclass(frozen=True)
class Measurement:
    """The outcome of one check on one case.

    :ivar extra: plain data for the result's ``extra`` (per-input gradient verdicts, …).
    :ivar evidence: the backend's answers on a failing case, for the diagnosis; never saved.
    """

    ok: bool
    message: str = ""
    discrepancy: Discrepancy | None = None
    seconds: float | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    evidence: Evidence | None = None

    def with_evidence(self, evidence: Evidence) -> Measurement:
        """This measurement carrying ``evidence`` when it is a failure, else unchanged."""
        return self if self.ok else replace(self, evidence=evidence)


@dataclass(frozen=True)
class CheckContext:
    """Everything a check needs besides the case.

    ``kernel`` holds the backend's declarations (dtypes, gradients, zero inputs);
    ``calls`` runs its kernels, in the backend's worker or in this process.
    """

    spec: Spec
    backend: Backend
    kernel: Kernel
    dtype: str
    seed: int
    oracle: Oracle
    calls: KernelCalls | None = None
    _drawn: dict[tuple, dict[str, Array]] = field(default_factory=dict, repr=False)
    _prefetched: dict[bytes, list[Reply]] = field(default_factory=dict, repr=False)

    def inputs(
        self,
        case: int,
        sizes: Sizes,
        domains: Mapping[str, str] | None = None,
        stream: str | None = None,
    ) -> dict[str, Array]:
        """The case's inputs in the dtype under test: the same for every backend, except
        that the inputs the kernel takes only as zeros (``zero_inputs``) are zeros.

        ``stream`` names another draw at the same sizes (``second``); by default the
        case's own (``inputs``, or ``stability`` with ``domains``). Drawn once per context
        and read-only: what a check sends is what it measured."""
        stream = stream or ("stability" if domains else "inputs")
        key = (case, tuple(sorted((domains or {}).items())), stream)
        if key not in self._drawn:
            rng = case_rng(self.seed, self.spec.id, case, stream)
            drawn = draw_inputs(self.spec, sizes, dtype=self.dtype, rng=rng, domains=domains)
            for name in self.kernel.zero_inputs:
                if name in drawn:
                    drawn[name] = np.zeros_like(drawn[name])
            for array in drawn.values():
                array.flags.writeable = False
            self._drawn[key] = drawn
        return dict(self._drawn[key])

    def cotangents(self, case: int, sizes: Sizes) -> dict[str, Array]:
        """The case's output cotangents u (for the VJP uᵀJ): the same for every backend."""
        rng = case_rng(self.seed, self.spec.id, case, "cotangents")
        return draw_cotangents(self.spec, sizes, dtype=self.dtype, rng=rng)

    def reference(
        self, case: int, inputs: Arrays, *, stability: bool = False, stream: str | None = None
    ) -> dict[str, Array]:
        """The oracle's outputs for this case's inputs (of ``stream``, when another draw),
        computed once for all backends."""
        stream = stream or ("stability" if stability else "inputs")
        key = ("evaluate", stream, *self._memo_key(case, inputs))
        return self.oracle.memo(key, lambda: self.oracle.evaluate(self.spec, inputs))

    def reference_rounding(
        self, case: int, inputs: Arrays, *, stability: bool = False, stream: str | None = None
    ) -> dict[str, Array]:
        """Each float output's expected rounding error in units of u, computed once."""
        stream = stream or ("stability" if stability else "inputs")
        key = ("rounding", stream, *self._memo_key(case, inputs))
        return self.oracle.memo(key, lambda: self.oracle.rounding(self.spec, inputs))

    def allowance(
        self, rounding: Array | float, *, results: int = 1, scale: float = 0.0
    ) -> Allowance:
        """What an array may err by here, given its expected rounding (units of u)."""
        return Allowance(rounding, self.tolerance, self.dtype, results, scale)

    def reference_vjp(self, case: int, inputs: Arrays, cotangents: Arrays) -> dict[str, Array]:
        """uᵀJ for every differentiable input, element by element, computed once."""
        terms = self.reference_vjp_terms(case, inputs, cotangents)
        return {name: projection.value for name, projection in terms.items()}

    def reference_vjp_terms(
        self, case: int, inputs: Arrays, cotangents: Arrays
    ) -> dict[str, Projection]:
        """uᵀJ for every differentiable input, element by element, with the terms each
        element sums (what its expected rounding follows), computed once."""
        key = ("vjp", *self._memo_key(case, inputs))
        spec = self.spec
        return self.oracle.memo(
            key, lambda: self.oracle.vjp_terms(spec, inputs, cotangents, spec.differentiable)
        )

    def _memo_key(self, case: int, inputs: Arrays) -> tuple:
        """What a case's reference is a pure function of: the spec's equations and domains,
        the seed, the case, the shapes drawn and the inputs zeroed for this kernel."""
        spec = self.spec
        shapes = tuple((name, np.shape(value)) for name, value in inputs.items())
        definition = (
            tuple(st.source for st in spec.equations),
            tuple((s.name, s.domain) for s in spec.input_symbols),
            tuple(sorted(spec.stability.items())),
        )
        zeroed = tuple(sorted(self.kernel.zero_inputs))
        return (spec.id, definition, self.seed, case, self.dtype, shapes, zeroed)

    def label(self, sizes: Sizes) -> str:
        """``[lstm.cell(B=3, D=5, H=4), fused-gate, float32, seed=0]`` for messages."""
        case = self.spec.describe_sizes(sizes)
        return f"[{case}, {self.backend.name}, {self.dtype}, seed={self.seed}]"

    @property
    def tolerance(self) -> Tolerance:
        return self.spec.tolerance[self.dtype]

    def call(self, call: Call) -> Reply:
        """Run one kernel call through ``calls`` (the backend's worker or this process)."""
        return self.call_all([call])[0]

    def call_all(self, calls: list[Call]) -> list[Reply]:
        """Run several kernel calls in one round trip to where the kernel runs; a call
        that :meth:`prefetch` already ran is answered with its reply."""
        if self.calls is None:
            raise HarnessError(f"no kernel calls for {self.backend.name!r}: context built without")
        replies: list[Reply | None] = [self._take(call) for call in calls]
        missing = [i for i, reply in enumerate(replies) if reply is None]
        if missing:
            fresh = self.calls.call([calls[i] for i in missing])
            for i, reply in zip(missing, fresh, strict=True):
                replies[i] = reply
        return [reply for reply in replies if reply is not None]

    def prefetch(self, planned: list[tuple[int, Call]]) -> None:
        """Run every case's calls, known ahead, in one round trip; each reply then answers
        the identical call of its case. A kernel fault says the case it happened in."""
        if len(planned) < 2:
            return
        try:
            replies = self.call_all([call for _, call in planned])
        except KernelFault as exc:
            exc.case = planned[exc.index or 0][0]
            raise
        for (_, call), reply in zip(planned, replies, strict=True):
            self._prefetched.setdefault(call_key(call), []).append(reply)

    def _take(self, call: Call) -> Reply | None:
        if not self._prefetched:
            return None
        waiting = self._prefetched.get(call_key(call))
        return waiting.pop(0) if waiting else None

    def forward_call(self, inputs: Arrays, **flags: Any) -> Call:
        """``forward(inputs)`` of this spec as a call (``track=…``, ``quiet=…``)."""
        return Call(self.spec.id, "forward", (dict(inputs),), **flags)

    def vjp_call(self, inputs: Arrays, cotangents: Arrays, **flags: Any) -> Call:
        """``vjp(inputs, cotangents)`` of this spec as a call; NotDeclared without a VJP."""
        if self.kernel.vjp is None:
            raise NotDeclared(f"{self.backend.name!r} has no VJP for {self.spec.id!r}")
        return Call(self.spec.id, "vjp", (dict(inputs), dict(cotangents)), **flags)

    def forward(self, inputs: Arrays, **flags: Any) -> Arrays:
        """The kernel's outputs for a private copy of ``inputs``."""
        return self.call(self.forward_call(inputs, **flags)).values

    def vjp(self, inputs: Arrays, cotangents: Arrays) -> Arrays:
        """The kernel's gradients for private copies of ``inputs`` and ``cotangents``."""
        return self.call(self.vjp_call(inputs, cotangents)).values


def restrictions(kernel: Kernel) -> list[str]:
    """What a kernel's declarations restrict every check to: ``with h_0 = 0 only``."""
    if not kernel.zero_inputs:
        return []
    return [f"with {', '.join(f'{n} = 0' for n in kernel.zero_inputs)} only"]


def verdict_from_problems(ctx: CheckContext, problems: list[str], sizes: Sizes) -> Measurement:
    """A pass when ``problems`` is empty, else a failure listing them, labelled with the case."""
    if not problems:
        return Measurement(True)
    return Measurement(False, "; ".join(problems) + f" {ctx.label(sizes)}")


def verdict_from_worst(ctx: CheckContext, found: list[Discrepancy], sizes: Sizes) -> Measurement:
    """A pass carrying the worst discrepancy when every one is within tolerance, else a failure."""
    bad = worst(found)
    if bad is None or bad.ok:
        return Measurement(True, discrepancy=bad)
    return Measurement(False, f"{bad.describe()} {ctx.label(sizes)}", bad)


def shape_problems(ctx: CheckContext, outputs: Mapping[str, Array], sizes: Sizes) -> list[str]:
    problems = []
    for symbol in ctx.spec.output_symbols:
        want = shape_of(symbol, sizes)
        if symbol.name not in outputs:
            got = ", ".join(map(repr, outputs)) or "nothing"
            problems.append(f"output {symbol.name!r} is missing (returned {got})")
            continue
        have = np.shape(outputs[symbol.name])
        if have != want:
            problems.append(
                f"out[{symbol.name!r}].shape={have}, but should be {want} = "
                f"({', '.join(symbol.shape)})"
            )
    return problems


def compare_outputs(
    ctx: CheckContext,
    outputs: Mapping[str, Array],
    reference: Mapping[str, Array],
    rounding: Mapping[str, Array],
    sizes: Sizes,
) -> Measurement:
    """Every output against its reference, each element within the tolerance's multiple of
    its expected rounding (``rounding``, units of u; int outputs exact)."""
    problems = shape_problems(ctx, outputs, sizes)
    if problems:
        return verdict_from_problems(ctx, problems, sizes)
    found = [
        compare(n, outputs[n], reference[n], ctx.allowance(rounding.get(n, 0.0)))
        for n in ctx.spec.outputs
    ]
    measured = verdict_from_worst(ctx, found, sizes)
    bad = measured.discrepancy
    others = [d for d in found if not d.ok and d is not bad]
    if measured.ok or bad is None or not others:
        return measured
    also = ", ".join(f"{d.where} ({d.tol_fraction:.3g}× tolerance)" for d in others)
    right = [d.name for d in found if d.ok]
    also += f"; right: {', '.join(right)}" if right else ""
    return replace(measured, message=f"{bad.describe()}; also wrong: {also} {ctx.label(sizes)}")


def largest(value: Array) -> float:
    """The largest finite magnitude in ``value`` (0 when there is none): an output's scale."""
    magnitudes = np.abs(np.asarray(value, np.float64))
    return float(np.max(magnitudes[np.isfinite(magnitudes)], initial=0.0))


def largest_case(spec: Spec) -> int:
    return max(range(len(spec.sizes)), key=lambda i: np.prod(list(spec.sizes[i].values())))
