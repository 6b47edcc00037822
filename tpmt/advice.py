"""Attach to each recommendation the more severe rows the evidence leaves possible."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from tpmt.frozen import FrozenDict
from tpmt.guidelines import RuleSet
from tpmt.models import (
    AdviceAlternative,
    Alternative,
    AlternativeCause,
    Recommendation,
    assemble,
)
from tpmt.severity import dose_levels, more_severe
from tpmt.vocab import Gene, Phenotype

MAX_CAUSES = 5  # diplotypes named per gene and outcome; the rest are counted in ``more``
# the rows a pair of phenotypes gives for one drug (memoised by the caller)
RowsFor = Callable[[Phenotype, Phenotype], Sequence[Recommendation]]


@dataclass(frozen=True)
class Option:
    """One phenotype a gene may have, and the diplotypes behind it (none for the reported)."""

    causes: tuple[AlternativeCause, ...]
    more: int  # further diplotypes with this phenotype, not named
    specific: bool  # some diplotype behind it rests on detected evidence, not untested positions


Options = dict[Phenotype, Option]  # the reported phenotype first


def gene_options(
    rule_set: RuleSet, gene: Gene, reported: Phenotype, alternatives: Sequence[Alternative]
) -> Options:
    """The reported phenotype, and each other phenotype with the diplotypes behind it."""
    found: dict[Phenotype, list[Alternative]] = {reported: []}
    for alt in alternatives:
        phenotype = alt.phenotype.get(rule_set.source)
        if phenotype is not None and phenotype is not reported:
            found.setdefault(phenotype, []).append(alt)
    return FrozenDict(
        {
            phenotype: Option(
                causes=tuple(
                    AlternativeCause(
                        gene=gene,
                        diplotype=alt.diplotype,
                        basis=alt.basis,
                        assumption=alt.assumption,
                    )
                    for alt in behind[:MAX_CAUSES]
                ),
                more=max(len(behind) - MAX_CAUSES, 0),
                specific=any(a.basis != "untested" for a in behind),
            )
            for phenotype, behind in found.items()
        }
    )


Choices = tuple[tuple[Phenotype, bool], ...]  # a gene's phenotypes (reported first), specific?


@dataclass(frozen=True)
class Slot:
    """A more severe row in a recommendation's alternatives, and the phenotypes behind it."""

    row: Recommendation
    causing: tuple[Gene, ...]
    combo: dict[Gene, Phenotype]


def choices(options: Options) -> Choices:
    """The phenotype-level content of a gene's options (what the plan depends on)."""
    return tuple((phenotype, option.specific) for phenotype, option in options.items())


def plan(rec: Recommendation, choices: dict[Gene, Choices], rows_for: RowsFor) -> tuple[Slot, ...]:
    """The rows more severe than ``rec`` that the genes' other phenotypes lead to, in order.

    Each gene varies with the other as reported; both vary together only where both
    possibilities rest on detected evidence (phase, low quality, unknown function), never on
    untested positions alone. A row reached twice is listed once (one gene varying, NUDT15
    before TPMT, comes before both together); most severe first.
    """
    reported = {gene: choices[gene][0][0] for gene in Gene}
    specific = {gene: dict(choices[gene]) for gene in Gene}
    others = {gene: [p for p, _ in choices[gene][1:]] for gene in Gene}
    combos: list[tuple[tuple[Gene, ...], Phenotype, Phenotype]] = [
        ((Gene.NUDT15,), reported[Gene.TPMT], p) for p in others[Gene.NUDT15]
    ]
    combos += [((Gene.TPMT,), p, reported[Gene.NUDT15]) for p in others[Gene.TPMT]]
    combos += [
        ((Gene.TPMT, Gene.NUDT15), t, n)
        for t, n in itertools.product(others[Gene.TPMT], others[Gene.NUDT15])
        if specific[Gene.TPMT][t] and specific[Gene.NUDT15][n]
    ]
    genes = set(rec.genes)
    found: dict[tuple[str, tuple[Phenotype, ...]], Slot] = {}
    for vary, tpmt, nudt15 in combos:
        for row in rows_for(tpmt, nudt15):
            if set(row.genes) != genes:
                continue
            causing = tuple(gene for gene in vary if gene in row.lookup)
            if not causing or not more_severe(row.dosing, rec.dosing):
                continue
            combo: dict[Gene, Phenotype] = FrozenDict({Gene.TPMT: tpmt, Gene.NUDT15: nudt15})
            found.setdefault((row.rule_id, tuple(row.lookup.values())), Slot(row, causing, combo))
    return tuple(
        sorted(found.values(), key=lambda s: (min(dose_levels(s.row.dosing)), s.row.rule_id))
    )


def slot_causes(
    slot: Slot, options: dict[Gene, Options]
) -> tuple[tuple[AlternativeCause, ...], int]:
    """The diplotypes behind a slot (and how many more), from its genes' options."""
    causes: tuple[AlternativeCause, ...] = ()
    more = 0
    for gene in slot.causing:
        option = options[gene][slot.combo[gene]]
        causes += option.causes
        more += option.more
    return causes, more


def slot_alternative(slot: Slot, options: dict[Gene, Options]) -> AdviceAlternative:
    """The alternative a slot stands for, with the diplotypes behind it."""
    row = slot.row
    causes, more = slot_causes(slot, options)
    return assemble(
        AdviceAlternative,
        lookup=row.lookup,
        rule_id=row.rule_id,
        classification=row.classification,
        dosing=row.dosing,
        text=row.text,
        because=causes,
        more=more,
        dose=None,
    )


AlternativeOf = Callable[[Slot, dict[Gene, Options]], AdviceAlternative]


def with_slots(
    rec: Recommendation,
    slots: Sequence[Slot],
    options: dict[Gene, Options],
    alternative_of: AlternativeOf = slot_alternative,
) -> Recommendation:
    """``rec`` with its alternatives: each slot's row and the diplotypes that lead to it."""
    if not slots:
        return rec
    alternatives = tuple(alternative_of(slot, options) for slot in slots)
    return assemble(Recommendation, **{**rec.__dict__, "alternatives": alternatives})
