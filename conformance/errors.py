"""Every exception the harness raises on purpose, and one way to say where.

A :class:`Location` names the file, spec and field at fault; every error that points
into a spec file or a result file carries one, so messages read the same everywhere:
``specs/lstm.toml: spec 'lstm.forget_gate': equations[0]: unknown symbol 'W_ff' (did
you mean 'W_f'?)``. A backend's own exceptions are never wrapped in these: they are
the backend's, and the engine reports them as such. :class:`HarnessError` is the
opposite case: a bug of the harness itself, reported as one.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Location:
    """Where a problem is: a file, a spec in it, a field of that spec (all optional)."""

    file: str = ""
    spec: str = ""
    field: str = ""

    def at(self, field: str) -> Location:
        """The same place, one field further in (``equations`` → ``equations[0]``)."""
        joined = (
            f"{self.field}.{field}"
            if self.field and not field.startswith("[")
            else (self.field + field)
        )
        return replace(self, field=joined if self.field else field)

    def __str__(self) -> str:
        spec = f"spec {self.spec!r}" if self.spec else ""
        return ": ".join(part for part in (self.file, spec, self.field) if part)


class ConformanceError(Exception):
    """Base class of every error the harness raises on purpose."""


class LocatedError(ConformanceError):
    """An error at a :class:`Location`; the message reads ``<where>: <problem> (<hint>)``."""

    def __init__(
        self,
        problem: str,
        *,
        file: str = "",
        field: str = "",
        hint: str = "",
        where: Location | None = None,
    ) -> None:
        self.where = where or Location(file=file, field=field)
        self.file, self.field, self.problem, self.hint = (
            self.where.file,
            str(Location(spec=self.where.spec, field=self.where.field)),
            problem,
            hint,
        )
        place = str(self.where)
        message = f"{place}: {problem}" if place else problem
        if hint:
            message += f" ({hint})"
        super().__init__(message)


class SpecError(LocatedError):
    """A spec file, or an equation in it, is malformed."""


class ExpressionError(SpecError):
    """An equation uses a construct, name or function outside the whitelisted language."""


class EvaluationError(ConformanceError):
    """The oracle could not evaluate a spec on the given inputs (bad shapes, bad equation)."""


class RoundingModelError(EvaluationError):
    """The rounding estimate met an operation it has no rule for (a NumPy function the
    equations reach that :mod:`conformance.lang.rounding` does not model)."""


class ResultFileError(LocatedError):
    """A result file is missing, not JSON, of another schema, or has a malformed field.

    The message reads ``<file>: <field>: <problem>``.
    """

    def __init__(self, file: str, problem: str, field: str = "") -> None:
        super().__init__(problem, where=Location(file=file, field=field))


class PluginError(ConformanceError):
    """A backend plugin could not be loaded or registered something invalid."""


class BackendUnavailable(ConformanceError):  # noqa: N818
    """Raised by a plugin (at import or registration) whose framework is not installed.

    The plugin is then *unavailable*, a state of its own: neither a failure nor silence.
    ``raise BackendUnavailable("torch is not installed", install="pip install
    'rnn-conformance[torch]'")``.
    """

    def __init__(self, problem: str, *, install: str = "") -> None:
        self.problem, self.install = problem, install
        super().__init__(f"{problem} ({install})" if install else problem)


class UsageError(ConformanceError):
    """The user's selection is unusable: no backend selected, unknown spec pattern, bad dtype."""


class NotDeclared(ConformanceError):  # noqa: N818
    """The backend does not offer what a check needs (no kernel, no VJP, not this dtype).

    Raised by the harness, never by a kernel: a kernel that raises ``NotImplementedError``
    has simply raised, and that is an error like any other.
    """


class HarnessError(ConformanceError):
    """A bug of the harness itself (not of the spec, the backend or the user's input)."""


class KernelFault(ConformanceError):  # noqa: N818
    """The backend's fault in one kernel call: it raised, returned something that cannot be
    checked, or its worker process died or hung. The engine records an ``error`` for the
    check in flight; the run goes on.

    :ivar index: which call of a batch of calls was in flight (None: not known).
    :ivar case: the spec's case that call belonged to, when the engine knows it.
    """

    index: int | None = None
    case: int | None = None


class KernelRaised(KernelFault):
    """The kernel raised; the message describes its exception: ``ValueError: shapes (3,4)
    and (5,) not aligned (at fused_gate.py:41)``."""


class WorkerLost(KernelFault):
    """The backend's worker process died, exited, or was killed after the per-check timeout.

    :ivar what: ``worker died with SIGSEGV``, ``worker exited with status 3``,
        ``timed out after 2 s (the per-check timeout)``.
    :ivar during: ``forward of lstm.cell``: the call in flight.
    :ivar where: `` (at crashy.py:7 in forward)`` when the worker died of a signal in
        Python code it could name, else empty.
    """

    def __init__(self, what: str, during: str = "", where: str = "") -> None:
        self.what, self.during, self.where = what, during, where
        super().__init__((f"{what} during {during}" if during else what) + where)


class KernelTimeout(WorkerLost):
    """A kernel call outlasted what was left of the per-check timeout; its worker was killed."""
