"""Every option of the pytest front end: one group, one prefix, one function that adds them.

``pytest --help`` lists them under "conformance". Each mirrors an option of
``conformance run`` (``--conformance-backend`` is ``--backend``); the selection options
repeat or take comma lists. Another option goes in :func:`add_options`, and is read
where it is used with ``config.getoption("conformance_<name>")``.

Nothing here imports the harness: the plugin that adds these options is loaded in
every pytest run of an environment where the package is installed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from conformance.frontends.session import Selection

PROPERTY = "conformance_result"
"""Name of the user property that carries a test's result as JSON, worker to controller."""
TIMEOUT_HELP = "60"
"""The per-check timeout's default, as ``--help`` says it (the value is
:data:`conformance.isolation.DEFAULT_TIMEOUT`, which this module must not import)."""
SIZES_HELP = (
    "sizes to check at: quick (default), realistic (those of real models), awkward "
    "(1, primes, block widths + 1, seeded) or B=17,H=33 (explicit)"
)
"""The help of ``--conformance-sizes`` (the profiles are :mod:`conformance.spec.profiles`'s)."""
PREFIX = "--conformance-"
GROUP = "conformance"
GROUP_DESCRIPTION = "RNN conformance suite (collect it with: pytest --pyargs conformance)"

_SELECTION = {
    "backend": ("NAME", "backend name(s) to check (default: every registered backend)"),
    "spec": ("PATTERN", "spec id glob(s), e.g. 'lstm.*' (default: every spec)"),
    "dtype": ("DTYPE", "float32 and/or float64 (default: both)"),
    "check": ("KIND", "check kind(s), e.g. numeric,gradient (default: every kind)"),
    "plugin": ("MODULE", "import MODULE and register it as a plugin (backends, spec files)"),
    "spec-dir": (
        "DIR",
        "also load the spec files in DIR, or the spec file DIR (and $CONFORMANCE_SPEC_PATH)",
    ),
}


def add_options(group: pytest.OptionGroup) -> None:
    """Add every ``--conformance-*`` option to ``group``."""
    for name, (metavar, help_) in _SELECTION.items():
        group.addoption(
            f"{PREFIX}{name}",
            action="append",
            metavar=metavar,
            help=f"{help_}; repeat or give a comma list",
        )
    group.addoption(
        f"{PREFIX}seed", type=int, default=0, metavar="N", help="seed of every draw (default 0)"
    )
    group.addoption(f"{PREFIX}sizes", default="quick", metavar="PROFILE", help=SIZES_HELP)
    group.addoption(
        f"{PREFIX}report",
        metavar="PATH",
        help="write the conformance report to PATH (.md, .html, .txt or .json by suffix)",
    )
    group.addoption(f"{PREFIX}json", metavar="PATH", help="write the results as JSON to PATH")
    group.addoption(
        f"{PREFIX}machine",
        metavar="LABEL",
        help="machine label in the results (default $CONFORMANCE_MACHINE or the host name)",
    )
    group.addoption(
        f"{PREFIX}timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help=f"kernel time one check may take before it is an error (default {TIMEOUT_HELP})",
    )
    group.addoption(
        f"{PREFIX}in-process",
        action="store_true",
        help="run kernels in the test process, for pdb: a crash, exit or hang then ends the run",
    )


def option(config: pytest.Config, name: str) -> object:
    """The value of ``--conformance-<name>`` (its default when the option came late)."""
    return config.getoption(f"conformance_{name.replace('-', '_')}", None)


def selection_of(config: pytest.Config) -> Selection:
    """The user's selection, from the ``--conformance-*`` options."""
    from conformance.frontends.session import Selection, split_csv

    def listed(name: str) -> tuple[str, ...]:
        value = option(config, name)
        return split_csv(value if isinstance(value, list) else None)

    seed, timeout = option(config, "seed"), option(config, "timeout")
    extra = {"timeout": float(timeout)} if isinstance(timeout, int | float) else {}
    return Selection(
        backends=listed("backend"),
        specs=listed("spec"),
        dtypes=listed("dtype"),
        checks=listed("check"),
        plugins=listed("plugin"),
        seed=seed if isinstance(seed, int) else 0,
        spec_dirs=listed("spec-dir"),
        in_process=option(config, "in-process") is True,
        sizes=str(option(config, "sizes") or "quick"),
        **extra,
    )
