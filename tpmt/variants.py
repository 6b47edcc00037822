"""Turn called genes into engine inputs and report fields: alternatives, warnings, evidence."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from tpmt.calling.caller import MAX_LISTED, AlleleMatcher, Diplotype, GeneCall
from tpmt.guidelines import RuleSet
from tpmt.models import Alternative, CallEvidence, SiteEvidence
from tpmt.parse import DiplotypeInput, GeneInput, NotTested, PhenotypeInput
from tpmt.vocab import Gene, Phenotype, Source

Basis = Literal["phase", "missing_data"]
PhenotypeOf = Callable[[RuleSet, DiplotypeInput], Phenotype]


@dataclass(frozen=True)
class VariantOutcome:
    """What the report says about one gene called from variants."""

    gene_input: GeneInput
    diplotype: str | None
    alternatives: list[Alternative]
    warnings: list[str]
    evidence: CallEvidence | None


def _phenotypes(
    gene: Gene, pair: Diplotype, rule_sets: Sequence[RuleSet], phenotype_of: PhenotypeOf
) -> dict[Source, Phenotype]:
    diplotype = DiplotypeInput(gene, pair)
    return {rs.source: phenotype_of(rs, diplotype) for rs in rule_sets}


def _label(site_position: int, rsid: str | None, chromosome: str) -> str:
    return f"{chromosome}:{site_position} ({rsid or 'no rsID'})"


def evidence(call: GeneCall, matcher: AlleleMatcher) -> CallEvidence:
    """The genotype at every defining position, the gaps, and minimum-panel coverage."""
    definitions = matcher.definitions
    chromosome = definitions.chromosome
    called = {site.position for site, g in call.genotypes if g.called}
    panel = {
        allele: all(int(p) in called for p in definitions.alleles[allele])
        for allele in definitions.minimum_panel
    }
    return CallEvidence(
        definitions=f"{definitions.source}, version {definitions.version}",
        sites=[
            SiteEvidence(
                position=s.position, rsid=s.rsid, ref=s.ref, genotype=g.shown, called=g.called
            )
            for s, g in call.genotypes
        ],
        uncalled=[_label(s.position, s.rsid, chromosome) for s in call.uncalled],
        novel=[
            f"{_label(s.position, s.rsid, chromosome)} {t.split(':', 1)[1]}" for s, t in call.novel
        ],
        minimum_panel=panel,
    )


def variant_outcome(
    gene: Gene,
    call: GeneCall | None,
    matcher: AlleleMatcher | None,
    rule_sets: Sequence[RuleSet],
    phenotype_of: PhenotypeOf,
) -> VariantOutcome:
    """Decide what the engine evaluates for a called gene, and what the report states."""
    if call is None or matcher is None:
        return VariantOutcome(NotTested(gene), None, [], [f"{gene}: no data in the input."], None)
    proof = evidence(call, matcher)
    warnings = list(call.warnings)
    missing_panel = [a for a, ok in proof.minimum_panel.items() if not ok]
    if missing_panel and not call.no_data:
        warnings.append(
            f"{gene}: the minimum test panel is incomplete: positions defining "
            f"{', '.join(missing_panel)} were not called."
        )
    if call.diplotype is None:
        gene_input: GeneInput = (
            NotTested(gene) if call.no_data else PhenotypeInput(gene, Phenotype.INDETERMINATE)
        )
        return VariantOutcome(gene_input, None, [], warnings, proof)
    primary = call.diplotype
    shown = "/".join(primary)
    own = _phenotypes(gene, primary, rule_sets, phenotype_of)
    alternatives = []
    changes: dict[Basis, list[str]] = {"phase": [], "missing_data": []}
    groups: tuple[tuple[Basis, tuple[Diplotype, ...]], ...] = (
        ("phase", call.phase_alternatives),
        ("missing_data", call.missing_alternatives),
    )
    for basis, pairs in groups:
        for n, pair in enumerate(pairs):
            phenotypes = _phenotypes(gene, pair, rule_sets, phenotype_of)
            differs = [f"{s} {p}" for s, p in phenotypes.items() if p != own[s]]
            if differs:
                changes[basis].append(f"{'/'.join(pair)} ({', '.join(differs)})")
            if basis == "phase" or n < MAX_LISTED:
                alternatives.append(
                    Alternative(diplotype="/".join(pair), phenotype=phenotypes, basis=basis)
                )
    phase_changes, missing_changes = changes["phase"], changes["missing_data"]
    if phase_changes:
        hint = " or an erythrocyte TPMT activity test" if gene is Gene.TPMT else ""
        warnings.append(
            f"{gene}: without phase the genotypes also fit {'; '.join(phase_changes)}; "
            f"by convention {shown} is reported. Phased data{hint} tells them apart."
        )
    if call.missing_alternatives:
        gaps = ", ".join(proof.uncalled[:10]) + (" ..." if len(proof.uncalled) > 10 else "")
        if missing_changes:
            warnings.append(
                f"{gene}: uncalled defining positions ({gaps}) leave other diplotypes possible "
                f"that change the phenotype ({'; '.join(missing_changes[:5])}"
                f"{' ...' if len(missing_changes) > 5 else ''}); no confident phenotype is "
                "reported (Indeterminate). Genotype the missing positions to resolve it."
            )
            best = Alternative(diplotype=shown, phenotype=own, basis="missing_data")
            return VariantOutcome(
                PhenotypeInput(gene, Phenotype.INDETERMINATE),
                None,
                [best, *alternatives],
                warnings,
                proof,
            )
        warnings.append(
            f"{gene}: uncalled defining positions ({gaps}); the diplotypes they leave "
            "possible all have the same phenotype."
        )
    return VariantOutcome(DiplotypeInput(gene, primary), shown, alternatives, warnings, proof)
