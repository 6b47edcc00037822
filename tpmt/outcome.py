"""What one gene's input says before any rule set is applied: the call and its uncertainty."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tpmt.guidelines import RuleSet
from tpmt.models import Basis, CallEvidence
from tpmt.parse import DiplotypeInput, GeneInput, NotTested, PhenotypeInput
from tpmt.vocab import Gene, InputType

if TYPE_CHECKING:
    from tpmt.activity import ActivityReading

Diplotype = tuple[str, str]


@dataclass(frozen=True)
class Candidate:
    """Another diplotype the evidence leaves possible, and why it cannot be excluded."""

    diplotype: Diplotype
    basis: Basis


@dataclass(frozen=True)
class GeneOutcome:
    """One gene's evidence, reduced to what the rule sets evaluate and what the report states.

    ``gene_input`` is what the engine evaluates for the reported call (a diplotype, a reported
    phenotype, Indeterminate for uninterpretable evidence, or not tested). ``untested_panel``
    names the minimum-panel alleles whose positions were not all tested; the rule sets decide
    what that withholds.
    """

    gene: Gene
    gene_input: GeneInput
    raw: str | None
    input_type: InputType
    diplotype: str | None = None
    candidates: tuple[Candidate, ...] = ()
    presumptive: bool = False
    untested_panel: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    limitations: tuple[str, ...] = ()
    evidence: CallEvidence | None = None
    phase_note: str | None = None  # a typed diplotype's look-alike note, completed per rule set
    activity: ActivityReading | None = None  # a measured TPMT activity (see tpmt.activity)


def _resolved(rule_set: RuleSet, gene: Gene, allele: str) -> str:
    aliases = rule_set.genes[gene].aliases
    return aliases[allele].allele if allele in aliases else allele


def typed_outcome(
    gene_input: GeneInput, raw: str | None, rule_sets: Sequence[RuleSet]
) -> GeneOutcome:
    """The outcome of a typed result (diplotype, phenotype or not tested) under ``rule_sets``.

    A typed diplotype is taken as reported; the rule sets' known unphased look-alikes
    (TPMT *1/*3A vs *3B/*3C) become phase candidates, with their notes as warnings.
    """
    gene = gene_input.gene
    if isinstance(gene_input, PhenotypeInput):
        return GeneOutcome(gene, gene_input, raw, InputType.PHENOTYPE)
    if not isinstance(gene_input, DiplotypeInput):
        return GeneOutcome(gene, gene_input, raw, InputType.NOT_TESTED)
    candidates: dict[Diplotype, Candidate] = {}
    notes: list[str] = []
    for rule_set in rule_sets:
        for ambiguity in rule_set.genes[gene].ambiguities:
            if ambiguity.diplotype != gene_input.text:
                continue
            for text in ambiguity.alternatives:
                first, second = text.split("/")
                candidates.setdefault((first, second), Candidate((first, second), "phase"))
            if ambiguity.note not in notes:
                notes.append(ambiguity.note)
    shown = "/".join(_resolved(rule_sets[0], gene, allele) for allele in gene_input.alleles)
    return GeneOutcome(
        gene,
        gene_input,
        raw,
        InputType.DIPLOTYPE,
        diplotype=shown,
        candidates=tuple(candidates.values()),
        warnings=tuple(dict.fromkeys(notes[:-1])),
        phase_note=notes[-1] if notes else None,
    )


def not_tested(gene: Gene, warning: str) -> GeneOutcome:
    """A gene with no data at all."""
    return GeneOutcome(gene, NotTested(gene), None, InputType.NOT_TESTED, warnings=(warning,))
