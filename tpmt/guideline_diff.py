"""What differs between two rule sets: diplotype phenotypes and recommendation rows.

Two rule sets "differ" for a diplotype when they give it different phenotypes, or when one of
them does not name one of its alleles ("not defined"); every unordered pair of the alleles
(and aliases) either rule set names is compared. They differ for a drug and a phenotype pair
(TPMT × NUDT15, each one of the six phenotypes including Indeterminate and No Result) when the
dosing of the rows differs or their strength (classification) differs.

Dosing is compared by what it asks for, not by how it is written: for malignant and for
nonmalignant conditions separately, the actions that apply (a step for "any" condition applies
to both) with their percent of the standard dose and frequency, and the standard doses the
reduction applies from. So one step for any condition equals the same step written once per
condition, and a "monitor" step (watch for myelosuppression; it changes no dose) added or
dropped is not a difference. Wording (texts, implications, notes), references, source ids and
steady-state times are not compared.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from functools import lru_cache

from tpmt.compact import short_dosing
from tpmt.errors import InputError
from tpmt.guideline_schema import DosingStep
from tpmt.guidelines import RuleSet
from tpmt.interpreter import Interpreter
from tpmt.models import Recommendation
from tpmt.parse import DiplotypeInput, allele_sort_key
from tpmt.records import DiffPhenotype, DiffRecommendation, DiffRow, GuidelineDiff
from tpmt.report import guideline_info
from tpmt.vocab import Drug, Gene, Phenotype

NOT_DEFINED = "not defined"
NOTE_MARK = " [note]"


def dosing_summary(steps: Sequence[DosingStep]) -> tuple[str, ...]:
    """The dosing steps in short form without the [note] marker (what a comparison reads)."""
    return tuple(strip_note(short_dosing(step)) for step in steps)


def strip_note(text: str) -> str:
    """A short dosing step without its trailing [note] marker."""
    return text[: -len(NOTE_MARK)] if text.endswith(NOTE_MARK) else text


_THRESHOLD = re.compile(r">= ([0-9.]+ \S+)")
CONDITIONS = ("malignancy", "nonmalignancy")
UNCOMPARED_ACTIONS = frozenset({"monitor"})
DosingKey = tuple[tuple[tuple[str, ...], ...], tuple[str, ...]]


@lru_cache(maxsize=4_096)
def dosing_key(summary: tuple[str, ...]) -> DosingKey:
    """What short-form dosing steps ask for, per condition, and the thresholds they apply from
    (equal keys: the same dosing however it is split into steps)."""
    asks: dict[str, set[str]] = {condition: set() for condition in CONDITIONS}
    thresholds: set[str] = set()
    for step in summary:
        head, _, limits = strip_note(step).partition(" if standard ")
        thresholds.update(_THRESHOLD.findall(limits))
        condition, _, what = head.partition(" ")
        if what.partition(" ")[0] in UNCOMPARED_ACTIONS:
            continue
        for name in CONDITIONS if condition == "any" else (condition,):
            asks.setdefault(name, set()).add(what)
    per_condition = tuple(tuple(sorted(asks[name])) for name in sorted(asks))
    return per_condition, tuple(sorted(thresholds))


def _alleles(rule_set: RuleSet, gene: Gene) -> set[str]:
    rules = rule_set.genes[gene]
    return {*rules.alleles, *rules.aliases}


def _phenotype(
    interpreter: Interpreter, rule_set: RuleSet, gene: Gene, pair: tuple[str, str]
) -> tuple[str, str | None]:
    if any(rule_set.function_of(gene, allele) is None for allele in pair):
        return NOT_DEFINED, None
    functions = " + ".join(rule_set.effective_function(gene, allele) for allele in pair)
    return interpreter.phenotype_of(rule_set, DiplotypeInput(gene, pair)), functions


def phenotype_differences(
    interpreter: Interpreter, before: RuleSet, after: RuleSet
) -> list[DiffPhenotype]:
    """Every diplotype (per gene) whose phenotype differs between the two rule sets."""
    out = []
    for gene in Gene:
        names = sorted(_alleles(before, gene) | _alleles(after, gene), key=allele_sort_key)
        for pair in itertools.combinations_with_replacement(names, 2):
            old, old_functions = _phenotype(interpreter, before, gene, pair)
            new, new_functions = _phenotype(interpreter, after, gene, pair)
            if old != new:
                out.append(
                    DiffPhenotype(
                        gene=gene,
                        diplotype="/".join(pair),
                        before=str(old),
                        after=str(new),
                        functions_before=old_functions,
                        functions_after=new_functions,
                    )
                )
    return out


def _side(rows: Sequence[Recommendation]) -> DiffRow:
    return DiffRow(
        rule_ids=tuple(r.rule_id for r in rows),
        strength=tuple(r.classification for r in rows),
        dosing=tuple(dosing_summary(r.dosing) for r in rows),
    )


def recommendation_differences(
    interpreter: Interpreter, before: RuleSet, after: RuleSet
) -> list[DiffRecommendation]:
    """Every drug × phenotype pair whose dosing or strength differs between the rule sets."""
    out = []
    pairs = [
        (t, n)
        for t, n in itertools.product(Phenotype, Phenotype)
        if (t, n) != (Phenotype.NO_RESULT, Phenotype.NO_RESULT)
    ]
    for drug in Drug:
        if drug not in before.drugs or drug not in after.drugs:
            continue
        for tpmt, nudt15 in pairs:
            old = _side(interpreter.phenotype_rows(before, drug, tpmt, nudt15))
            new = _side(interpreter.phenotype_rows(after, drug, tpmt, nudt15))
            same_dosing = [dosing_key(d) for d in old.dosing] == [dosing_key(d) for d in new.dosing]
            differs = tuple(
                name
                for name, changed in (
                    ("dosing", not same_dosing),
                    ("strength", old.strength != new.strength),
                )
                if changed
            )
            if differs:
                out.append(
                    DiffRecommendation(
                        drug=drug,
                        lookup={Gene.TPMT: tpmt, Gene.NUDT15: nudt15},
                        differs=differs,  # type: ignore[arg-type]
                        before=old,
                        after=new,
                    )
                )
    return out


def guideline_diff(interpreter: Interpreter, before_name: str, after_name: str) -> GuidelineDiff:
    """The differences between two rule sets (ids or aliases) of the interpreter's library."""
    library = interpreter.library
    before, after = library.get(before_name), library.get(after_name)
    if before.source != after.source:
        raise InputError(
            f"cannot compare {before.id} ({before.source.value}) with {after.id} "
            f"({after.source.value}): a diff compares two versions of one source's guideline"
        )
    phenotypes = phenotype_differences(interpreter, before, after)
    recommendations = recommendation_differences(interpreter, before, after)
    counts = {gene.value: sum(p.gene is gene for p in phenotypes) for gene in Gene}
    counts |= {drug.value: sum(r.drug is drug for r in recommendations) for drug in Drug}
    return GuidelineDiff(
        before=guideline_info(before),
        after=guideline_info(after),
        phenotypes=tuple(phenotypes),
        recommendations=tuple(recommendations),
        counts=counts,
    )
