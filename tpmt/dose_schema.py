"""Pydantic models of the label dose data (``guidelines/us-labels-*/doses.json``), its loading
and its content hash (verified against the shipped hash, like a bundled rule set)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from tpmt.guideline_schema import LOCAL_ID_PATTERN, DoseRange, StrictModel
from tpmt.label_data import LabelData, bundled_label_data, load_label_data
from tpmt.vocab import Condition, Drug

DOSE_DATA_ID = "us-labels-2026"
DOSE_FILE = "doses.json"
Evidence = Literal["label", "secondary", "unverified"]
SET_ID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"  # DailyMed
REVISION_PATTERN = r"^[0-9]{4}-[0-9]{2}(-[0-9]{2})?$"  # a label's revision date


class BsaFormula(StrictModel):
    """The body-surface-area formula used to turn mg/m2 into mg."""

    id: Literal["mosteller"]
    name: str
    expression: str
    citation: str
    evidence: Evidence
    checked: list[str] = Field(min_length=1)


class Label(StrictModel):
    """One prescribing-information document (FDA label) the data cites."""

    id: str = Field(pattern=LOCAL_ID_PATTERN)
    drug: Drug
    product: str
    set_id: str | None = Field(pattern=SET_ID_PATTERN)
    revision: str | None = Field(pattern=REVISION_PATTERN)


class Indication(StrictModel):
    """A drug's standard (non-genetic) dose for one indication, with its source."""

    id: str = Field(pattern=LOCAL_ID_PATTERN)
    drug: Drug
    name: str
    condition: Literal[Condition.MALIGNANCY, Condition.NONMALIGNANCY]
    dose: DoseRange | None
    dose_also: list[DoseRange] = Field(
        default_factory=list,
        description="the same standard dose as the label also states it in another unit (e.g. "
        "mg/m2/day beside mg/kg/day): a guideline threshold in that unit is checked against "
        "the label's own figures, not a conversion",
    )
    frequency: str | None
    label: str | None
    section: str | None
    evidence: Evidence
    checked: list[str]
    note: str | None = None

    @model_validator(mode="after")
    def _sourced(self) -> Indication:
        if self.dose is not None and not (self.label and self.section and self.checked):
            raise ValueError(f"indication {self.id}: a standard dose needs label, section, checked")
        return self


class Strengths(StrictModel):
    """A drug's marketed strengths and the smallest practical dose step they allow."""

    id: str = Field(pattern=LOCAL_ID_PATTERN)
    drug: Drug
    forms: list[str] = Field(min_length=1)
    step_mg: int | float = Field(gt=0)
    how: str
    evidence: Evidence
    checked: list[str] = Field(min_length=1)
    suspension_mg_per_ml: int | float | None = Field(default=None, gt=0)


class DoseData(StrictModel):
    """The whole label dose data file."""

    id: str = Field(pattern=r"^[a-z]+-[a-z]+-[0-9]{4}$")
    title: str
    version: str
    date: str = Field(pattern=r"^[0-9]{4}-[0-9]{2}(-[0-9]{2})?$")
    notes: list[str] = []
    bsa_formula: BsaFormula
    labels: list[Label] = Field(min_length=1)
    indications: list[Indication] = Field(min_length=1)
    strengths: list[Strengths] = Field(min_length=1)

    @model_validator(mode="after")
    def _cross_references(self) -> DoseData:
        labels = {label.id: label for label in self.labels}
        if len(labels) != len(self.labels):
            raise ValueError("a label id is used twice")
        keys = [(i.drug, i.id) for i in self.indications]
        if len(set(keys)) != len(keys):
            raise ValueError("an indication id is used twice for one drug")
        for indication in self.indications:
            label = labels.get(indication.label) if indication.label else None
            if indication.label and (label is None or label.drug is not indication.drug):
                raise ValueError(
                    f"indication {indication.id} names unknown label {indication.label}"
                )
        drugs = [s.drug for s in self.strengths]
        if sorted(drugs) != sorted(set(drugs)) or set(drugs) != set(Drug):
            raise ValueError("strengths must list each drug exactly once")
        return self


LoadedDoseData = LabelData[DoseData]


def load_dose_data(directory: Path, shipped_sha256: str | None) -> LoadedDoseData:
    """Load and validate ``directory/doses.json`` (verified when ``shipped_sha256`` is given)."""
    return load_label_data(directory, DOSE_FILE, DoseData, shipped_sha256, "dose data")


def bundled_dose_data() -> LoadedDoseData:
    """The bundled dose data, verified against its shipped hash (loaded once, on first use)."""
    from tpmt.rule_set_hashes import DOSE_DATA_SHA256

    return bundled_label_data(DOSE_DATA_ID, DOSE_FILE, DoseData, DOSE_DATA_SHA256, "dose data")
