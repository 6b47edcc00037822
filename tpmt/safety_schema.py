"""Pydantic models of the label co-medication and monitoring data
(``guidelines/us-labels-*/safety.json``), its loading and its content hash (verified against the
shipped hash, like the label dose data)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from tpmt.dose_schema import REVISION_PATTERN, SET_ID_PATTERN, Evidence
from tpmt.guideline_schema import LOCAL_ID_PATTERN, StrictModel
from tpmt.label_data import LabelData, bundled_label_data, load_label_data
from tpmt.vocab import Drug

SAFETY_DATA_ID = "us-labels-2026"
SAFETY_FILE = "safety.json"
NAME_PATTERN = r"^[a-z][a-z0-9-]*$"
Effect = Literal["reduce_dose", "contraindicated", "not_established"]


class SafetyLabel(StrictModel):
    """One prescribing-information document the data cites (a thiopurine's or a co-drug's)."""

    id: str = Field(pattern=LOCAL_ID_PATTERN)
    product: str
    set_id: str | None = Field(pattern=SET_ID_PATTERN)
    revision: str | None = Field(pattern=REVISION_PATTERN)


class Comedication(StrictModel):
    """A co-medication tpmt checks, with the other names it accepts for it."""

    id: str = Field(pattern=NAME_PATTERN)
    name: str
    aliases: list[str] = []
    kind: str


class Sourced(StrictModel):
    """What every label statement carries: id, label, section, evidence and what was checked."""

    id: str = Field(pattern=LOCAL_ID_PATTERN)
    label: str
    section: str | None
    evidence: Evidence
    checked: list[str] = Field(min_length=1)


class Interaction(Sourced):
    """What the labels say about one thiopurine given with one co-medication."""

    drug: Drug
    comed: str
    effect: Effect
    short: str
    statement: str


class MonitoringEntry(Sourced):
    """One monitoring schedule of a thiopurine's label."""

    drug: Drug
    tests: str
    schedule: str


class SafetyData(StrictModel):
    """The whole co-medication and monitoring data file."""

    id: str = Field(pattern=r"^[a-z]+-[a-z]+-[0-9]{4}$")
    title: str
    version: str
    date: str = Field(pattern=r"^[0-9]{4}-[0-9]{2}(-[0-9]{2})?$")
    notes: list[str] = []
    labels: list[SafetyLabel] = Field(min_length=1)
    comedications: list[Comedication] = Field(min_length=1)
    interactions: list[Interaction] = Field(min_length=1)
    monitoring: list[MonitoringEntry] = Field(min_length=1)

    @model_validator(mode="after")
    def _complete(self) -> SafetyData:
        """Every label named exists; every (drug, co-medication) pair is stated exactly once,
        so no pair can fall through silently; every drug has monitoring; names are unique."""
        labels = {label.id for label in self.labels}
        for entry in [*self.interactions, *self.monitoring]:
            if entry.label not in labels:
                raise ValueError(f"{entry.id} names unknown label {entry.label}")
        names = [n for c in self.comedications for n in (c.id, *c.aliases)]
        if len(set(names)) != len(names):
            raise ValueError("a co-medication name or alias is used twice")
        pairs = [(i.drug, i.comed) for i in self.interactions]
        wanted = {(d, c.id) for d in Drug for c in self.comedications}
        if len(set(pairs)) != len(pairs) or set(pairs) != wanted:
            raise ValueError("interactions must state each drug with each co-medication once")
        if {m.drug for m in self.monitoring} != set(Drug):
            raise ValueError("monitoring must cover every drug")
        return self


LoadedSafetyData = LabelData[SafetyData]


def load_safety_data(directory: Path, shipped_sha256: str | None) -> LoadedSafetyData:
    """Load and validate ``directory/safety.json`` (verified when ``shipped_sha256`` is given)."""
    what = "label safety data"
    return load_label_data(directory, SAFETY_FILE, SafetyData, shipped_sha256, what)


def bundled_safety_data() -> LoadedSafetyData:
    """The bundled data, verified against its shipped hash (loaded once, on first use)."""
    from tpmt.rule_set_hashes import SAFETY_DATA_SHA256

    what = "label safety data"
    return bundled_label_data(SAFETY_DATA_ID, SAFETY_FILE, SafetyData, SAFETY_DATA_SHA256, what)
