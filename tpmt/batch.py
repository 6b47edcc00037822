"""Batch interpretation: rows in (TSV, CSV or JSONL), one record out per row, in order, lazily."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, NamedTuple

from tpmt.activity import parse_activity
from tpmt.comed import FIELD_NAMES as COMED_FIELD_NAMES
from tpmt.comed import apply_safety
from tpmt.compose import Composition, Selection
from tpmt.dose import FIELD_NAMES as DOSE_FIELD_NAMES
from tpmt.errors import GuidelineError, InputError, TpmtError
from tpmt.interpreter import Interpreter, default_interpreter, with_dose
from tpmt.lab_ranges import LabRanges
from tpmt.models import Report
from tpmt.rows import Prepared, RowExtras, prepare_row, read_rows

__all__ = [
    "BatchRecord",
    "Prepared",
    "RowExtras",
    "interpret_many",
    "interpret_prepared",
    "prepare_row",
    "read_rows",
]


class BatchRecord(NamedTuple):
    """The outcome of one input row: its result (status ok) or the error message; ``finished``
    is the row's whole Report when it gave dose inputs or co-medications (else None)."""

    row: int
    sample: str
    result: Composition | None
    message: str | None = None
    finished: Report | None = None

    @property
    def ok(self) -> bool:
        return self.result is not None

    @property
    def report(self) -> Report | None:
        """The row's immutable Report, named after its sample (assembled on each access
        unless ``finished``)."""
        if self.finished is not None:
            return self.finished
        return None if self.result is None else self.result.report(self.sample)


def finish(report: Report, extras: RowExtras) -> Report:
    """A composed report with the row's doses in mg and co-medication statements, as tpmt
    lookup adds them; InputError (prefixed with the row's name) for inputs that cannot apply."""
    try:
        if extras.dose is not None:
            report = with_dose(report, extras.dose, DOSE_FIELD_NAMES)
        return apply_safety(report, extras.comed, True, COMED_FIELD_NAMES)
    except InputError as exc:
        raise InputError(f"{extras.where}: {exc}") from None


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
    optionally ``drugs`` (list or comma-separated), ``tpmt_activity`` (value and unit, read
    against ``lab_ranges``), ``weight_kg``, ``height_cm``, ``indication``, ``planned_dose_mg``
    (doses in mg, as tpmt lookup) and ``comed`` (list or comma-separated); keys are
    case-insensitive. A row with dose inputs or co-medications has its whole Report in
    ``finished``.
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

    A row's extras: a TPMT activity is read against ``lab_ranges``; dose inputs and
    co-medications finish its Report (``BatchRecord.finished``)."""
    engine = interpreter or default_interpreter()
    guideline_list = None if guidelines is None else tuple(guidelines)
    default_drugs = None if drugs is None else tuple(drugs)
    compose = engine.compose_selected
    default: Selection | None = None
    for number, sample, tpmt, nudt15, drug_cell, error, extras in rows:
        if error is not None:
            yield BatchRecord(number, sample, None, error)
            continue
        finished = None
        try:
            chosen = drug_list(drug_cell) if drug_cell else None
            if chosen:
                selection = engine.selection(chosen, guideline_list)
            else:
                default = default or engine.selection(default_drugs, guideline_list)
                selection = default
            if extras is None:  # the common row
                result = compose(selection, tpmt, nudt15)
            else:
                if extras.activity:
                    reading = parse_activity(extras.activity, lab_ranges)
                    result = engine.compose_activity(selection, tpmt, nudt15, reading)
                else:
                    result = compose(selection, tpmt, nudt15)
                if extras.finishing:
                    finished = finish(result.report(sample), extras)
        except GuidelineError:
            raise  # bad guideline or label data (exit 4): not one row's fault
        except TpmtError as exc:
            yield BatchRecord(number, sample, None, str(exc))
        else:
            yield BatchRecord(number, sample, result, None, finished)
