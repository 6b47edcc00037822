"""Batch interpretation: rows in (TSV, CSV or JSONL), one record out per row, in order, lazily."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, NamedTuple

from tpmt.activity import parse_activity
from tpmt.compose import Composition, Selection
from tpmt.errors import TpmtError
from tpmt.interpreter import Interpreter, default_interpreter
from tpmt.lab_ranges import LabRanges
from tpmt.models import Report
from tpmt.rows import Prepared, prepare_row, read_rows

__all__ = [
    "BatchRecord",
    "Prepared",
    "interpret_many",
    "interpret_prepared",
    "prepare_row",
    "read_rows",
]


class BatchRecord(NamedTuple):
    """The outcome of one input row: its result (status ok) or the error message."""

    row: int
    sample: str
    result: Composition | None
    message: str | None = None

    @property
    def ok(self) -> bool:
        return self.result is not None

    @property
    def report(self) -> Report | None:
        """The row's immutable Report, named after its sample (assembled on each access)."""
        return None if self.result is None else self.result.report(self.sample)


def drug_list(value: Any) -> tuple[str, ...] | None:
    """A drugs cell or field: a list of names, or a comma- or semicolon-separated text."""
    if value is None or value == "":
        return None
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value)
    parts = (p.strip() for p in str(value).replace(";", ",").split(","))
    return tuple(part for part in parts if part)


def interpret_many(
    rows: Iterable[Mapping[str, Any]],
    guidelines: Iterable[str] | None = None,
    drugs: Iterable[str] | None = None,
    interpreter: Interpreter | None = None,
    lab_ranges: LabRanges | None = None,
) -> Iterator[BatchRecord]:
    """Interpret rows lazily; a bad row becomes an error record, never an exception or a gap.

    Each row is a mapping with ``sample_id`` (or ``sample``/``id``), ``tpmt``, ``nudt15`` and
    optionally ``drugs`` (list or comma-separated) and ``tpmt_activity`` (value and unit, read
    against ``lab_ranges``); keys are case-insensitive.
    """
    prepared = (prepare_row(number, row) for number, row in enumerate(rows, start=1))
    return interpret_prepared(prepared, guidelines, drugs, interpreter, lab_ranges)


def interpret_prepared(
    rows: Iterable[Prepared],
    guidelines: Iterable[str] | None = None,
    drugs: Iterable[str] | None = None,
    interpreter: Interpreter | None = None,
    lab_ranges: LabRanges | None = None,
) -> Iterator[BatchRecord]:
    """The engine of interpret_many: each row composed from the interpreter's memoised parts.

    A row with a TPMT activity (a seventh item) is read against ``lab_ranges``."""
    engine = interpreter or default_interpreter()
    guideline_list = None if guidelines is None else tuple(guidelines)
    default_drugs = None if drugs is None else tuple(drugs)
    compose = engine.compose_selected
    default: Selection | None = None
    for row in rows:
        activity = None
        if len(row) == 6:  # the common row, unpacked without building a list
            number, sample, tpmt, nudt15, drug_cell, error = row
        else:
            number, sample, tpmt, nudt15, drug_cell, error, activity = row
        if error is not None:
            yield BatchRecord(number, sample, None, error)
            continue
        try:
            chosen = drug_list(drug_cell) if drug_cell else None
            if chosen:
                selection = engine.selection(chosen, guideline_list)
            else:
                default = default or engine.selection(default_drugs, guideline_list)
                selection = default
            if activity:
                reading = parse_activity(activity, lab_ranges)
                result = engine.compose_activity(selection, tpmt, nudt15, reading)
            else:
                result = compose(selection, tpmt, nudt15)
        except TpmtError as exc:
            yield BatchRecord(number, sample, None, str(exc))
        else:
            yield BatchRecord(number, sample, result)
