"""Turn a gene called from variants into its outcome: presumptive call, candidates, limitations."""

from __future__ import annotations

from tpmt.calling.caller import AlleleMatcher, Diplotype, GeneCall
from tpmt.models import Basis, CallEvidence, SiteEvidence
from tpmt.outcome import Candidate, GeneOutcome, not_tested
from tpmt.parse import DiplotypeInput, NotTested, PhenotypeInput
from tpmt.vocab import Gene, InputType, Phenotype

MAX_NAMED = 12  # untested alleles named in a limitation line (all are in the evidence)


def _label(site_position: int, rsid: str | None, chromosome: str) -> str:
    return f"{chromosome}:{site_position} ({rsid or 'no rsID'})"


def evidence(call: GeneCall, matcher: AlleleMatcher) -> CallEvidence:
    """The genotype at every defining position, the gaps, and minimum-panel coverage.

    A panel allele counts as tested when every position where it carries a variant was called
    (or, with --assume-reference, taken as reference).
    """
    definitions = matcher.definitions
    chromosome = definitions.chromosome
    # positions assumed reference at the user's request count for the panel (the report says so)
    tested = {site.position for site, g in call.genotypes if g.called}
    refs = {p.position: p.ref for p in definitions.positions}
    panel = {
        allele: all(
            int(position) in tested
            for position, allowed in definitions.alleles[allele].items()
            if refs[int(position)] not in allowed  # a position the allele must carry a variant at
        )
        for allele in definitions.minimum_panel
    }
    return CallEvidence(
        definitions=f"{definitions.source}, version {definitions.version}",
        sites=tuple(
            SiteEvidence(
                position=s.position,
                rsid=s.rsid,
                ref=s.ref,
                genotype=g.shown,
                called=g.called and not g.assumed,
                reason=g.reason,
            )
            for s, g in call.genotypes
        ),
        uncalled=tuple(_label(s.position, s.rsid, chromosome) for s in call.uncalled),
        novel=tuple(
            f"{_label(s.position, s.rsid, chromosome)} {t.split(':', 1)[1]}" for s, t in call.novel
        ),
        minimum_panel=panel,
        assumed_reference=tuple(_label(s.position, s.rsid, chromosome) for s in call.assumed),
    )


def _untested_alleles(call: GeneCall, matcher: AlleleMatcher) -> list[str]:
    """Named alleles with at least one defining position not tested."""
    gaps = {site.position for site in call.uncalled} | {s.position for s in call.assumed}
    refs = {site.position: site.ref for site in matcher.sites}
    return [
        name
        for name, spec in matcher.definitions.alleles.items()
        if any(int(p) in gaps and refs[int(p)] not in allowed for p, allowed in spec.items())
    ]


def _limitations(call: GeneCall, matcher: AlleleMatcher, gene: Gene) -> list[str]:
    """What was not tested or could not be used, in words."""
    lines = []
    reasons: dict[str, int] = {}
    for _, g in call.genotypes:
        if not g.called and g.reason:
            reasons[g.reason] = reasons.get(g.reason, 0) + 1
    if reasons:
        detail = "; ".join(f"{n} {reason}" for reason, n in sorted(reasons.items()))
        lines.append(
            f"{gene}: {len(call.uncalled)} of {len(call.genotypes)} defining positions not "
            f"tested or not usable ({detail})."
        )
    untested = [a for a in _untested_alleles(call, matcher) if a not in ("*1",)]
    if untested and call.uncalled:
        named = ", ".join(untested[:MAX_NAMED]) + (" ..." if len(untested) > MAX_NAMED else "")
        lines.append(f"{gene}: alleles not fully tested: {named}.")
    if call.assumed:
        lines.append(
            f"{gene}: {len(call.assumed)} positions absent from the input were assumed to be "
            "reference (--assume-reference), not tested."
        )
    return lines


def variant_outcome(
    gene: Gene, call: GeneCall | None, matcher: AlleleMatcher | None
) -> GeneOutcome:
    """The outcome of a called gene: a presumptive call from the positions tested."""
    if call is None or matcher is None:
        return not_tested(gene, f"{gene}: no data in the input.")
    proof = evidence(call, matcher)
    panel = tuple(a for a, ok in proof.minimum_panel.items() if not ok)
    groups: tuple[tuple[Basis, tuple[Diplotype, ...]], ...] = (
        ("phase", call.phase_alternatives),
        ("unknown_function", call.novel_alternatives),
        ("low_quality", call.low_quality_alternatives),
        ("untested", call.untested_alternatives),
    )
    candidates = tuple(Candidate(pair, basis) for basis, pairs in groups for pair in pairs)
    nothing_tested = call.diplotype is None and not call.novel and call.no_data
    limitations = _limitations(call, matcher, gene)
    common = {
        "raw": None,
        "input_type": InputType.VARIANTS,
        "candidates": candidates,
        "untested_panel": panel,
        "warnings": call.warnings,
        "limitations": tuple(limitations),
        "evidence": proof,
    }
    if call.diplotype is None:
        gene_input = (
            NotTested(gene) if nothing_tested else PhenotypeInput(gene, Phenotype.INDETERMINATE)
        )
        return GeneOutcome(gene, gene_input, **common)  # type: ignore[arg-type]
    return GeneOutcome(
        gene,
        DiplotypeInput(gene, call.diplotype),
        diplotype="/".join(call.diplotype),
        presumptive=call.presumptive,
        **common,  # type: ignore[arg-type]
    )
