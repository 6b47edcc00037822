"""Assemble a Report from parsed inputs and the rule sets' evaluations."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from tpmt.evaluate import Evaluation
from tpmt.guidelines import RuleSet
from tpmt.models import (
    AlleleCall,
    Alternative,
    GeneResult,
    GuidelineInfo,
    Recommendation,
    Report,
    TraceStep,
)
from tpmt.parse import DiplotypeInput, GeneInput, PhenotypeInput
from tpmt.vocab import AlleleFunction, Drug, Gene, InputType, Phenotype, Source

STAGE_ORDER = {"input": 0, "function": 1, "phenotype": 2, "recommendation": 3, "note": 4}
AlternativeLookup = Callable[[RuleSet, DiplotypeInput], Phenotype]


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
    )


def _resolved(rule_set: RuleSet, gene: Gene, allele: str) -> str:
    aliases = rule_set.genes[gene].aliases
    return aliases[allele].allele if allele in aliases else allele


def gene_result(
    gene_input: GeneInput,
    raw: str | None,
    rule_sets: Sequence[RuleSet],
    evaluations: Sequence[Evaluation],
    alternative_phenotype: AlternativeLookup,
    ambiguities: bool = True,
) -> GeneResult:
    """Diplotype, allele functions, phenotypes, alternatives and warnings for one gene.

    ``ambiguities`` adds the rule set's known unphased look-alikes; variant calls pass False
    because they enumerate their own alternatives from the genotypes.
    """
    gene = gene_input.gene
    phenotype = {
        rs.source: ev.phenotypes[gene] for rs, ev in zip(rule_sets, evaluations, strict=True)
    }
    if not isinstance(gene_input, DiplotypeInput):
        input_type = (
            InputType.PHENOTYPE if isinstance(gene_input, PhenotypeInput) else InputType.NOT_TESTED
        )
        return GeneResult(
            input=raw,
            input_type=input_type,
            diplotype=None,
            alleles=[],
            phenotype=phenotype,
            alternatives=[],
            warnings=[],
        )
    primary = rule_sets[0]
    shown = [_resolved(primary, gene, allele) for allele in gene_input.alleles]
    warnings: list[str] = []
    alleles = []
    for allele, name in zip(gene_input.alleles, shown, strict=True):
        functions: dict[Source, AlleleFunction] = {}
        for rule_set in rule_sets:
            function = rule_set.function_of(gene, allele)
            functions[rule_set.source] = function or AlleleFunction.UNASSIGNED
            if function is None:
                warnings.append(
                    f"{gene}{allele} is not defined in {rule_set.id}; its {rule_set.source} "
                    "phenotype cannot be assigned (Indeterminate)."
                )
            elif function is AlleleFunction.UNASSIGNED:
                warnings.append(
                    f"{gene}{allele} has no function assigned in {rule_set.id}; its "
                    f"{rule_set.source} phenotype cannot be assigned (Indeterminate)."
                )
            alias = rule_set.genes[gene].aliases.get(allele)
            if alias is not None:
                warnings.append(f"{rule_set.id}: {alias.note}")
        alleles.append(AlleleCall(name=name, function=functions))
    alternatives: dict[str, Alternative] = {}
    for rule_set in rule_sets if ambiguities else []:
        for ambiguity in rule_set.genes[gene].ambiguities:
            if ambiguity.diplotype != gene_input.text:
                continue
            for text in ambiguity.alternatives:
                first, second = text.split("/")
                other = DiplotypeInput(gene, (first, second))
                phenotypes = {rs.source: alternative_phenotype(rs, other) for rs in rule_sets}
                alternatives.setdefault(text, Alternative(diplotype=text, phenotype=phenotypes))
            differs = [
                f"{source}: {phenotype[source]} vs {alt.phenotype[source]} for {alt.diplotype}"
                for alt in alternatives.values()
                for source in phenotype
                if alt.phenotype.get(source) != phenotype[source]
            ]
            note = ambiguity.note
            if differs:
                note += " The phenotype would differ (" + "; ".join(differs) + ")."
            if note not in warnings:
                warnings.append(note)
    return GeneResult(
        input=raw,
        input_type=InputType.DIPLOTYPE,
        diplotype="/".join(shown),
        alleles=alleles,
        phenotype=phenotype,
        alternatives=list(alternatives.values()),
        warnings=_unique(warnings),
    )


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


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
                    lookup={gene: evaluation.phenotypes[gene] for gene in rule.when},
                    rule_id=f"{rule_set.id}:{rule.id}",
                    source_id=rule.source_id,
                    classification=rule.classification,
                    dosing=[step for a in advice for step in a.dosing],
                    text=text,
                    implications=[line for line in implications if line],
                    references=list(drug_rules.references),
                    warnings=warnings,
                )
            )
    return out


def trace(rule_set: RuleSet, evaluation: Evaluation, drugs: Sequence[Drug]) -> list[TraceStep]:
    """The engine's firings for the report, in chain order, limited to the requested drugs."""
    wanted = {drug.value for drug in drugs}
    steps = []
    for firing in evaluation.firings:
        if (
            firing.stage in ("recommendation", "note")
            and firing.rule_id.split(".")[0] not in wanted
        ):
            continue
        steps.append(
            TraceStep(
                rule_id=f"{rule_set.id}:{firing.rule_id}",
                guideline=rule_set.id,
                stage=firing.stage,  # type: ignore[arg-type]
                fact=[dict(p) for p in firing.premises],
                derived=dict(firing.derived) if firing.derived else None,
            )
        )
    steps.sort(key=lambda s: (STAGE_ORDER[s.stage], s.rule_id))
    return steps


def build_report(
    tool_version: str,
    rule_sets: Sequence[RuleSet],
    genes: dict[Gene, GeneResult],
    evaluations: Sequence[Evaluation],
    drugs: Sequence[Drug],
) -> Report:
    """The whole report: rule-set identities, genes, advice per drug, and the rule trace."""
    recs = [
        rec
        for drug in drugs
        for rs, ev in zip(rule_sets, evaluations, strict=True)
        for rec in recommendations(rs, ev, [drug])
    ]
    steps = [s for rs, ev in zip(rule_sets, evaluations, strict=True) for s in trace(rs, ev, drugs)]
    return Report(
        tool_version=tool_version,
        guidelines=[guideline_info(rs) for rs in rule_sets],
        genes=genes,
        recommendations=recs,
        trace=steps,
        warnings=[],
    )
