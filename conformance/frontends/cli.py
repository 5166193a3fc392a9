"""The ``conformance`` command line: ``list``, ``show``, ``run`` and ``report``.

``conformance run`` drives the engine without pytest and exits 0 when every
selected backend conforms, 1 when any check fails or errors, and 2 for usage, spec,
plugin-loading or result-file errors, which print one line ``conformance: error: …``
on stderr and never a traceback.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from conformance import __version__
from conformance.checks import CHECKS
from conformance.engine import run_requests
from conformance.errors import ConformanceError, PluginError, UsageError
from conformance.frontends.interrupts import (
    EXIT_INTERRUPTED,
    EXIT_TERMINATED,
    Terminated,
    terminate_as_exception,
)
from conformance.frontends.listing import command_list, command_show
from conformance.frontends.outputs import RunOutputs
from conformance.frontends.progress import ProgressBar, wants_progress
from conformance.frontends.recording import Recorder
from conformance.frontends.reproduce import inputs_directory
from conformance.frontends.session import Selection, Session, split_csv
from conformance.frontends.spec_sources import SPEC_PATH_ENV_VAR
from conformance.frontends.terminal import output_width
from conformance.isolation import DEFAULT_TIMEOUT
from conformance.plugins.registry import BLOCK_ENV_VAR
from conformance.report import FORMATS, render, write_report
from conformance.report.text import describe_seconds, plural
from conformance.results.environment import MACHINE_ENV_VAR
from conformance.results.files import load_results
from conformance.spec.profiles import SIZES_HELP

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
IN_PROCESS_WARNING = (
    "conformance: warning: --in-process: kernels run in this process, unprotected: a kernel "
    "that crashes, exits or hangs ends or hangs the run, and its prints reach stdout"
)


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line and exit status 2."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="conformance",
        description="Check recurrent-network backends against the specs, and report.",
    )
    parser.add_argument("--version", action="version", version=f"conformance {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    listing = commands.add_parser("list", help="the specs, check kinds, backends and plugin health")
    listing.add_argument(
        "--spec", action="append", metavar="PATTERN", help="write out the matching specs in full"
    )
    _add_sources(listing)
    show = commands.add_parser("show", help="one spec in full: symbols, equations, checks")
    show.add_argument("specs", nargs="+", metavar="ID", help="spec id(s) or glob(s)")
    _add_sources(show)

    run = commands.add_parser("run", help="run the checks and print the report")
    selection = run.add_argument_group("selection (repeat an option or give a comma list)")
    selection.add_argument("--backend", action="append", help="backend name(s); default all")
    selection.add_argument("--spec", action="append", metavar="PATTERN", help="spec id glob(s)")
    selection.add_argument("--dtype", action="append", help="float32 and/or float64")
    selection.add_argument("--check", action="append", help=f"check kind(s): {', '.join(CHECKS)}")
    _add_sources(selection)
    selection.add_argument("--seed", type=int, default=0, help="seed of every draw (default 0)")
    selection.add_argument("--sizes", default="quick", metavar="PROFILE", help=SIZES_HELP)
    isolation = run.add_argument_group("isolation")
    isolation.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"kernel time one check may take before it is an error (default {DEFAULT_TIMEOUT:g})",
    )
    isolation.add_argument(
        "--in-process",
        action="store_true",
        help="run kernels in this process, for pdb: a crash, exit or hang then ends the run",
    )
    output = run.add_argument_group("output")
    output.add_argument("--json", type=Path, metavar="PATH", help="write the results as JSON")
    output.add_argument(
        "--report", type=Path, metavar="PATH", help="write a report (.md, .html, .txt, .json)"
    )
    output.add_argument("--format", choices=FORMATS, default="terminal", help="printed report")
    output.add_argument(
        "--inputs-dir",
        type=Path,
        metavar="DIR",
        help="save failing inputs here (default: <json or report stem>.inputs/ beside it)",
    )
    output.add_argument(
        "--machine", metavar="LABEL", help=f"machine label (default ${MACHINE_ENV_VAR} or host)"
    )
    output.add_argument("--detail", action="store_true", help="add the per-check matrix")
    output.add_argument("--no-progress", action="store_true", help="no progress bar")

    report = commands.add_parser("report", help="render or merge result files")
    report.add_argument("files", nargs="+", type=Path, metavar="RESULTS.json")
    report.add_argument("--format", choices=FORMATS, help="default: from -o's suffix, or terminal")
    report.add_argument("-o", "--output", type=Path, metavar="PATH", help="write here, not stdout")
    report.add_argument("--detail", action="store_true", help="add the per-check matrix")
    return parser


def _add_sources(group: argparse._ActionsContainer) -> None:
    """``--plugin MODULE`` and ``--spec-dir DIR``: what a command loads besides the installed."""
    group.add_argument(
        "--plugin", action="append", metavar="MODULE", help="also load MODULE as a plugin"
    )
    group.add_argument(
        "--spec-dir",
        action="append",
        metavar="DIR",
        help=f"also load the spec files in DIR, or the file DIR (and ${SPEC_PATH_ENV_VAR})",
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(argv)
        return COMMANDS[args.command](args, argv)
    except ConformanceError as exc:
        return _fail(str(exc))
    except BrokenPipeError:  # `conformance list | head`: the reader left, nothing to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except OSError as exc:
        return _fail(f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": "))
    except KeyboardInterrupt:
        print("conformance: interrupted", file=sys.stderr)
        return 130


def _fail(message: str) -> int:
    print(f"conformance: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def command_run(args: argparse.Namespace, argv: list[str]) -> int:
    """Run the selected checks, save what was asked, print the report.

    0 when every selected backend conforms, 1 when a check fails. A discovered plugin
    that fails to load does not stop the others: they are checked and reported, and
    the run then exits 2 naming the broken plugin. The outputs are checked before
    anything runs; the result file grows as results come. Ctrl-C or SIGTERM stop the
    run: what ran is written and printed, marked incomplete (exit 130 or 143).
    """
    selection = Selection(
        backends=split_csv(args.backend),
        specs=split_csv(args.spec),
        dtypes=split_csv(args.dtype),
        checks=split_csv(args.check),
        plugins=split_csv(args.plugin),
        seed=args.seed,
        spec_dirs=tuple(args.spec_dir or ()),
        timeout=args.timeout,
        in_process=args.in_process,
        sizes=args.sizes,
    )
    selection.validate()
    outputs = RunOutputs(
        json=args.json,
        report=args.report,
        inputs_dir=args.inputs_dir
        or next((inputs_directory(p) for p in (args.json, args.report) if p is not None), None),
        detail=args.detail,
    )
    outputs.check()  # an unwritable output fails now, not after the run
    session = Session.load(selection)
    failed = [h for h in session.registry.health if h.state == "failed"]
    broken_plugins = (
        "; ".join(f"plugin {h.name!r} ({h.source}) failed to load: {h.reason}" for h in failed)
        + f" (fix it, or block it with {BLOCK_ENV_VAR}={','.join(h.name for h in failed)})"
    )
    if failed:  # said now, and again at the end; the other backends are still checked
        print(f"conformance: warning: {broken_plugins}", file=sys.stderr)
    requests = session.requests()
    recorder = Recorder(session, command=shlex.join(["conformance", *argv]), machine=args.machine)
    outputs.start(recorder, len(requests))
    if selection.in_process:
        print(IN_PROCESS_WARNING, file=sys.stderr)
    bar = ProgressBar(len(requests), enabled=not args.no_progress and wants_progress())
    began = time.monotonic()
    stopped: BaseException | None = None
    state, note = "complete", ""
    try:
        with terminate_as_exception():
            for result in run_requests(
                requests,
                session.oracle,
                seed=selection.seed,
                progress=bar.update,
                host=session.host(),
                shrink=not selection.size_choice.quick,
            ):
                outputs.record(result)
    except (KeyboardInterrupt, Terminated) as exc:
        stopped, state = exc, "interrupted" if isinstance(exc, KeyboardInterrupt) else "terminated"
    except Exception as exc:  # a bug of the harness: keep what ran, then show it
        stopped, state, note = exc, "failed", f"{type(exc).__name__}: {exc}"
    finally:
        bar.close()
        session.close()
    results = outputs.finish(state, note)
    if bar.enabled:  # on stderr only where the progress bar was: a terminal
        print(
            f"conformance: {plural(len(results.results), 'check')} at --sizes "
            f"{selection.sizes} in {describe_seconds(time.monotonic() - began)}",
            file=sys.stderr,
        )
    color = args.format == "terminal" and sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    sys.stdout.write(
        render(
            results,
            args.format,
            base_dir=Path.cwd(),
            color=color,
            detail=args.detail,
            width=output_width(),
        )
    )
    if stopped is not None:
        saved = ", ".join(map(str, outputs.written)) or "nothing saved"
        print(f"conformance: {'; '.join(results.incomplete())} ({saved})", file=sys.stderr)
        if isinstance(stopped, Exception):
            raise stopped
        return EXIT_INTERRUPTED if isinstance(stopped, KeyboardInterrupt) else EXIT_TERMINATED
    if failed:
        raise PluginError(broken_plugins)
    return EXIT_OK if all(r.ok for r in results.results) else EXIT_FAILED


def command_report(args: argparse.Namespace, argv: list[str]) -> int:
    """Merge the result files and render them to stdout or ``-o``."""
    results = load_results(args.files)
    if not results.results:
        raise UsageError(f"no results in {', '.join(map(str, args.files))}")
    if args.output is not None:
        write_report(args.output, results, args.format, detail=args.detail)
        return EXIT_OK
    fmt = args.format or "terminal"
    color = fmt == "terminal" and sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    sys.stdout.write(
        render(
            results, fmt, base_dir=Path.cwd(), color=color, detail=args.detail, width=output_width()
        )
    )
    return EXIT_OK


COMMANDS = {
    "list": command_list,
    "show": command_show,
    "run": command_run,
    "report": command_report,
}
