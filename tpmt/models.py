"""The public Report model (JSON contract, schema_version 1); immutable all the way down."""

from __future__ import annotations

from typing import Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    model_serializer,
)

from tpmt.frozen import FrozenDict, FrozenJson, FrozenMap
from tpmt.guideline_schema import DosingStep, Range, Reference
from tpmt.vocab import (
    Action,
    AlleleFunction,
    Classification,
    Condition,
    Drug,
    Frequency,
    Gene,
    InputType,
    Phenotype,
    Source,
)

SCHEMA_VERSION: Literal[1] = 1
M = TypeVar("M", bound=BaseModel)
_set = object.__setattr__


def assemble(model: type[M], **values: object) -> M:
    """A model instance from parts that are already valid (taken from validated models).

    What ``model_construct`` does, without its per-field bookkeeping: every field must be
    given. Reports are composed from validated fragments millions of times per batch, so this
    is the one place that skips validation; tests check assembled and validated reports agree.
    """
    if len(values) != len(model.__pydantic_fields__):
        raise TypeError(f"{model.__name__} needs exactly its fields")
    instance = model.__new__(model)
    _set(instance, "__dict__", values)
    _set(instance, "__pydantic_fields_set__", set(values))
    _set(instance, "__pydantic_extra__", None)
    _set(instance, "__pydantic_private__", None)
    return instance


class ReportModel(BaseModel):
    """Frozen, closed model used for every part of a report."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class GuidelineInfo(ReportModel):
    """The identity of a rule set used for a report."""

    id: str
    source: Source
    title: str
    version: str
    date: str
    pmid: str | None
    doi: str | None
    sha256: str = Field(description="SHA-256 of the rule set's data files, computed at load")
    origin: Literal["bundled", "user"] = Field(
        default="bundled",
        description="bundled: shipped with tpmt and verified against its shipped hash (the "
        "field is then omitted); user: loaded from a user's folder (--guidelines-dir or "
        "TPMT_GUIDELINES_DIR), not verified",
    )

    @model_serializer(mode="wrap")
    def _omit_bundled_origin(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Serialise without ``origin`` when bundled (reports stay as before the field)."""
        data: dict[str, Any] = handler(self)
        if self.origin == "bundled":
            data.pop("origin", None)
        return data


class AlleleCall(ReportModel):
    """One allele of the diplotype with its function under each guideline source."""

    name: str
    function: FrozenMap[Source, AlleleFunction]


Basis = Literal["phase", "untested", "low_quality", "unknown_function", "activity", "genotype"]
BASIS_DESCRIPTION = (
    "why it cannot be excluded: unknown phase, untested positions, a call that failed quality "
    "but showed a non-reference allele, or an allele of unknown function; with a TPMT "
    "activity: the phenotype by the activity (activity) or by the genotype (genotype) that the "
    "recommendation did not follow"
)


class Alternative(ReportModel):
    """Another diplotype the evidence leaves possible, with its phenotype and why."""

    diplotype: str
    phenotype: FrozenMap[Source, Phenotype]
    basis: Basis = Field(default="phase", description=BASIS_DESCRIPTION)
    assumption: str | None = Field(
        default=None,
        description="for unknown function: the function assumed, e.g. '*22 as No function'",
    )


class SiteEvidence(ReportModel):
    """The genotype seen at one allele-defining position."""

    position: int
    rsid: str | None
    ref: str
    genotype: str = Field(
        description="as in the input, e.g. C/T, C|T, ./. or 0/0 (reference block)"
    )
    called: bool
    reason: str | None = Field(
        default=None,
        description="why the position is not called (no-call, quality, ploidy, conflict, absent)",
    )


class CallEvidence(ReportModel):
    """How a diplotype was called from variant data."""

    definitions: str = Field(description="allele definitions used (source and version)")
    sites: tuple[SiteEvidence, ...]
    uncalled: tuple[str, ...] = Field(description="uncalled defining positions as chr:pos (rsID)")
    novel: tuple[str, ...] = Field(description="unexpected alleles at defining positions")
    minimum_panel: FrozenMap[str, bool] = Field(
        description="for each allele of the minimum test panel: are all its positions called"
    )
    assumed_reference: tuple[str, ...] = Field(
        default=(),
        description="positions absent from the input taken as reference (--assume-reference)",
    )


ActivityUse = Literal["activity", "genotype", "both"]


class ActivityResult(ReportModel):
    """An erythrocyte TPMT activity, its phenotype by the lab's ranges, and how it was used."""

    value: float
    unit: str
    range: str = Field(description="the lab range the value falls in, e.g. low")
    range_bounds: str = Field(description="that range's bounds, e.g. 17 ≤ x ≤ 23.9")
    phenotype: Phenotype = Field(description="the phenotype the lab range stands for")
    lab: str
    test: str | None
    assay: str | None
    ranges_source: str = Field(description="where the lab ranges come from (the user's file)")
    genotype_phenotype: FrozenMap[Source, Phenotype] | None = Field(
        description="the phenotype by the genotype (or the phenotype given); null: activity only"
    )
    used: FrozenMap[Source, ActivityUse] = Field(
        description="what each rule set's recommendations follow: the activity, the genotype "
        "(the more severe of the two), or both (they agree)"
    )
    discordant: bool = Field(description="genotype and activity give phenotypes that differ")
    note: str | None = Field(description="the lab range's note, from the lab ranges file")
    caveat: str


class GeneResult(ReportModel):
    """What tpmt made of one gene's input."""

    input: str | None
    input_type: InputType
    diplotype: str | None
    alleles: tuple[AlleleCall, ...]
    phenotype: FrozenMap[Source, Phenotype]
    alternatives: tuple[Alternative, ...]
    warnings: tuple[str, ...]
    evidence: CallEvidence | None = None
    presumptive: bool = Field(
        default=False,
        description="the call rests on untested (or assumed-reference) positions",
    )
    limitations: tuple[str, ...] = Field(
        default=(), description="what was not tested or could not be used, in words"
    )
    activity: ActivityResult | None = Field(
        default=None,
        exclude_if=lambda value: value is None,
        description="TPMT only, with a measured erythrocyte TPMT activity (absent otherwise)",
    )


class AlternativeCause(ReportModel):
    """One diplotype behind a more severe alternative recommendation."""

    gene: Gene
    diplotype: str
    basis: Basis = Field(description=BASIS_DESCRIPTION)
    assumption: str | None = None


def _is_none(value: object) -> bool:
    return value is None


class MgRange(ReportModel):
    """A dose in milligrams; ``min`` equals ``max`` for one value."""

    min: float
    max: float


DoseStatus = Literal[
    "computed",
    "computed_excluding_comed",
    "no_reduction_needed",
    "no_reduction_needed_excluding_comed",
    "not_applicable",
    "not_computed",
    "no_dose",
]


class StepDose(ReportModel):
    """One dosing step of a recommendation in milligrams, or why there is no mg figure."""

    condition: Condition
    action: Action
    status: DoseStatus = Field(
        description="computed; computed_excluding_comed (computed from the genotype advice, "
        "but a co-medication given calls for a further label reduction that is NOT applied to "
        "these figures: see the row's comed); no_reduction_needed (the standard dose is below "
        "the step's threshold); no_reduction_needed_excluding_comed (so, but a co-medication "
        "given calls for a label reduction of the standard dose, NOT applied); not_applicable "
        "(the step is for the other condition); "
        "not_computed (an input is missing); no_dose (not a dosing step, e.g. consider an "
        "alternative, or a contraindicated co-medication)"
    )
    percent_of_standard: Range | None
    frequency: Frequency | None
    mg_per_dose: MgRange | None
    doses_per_week: int | None
    mg_per_week: MgRange | None
    rounded_mg_per_dose: MgRange | None
    rounding: str | None = Field(description="how the dose was rounded to marketed strengths")
    rounding_verified: bool | None = Field(
        default=None,
        exclude_if=_is_none,
        description="false: the strengths or tablet splitting behind the rounding are not "
        "confirmed by a label (the rounding text says UNVERIFIED); absent without mg figures",
    )
    explanation: str


class AdviceAlternative(ReportModel):
    """A more severe recommendation row the evidence leaves possible, and what leads to it."""

    lookup: FrozenMap[Gene, Phenotype]
    rule_id: str
    classification: Classification | None
    dosing: tuple[DosingStep, ...]
    text: str
    because: tuple[AlternativeCause, ...]
    more: int = Field(default=0, description="further diplotypes with the same outcome, not listed")
    dose: tuple[StepDose, ...] | None = Field(
        default=None,
        exclude_if=_is_none,
        description="only with dose inputs, for the dose's drug: each dosing step of this row "
        "in mg (same order as dosing), as for the recommendation",
    )


class StandardDose(ReportModel):
    """The standard (non-genetic) daily dose the guideline's percentages are taken of."""

    mg_per_day: MgRange
    basis: str = Field(description="how the mg/day figure was obtained")
    indication: str | None
    indication_name: str | None
    condition: Condition | None
    frequency: str | None
    source: str = Field(description="label set id, revision, section, evidence; or the input")


class DoseDataInfo(ReportModel):
    """The identity of the label dose data used."""

    id: str
    title: str
    version: str
    date: str
    sha256: str


class DoseContext(ReportModel):
    """The inputs and the standard dose behind every recommendation's ``dose``."""

    drug: Drug
    weight_kg: float
    height_cm: float | None
    bsa_m2: float | None
    bsa_formula: str | None
    planned_dose_mg_per_day: float | None
    standard: StandardDose
    strengths: str = Field(description="marketed strengths and the rounding step used")
    data: DoseDataInfo
    notes: tuple[str, ...]


ComedEffect = Literal["reduce_dose", "contraindicated", "not_established"]


class ComedStatement(ReportModel):
    """What the labels say about this drug with one co-medication, beside the genotype advice
    (never combined with it)."""

    comed: str = Field(description="the co-medication (canonical name)")
    effect: ComedEffect = Field(
        description="reduce_dose (the label's reduction, stated beside the genotype's); "
        "contraindicated (overrides any dose: no mg figure); not_established (no label "
        "statement found: never a statement that there is no interaction)"
    )
    short: str = Field(description="the label statement in a few words")
    statement: str = Field(description="the label statement, paraphrased")
    genotype: str = Field(description="the genotype advice of this row, in words")
    advice: str = Field(description="both pieces of advice side by side, and who decides")
    verified: bool = Field(description="read in the current label (false: secondary or unverified)")
    source: str = Field(description="label, set id, revision, section, evidence, what was checked")
    data_id: str = Field(description="the entry in the label safety data")


class LabelMonitoring(ReportModel):
    """One monitoring schedule of the drug's label."""

    tests: str
    schedule: str
    verified: bool = Field(description="read in the current label (false: secondary or unverified)")
    data_id: str = Field(
        description="the entry in the label safety data; its source (label, set id, revision, "
        "section, evidence) is in the report's safety.sources"
    )


class SteadyState(ReportModel):
    """The guideline's time to steady state after a dose change, for one dosing step."""

    condition: Condition
    weeks: Range


class Monitoring(ReportModel):
    """The label's monitoring schedules and the guideline's time to steady state."""

    label: tuple[LabelMonitoring, ...]
    steady_state: tuple[SteadyState, ...] = Field(
        description="from the rule row's dosing steps (empty: the row gives none)"
    )


class SafetyDataInfo(ReportModel):
    """The identity of the label co-medication and monitoring data used."""

    id: str = Field(description="the label data's id and file, e.g. us-labels-2026/safety")
    title: str
    version: str
    date: str
    sha256: str


class SafetyContext(ReportModel):
    """The co-medications given, those tpmt checks, and the label data behind ``comed`` and
    ``monitoring``."""

    comed: tuple[str, ...] = Field(description="co-medications given (canonical names)")
    checked: tuple[str, ...] = Field(description="every co-medication tpmt checks")
    notes: tuple[str, ...]
    sources: FrozenMap[str, str] = Field(
        default_factory=FrozenDict,
        description="label monitoring entry (data id) → its source: label, set id, revision, "
        "section, evidence and what was checked (given once here, not on every row)",
    )
    data: SafetyDataInfo


class Recommendation(ReportModel):
    """One guideline's advice for one drug."""

    drug: Drug
    guideline: str
    source: Source
    genes: tuple[Gene, ...] = Field(default=(), description="the gene(s) this row is for")
    lookup: FrozenMap[Gene, Phenotype]
    rule_id: str
    source_id: str | None = Field(description="the guideline body's own recommendation id")
    classification: Classification | None
    dosing: tuple[DosingStep, ...]
    text: str
    implications: tuple[str, ...]
    references: tuple[Reference, ...]
    warnings: tuple[str, ...]
    alternatives: tuple[AdviceAlternative, ...] = Field(
        default=(),
        description="more severe rows possible given phase, untested positions, low quality "
        "or unknown function (most severe first)",
    )
    dose: tuple[StepDose, ...] | None = Field(
        default=None,
        exclude_if=_is_none,
        description="only with dose inputs: each dosing step in mg (same order as dosing)",
    )
    comed: tuple[ComedStatement, ...] | None = Field(
        default=None,
        exclude_if=_is_none,
        description="only with co-medications given: the labels' statements for this drug "
        "(contraindications first)",
    )
    monitoring: Monitoring | None = Field(
        default=None,
        exclude_if=_is_none,
        description="the label's monitoring and the time to steady state (absent with "
        "--no-monitoring, or from an Interpreter(monitoring=False))",
    )


class TraceStep(ReportModel):
    """One rule firing in the engine: the rule, the facts it matched, what it derived."""

    rule_id: str
    guideline: str
    stage: Literal["input", "function", "phenotype", "recommendation", "note"]
    fact: tuple[FrozenJson, ...]
    derived: FrozenJson | None


class Report(ReportModel):
    """Everything tpmt concluded from one sample's TPMT and NUDT15 results."""

    schema_version: Literal[1] = SCHEMA_VERSION
    tool_version: str
    sample: str | None = None
    guidelines: tuple[GuidelineInfo, ...]
    genes: FrozenMap[Gene, GeneResult]
    recommendations: tuple[Recommendation, ...]
    trace: tuple[TraceStep, ...]
    warnings: tuple[str, ...]
    dose: DoseContext | None = Field(
        default=None,
        exclude_if=_is_none,
        description="only with dose inputs: weight, height, indication, the standard dose used "
        "and the label dose data (id, version, sha256)",
    )
    safety: SafetyContext | None = Field(
        default=None,
        exclude_if=_is_none,
        description="with monitoring (the default) or co-medications: what was checked and "
        "the label safety data (id, version, sha256)",
    )
