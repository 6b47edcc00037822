"""Pydantic models of the guideline data files; unknown keys are rejected."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from tpmt.vocab import (
    Action,
    AlleleFunction,
    Classification,
    Condition,
    Drug,
    Frequency,
    Gene,
    Phenotype,
    Source,
)

ALLELE_PATTERN = r"^\*[0-9]+[A-Z]?$"
LOCAL_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.+*/-]*$"


class StrictModel(BaseModel):
    """Frozen model that refuses keys it does not know."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class Reference(StrictModel):
    """A literature or database reference; at least one identifier."""

    pmid: str | None = Field(default=None, pattern=r"^[0-9]{6,9}$")
    doi: str | None = Field(default=None, pattern=r"^10\.[0-9]{4,9}/\S+$")
    title: str | None = None
    url: str | None = None

    @model_validator(mode="after")
    def _has_identifier(self) -> Reference:
        if not (self.pmid or self.doi or self.url):
            raise ValueError("a reference needs a pmid, a doi or a url")
        return self


class Provenance(StrictModel):
    """Where a piece of data was taken from."""

    what: str
    source: str
    version: str | None = None
    note: str | None = None


class Manifest(StrictModel):
    """Identity and provenance of one rule set (``guidelines/<id>/manifest.json``)."""

    id: str = Field(pattern=r"^[a-z]+-[0-9]{4}$")
    source: Source
    title: str
    version: str
    date: str = Field(pattern=r"^[0-9]{4}-[0-9]{2}(-[0-9]{2})?$")
    citation: Reference
    recommendation_lookup: Literal["pair", "per_gene"]
    genes: dict[Gene, str]
    drugs: dict[Drug, str]
    definitions: dict[Gene, str] = {}
    provenance: list[Provenance] = Field(min_length=1)
    notes: list[str] = []


class AlleleAlias(StrictModel):
    """A legacy allele name accepted as another allele, with the note shown to users."""

    allele: str = Field(pattern=ALLELE_PATTERN)
    note: str


class PhenotypeRule(StrictModel):
    """A pair of allele functions and the phenotype it gives."""

    id: str = Field(pattern=LOCAL_ID_PATTERN)
    functions: tuple[AlleleFunction, AlleleFunction]
    phenotype: Phenotype
    basis: Literal["guideline", "safety"] = "guideline"
    note: str | None = None

    @field_validator("phenotype")
    @classmethod
    def _not_no_result(cls, value: Phenotype) -> Phenotype:
        if value is Phenotype.NO_RESULT:
            raise ValueError("'No Result' is for genes not tested, not a genotype phenotype")
        return value


class Ambiguity(StrictModel):
    """A diplotype that unphased genotyping cannot tell apart from the alternatives listed."""

    id: str = Field(pattern=LOCAL_ID_PATTERN)
    diplotype: str
    alternatives: list[str] = Field(min_length=1)
    note: str


class MinimumPanelRule(StrictModel):
    """What a call may not report while a minimum-panel (AMP Tier 1) position is untested."""

    id: str = Field(pattern=LOCAL_ID_PATTERN)
    withhold: list[Phenotype] = Field(min_length=1)
    report: Phenotype
    text: str
    reference: Reference


class GeneRules(StrictModel):
    """Allele functions and phenotype rules for one gene (``<gene>.json``)."""

    gene: Gene
    hgnc: str = Field(pattern=r"^HGNC:[0-9]+$")
    alleles: dict[str, AlleleFunction | None] = Field(min_length=1)
    aliases: dict[str, AlleleAlias] = {}
    unassigned_function: AlleleFunction = Field(
        description="the function of an allele this rule set assigns none or does not name"
    )
    phenotype_rules: list[PhenotypeRule] = Field(min_length=1)
    ambiguities: list[Ambiguity] = []
    minimum_panel_rule: MinimumPanelRule
    references: list[Reference] = Field(min_length=1)
    provenance: list[Provenance] = Field(min_length=1)

    @field_validator("alleles")
    @classmethod
    def _allele_names(
        cls, value: dict[str, AlleleFunction | None]
    ) -> dict[str, AlleleFunction | None]:
        import re

        for name in value:
            if not re.match(ALLELE_PATTERN, name):
                raise ValueError(f"allele name {name!r} is not of the form *<number>[A-Z]")
        return value


class Range(StrictModel):
    """A closed numeric range; ``max`` None means "at least ``min``"."""

    min: int | float
    max: int | float | None

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if self.max is not None and self.max < self.min:
            raise ValueError(f"range max {self.max} is below min {self.min}")
        return self


DoseUnit = Literal["mg/kg/day", "mg/m2/day"]


class Quantity(StrictModel):
    """A dose with its unit."""

    value: int | float
    unit: DoseUnit


class DoseRange(StrictModel):
    """An absolute dose or dose range with its unit (min equals max for one value)."""

    min: int | float
    max: int | float
    unit: DoseUnit

    @model_validator(mode="after")
    def _ordered(self) -> DoseRange:
        if self.max < self.min:
            raise ValueError(f"dose max {self.max} is below min {self.min}")
        return self


class DosingStep(StrictModel):
    """One structured dosing instruction."""

    condition: Condition
    action: Action
    percent_of_standard: Range | None = None
    starting_dose: tuple[DoseRange, ...] = ()
    frequency: Frequency | None = None
    steady_state_weeks: Range | None = None
    applies_if_standard_dose_at_least: tuple[Quantity, ...] = ()
    note: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> DosingStep:
        dosed = self.action in (Action.STANDARD_DOSE, Action.REDUCE_DOSE)
        if self.action is Action.REDUCE_DOSE and not (
            self.percent_of_standard or self.starting_dose
        ):
            raise ValueError("reduce_dose needs percent_of_standard or starting_dose")
        if not dosed and (self.percent_of_standard or self.frequency or self.starting_dose):
            raise ValueError(f"{self.action.value} cannot carry a dose or frequency")
        return self


class Advice(StrictModel):
    """A reusable block of recommendation text with its structured dosing."""

    text: str = Field(min_length=10)
    dosing: list[DosingStep] = Field(min_length=1)
    implications: list[str] = []


class RecommendationRule(StrictModel):
    """Phenotype(s) → advice for one drug, with strength and source ids."""

    id: str = Field(pattern=LOCAL_ID_PATTERN)
    source_id: str | None = None
    when: dict[Gene, Phenotype] = Field(min_length=1)
    context: dict[Gene, list[Phenotype]] = Field(
        default={},
        description="per-gene rule sets: the other gene's phenotypes this row is limited to",
    )
    classification: Classification | None
    advice: list[str] = Field(min_length=1)
    based_on: Gene | None = None
    note: str | None = None


class CombinationNote(StrictModel):
    """A warning added when every listed gene has one of the listed phenotypes."""

    id: str = Field(pattern=LOCAL_ID_PATTERN)
    when: dict[Gene, list[Phenotype]] = Field(min_length=2)
    text: str


class DrugRules(StrictModel):
    """Recommendations for one drug (``<drug>.json``)."""

    drug: Drug
    rxnorm: str = Field(pattern=r"^[0-9]+$")
    source_annotation: str | None = None
    references: list[Reference] = Field(min_length=1)
    advice: dict[str, Advice] = Field(min_length=1)
    implications: dict[Gene, dict[Phenotype, str]] = {}
    rules: list[RecommendationRule] = Field(min_length=1)
    notes: list[CombinationNote] = []
    provenance: list[Provenance] = Field(min_length=1)


class DefinedPosition(StrictModel):
    """A GRCh38 position that defines alleles, with its VCF reference and alternate alleles."""

    position: int = Field(gt=0)
    rsid: str | None = Field(pattern=r"^rs[0-9]+$")
    ref: str = Field(pattern=r"^[ACGT]+$")
    alts: list[str] = Field(min_length=1)


class IgnoredPosition(StrictModel):
    """A position seen in VCFs that defines no allele and is deliberately ignored."""

    position: int
    rsid: str | None
    note: str


class AlleleDefinitions(StrictModel):
    """Named-allele definitions of one gene (``definitions/<gene>.json``), for calling."""

    gene: Gene
    chromosome: Literal["chr6", "chr13"]
    build: Literal["GRCh38"]
    source: str
    version: str
    positions: list[DefinedPosition] = Field(min_length=1)
    alleles: dict[str, dict[str, list[str]]] = Field(min_length=2)
    minimum_panel: list[str]
    ignored_positions: list[IgnoredPosition] = []

    @model_validator(mode="after")
    def _consistent(self) -> AlleleDefinitions:
        known = {p.position: {p.ref, *p.alts} for p in self.positions}
        if len(known) != len(self.positions):
            raise ValueError("a position is listed twice")
        for name, spec in self.alleles.items():
            for position, allowed in spec.items():
                if int(position) not in known:
                    raise ValueError(f"allele {name} uses undefined position {position}")
                if not set(allowed) <= known[int(position)]:
                    raise ValueError(f"allele {name} at {position}: {allowed} not in ref/alts")
        references = [name for name, spec in self.alleles.items() if not spec]
        if len(references) != 1:
            raise ValueError(f"exactly one reference allele expected, found {references}")
        missing = [a for a in self.minimum_panel if a not in self.alleles]
        if missing:
            raise ValueError(f"minimum panel names undefined alleles {missing}")
        return self
