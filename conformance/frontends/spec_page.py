"""One spec, written out for a person: ``conformance show ID`` and ``conformance list --spec``.

Everything a backend author needs to implement the spec without opening its TOML:
the symbols (shape, role, kind, domain, meaning), the equations and their LaTeX, the
invariants and stability domains, the recurrence identities, the tolerances, the
sizes of every case, and which check kinds apply (and why the others do not).
"""

from __future__ import annotations

from conformance.checks import CHECKS
from conformance.report.fit import fit_table, wrap
from conformance.spec.catalog import Catalog
from conformance.spec.model import Spec
from conformance.typing import DTYPES

NOT_APPLICABLE = {
    "gradient": "no differentiable input",
    "invariants": "the spec states no invariants",
    "stability": "no stability domains",
    "batch_independence": "no batch dimension B above 1 in its sizes",
    "chunking": "no chunking identity",
    "reversal": "no reversal identity",
}
"""Why a check kind does not apply to a spec, by kind."""


def spec_page(spec: Spec, catalog: Catalog, width: int | None = None) -> str:
    """The whole description of ``spec``, fitted to ``width`` columns (None: no limit)."""
    family = catalog.families.get(spec.family, {})
    family_title = str(family.get("title", ""))
    out = [f"{spec.id} — {spec.title}"]
    titled = f"{spec.family} ({family_title})" if family_title else spec.family
    out.append(wrap(f"family: {titled}", width))
    out.append(wrap(f"file: {spec.file}", width))
    source = spec.source or str(family.get("source", ""))
    if source:
        out.append(wrap(f"source: {source}", width, "  "))
    if spec.description:
        out += ["", wrap(spec.description, width)]

    out += ["", "Symbols"]
    rows = [
        [
            s.name,
            s.role,
            f"({', '.join(s.shape)})",
            s.kind,
            s.domain if s.role != "output" else "",
            s.meaning,
        ]
        for s in (*spec.input_symbols, *spec.output_symbols)
    ]
    headers = ["name", "role", "shape", "kind", "domain", "meaning"]
    out.append(fit_table(headers, rows, width, wrap_columns=(2, 4, 5)))

    out += ["", "Equations"]
    out += [wrap(f"  {st.source}", width, "      ") for st in spec.equations]
    if spec.latex:
        out += ["", "LaTeX", wrap(f"  {spec.latex}", width, "    ")]
    if spec.invariants:
        out += ["", wrap("Invariants (checked on the outputs)", width)]
        out += [wrap(f"  {inv.source}", width, "    ") for inv in spec.invariants]
    if spec.stability:
        out += [
            "",
            wrap("Stability domains (replace the normal ones in the stability check)", width),
        ]
        out += [f"  {name} = {domain}" for name, domain in spec.stability.items()]
    out += _identities(spec, width)
    out += ["", wrap(f"Differentiable: {', '.join(spec.differentiable) or 'none'}", width, "  ")]

    heading = "Tolerances (limit x each element's expected rounding, or a widening)"
    out += ["", wrap(heading, width)]
    tolerances = [
        [
            kind,
            dtype,
            f"{table[dtype].limit:g}",
            f"{table[dtype].atol:g}",
            f"{table[dtype].rtol:g}",
            table[dtype].reason or "-",
        ]
        for kind, table in (("outputs", spec.tolerance), ("gradients", spec.gradient_tolerance))
        for dtype in DTYPES
        if dtype in table
    ]
    out.append(
        fit_table(["for", "dtype", "limit", "atol", "rtol", "widened because"], tolerances, width)
    )

    out += ["", "Sizes (one case each)"]
    profiles = {spec.profile: spec.sizes, **spec.profiles}
    sizes = [
        [profile, str(i), *(str(case[d]) for d in spec.dims)]
        for profile, cases in profiles.items()
        for i, case in enumerate(cases)
    ]
    out.append(fit_table(["--sizes", "case", *spec.dims], sizes, width))
    out += ["", wrap("--sizes awkward draws its cases by the seed: 1, primes, widths ± 1", width)]

    applies = [name for name, kind in CHECKS.items() if kind.applies(spec)]
    out += ["", wrap(f"Checks that apply: {', '.join(applies)}", width, "  ")]
    others = [
        f"{name} ({NOT_APPLICABLE.get(name, 'does not apply')})"
        for name, kind in CHECKS.items()
        if not kind.applies(spec)
    ]
    if others:
        out.append(wrap(f"Not applicable: {'; '.join(others)}", width, "  "))
    return "\n".join(out) + "\n"


def _identities(spec: Spec, width: int | None) -> list[str]:
    out = []
    if spec.chunking is not None:
        carry = ", ".join(f"{s} -> {o}" for s, o in spec.chunking.carry.items())
        text = (
            f"  split along {spec.chunking.time}; carried: {carry}; "
            f"stacked over time: {', '.join(spec.chunking.stacked)}"
        )
        out += ["", wrap("Chunking identity (two chunks, the state carried, equal one run)", width)]
        out.append(wrap(text, width, "    "))
    if spec.reversal is not None:
        reversal = spec.reversal
        inputs = ", ".join(f"{name}={e.source}" for name, e in reversal.inputs.items())
        outputs = ", ".join(f"{name}={e.source}" for name, e in reversal.outputs.items())
        heading = f"Reversal identity (the backend's own {reversal.spec} on transformed inputs)"
        out += ["", wrap(heading, width)]
        out.append(wrap(f"  inputs: {inputs}", width, "    "))
        out.append(wrap(f"  outputs: {outputs}", width, "    "))
    return out
