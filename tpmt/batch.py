"""Batch interpretation: rows in (TSV, CSV or JSONL), one record out per row, in order, lazily."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator, Mapping
from typing import IO, Any, NamedTuple

from tpmt.compose import Composition, Selection
from tpmt.errors import InputError, TpmtError
from tpmt.interpreter import Interpreter, default_interpreter
from tpmt.models import Report

SAMPLE_KEYS = ("sample_id", "sample", "id")
# number, sample, tpmt, nudt15, drugs cell, error found while reading
Prepared = tuple[int, str, str | None, str | None, Any, str | None]


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


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _drugs(value: Any) -> tuple[str, ...] | None:
    if value is None or value == "":
        return None
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value)
    parts = (p.strip() for p in str(value).replace(";", ",").split(","))
    return tuple(part for part in parts if part)


def prepare_row(number: int, raw: Mapping[Any, Any]) -> Prepared:
    """Pick the fields out of a mapping with case-insensitive keys."""
    row = {str(k).strip().lower(): v for k, v in raw.items() if k is not None}
    sample = next((_text(row[k]) for k in SAMPLE_KEYS if _text(row.get(k))), None)
    error = str(row["__error__"]) if "__error__" in row else None
    drugs = row.get("drugs", row.get("drug"))
    return (
        number,
        sample or f"row {number}",
        _text(row.get("tpmt")),
        _text(row.get("nudt15")),
        tuple(drugs) if isinstance(drugs, list) else drugs,
        error,
    )


def interpret_many(
    rows: Iterable[Mapping[str, Any]],
    guidelines: Iterable[str] | None = None,
    drugs: Iterable[str] | None = None,
    interpreter: Interpreter | None = None,
) -> Iterator[BatchRecord]:
    """Interpret rows lazily; a bad row becomes an error record, never an exception or a gap.

    Each row is a mapping with ``sample_id`` (or ``sample``/``id``), ``tpmt``, ``nudt15`` and
    optionally ``drugs`` (list or comma-separated); keys are case-insensitive.
    """
    prepared = (prepare_row(number, row) for number, row in enumerate(rows, start=1))
    return interpret_prepared(prepared, guidelines, drugs, interpreter)


def interpret_prepared(
    rows: Iterable[Prepared],
    guidelines: Iterable[str] | None = None,
    drugs: Iterable[str] | None = None,
    interpreter: Interpreter | None = None,
) -> Iterator[BatchRecord]:
    """The engine of interpret_many: each row composed from the interpreter's memoised parts."""
    engine = interpreter or default_interpreter()
    guideline_list = None if guidelines is None else tuple(guidelines)
    default_drugs = None if drugs is None else tuple(drugs)
    compose = engine.compose_selected
    default: Selection | None = None
    for number, sample, tpmt, nudt15, drug_cell, error in rows:
        if error is not None:
            yield BatchRecord(number, sample, None, error)
            continue
        try:
            chosen = _drugs(drug_cell) if drug_cell else None
            if chosen:
                selection = engine.selection(chosen, guideline_list)
            else:
                default = default or engine.selection(default_drugs, guideline_list)
                selection = default
            result = compose(selection, tpmt, nudt15)
        except TpmtError as exc:
            yield BatchRecord(number, sample, None, str(exc))
        else:
            yield BatchRecord(number, sample, result)


def read_rows(handle: IO[str], name: str = "input") -> Iterator[Prepared]:
    """Rows of a TSV, CSV or JSONL stream (detected from its first line), read lazily.

    The header is checked at once (InputError); the rows are streamed.
    """
    first = handle.readline()
    while first and not first.strip():
        first = handle.readline()
    if not first:
        return iter(())
    if first.lstrip().startswith("{"):
        return _jsonl(first, handle)
    delimiter = "\t" if "\t" in first else ","
    header = next(csv.reader([first], delimiter=delimiter))
    keys = [h.strip().lower() for h in header]
    sample_column = next((keys.index(k) for k in SAMPLE_KEYS if k in keys), None)
    if sample_column is None or not ({"tpmt", "nudt15"} & set(keys)):
        raise InputError(
            f"{name}: header {header!r} needs a sample_id column and a tpmt and/or nudt15 column"
        )
    columns = [keys.index(k) if k in keys else None for k in ("tpmt", "nudt15")]
    drug_column = next((keys.index(k) for k in ("drugs", "drug") if k in keys), None)
    return _delimited(handle, delimiter, len(keys), sample_column, columns, drug_column)


def _delimited(
    handle: IO[str],
    delimiter: str,
    width: int,
    sample_column: int,
    columns: list[int | None],
    drug_column: int | None,
) -> Iterator[Prepared]:
    number = 1
    tpmt_at, nudt15_at = columns
    for cells in csv.reader(handle, delimiter=delimiter):
        if not "".join(cells).strip():
            continue
        number += 1
        size = len(cells)
        tpmt = cells[tpmt_at].strip() or None if tpmt_at is not None and tpmt_at < size else None
        nudt15 = (
            cells[nudt15_at].strip() or None if nudt15_at is not None and nudt15_at < size else None
        )
        drugs = (
            cells[drug_column].strip() or None
            if drug_column is not None and drug_column < size
            else None
        )
        sample = cells[sample_column].strip() if sample_column < size else ""
        error = f"line {number} has {size} cells, the header {width}" if size > width else None
        yield (number, sample or f"line {number}", tpmt, nudt15, drugs, error)


def _jsonl(first: str, handle: IO[str]) -> Iterator[Prepared]:
    yield prepare_row(1, row_from_json(first, 1))
    for number, line in enumerate(handle, start=2):
        if line.strip():
            yield prepare_row(number, row_from_json(line, number))


def row_from_json(line: str, number: int) -> dict[str, Any]:
    try:
        value = json.loads(line)
    except json.JSONDecodeError as exc:
        return {"sample_id": f"line {number}", "__error__": f"line {number}: not JSON ({exc.msg})"}
    if not isinstance(value, dict):
        return {"sample_id": f"line {number}", "__error__": f"line {number}: not a JSON object"}
    return value
