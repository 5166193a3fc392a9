"""``conformance list`` and ``conformance show``: what there is to check, and one spec in full.

``list`` shows the specs, the check kinds, the backends, every plugin with its state,
and the spec files that do not ship with the harness (with where they came from);
``list --spec PATTERN`` and ``show ID`` write out the matching specs in full
(:mod:`conformance.frontends.spec_page`). Tables fit the terminal.
"""

from __future__ import annotations

import argparse
import sys

from conformance.checks import CHECKS
from conformance.frontends.session import Selection, Session, split_csv
from conformance.frontends.spec_page import spec_page
from conformance.frontends.spec_sources import SHIPPED, SPEC_PATH_ENV_VAR
from conformance.frontends.terminal import output_width
from conformance.plugins.registry import BLOCK_ENV_VAR, Registry
from conformance.report.fit import fit_table, wrap
from conformance.report.text import plural


def load_for_listing(args: argparse.Namespace) -> Session:
    """The session of ``--plugin`` and ``--spec-dir`` (no selection: everything listed)."""
    selection = Selection(plugins=split_csv(args.plugin), spec_dirs=tuple(args.spec_dir or ()))
    return Session.load(selection, named_plugins_must_load=False)


def command_list(args: argparse.Namespace, argv: list[str]) -> int:
    """Print the specs, check kinds, backends, plugins and contributed spec files."""
    session = load_for_listing(args)
    if args.spec:
        return _print_specs(session, split_csv(args.spec))
    catalog, registry = session.catalog, session.registry
    width = output_width()
    family_source = {f: str(info.get("source", "")) for f, info in catalog.families.items()}
    specs = [[s.id, s.title] for s in catalog.specs.values()]
    print(f"Specs ({len(specs)}; 'conformance show ID' writes one out in full)")
    print(fit_table(["id", "title"], specs, width, wrap_columns=(1,)))
    families = [
        [f, str(info.get("title", "")), sum(s.family == f for s in catalog.specs.values()), source]
        for f, info in catalog.families.items()
        for source in [family_source[f]]
    ]
    print(f"\nFamilies ({len(families)})")
    headers = ["family", "title", "specs", "source"]
    print(fit_table(headers, families, width or 160, wrap_columns=(1, 3)))
    print(f"\nCheck kinds ({len(CHECKS)})")
    kinds = [[k.name, k.description] for k in CHECKS.values()]
    print(fit_table(["check", "what"], kinds, width, wrap_columns=(1,)))
    backends = [
        [b.name, b.version, b.plugin, f"{sum(s in b.kernels for s in catalog.specs)}/{len(specs)}"]
        for b in registry.backends.values()
    ]
    print(f"\nBackends ({len(backends)})")
    headers = ["backend", "version", "plugin", "specs"]
    print(fit_table(headers, backends, width) if backends else "none")
    states = [h.state for h in registry.health]
    counts = ", ".join(
        f"{states.count(s)} {s}" for s in ("loaded", "unavailable", "failed", "blocked")
    )
    print(f"\nPlugins ({len(states)} discovered: {counts})")
    headers = ["plugin", "source", "state", "backends", "reason"]
    rows = _health_rows(registry)
    if not any(row[4] for row in rows):  # every plugin loaded: no reasons to give
        headers, rows = headers[:4], [row[:4] for row in rows]
    print(fit_table(headers, rows, width or 160, wrap_columns=(1, 3, 4)))
    contributed = [[str(s.file), s.origin] for s in session.spec_sources if s.origin != SHIPPED]
    if contributed:
        print(f"\nSpec files not shipped with the harness ({len(contributed)})")
        print(fit_table(["file", "from"], contributed, width, wrap_columns=(0,)))
    footer = (
        f"Block plugins with {BLOCK_ENV_VAR}=name,name; add spec files with --spec-dir DIR "
        f"or {SPEC_PATH_ENV_VAR}."
    )
    print("\n" + wrap(footer, width))
    return 0


def command_show(args: argparse.Namespace, argv: list[str]) -> int:
    """Print every spec matching the given ids or globs, in full."""
    return _print_specs(load_for_listing(args), tuple(args.specs))


def _print_specs(session: Session, patterns: tuple[str, ...]) -> int:
    specs = session.catalog.select(patterns)
    width = output_width()
    pages = [spec_page(spec, session.catalog, width) for spec in specs]
    sys.stdout.write("\n".join(pages))
    if len(specs) > 1:
        print(f"\n({plural(len(specs), 'spec')}: {', '.join(s.id for s in specs)})")
    return 0


def _health_rows(registry: Registry) -> list[list[str]]:
    return [[h.name, h.source, h.state, ", ".join(h.backends), h.reason] for h in registry.health]
