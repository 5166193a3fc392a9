"""Exceptions whose messages name the file, field, spec or backend at fault."""

from __future__ import annotations


class ConformanceError(Exception):
    """Base class of every error the harness raises on purpose."""


class SpecError(ConformanceError):
    """A spec file, or an equation in it, is malformed.

    The message reads ``<file>: <field>: <problem> (<hint>)``.
    """

    def __init__(self, problem: str, *, file: str = "", field: str = "", hint: str = "") -> None:
        self.file, self.field, self.problem, self.hint = file, field, problem, hint
        where = ": ".join(part for part in (file, field) if part)
        message = f"{where}: {problem}" if where else problem
        if hint:
            message += f" ({hint})"
        super().__init__(message)


class ExpressionError(SpecError):
    """An equation uses a construct, name or function outside the whitelisted language."""


class PluginError(ConformanceError):
    """A backend plugin could not be loaded or registered something invalid."""


class UsageError(ConformanceError):
    """The user's selection is unusable: no backend selected, unknown spec pattern, bad dtype."""


class BackendUnavailable(ConformanceError):  # noqa: N818
    """Raised by a plugin (at import or registration) whose framework is not installed.

    The plugin is then *unavailable*, a state of its own: neither a failure nor silence.
    ``raise BackendUnavailable("torch is not installed", install="pip install
    'rnn-conformance[torch]'")``.
    """

    def __init__(self, problem: str, *, install: str = "") -> None:
        self.problem, self.install = problem, install
        super().__init__(f"{problem} ({install})" if install else problem)
