"""Attach to each recommendation the more severe rows the evidence leaves possible."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence

from tpmt.evaluate import Evaluation
from tpmt.guidelines import RuleSet
from tpmt.models import AdviceAlternative, Alternative, AlternativeCause, Recommendation
from tpmt.parse import GeneInput, PhenotypeInput
from tpmt.severity import dose_levels, more_severe
from tpmt.vocab import Gene, Phenotype

MAX_CAUSES = 5  # diplotypes named per gene and outcome; the rest are counted in ``more``
EvaluatePair = Callable[[RuleSet, GeneInput, GeneInput], Evaluation]
RowsOf = Callable[[RuleSet, Evaluation, Recommendation], list[Recommendation]]


def phenotype_options(
    rule_set: RuleSet, reported: dict[Gene, Phenotype], alternatives: dict[Gene, list[Alternative]]
) -> dict[Gene, dict[Phenotype, list[Alternative]]]:
    """Per gene: the reported phenotype, and each other phenotype with the diplotypes behind it."""
    options: dict[Gene, dict[Phenotype, list[Alternative]]] = {}
    for gene in Gene:
        found: dict[Phenotype, list[Alternative]] = {reported[gene]: []}
        for alt in alternatives.get(gene, []):
            phenotype = alt.phenotype.get(rule_set.source)
            if phenotype is not None and phenotype is not reported[gene]:
                found.setdefault(phenotype, []).append(alt)
        options[gene] = found
    return options


def _causes(
    genes: Sequence[Gene],
    combo: dict[Gene, Phenotype],
    options: dict[Gene, dict[Phenotype, list[Alternative]]],
) -> tuple[list[AlternativeCause], int]:
    causes: list[AlternativeCause] = []
    more = 0
    for gene in genes:
        behind = options[gene][combo[gene]]
        for alt in behind[:MAX_CAUSES]:
            causes.append(
                AlternativeCause(
                    gene=gene, diplotype=alt.diplotype, basis=alt.basis, assumption=alt.assumption
                )
            )
        more += max(len(behind) - MAX_CAUSES, 0)
    return causes, more


def _jointly_specific(
    combo: dict[Gene, Phenotype], options: dict[Gene, dict[Phenotype, list[Alternative]]]
) -> bool:
    """Both genes changed at once: considered only when neither rests on untested positions
    alone (phase, low quality and unknown function are specific to what was detected)."""
    return all(any(a.basis != "untested" for a in options[g][combo[g]]) for g in combo)


def with_alternatives(
    rule_set: RuleSet,
    rec: Recommendation,
    reported: dict[Gene, Phenotype],
    alternatives: dict[Gene, list[Alternative]],
    evaluate_pair: EvaluatePair,
    rows_of: RowsOf,
) -> Recommendation:
    """``rec`` with the rows of every more severe phenotype combination the evidence allows.

    Each gene's alternatives are combined with the other gene as reported; both genes change
    together only where both possibilities come from detected evidence (not untested positions).
    """
    options = phenotype_options(rule_set, reported, alternatives)
    found: dict[tuple[str, tuple[Phenotype, ...]], AdviceAlternative] = {}
    for tpmt, nudt15 in itertools.product(options[Gene.TPMT], options[Gene.NUDT15]):
        combo = {Gene.TPMT: tpmt, Gene.NUDT15: nudt15}
        changed = [gene for gene in Gene if combo[gene] is not reported[gene]]
        if not changed or (len(changed) > 1 and not _jointly_specific(combo, options)):
            continue
        evaluation = evaluate_pair(
            rule_set, PhenotypeInput(Gene.TPMT, tpmt), PhenotypeInput(Gene.NUDT15, nudt15)
        )
        for row in rows_of(rule_set, evaluation, rec):
            causing = [gene for gene in changed if gene in row.lookup]
            if not causing or not more_severe(row.dosing, rec.dosing):
                continue
            key = (row.rule_id, tuple(row.lookup.values()))
            causes, more = _causes(causing, combo, options)
            found.setdefault(
                key,
                AdviceAlternative(
                    lookup=row.lookup,
                    rule_id=row.rule_id,
                    classification=row.classification,
                    dosing=row.dosing,
                    text=row.text,
                    because=causes,
                    more=more,
                ),
            )
    if not found:
        return rec
    ordered = sorted(found.values(), key=lambda a: (min(dose_levels(a.dosing)), a.rule_id))
    return rec.model_copy(update={"alternatives": ordered})
