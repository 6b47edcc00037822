"""Batch input rows (TSV, CSV or JSON lines), read line by line so that no bad line can hide others.

Every physical line is one row: a line that cannot be read (not UTF-8, an unclosed quote, too
long, a wrong number of cells, malformed JSON, a duplicated key, a field of the wrong type)
becomes an error row naming the line and the problem, and the lines after it are read as usual.
Messages name fields and lines, never the values in them (they may be patient data).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator, Mapping
from typing import IO, Any

from tpmt.errors import InputError
from tpmt.parse import shown

SAMPLE_KEYS = ("sample_id", "sample", "id")
GENE_FIELDS = ("tpmt", "nudt15")
DRUG_KEYS = ("drugs", "drug")
ACTIVITY_FIELD = "tpmt_activity"  # erythrocyte TPMT activity with its unit, e.g. "15.2 U/mL RBC"
ROW_FIELDS = frozenset((*SAMPLE_KEYS, *GENE_FIELDS, *DRUG_KEYS, ACTIVITY_FIELD))
# Fields tpmt lookup and POST /v1/interpret apply but batch does not yet: refused, never ignored
# (a weight given for an mg dose, or a co-medication, silently dropped would mislead)
NOT_IN_BATCH = {
    "comed": "co-medication ('comed')",
    "monitoring": "the monitoring schedule ('monitoring')",
    "weight_kg": "doses in mg ('weight_kg')",
    "height_cm": "doses in mg ('height_cm')",
    "indication": "doses in mg ('indication')",
    "planned_dose_mg": "doses in mg ('planned_dose_mg')",
}


def not_in_batch(field: str) -> str:
    """Why a field is refused in batch rows, and where it is applied."""
    return (
        f"batch interpretation does not apply {NOT_IN_BATCH[field]} yet; use tpmt lookup or "
        "POST /v1/interpret for such a sample"
    )


MAX_LINE = 1 << 20  # characters (bytes) in one input line
NUL_BYTE = "contains a NUL byte (is this a binary file?)"
MAX_NUMBER_DIGITS = 50  # a longer JSON integer is refused, not converted
# number, sample, tpmt, nudt15, drugs cell, error found while reading[, TPMT activity text]
# (the seventh item only on a row that gives a TPMT activity)
Prepared = (
    tuple[int, str, str | None, str | None, Any, str | None]
    | tuple[int, str, str | None, str | None, Any, str | None, str]
)

csv.field_size_limit(MAX_LINE)


def read_rows(handle: IO[str] | IO[bytes], name: str = "input") -> Iterator[Prepared]:
    """Rows of a TSV, CSV or JSONL stream (detected from its first line), read lazily.

    A binary handle is decoded line by line as UTF-8 (a leading byte-order mark is skipped),
    so one undecodable line is an error row, not the end of the run. The header is checked at
    once (InputError); the rows are streamed.
    """
    lines = _numbered_lines(handle)
    for number, first in lines:
        if isinstance(first, _Unreadable):
            raise InputError(f"{name}: line {number} (the header) {first.problem}")
        if first.strip():
            break
    else:
        raise InputError(f"{name} is empty: no header line (expected e.g. sample_id, tpmt, nudt15)")
    if first.lstrip().startswith("{"):
        return _jsonl(number, first, lines)
    delimiter = delimiter_of(first)
    header = _cells(first, delimiter)
    if isinstance(header, str):
        raise InputError(f"{name}: the header line {header}")
    keys = [h.strip().lower() for h in header]
    _check_header(name, keys)
    refused = next((k for k in keys if k in NOT_IN_BATCH), None)
    if refused is not None:
        raise InputError(f"{name}: the header has a {refused!r} column: {not_in_batch(refused)}")
    sample_column = next((keys.index(k) for k in SAMPLE_KEYS if k in keys), None)
    if sample_column is None or not ({"tpmt", "nudt15", ACTIVITY_FIELD} & set(keys)):
        raise InputError(
            f"{name}: the header needs a sample_id (or sample, id) column and a tpmt and/or "
            f"nudt15 column (or tpmt_activity); found columns: "
            f"{', '.join(repr(k) for k in keys[:20])}"
        )
    columns = (
        sample_column,
        keys.index("tpmt") if "tpmt" in keys else None,
        keys.index("nudt15") if "nudt15" in keys else None,
        next((keys.index(k) for k in DRUG_KEYS if k in keys), None),
    )
    activity_at = keys.index(ACTIVITY_FIELD) if ACTIVITY_FIELD in keys else None
    return _delimited(lines, delimiter, len(keys), columns, activity_at)


def delimiter_of(header: str) -> str:
    """Tab if the header line has one; else semicolon if it has one and no comma (a CSV as
    Excel writes it where the decimal separator is a comma); else comma."""
    if "\t" in header:
        return "\t"
    return ";" if ";" in header and "," not in header else ","


def _check_header(name: str, keys: list[str]) -> None:
    seen: dict[str, int] = {}
    for column, key in enumerate(keys, start=1):
        if key and key in seen:
            raise InputError(
                f"{name}: the header has the column {key!r} twice (columns {seen[key]} and "
                f"{column}); each column may appear once"
            )
        seen[key] = column
    if all(k in seen for k in DRUG_KEYS):
        raise InputError(f"{name}: the header has both 'drug' and 'drugs'; keep one of them")


class _Unreadable:
    """A line that could not be decoded or was too long, with the reason."""

    __slots__ = ("problem",)

    def __init__(self, problem: str) -> None:
        self.problem = problem


def _numbered_lines(handle: IO[str] | IO[bytes]) -> Iterator[tuple[int, str | _Unreadable]]:
    """(line number, text) for each physical line; unreadable lines as _Unreadable."""
    number = 0
    first = True
    readline = handle.readline
    while True:
        chunk: str | bytes = readline(MAX_LINE + 1)
        if not chunk:
            return
        if not first and type(chunk) is bytes and chunk[-1:] == b"\n" and b"\r" not in chunk:
            # the common line (UTF-8, LF-terminated, no CR): the checks below, inlined
            number += 1
            try:
                decoded = chunk[:-1].decode("utf-8")
            except UnicodeDecodeError:
                yield number, _decode(chunk[:-1], False)
                continue
            yield number, (decoded if "\x00" not in decoded else _Unreadable(NUL_BYTE))
            continue
        if len(chunk) > MAX_LINE and _line_end(chunk) == 0:
            while (rest := handle.readline(MAX_LINE)) and _line_end(rest) == 0:
                pass
            number += 1
            first = False
            yield number, _Unreadable(f"is longer than {MAX_LINE:,} characters")
            continue
        for piece in _split(chunk):
            number += 1
            text = _decode(piece, first)
            first = False
            if isinstance(text, str) and "\x00" in text:
                text = _Unreadable(NUL_BYTE)
            yield number, text


def _line_end(chunk: str | bytes) -> int:
    """How many characters of line ending ``chunk`` has (0: the line goes on)."""
    if isinstance(chunk, bytes):
        return 2 if chunk.endswith(b"\r\n") else 1 if chunk.endswith((b"\n", b"\r")) else 0
    return 2 if chunk.endswith("\r\n") else 1 if chunk.endswith(("\n", "\r")) else 0


def _split(chunk: str | bytes) -> list[str] | list[bytes]:
    """One line without its ending; split on lone carriage returns (old Mac line endings)."""
    end = _line_end(chunk)
    body = chunk[: len(chunk) - end] if end else chunk
    if isinstance(body, bytes):
        return body.split(b"\r") if b"\r" in body else [body]
    return body.split("\r") if "\r" in body else [body]


def _decode(piece: str | bytes, first: bool) -> str | _Unreadable:
    if isinstance(piece, str):
        return piece.removeprefix("\ufeff") if first else piece
    if first and piece.startswith(b"\xef\xbb\xbf"):
        piece = piece[3:]
    try:
        return piece.decode("utf-8")
    except UnicodeDecodeError as exc:
        return _Unreadable(
            f"is not UTF-8 text (byte 0x{piece[exc.start]:02X} at position {exc.start + 1}); "
            "save the file as UTF-8"
        )


def _cells(line: str, delimiter: str) -> list[str] | str:
    """The cells of one line, or what is wrong with it."""
    if '"' not in line:
        return line.split(delimiter)
    try:
        return next(csv.reader([line], delimiter=delimiter, strict=True))
    except csv.Error:
        return (
            'has a quote (") that does not close on the same line; each row must be one line '
            "and a quoted cell must end with a quote"
        )


def _delimited(
    lines: Iterable[tuple[int, str | _Unreadable]],
    delimiter: str,
    width: int,
    columns: tuple[int, int | None, int | None, int | None],
    activity_at: int | None = None,
) -> Iterator[Prepared]:
    sample_at, tpmt_at, nudt15_at, drug_at = columns
    for number, line in lines:
        if isinstance(line, _Unreadable):
            yield (number, f"line {number}", None, None, None, f"line {number} {line.problem}")
            continue
        if not line.strip():
            continue
        cells = _cells(line, delimiter)
        if isinstance(cells, str):
            yield (number, f"line {number}", None, None, None, f"line {number} {cells}")
            continue
        if not "".join(cells).strip():
            continue
        size = len(cells)
        if size != width:
            named = cells[sample_at].strip() if sample_at < size else ""
            message = f"line {number} has {size} cells, the header {width}"
            yield (number, named or f"line {number}", None, None, None, message)
            continue
        sample = cells[sample_at].strip()
        row: Prepared = (
            number,
            sample or f"line {number}",
            cells[tpmt_at].strip() or None if tpmt_at is not None else None,
            cells[nudt15_at].strip() or None if nudt15_at is not None else None,
            cells[drug_at].strip() or None if drug_at is not None else None,
            None,
        )
        activity = cells[activity_at].strip() if activity_at is not None else ""
        yield (*row, activity) if activity else row


def _jsonl(
    number: int, first: str, lines: Iterator[tuple[int, str | _Unreadable]]
) -> Iterator[Prepared]:
    decoder = StrictJson()
    yield _json_row(number, first, decoder)
    for number, line in lines:
        if isinstance(line, _Unreadable):
            yield (number, f"line {number}", None, None, None, f"line {number} {line.problem}")
        elif line.strip():
            yield _json_row(number, line, decoder)


class StrictJson:
    """JSON decoding that notes, instead of passing over, what json.loads lets through: a key
    given twice in one object, NaN or Infinity, and integers too long to be sensible."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.duplicates: set[str] = set()
        self._decoder = json.JSONDecoder(
            object_pairs_hook=self._object, parse_int=self._int, parse_constant=self._constant
        )

    def decode(self, text: str, at: int | None = None) -> tuple[Any, int]:
        """One JSON value (at ``at``; or the whole text): the value and where it ends.

        Raises json.JSONDecodeError for text that is not JSON, RecursionError for nesting too
        deep; the problems of the value are in ``problems`` and ``duplicates`` afterwards.
        """
        self.problems = []
        self.duplicates = set()
        if at is None:
            return self._decoder.decode(text), len(text)
        return self._decoder.raw_decode(text, at)

    def _object(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        value = dict(pairs)
        if len(value) != len(pairs):
            seen: set[str] = set()
            for key, _ in pairs:
                if key in seen and key not in self.duplicates:
                    self.duplicates.add(key)
                    self.problems.append(f"key {shown(key)} appears more than once in an object")
                seen.add(key)
        return value

    def _int(self, text: str) -> int | None:
        digits = len(text.lstrip("-"))
        if digits > MAX_NUMBER_DIGITS:
            self.problems.append(
                f"a number with {digits:,} digits (at most {MAX_NUMBER_DIGITS} are accepted)"
            )
            return None  # never a stand-in value that could be taken for the one given
        return int(text)

    def _constant(self, text: str) -> None:
        self.problems.append(f"{text} is not a JSON number")


def unreadable_row(number: int, label: str, exc: Exception) -> Prepared:
    if isinstance(exc, json.JSONDecodeError):
        why = f"not JSON ({exc.msg} at column {exc.colno})"
    elif isinstance(exc, RecursionError):
        why = "arrays or objects nested too deeply"
    else:
        why = "cannot be read as JSON"
    return (number, label, None, None, None, f"{label}: {why}")


def checked_row(
    number: int, item: Any, kind: str, place: int, decoder: StrictJson | None = None
) -> Prepared:
    """A decoded row as interpret_prepared takes it, or an error row naming the field at fault
    (never its value). Keys are case-insensitive; ``decoder`` holds what decoding found."""
    if not isinstance(item, dict):
        return (number, f"{kind} {place}", None, None, None, f"{kind} {place} is not an object")
    problems = list(decoder.problems) if decoder else []
    twice = {key.strip().lower() for key in decoder.duplicates} if decoder else set()
    fields: dict[str, Any] = {}
    for key, value in item.items():
        name = str(key).strip().lower()
        if name in ROW_FIELDS:
            if name in fields:
                twice.add(name)
                problems.append(f"field {name!r} is given twice (keys differing in case)")
            fields[name] = value
    if "drugs" in fields and "drug" in fields:
        problems.append("give 'drugs' or 'drug', not both")
    for key, value in item.items():
        field = str(key).strip().lower()
        if field in NOT_IN_BATCH and value not in (None, "", [], False):
            problems.append(not_in_batch(field))
    sample = None
    for key in SAMPLE_KEYS:
        value = fields.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, str | int):
            problems.append(f"field {key!r} must be a string or an integer")
            break
        if key in twice:  # which of the names is meant is unknown: name the row by its place
            break
        sample = str(value).strip() or None
        if sample:
            break
    tpmt, nudt15 = (_gene_text(fields.get(g), g, problems) for g in GENE_FIELDS)
    drug_field = "drugs" if "drugs" in fields else "drug"
    drugs = fields.get(drug_field)
    if isinstance(drugs, list):
        if not all(isinstance(d, str) for d in drugs):
            problems.append(f"field {drug_field!r} must hold drug names (strings)")
        drugs = tuple(drugs)
    elif drugs is not None and not isinstance(drugs, str):
        problems.append(
            f"field {drug_field!r} must be a list of drug names or a comma-separated string"
        )
    activity = _activity_text(fields.get(ACTIVITY_FIELD), problems)
    label = sample or f"{kind} {place}"
    if problems:
        return (number, label, None, None, None, f"{kind} {place}: " + "; ".join(problems))
    if activity:
        return (number, label, tpmt, nudt15, drugs, None, activity)
    return (number, label, tpmt, nudt15, drugs, None)


def _activity_text(value: Any, problems: list[str]) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        problems.append(
            f"field {ACTIVITY_FIELD!r} must be a string: the value with its unit, "
            "e.g. '15.2 U/mL RBC'"
        )
        return None
    return value.strip() or None


def _gene_text(value: Any, field: str, problems: list[str]) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        problems.append(f"field {field!r} must be a string (a diplotype or a phenotype) or null")
        return None
    return value.strip() or None


def prepare_row(number: int, raw: Mapping[Any, Any]) -> Prepared:
    """A library caller's row (a mapping) checked as a JSON row is: ``row N: ...`` errors."""
    return checked_row(number, dict(raw), "row", number)


def _json_row(number: int, line: str, decoder: StrictJson) -> Prepared:
    try:
        item, _ = decoder.decode(line)
    except (ValueError, RecursionError) as exc:
        return unreadable_row(number, f"line {number}", exc)
    return checked_row(number, item, "line", number, decoder)
