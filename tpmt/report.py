"""The parts of a Report: gene results, recommendation rows and trace steps from evaluations."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from tpmt.engine import Firing
from tpmt.evaluate import Evaluation
from tpmt.guidelines import RuleSet
from tpmt.models import (
    AlleleCall,
    Alternative,
    GeneResult,
    GuidelineInfo,
    Recommendation,
    TraceStep,
)
from tpmt.outcome import GeneOutcome
from tpmt.parse import DiplotypeInput, FunctionsInput, GeneInput, PhenotypeInput
from tpmt.vocab import AlleleFunction, Drug, Gene, Phenotype, Source

STAGE_ORDER = {"input": 0, "function": 1, "phenotype": 2, "recommendation": 3, "note": 4}
MAX_LISTED = 20  # untested alternatives listed on a gene (all of them inform the advice)
UNKNOWN_FUNCTIONS = (AlleleFunction.UNKNOWN, AlleleFunction.UNCERTAIN)
PhenotypeOf = Callable[[RuleSet, GeneInput], Phenotype]


def guideline_info(rule_set: RuleSet) -> GuidelineInfo:
    """The identity block of a rule set."""
    manifest = rule_set.manifest
    return GuidelineInfo(
        id=manifest.id,
        source=manifest.source,
        title=manifest.title,
        version=manifest.version,
        date=manifest.date,
        pmid=manifest.citation.pmid,
        doi=manifest.citation.doi,
        sha256=rule_set.sha256,
        origin=rule_set.origin,
    )


@dataclass(frozen=True)
class GenePhenotype:
    """One gene's phenotype under one rule set, and the rule that withheld a Normal call."""

    phenotype: Phenotype
    engine_phenotype: Phenotype
    withheld_by: str | None = None
    reason: str | None = None


def gene_phenotype(
    rule_set: RuleSet, outcome: GeneOutcome, phenotype_of: PhenotypeOf
) -> GenePhenotype:
    """The engine's phenotype for the call, with the rule set's minimum-panel rule applied."""
    gene_input = outcome.gene_input
    if isinstance(gene_input, PhenotypeInput):
        return GenePhenotype(gene_input.phenotype, gene_input.phenotype)
    if not isinstance(gene_input, DiplotypeInput):
        return GenePhenotype(Phenotype.NO_RESULT, Phenotype.NO_RESULT)
    phenotype = phenotype_of(rule_set, gene_input)
    rule = rule_set.genes[outcome.gene].minimum_panel_rule
    if outcome.untested_panel and phenotype in rule.withhold:
        reason = f"minimum panel incomplete: {', '.join(outcome.untested_panel)} not tested"
        return GenePhenotype(rule.report, phenotype, f"{rule_set.id}:{rule.id}", reason)
    return GenePhenotype(phenotype, phenotype)


def _allele_calls(
    outcome: GeneOutcome, rule_sets: Sequence[RuleSet]
) -> tuple[list[AlleleCall], list[str]]:
    """Each allele's function per source, with a note where a rule set assigns none."""
    gene_input = outcome.gene_input
    if not isinstance(gene_input, DiplotypeInput) or outcome.diplotype is None:
        return [], []
    gene = outcome.gene
    notes: list[str] = []
    calls = []
    for allele, name in zip(gene_input.alleles, outcome.diplotype.split("/"), strict=True):
        functions: dict[Source, AlleleFunction] = {}
        for rule_set in rule_sets:
            functions[rule_set.source] = rule_set.effective_function(gene, allele)
            if not rule_set.is_assigned(gene, allele):
                named = rule_set.function_of(gene, allele) is not None
                where = "has no function assigned" if named else "is not named"
                notes.append(
                    f"{gene}{allele} {where} in {rule_set.id}; by that rule set's terms its "
                    f"function is unknown ({functions[rule_set.source]})."
                )
            alias = rule_set.genes[gene].aliases.get(allele)
            if alias is not None:
                notes.append(f"{rule_set.id}: {alias.note}")
        calls.append(AlleleCall(name=name, function=functions))
    return calls, notes


def all_alternatives(
    outcome: GeneOutcome, rule_sets: Sequence[RuleSet], phenotype_of: PhenotypeOf
) -> list[Alternative]:
    """Every other diplotype (or function) the evidence leaves possible, with its phenotypes."""
    gene = outcome.gene
    out = [
        Alternative(
            diplotype="/".join(c.diplotype),
            phenotype={
                rs.source: phenotype_of(rs, DiplotypeInput(gene, c.diplotype)) for rs in rule_sets
            },
            basis=c.basis,
        )
        for c in outcome.candidates
    ]
    return out + _unknown_function_alternatives(outcome, rule_sets, phenotype_of)


def _unknown_function_alternatives(
    outcome: GeneOutcome, rule_sets: Sequence[RuleSet], phenotype_of: PhenotypeOf
) -> list[Alternative]:
    """For an allele of unknown or uncertain function: the phenotype if it had no function."""
    gene_input = outcome.gene_input
    if not isinstance(gene_input, DiplotypeInput):
        return []
    gene = outcome.gene
    out = []
    for slot, allele in enumerate(gene_input.alleles):
        other = gene_input.alleles[1 - slot]
        phenotypes: dict[Source, Phenotype] = {}
        changed = False
        for rule_set in rule_sets:
            reported = phenotype_of(rule_set, gene_input)
            function = rule_set.effective_function(gene, allele)
            other_function = rule_set.effective_function(gene, other)
            if function not in UNKNOWN_FUNCTIONS:
                phenotypes[rule_set.source] = reported
                continue
            assumed = FunctionsInput(gene, (other_function, AlleleFunction.NO))
            phenotypes[rule_set.source] = phenotype_of(rule_set, assumed)
            changed = changed or phenotypes[rule_set.source] != reported
        if changed:
            out.append(
                Alternative(
                    diplotype=gene_input.text,
                    phenotype=phenotypes,
                    basis="unknown_function",
                    assumption=f"{allele} as No function",
                )
            )
    return list({(a.diplotype, a.assumption): a for a in out}.values())


def _listed(
    alternatives: list[Alternative], reported: dict[Source, Phenotype]
) -> list[Alternative]:
    """The alternatives shown on the gene: all but the untested ones beyond MAX_LISTED
    (those that change the phenotype first)."""
    untested = [a for a in alternatives if a.basis == "untested"]
    untested.sort(key=lambda a: a.phenotype == reported)
    keep = {id(a) for a in untested[:MAX_LISTED]}
    return [a for a in alternatives if a.basis != "untested" or id(a) in keep]


def _changes(
    alternatives: list[Alternative], reported: dict[Source, Phenotype], basis: str
) -> list[str]:
    found = []
    for alt in alternatives:
        if alt.basis != basis:
            continue
        differs = [f"{s} {p}" for s, p in alt.phenotype.items() if p != reported[s]]
        if differs:
            found.append(f"{alt.diplotype} ({', '.join(differs)})")
    return found


def _uncertainty_warnings(
    outcome: GeneOutcome, alternatives: list[Alternative], reported: dict[Source, Phenotype]
) -> list[str]:
    """Plain-language warnings for phase, untested positions, low quality and unknown function."""
    gene = outcome.gene
    warnings = []
    phase = _changes(alternatives, reported, "phase")
    if outcome.phase_note is not None:
        note = outcome.phase_note
        differs = [
            f"{s}: {reported[s]} vs {p} for {a.diplotype}"
            for a in alternatives
            if a.basis == "phase"
            for s, p in a.phenotype.items()
            if p != reported[s]
        ]
        if differs:
            note += " The phenotype would differ (" + "; ".join(differs) + ")."
        warnings.append(note)
    elif phase:
        hint = " or an erythrocyte TPMT activity test" if gene is Gene.TPMT else ""
        warnings.append(
            f"{gene}: without phase the genotypes also fit {'; '.join(phase)}; by convention "
            f"{outcome.diplotype} is reported. Phased data{hint} tells them apart."
        )
    untested = _changes(alternatives, reported, "untested")
    if outcome.presumptive and untested:
        shown = "; ".join(untested[:3]) + (" ..." if len(untested) > 3 else "")
        warnings.append(
            f"{gene}: presumptive call from the positions tested; untested positions leave "
            f"{len(untested)} other diplotypes possible that change the phenotype ({shown}). "
            "The recommendations list the more severe advice they would lead to."
        )
    low = _changes(alternatives, reported, "low_quality")
    if low:
        warnings.append(
            f"{gene}: a call that could not be used (failed quality, non-diploid or conflicting) "
            f"showed a non-reference allele; if it is real the result would be "
            f"{'; '.join(low[:5])}. Confirm it before dosing."
        )
    for alt in alternatives:
        if alt.basis != "unknown_function" or alt.assumption is None:
            continue
        shown = ", ".join(f"{s} {p}" for s, p in alt.phenotype.items() if p != reported[s])
        warnings.append(
            f"{gene}: the function of {alt.assumption.split(' as ')[0]} is unknown; with no "
            f"function the phenotype would be {shown}."
        )
    return warnings


def gene_result(
    outcome: GeneOutcome,
    rule_sets: Sequence[RuleSet],
    phenotypes: Sequence[GenePhenotype],
    alternatives: list[Alternative],
) -> GeneResult:
    """Diplotype, allele functions, phenotypes, alternatives, warnings and limitations."""
    phenotype = {rs.source: gp.phenotype for rs, gp in zip(rule_sets, phenotypes, strict=True)}
    alleles, notes = _allele_calls(outcome, rule_sets)
    limitations = list(outcome.limitations)
    limitations += [
        f"{outcome.gene} {rs.source}: {gp.reason}."
        for rs, gp in zip(rule_sets, phenotypes, strict=True)
        if gp.reason
    ]
    warnings = [
        *outcome.warnings,
        *notes,
        *_uncertainty_warnings(outcome, alternatives, phenotype),
    ]
    return GeneResult(
        input=outcome.raw,
        input_type=outcome.input_type,
        diplotype=outcome.diplotype,
        alleles=tuple(alleles),
        phenotype=phenotype,
        alternatives=tuple(_listed(alternatives, phenotype)),
        warnings=_unique(warnings),
        evidence=outcome.evidence,
        presumptive=outcome.presumptive,
        limitations=_unique(limitations),
    )


def _unique(items: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def recommendations(
    rule_set: RuleSet, evaluation: Evaluation, drugs: Sequence[Drug]
) -> list[Recommendation]:
    """The fired recommendation rules of one rule set, for the requested drugs."""
    out = []
    fired = set(evaluation.recommendations)
    for drug in drugs:
        drug_rules = rule_set.drugs[drug]
        notes = [n.text for n in drug_rules.notes if n.id in evaluation.notes]
        for rule in drug_rules.rules:
            if rule.id not in fired:
                continue
            advice = [drug_rules.advice[key] for key in rule.advice]
            text = " ".join(a.text for a in advice)
            if rule.based_on is not None:
                text = f"Based on {rule.based_on} alone: {text}"
            implications = [
                drug_rules.implications.get(gene, {}).get(phenotype)
                for gene, phenotype in evaluation.phenotypes.items()
                if gene in rule.when
            ]
            implications += [line for a in advice for line in a.implications]
            warnings = notes + ([rule.note] if rule.note else [])
            out.append(
                Recommendation(
                    drug=drug,
                    guideline=rule_set.id,
                    source=rule_set.source,
                    genes=tuple(rule.when),
                    lookup={gene: evaluation.phenotypes[gene] for gene in rule.when},
                    rule_id=f"{rule_set.id}:{rule.id}",
                    source_id=rule.source_id,
                    classification=rule.classification,
                    dosing=tuple(step for a in advice for step in a.dosing),
                    text=text,
                    implications=tuple(line for line in implications if line),
                    references=tuple(drug_rules.references),
                    warnings=tuple(warnings),
                )
            )
    return out


def trace_steps(
    rule_set: RuleSet, firings: Sequence[Firing], drugs: Sequence[Drug]
) -> list[TraceStep]:
    """Trace steps of engine firings; recommendations and notes only for the requested drugs."""
    wanted = {drug.value for drug in drugs}
    return [
        TraceStep(
            rule_id=f"{rule_set.id}:{firing.rule_id}",
            guideline=rule_set.id,
            stage=firing.stage,  # type: ignore[arg-type]
            fact=firing.premises,
            derived=firing.derived,
        )
        for firing in firings
        if firing.stage not in ("recommendation", "note") or firing.rule_id.split(".")[0] in wanted
    ]


def gate_step(
    rule_set: RuleSet, gene: Gene, chosen: GenePhenotype, untested: Sequence[str]
) -> TraceStep:
    """The trace step of a minimum-panel rule that withheld a phenotype."""
    return TraceStep(
        rule_id=chosen.withheld_by or f"{rule_set.id}:{gene.value}.minimum-panel",
        guideline=rule_set.id,
        stage="phenotype",
        fact=(
            {"t": "phenotype", "gene": gene.value, "phenotype": chosen.engine_phenotype.value},
            {"t": "panel", "gene": gene.value, "untested": list(untested)},
        ),
        derived={"t": "phenotype", "gene": gene.value, "phenotype": chosen.phenotype.value},
    )
