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
