"""Erythrocyte TPMT activity as evidence: its phenotype by a lab's ranges, and its use.

The policy, as data below: an activity gives a TPMT phenotype by the lab's own ranges; with a
genotype too, the more severe of the two phenotypes (``SEVERITY``) enters the engine as a
reported phenotype, the other is kept as an alternative, and a discordance is a warning naming
the causes to consider. No guideline rule for genotype/activity discordance was found (none
in what could be read of CPIC 2018 and its updates; README, "TPMT enzyme activity"), so tpmt
takes the more severe one, as it does for every other uncertainty. A genotype that gives no
phenotype (Indeterminate, No Result) is resolved by the activity, as CPIC suggests for an
Indeterminate TPMT result.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from tpmt.errors import InputError
from tpmt.guidelines import RuleSet
from tpmt.lab_ranges import LabRange, LabRanges
from tpmt.models import ActivityResult, Alternative, GeneResult, TraceStep
from tpmt.outcome import GeneOutcome
from tpmt.parse import shown
from tpmt.report import GenePhenotype, gate_step
from tpmt.vocab import Gene, InputType, Phenotype, Source

Use = Literal["activity", "genotype", "both"]
# how severe each phenotype is for this comparison (higher: more severe); a phenotype not
# listed (Indeterminate, No Result) is no phenotype to compare, and the activity decides
SEVERITY = {
    Phenotype.NORMAL: 0,
    Phenotype.POSSIBLE_INTERMEDIATE: 1,
    Phenotype.INTERMEDIATE: 1,
    Phenotype.POOR: 2,
}
CPIC_CAVEAT = (
    "CPIC: erythrocyte TPMT activity can be falsely low at leukemia diagnosis and is unreliable "
    "after recent red-cell transfusions (CPIC gives no time window)."
)
CAUSES_LOWER = (  # activity lower than the genotype predicts
    "leukemia at diagnosis (CPIC: activity can be falsely low)",
    "red-cell transfusion before the sample (CPIC: activity is unreliable after recent "
    "transfusions; no window is given)",
    "drugs that lower the result, as Mayo Clinic Laboratories states for its test TPMT3: "
    "NSAIDs, furosemide, aminosalicylates, trimethoprim, methotrexate, thiazides (that lab "
    "asks for them to be stopped 48 hours before the sample)",
    "a TPMT variant the genotyping did not test",
    "the assay's limits (sample age, storage, handling)",
)
CAUSES_HIGHER = (  # activity higher than the genotype predicts
    "red-cell transfusion before the sample (CPIC: activity is unreliable after recent "
    "transfusions; no window is given)",
    "earlier or current thiopurine treatment, which can raise activity (a statement of the "
    "Exeter TPMT laboratory)",
    "the assay's limits (sample age, storage, handling)",
    "a genotyping error or sample mix-up",
)
# ASCII digits only: \d would take other scripts' digits, which float() reads as numbers
_VALUE = re.compile(r"^\s*([0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*(.*?)\s*$")
MAX_TEXT = 80


@dataclass(frozen=True)
class ActivityReading:
    """A measured TPMT activity, its unit, and the lab range it falls in."""

    value: float
    ranges: LabRanges
    range: LabRange

    @property
    def phenotype(self) -> Phenotype:
        return Phenotype(self.range.phenotype)

    @property
    def text(self) -> str:
        """'15.2 U/mL RBC'."""
        return f"{self.value:g} {self.ranges.unit}"

    def described(self) -> str:
        """'15.2 U/mL RBC (low by ARUP Laboratories (test 0092066): Poor Metabolizer)'."""
        return f"{self.text} ({self.range.name} by {self.ranges.label()}: {self.range.phenotype})"


def parse_activity(text: str, ranges: LabRanges | None) -> ActivityReading:
    """'15.2 U/mL RBC' → the reading in ``ranges``; InputError for a missing or other unit."""
    if ranges is None:
        raise InputError(
            "a TPMT activity needs the lab's reference ranges: give --lab-ranges FILE (TOML "
            "or JSON, e.g. examples/activity-discordant/arup-0092066.toml; for the HTTP "
            "service: tpmt serve --lab-ranges FILE)"
        )
    accepted = f"a number and its unit, e.g. '15.2 {ranges.unit}'"
    match = _VALUE.match(text) if len(text) <= MAX_TEXT else None
    if match is not None and re.match(r"^,[0-9]", match.group(2)):
        raise InputError(
            f"the TPMT activity has a decimal comma; write the decimal separator as a point, "
            f"e.g. '15.2 {ranges.unit}'"
        )
    if match is None:
        raise InputError(f"cannot read the TPMT activity; give {accepted}")
    number, unit = match.groups()
    if not unit:
        raise InputError(
            f"the TPMT activity has no unit; give {accepted} (the unit of the lab ranges of "
            f"{ranges.label()})"
        )
    if not ranges.matches_unit(unit):
        raise InputError(
            f"TPMT activity unit {shown(unit)} is not the unit of the lab ranges of "
            f"{ranges.label()}: expected {ranges.unit!r}; give the value in {ranges.unit} or "
            "use lab ranges for that unit"
        )
    value = float(number)
    return ActivityReading(value, ranges, ranges.classify(value))


def decide(genotype: Phenotype | None, activity: Phenotype) -> Use:
    """Which result the recommendation follows: the more severe; 'both' when they agree."""
    if genotype not in SEVERITY:
        return "activity"
    difference = SEVERITY[activity] - SEVERITY[genotype]
    return "both" if difference == 0 else "activity" if difference > 0 else "genotype"


@dataclass(frozen=True)
class ActivityApplied:
    """What an activity changes in one gene's fragment, per rule set where it varies."""

    phenotypes: list[GenePhenotype]
    alternatives: list[Alternative]
    steps: tuple[tuple[TraceStep, ...], ...]
    warnings: tuple[str, ...]
    result: ActivityResult

    def annotate(self, result: GeneResult) -> GeneResult:
        """The gene result with the activity block and the activity warnings."""
        warnings = (*result.warnings, *self.warnings)
        return result.model_copy(update={"activity": self.result, "warnings": warnings})


def apply_activity(
    outcome: GeneOutcome,
    reading: ActivityReading,
    rule_sets: Sequence[RuleSet],
    phenotypes: Sequence[GenePhenotype],
) -> ActivityApplied:
    """Each rule set's phenotype after the activity, the other result as an alternative."""
    only = outcome.input_type is InputType.ACTIVITY
    chosen: list[GenePhenotype] = []
    steps: list[tuple[TraceStep, ...]] = []
    uses: dict[Source, Use] = {}
    genotype: dict[Source, Phenotype] = {}
    for rule_set, base in zip(rule_sets, phenotypes, strict=True):
        genotype[rule_set.source] = base.phenotype
        use = "activity" if only else decide(base.phenotype, reading.phenotype)
        uses[rule_set.source] = use
        phenotype = reading.phenotype if use == "activity" else base.phenotype
        chosen.append(GenePhenotype(phenotype, base.engine_phenotype, None, base.reason))
        gate = (gate_step(rule_set, outcome.gene, base, outcome.untested_panel),)
        withheld = base.phenotype is not base.engine_phenotype
        steps.append((*(gate if withheld else ()), _step(rule_set, reading, base, use, only)))
    label = outcome.diplotype or outcome.raw or "the TPMT result given"
    alternatives = [] if only else _alternatives(reading, label, uses, genotype)
    discordant = any(u != "both" and genotype[s] in SEVERITY for s, u in uses.items() if not only)
    result = ActivityResult(
        value=reading.value,
        unit=reading.ranges.unit,
        range=reading.range.name,
        range_bounds=reading.range.shown().split(": ", 1)[1],
        phenotype=reading.phenotype,
        lab=reading.ranges.lab,
        test=reading.ranges.test,
        assay=reading.ranges.assay,
        ranges_source=reading.ranges.source,
        genotype_phenotype=None if only else genotype,
        used=uses,
        discordant=discordant,
        note=reading.range.note,
        caveat=CPIC_CAVEAT,
    )
    warnings = _warnings(reading, label, uses, genotype, only)
    return ActivityApplied(chosen, alternatives, tuple(steps), warnings, result)


def _alternatives(
    reading: ActivityReading, label: str, uses: dict[Source, Use], genotype: dict[Source, Phenotype]
) -> list[Alternative]:
    """The result the recommendation did not follow, where it gives another phenotype."""
    out = []
    if any(u == "genotype" for u in uses.values()):
        out.append(
            Alternative(
                diplotype=label,
                phenotype=dict.fromkeys(uses, reading.phenotype),
                basis="activity",
                assumption=f"TPMT activity {reading.described()}",
            )
        )
    if any(u == "activity" for u in uses.values()):
        out.append(Alternative(diplotype=label, phenotype=genotype, basis="genotype"))
    return out


def _warnings(
    reading: ActivityReading,
    label: str,
    uses: dict[Source, Use],
    genotype: dict[Source, Phenotype],
    only: bool,
) -> tuple[str, ...]:
    """The discordance warning (or how the activity was used), and the range's note."""
    note = (f"TPMT activity: {reading.range.note}",) if reading.range.note else ()
    if only:
        return (
            f"TPMT phenotype from erythrocyte TPMT activity {reading.described()}; no TPMT "
            "genotype was given.",
            *note,
        )
    found: dict[str, list[Source]] = {}
    for source, use in uses.items():
        by_genotype = genotype[source]
        if by_genotype not in SEVERITY:
            text = (
                f"{label} gives {by_genotype}; the phenotype follows erythrocyte TPMT activity "
                f"{reading.described()}, as CPIC suggests measuring activity when the TPMT "
                "phenotype cannot be assigned from the genotype."
            )
        elif use != "both":
            text = _discordance(reading, label, use, by_genotype)
        else:
            continue
        found.setdefault(text, []).append(source)
    every = len(found) == 1 and len(next(iter(found.values()))) == len(uses)
    out = [
        f"TPMT{'' if every else ' ' + ', '.join(sources)}: {text}"
        for text, sources in found.items()
    ]
    return (*out, *note)


def _discordance(reading: ActivityReading, label: str, use: Use, by_genotype: Phenotype) -> str:
    lower = SEVERITY[reading.phenotype] > SEVERITY[by_genotype]
    causes = CAUSES_LOWER if lower else CAUSES_HIGHER
    followed, other = (
        (f"the activity ({reading.phenotype})", f"the genotype's {by_genotype}")
        if use == "activity"
        else (f"the genotype ({by_genotype})", f"the activity's {reading.phenotype}")
    )
    return (
        f"genotype {label} ({by_genotype}) and erythrocyte TPMT activity "
        f"{reading.described()} disagree: the activity is "
        f"{'lower' if lower else 'higher'} than the genotype predicts. Causes to consider: "
        f"{'; '.join(causes)}. No guideline rule for discordant genotype and activity was found; "
        f"the recommendations follow the more severe result, {followed}, and list {other} as an "
        "alternative."
    )


def _step(
    rule_set: RuleSet, reading: ActivityReading, base: GenePhenotype, use: Use, only: bool
) -> TraceStep:
    """The trace step that records the activity, its range and the phenotype it led to."""
    gene = Gene.TPMT.value
    activity = {
        "t": "activity",
        "gene": gene,
        "value": reading.value,
        "unit": reading.ranges.unit,
        "lab": reading.ranges.label(),
        "range": reading.range.name,
        "phenotype": reading.phenotype.value,
    }
    facts: tuple[dict[str, object], ...] = (activity,)
    if not only:
        facts = ({"t": "phenotype", "gene": gene, "phenotype": base.phenotype.value}, activity)
    phenotype = reading.phenotype if use == "activity" else base.phenotype
    return TraceStep(
        rule_id=f"{rule_set.id}:TPMT.activity-{'only' if only else 'more-severe'}",
        guideline=rule_set.id,
        stage="phenotype",
        fact=facts,
        derived={"t": "phenotype", "gene": gene, "phenotype": phenotype.value, "by": use},
    )


def activity_outcome(reading: ActivityReading) -> GeneOutcome:
    """A TPMT outcome from an activity alone: its phenotype, reported with its provenance."""
    from tpmt.parse import PhenotypeInput

    gene_input = PhenotypeInput(Gene.TPMT, reading.phenotype)
    return GeneOutcome(Gene.TPMT, gene_input, reading.text, InputType.ACTIVITY, activity=reading)
