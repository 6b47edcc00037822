"""The compact record (``--compact``): a sample's calls and advice by rule id, about 1 KB.

Texts, implications and references are left out; every recommendation names its rule id, which
``tpmt guidelines``/``tpmt.Interpreter().library`` resolve to the full row of the rule set named
(with its content hash) in ``guidelines``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import Field

from tpmt.comed import drug_monitoring
from tpmt.frozen import FrozenMap
from tpmt.guideline_schema import DosingStep
from tpmt.models import (
    SCHEMA_VERSION,
    Basis,
    ComedEffect,
    DoseStatus,
    GeneResult,
    GuidelineInfo,
    MgRange,
    Recommendation,
    Report,
    ReportModel,
    SafetyContext,
)
from tpmt.render.activity import activity_cell
from tpmt.vocab import Action, Classification, Drug, Gene, Phenotype, Source

HASH_DIGITS = 16
DOSING_PATTERN = (
    r"^(any|malignancy|nonmalignancy) [a-z_]+( [0-9.]+(-[0-9.]+|\+)?%)?( daily| thrice_weekly)?"
    r"( if standard >= [0-9.]+ mg/(kg|m2)/day( or >= [0-9.]+ mg/(kg|m2)/day)*)?( \[note\])?$"
)


class CompactAlternative(ReportModel):
    """Another diplotype the evidence leaves possible, and the phenotype it would give."""

    diplotype: str
    basis: Basis
    phenotype: FrozenMap[Source, Phenotype]
    assumption: str | None = None


class CompactGene(ReportModel):
    """One gene: the call, its phenotype per guideline source, what else is possible, and
    what was not tested (as in the full report)."""

    diplotype: str | None
    phenotype: FrozenMap[Source, Phenotype]
    presumptive: bool = False
    alternatives: tuple[CompactAlternative, ...] = ()
    warnings: tuple[str, ...] = ()
    limitations: tuple[str, ...] = ()
    activity: str | None = Field(
        default=None,
        description="TPMT with a measured activity: value, unit, lab range → phenotype "
        "(discordant); the full report's genes.TPMT.activity has the details",
    )


class CompactStepDose(ReportModel):
    """One dosing step in mg (numbers only; the full report's ``dose`` explains them)."""

    status: DoseStatus = Field(description="as the full report's dose[].status")
    mg_per_dose: MgRange | None = None
    doses_per_week: int | None = None
    rounded_mg_per_dose: MgRange | None = Field(
        default=None, description="rounded inward to the tablet step (none: no step fits)"
    )
    rounding_verified: bool | None = Field(
        default=None, description="false: the tablet strengths or splitting are not label-confirmed"
    )


class CompactComed(ReportModel):
    """What the labels say about the row's drug with one co-medication, by effect."""

    comed: str
    effect: ComedEffect
    verified: bool = Field(description="read in the current label (false: not verified)")
    data_id: str = Field(description="the entry in the label safety data")


class CompactData(ReportModel):
    """The identity of label data used (dose data, or safety data)."""

    id: str
    version: str
    sha256: str = Field(
        description=f"first {HASH_DIGITS} hex digits of its content SHA-256 (as for guidelines)"
    )


class CompactDose(ReportModel):
    """The drug the mg figures are for, the standard dose they are taken of, and the data."""

    drug: Drug
    indication: str | None = None
    standard_mg_per_day: MgRange | None = Field(
        default=None,
        description="absent when a co-medication given is contraindicated with the drug",
    )
    data: CompactData


class CompactSafety(ReportModel):
    """The label safety data behind the rows' monitoring and co-medication statements."""

    comed: tuple[str, ...] = Field(default=(), description="co-medications given")
    monitoring: FrozenMap[Drug, tuple[str, ...]] | None = Field(
        default=None,
        description="drug → its label monitoring entries (data ids), on every row of that drug "
        "(absent with --no-monitoring); the steady state is in each row's rule",
    )
    data: CompactData


class CompactRecommendation(ReportModel):
    """One recommendation row (keyed by its rule id), with its strength and dosing in short form."""

    strength: Classification | None = None
    dosing: tuple[str, ...] = Field(
        description="per step: '<condition> <action>[ <min>[-<max>]%][ <frequency>]"
        "[ if standard >= <dose> <unit>][ [note]]', e.g. 'malignancy reduce_dose 30-80% daily "
        "if standard >= 75 mg/m2/day'; '[note]': the step has a qualifying note in the rule "
        "(tpmt guidelines --rule RULE_ID), such as an alternative for leukaemia",
        json_schema_extra={"items": {"pattern": DOSING_PATTERN}},
    )
    alternatives: tuple[str, ...] = Field(
        default=(), description="rule ids of the more severe rows the evidence leaves possible"
    )
    dose: tuple[CompactStepDose, ...] | None = Field(
        default=None, description="only with dose inputs: each dosing step in mg, as dosing"
    )
    comed: tuple[CompactComed, ...] | None = Field(
        default=None, description="only with co-medications given (contraindications first)"
    )


class CompactRecord(ReportModel):
    """One sample in compact form (a line of ``--format jsonl --compact``)."""

    sample: str | None
    status: Literal["ok"]
    schema_version: Literal[1]
    guidelines: FrozenMap[str, str] = Field(
        description=f"rule-set id → first {HASH_DIGITS} hex digits of its content SHA-256"
    )
    genes: FrozenMap[Gene, CompactGene]
    recommendations: FrozenMap[str, CompactRecommendation] = Field(
        description="rule id ('<rule-set id>:<drug>.<row>') → the row, in report order"
    )
    warnings: tuple[str, ...] = ()
    dose: CompactDose | None = Field(
        default=None, description="only with dose inputs: the standard dose and label dose data"
    )
    safety: CompactSafety | None = Field(
        default=None,
        description="with monitoring (the default) or co-medications: the label safety data",
    )


class ErrorRecord(ReportModel):
    """A row or sample that could not be interpreted (in the same stream as the records)."""

    sample: str
    status: Literal["error"]
    message: str


CompactLine = CompactRecord | ErrorRecord  # one line of --compact output


def _percent(value: float) -> str:
    return f"{value:g}"


def short_dosing(step: DosingStep) -> str:
    """'malignancy reduce_dose 30-80% daily' for a dosing step."""
    parts = [step.condition.value, step.action.value]
    percent = step.percent_of_standard
    if percent is not None and step.action in (Action.REDUCE_DOSE, Action.STANDARD_DOSE):
        if percent.max is None:
            parts.append(f"{_percent(percent.min)}+%")
        elif percent.max == percent.min:
            parts.append(f"{_percent(percent.min)}%")
        else:
            parts.append(f"{_percent(percent.min)}-{_percent(percent.max)}%")
    if step.frequency is not None:
        parts.append(step.frequency.value)
    if step.applies_if_standard_dose_at_least:
        limits = " or ".join(
            f">= {_percent(q.value)} {q.unit}" for q in step.applies_if_standard_dose_at_least
        )
        parts.append(f"if standard {limits}")
    if step.note:
        parts.append("[note]")
    return " ".join(parts)


def compact_gene(result: GeneResult) -> CompactGene:
    """The compact form of one gene's result."""
    return CompactGene(
        diplotype=result.diplotype,
        phenotype=result.phenotype,
        presumptive=result.presumptive,
        alternatives=tuple(
            CompactAlternative(
                diplotype=a.diplotype,
                basis=a.basis,
                phenotype=a.phenotype,
                assumption=a.assumption,
            )
            for a in result.alternatives
        ),
        warnings=result.warnings,
        limitations=result.limitations,
        activity=activity_cell(result.activity) or None,
    )


def compact_recommendation(
    rec: Recommendation, alternatives: tuple[str, ...]
) -> CompactRecommendation:
    """The compact form of a row, with the rule ids of its more severe alternatives."""
    return CompactRecommendation(
        strength=rec.classification,
        dosing=tuple(short_dosing(step) for step in rec.dosing),
        alternatives=alternatives,
        dose=None
        if rec.dose is None
        else tuple(
            CompactStepDose(
                status=step.status,
                mg_per_dose=step.mg_per_dose,
                doses_per_week=step.doses_per_week,
                rounded_mg_per_dose=step.rounded_mg_per_dose,
                rounding_verified=step.rounding_verified,
            )
            for step in rec.dose
        ),
        comed=None
        if rec.comed is None
        else tuple(
            CompactComed(comed=s.comed, effect=s.effect, verified=s.verified, data_id=s.data_id)
            for s in rec.comed
        ),
    )


def _compact_dose(report: Report) -> CompactDose | None:
    if report.dose is None:
        return None
    data = report.dose.data
    drug = report.dose.drug
    against = any(
        s.effect == "contraindicated"
        for rec in report.recommendations
        if rec.drug is drug
        for s in rec.comed or ()
    )
    return CompactDose(
        drug=drug,
        indication=report.dose.standard.indication,
        standard_mg_per_day=None if against else report.dose.standard.mg_per_day,
        data=CompactData(id=data.id, version=data.version, sha256=data.sha256[:HASH_DIGITS]),
    )


def compact_safety(
    safety: SafetyContext | None, rows: Sequence[Recommendation]
) -> CompactSafety | None:
    """The label data of a report's monitoring (per drug) and co-medication statements."""
    if safety is None:
        return None
    monitoring = {
        drug: tuple(m.data_id for m in watch.label) for drug, watch in drug_monitoring(rows).items()
    }
    data = safety.data
    return CompactSafety(
        comed=safety.comed,
        monitoring=monitoring or None,
        data=CompactData(id=data.id, version=data.version, sha256=data.sha256[:HASH_DIGITS]),
    )


def compact_guidelines(guidelines: tuple[GuidelineInfo, ...]) -> dict[str, str]:
    """Rule-set id → hash prefix."""
    return {info.id: info.sha256[:HASH_DIGITS] for info in guidelines}


def compact_record(report: Report) -> CompactRecord:
    """The compact record of a whole Report."""
    return CompactRecord(
        sample=report.sample,
        status="ok",
        schema_version=SCHEMA_VERSION,
        guidelines=compact_guidelines(report.guidelines),
        genes={gene: compact_gene(result) for gene, result in report.genes.items()},
        recommendations={
            rec.rule_id: compact_recommendation(rec, tuple(a.rule_id for a in rec.alternatives))
            for rec in report.recommendations
        },
        warnings=report.warnings,
        dose=_compact_dose(report),
        safety=compact_safety(report.safety, report.recommendations),
    )
