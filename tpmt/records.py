"""Every JSON record a tpmt command or HTTP endpoint writes, as pydantic models (one place).

``tpmt schema --record KIND`` prints the JSON Schema of each kind; schema/KIND.schema.json holds
the published copy. The records are written by the renderers (tpmt/render/) for speed; the
tests validate what they write against these models and the published schemas.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, TypeAdapter

from tpmt.compact import CompactLine, CompactRecord, ErrorRecord
from tpmt.frozen import FrozenMap
from tpmt.guideline_schema import DosingStep, Provenance, Reference
from tpmt.models import GuidelineInfo, Report, ReportModel
from tpmt.vocab import Classification, Drug, Gene, Phenotype

__all__ = [
    "AllelesListing",
    "CHANGE_TYPES",
    "ChangeRecord",
    "DiffPhenotype",
    "DiffRecommendation",
    "DiffRow",
    "GuidelineDiff",
    "BatchLine",
    "BatchReport",
    "CallLine",
    "CompactLine",
    "CompactRecord",
    "ErrorRecord",
    "GuidelineEntry",
    "Health",
    "RECORD_KINDS",
    "RuleRecord",
    "record_adapter",
    "record_schema",
]


class BatchReport(Report):
    """A row of ``tpmt batch --format jsonl`` and an item of POST /v1/batch: the row's Report
    with ``status`` ok (the CLI writes ``status`` first)."""

    status: Literal["ok"]
    sample: str


BatchLine = BatchReport | ErrorRecord  # one line of tpmt batch --format jsonl
CallLine = BatchReport | ErrorRecord  # a line of tpmt call --format jsonl (or its json document)


class GuidelineEntry(GuidelineInfo):
    """One rule set in ``tpmt guidelines --format json`` and GET /v1/guidelines."""

    aliases: tuple[str, ...] = Field(description="aliases that name this rule set (cpic, dpwg)")
    default: bool = Field(description="used when no rule set is asked for")
    provenance: tuple[Provenance, ...]
    notes: tuple[str, ...]


class RuleRecord(ReportModel):
    """One recommendation row by rule id: ``tpmt guidelines --rule RULE_ID --format json``."""

    rule_id: str = Field(examples=["cpic-2025:mercaptopurine.IM-IM"])
    guideline: GuidelineInfo
    drug: Drug
    when: FrozenMap[Gene, Phenotype]
    context: FrozenMap[Gene, tuple[Phenotype, ...]]
    source_id: str | None
    classification: Classification | None
    text: str
    dosing: tuple[DosingStep, ...] = Field(description="the steps, their defaults left out")
    implications: tuple[str, ...]
    note: str | None
    references: tuple[Reference, ...]


class AllelesListing(ReportModel):
    """``tpmt alleles --gene GENE --format json``: each allele's function per rule set."""

    gene: Gene
    rule_sets: tuple[str, ...]
    alleles: FrozenMap[str, FrozenMap[str, str]] = Field(
        description="allele → rule-set id → function, '= <allele> (<function>)' for an alias, "
        "'no function assigned' or 'not defined'"
    )


ChangeType = Literal[
    "phenotype",
    "advice",
    "phenotype_advice",
    "strength",
    "alternative",
    "alternative_advice",
    "unchanged",
    "error",
]
CHANGE_TYPES: tuple[ChangeType, ...] = ChangeType.__args__  # type: ignore[attr-defined]


class ChangeRecord(ReportModel):
    """One change found by ``tpmt reinterpret`` (a line of its --format jsonl output)."""

    sample: str
    line: int = Field(description="the input line the sample came from (1-based)")
    change_type: ChangeType = Field(
        description="phenotype: a gene's phenotype changed; advice: a drug's dosing changed with "
        "the same phenotypes (advice-only); phenotype_advice: a drug's dosing changed because a "
        "phenotype did; strength: only the recommendation's classification changed; "
        "alternative: the phenotype of another possible diplotype changed (or it appeared or "
        "went away); alternative_advice: the more severe advice those possibilities lead to "
        "changed; unchanged: nothing changed (note says whether the rule set was the same); "
        "error: the sample could not be re-interpreted (note says why)"
    )
    gene: Gene | None = None
    drug: Drug | None = None
    tpmt: str | None = Field(default=None, description="the TPMT result that was re-run")
    nudt15: str | None = Field(default=None, description="the NUDT15 result that was re-run")
    before: str | None = None
    after: str | None = None
    guideline_before: str | None = None
    guideline_after: str | None = None
    rule_before: str | None = Field(default=None, description="rule id of the row before")
    rule_after: str | None = Field(default=None, description="rule id of the row after")
    note: str | None = None


class DiffPhenotype(ReportModel):
    """A diplotype whose phenotype differs between two rule sets."""

    gene: Gene
    diplotype: str
    before: str = Field(description="the phenotype, or 'not defined' (an allele is not named)")
    after: str
    functions_before: str | None
    functions_after: str | None


class DiffRow(ReportModel):
    """One side of a differing recommendation: its rows (one, or one per gene for DPWG)."""

    rule_ids: tuple[str, ...]
    strength: tuple[Classification | None, ...]
    dosing: tuple[tuple[str, ...], ...] = Field(
        description="per row: the dosing steps in short form, without the [note] marker"
    )


class DiffRecommendation(ReportModel):
    """A phenotype pair whose recommendation for a drug differs between two rule sets."""

    drug: Drug
    lookup: FrozenMap[Gene, Phenotype]
    differs: tuple[Literal["dosing", "strength"], ...]
    before: DiffRow
    after: DiffRow


class GuidelineDiff(ReportModel):
    """``tpmt guidelines --diff A B --format json``: what differs between two rule sets."""

    before: GuidelineInfo
    after: GuidelineInfo
    phenotypes: tuple[DiffPhenotype, ...]
    recommendations: tuple[DiffRecommendation, ...]
    counts: FrozenMap[str, int] = Field(
        description="differing entries per gene (phenotypes) and per drug (recommendations)"
    )


class Health(ReportModel):
    """GET /healthz."""

    status: Literal["ok"]
    version: str


_TYPES: dict[str, tuple[Any, str]] = {  # kind → (type, title)
    "report": (Report, ""),
    "batch": (BatchLine, "tpmt batch record (a line of tpmt batch --format jsonl)"),
    "call": (CallLine, "tpmt call record (a line of tpmt call --format jsonl)"),
    "compact": (CompactLine, "tpmt compact record (a line of --compact output)"),
    "guidelines": (
        list[GuidelineEntry],
        "tpmt rule sets (tpmt guidelines --format json, GET /v1/guidelines)",
    ),
    "rule": (RuleRecord, ""),
    "alleles": (AllelesListing, ""),
    "health": (Health, ""),
    "reinterpret": (ChangeRecord, ""),
    "guidelines-diff": (GuidelineDiff, ""),
}


def record_adapter(kind: str) -> TypeAdapter[Any]:
    """A pydantic TypeAdapter that validates a record of ``kind``."""
    return TypeAdapter(_TYPES[kind][0])


def record_schema(kind: str) -> dict[str, Any]:
    """The JSON Schema of a record of ``kind`` (what ``tpmt schema --record KIND`` prints)."""
    document = record_adapter(kind).json_schema()
    title = _TYPES[kind][1]
    if title:
        document["title"] = title
    return document


RECORD_KINDS = tuple(_TYPES)  # the names tpmt schema --record accepts
