"""Batch input rows (TSV, CSV or JSON lines), read line by line so that no bad line can hide others.

Every physical line is one row: a line that cannot be read (not UTF-8, an unclosed quote, too
long, a wrong number of cells, malformed JSON, a duplicated key, a field of the wrong type)
becomes an error row naming the line and the problem, and the lines after it are read as usual.
Messages name fields and lines, never the values in them (they may be patient data).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import IO, Any, NamedTuple

from tpmt.cache import Memo
from tpmt.comed import FIELD_NAMES as COMED_FIELD_NAMES
from tpmt.dose import FIELD_NAMES as DOSE_FIELD_NAMES
from tpmt.dose import DoseRequest, dose_request
from tpmt.errors import InputError
from tpmt.near_miss import closest_field, near_miss_message
from tpmt.parse import shown

SAMPLE_KEYS = ("sample_id", "sample", "id")
GENE_FIELDS = ("tpmt", "nudt15")
DRUG_KEYS = ("drugs", "drug")
ACTIVITY_FIELD = "tpmt_activity"  # erythrocyte TPMT activity with its unit, e.g. "15.2 U/mL RBC"
DOSE_FIELDS = ("weight_kg", "height_cm", "indication", "planned_dose_mg")  # tpmt.dose_request
COMED_FIELD = "comed"  # co-medications: a JSON list or a comma- or semicolon-separated text
EXTRA_FIELDS = (ACTIVITY_FIELD, *DOSE_FIELDS, COMED_FIELD)
FINISHING_FIELDS = frozenset((*DOSE_FIELDS, COMED_FIELD))  # applied to the composed report
ROW_FIELDS = frozenset((*SAMPLE_KEYS, *GENE_FIELDS, *DRUG_KEYS, *EXTRA_FIELDS))
# Fields tpmt lookup and POST /v1/interpret apply but batch does not yet: refused, never ignored
# (a monitoring request silently dropped would mislead)
NOT_IN_BATCH = {
    "monitoring": (
        "batch gives every row its label monitoring: it cannot be switched per row "
        "('monitoring'); tpmt lookup --no-monitoring or POST /v1/interpret with "
        '"monitoring": false leave it out for a sample'
    ),
}


def not_in_batch(field: str) -> str:
    """Why a field is refused in batch rows, and what to do instead."""
    return NOT_IN_BATCH[field]


KNOWN_FIELDS = ROW_FIELDS  # a name close to one is refused (a misspelt monitoring is harmless)
UnusedNames = Callable[[Sequence[str]], None]  # told once the columns or keys tpmt did not use
_NEAR: Memo[str, str | None] = Memo("names → the field they look like", 1_024)


def near_miss(name: str) -> str | None:
    """The field ``name`` (a column or key tpmt does not read) looks like a misspelling of."""
    return _NEAR.call(name, closest_field, name, KNOWN_FIELDS)


MAX_UNUSED = 1_000  # distinct unused keys of JSON lines remembered for the note
MAX_LINE = 1 << 20  # characters (bytes) in one input line
NUL_BYTE = "contains a NUL byte (is this a binary file?)"
MAX_NUMBER_DIGITS = 50  # a longer JSON integer is refused, not converted


@dataclass(frozen=True, slots=True)
class RowExtras:
    """What a row gives besides its genes and drugs: a TPMT activity, checked dose inputs,
    co-medications (canonical names), and the row's name in messages ('line 4', 'item 2')."""

    where: str
    activity: str | None = None
    dose: DoseRequest | None = None
    comed: tuple[str, ...] | None = None

    @property
    def finishing(self) -> bool:
        """Whether the row's report gets doses in mg or co-medication statements."""
        return self.dose is not None or self.comed is not None


class Prepared(NamedTuple):
    """One input row as read: its genes and drugs as given, or the error found reading it;
    ``extras`` is None for the common row (genes and drugs only)."""

    number: int
    sample: str
    tpmt: str | None
    nudt15: str | None
    drugs: Any
    error: str | None
    extras: RowExtras | None = None


def _error_row(number: int, sample: str, message: str) -> Prepared:
    return Prepared(number, sample, None, None, None, message)


def row_extras(
    where: str, activity: str | None, dose: Sequence[object], comed: object
) -> RowExtras | str | None:
    """A row's extras (None: it gives none), or what is wrong with them, prefixed with
    ``where``: the field is named with what is accepted, never its value. ``dose``: the
    values of DOSE_FIELDS."""
    try:
        weight, height, indication, planned = dose
        request = dose_request(weight, height, indication, planned, DOSE_FIELD_NAMES)
        if request is not None and request.indication is not None:
            _check_indication(request.indication)
        comeds = _comeds(comed)
    except InputError as exc:
        return f"{where}: {exc}"
    if activity is None and request is None and comeds is None:
        return None
    return RowExtras(where, activity, request, comeds)


def _check_indication(indication: str) -> None:
    """InputError, naming the field but not the value (free text), for an indication the
    label dose data does not have."""
    from tpmt.dose_schema import bundled_dose_data

    data = bundled_dose_data().data
    if any(i.id == indication for i in data.indications):
        return
    by_drug: dict[str, list[str]] = {}
    for entry in data.indications:
        by_drug.setdefault(entry.drug.value, []).append(entry.id)
    accepted = "; ".join(f"{drug}: {', '.join(ids)}" for drug, ids in by_drug.items())
    raise InputError(
        f"{DOSE_FIELD_NAMES['indication']} is not one the label dose data has; accepted: {accepted}"
    )


def _comeds(value: object) -> tuple[str, ...] | None:
    """The co-medications of a cell or field as canonical names (None: none given)."""
    if value is None or value == "" or value == []:
        return None
    if not isinstance(value, str | list | tuple):
        raise InputError(
            f"field {COMED_FIELD!r} must be a list of co-medication names or a comma-separated "
            "string"
        )
    from tpmt.comed import comed_request
    from tpmt.safety_schema import bundled_safety_data

    return comed_request(value, bundled_safety_data().data, COMED_FIELD_NAMES)


csv.field_size_limit(MAX_LINE)


def read_rows(
    handle: IO[str] | IO[bytes], name: str = "input", unused: UnusedNames | None = None
) -> Iterator[Prepared]:
    """Rows of a TSV, CSV or JSONL stream (detected from its first line), read lazily.

    A binary handle is decoded line by line as UTF-8 (a leading byte-order mark is skipped),
    so one undecodable line is an error row, not the end of the run. The header is checked at
    once (InputError; a column named like a field tpmt reads but not one is refused); the rows
    are streamed. ``unused`` is told the other columns tpmt does not read once: for a TSV or
    CSV at once, for JSON lines (keys, per row) when the rows are done.
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
        return _jsonl(number, first, lines, unused)
    delimiter = delimiter_of(first)
    header = _cells(first, delimiter)
    if isinstance(header, str):
        raise InputError(f"{name}: the header line {header}")
    keys = [h.strip().lower() for h in header]
    _check_header(name, keys)
    refused = next((k for k in keys if k in NOT_IN_BATCH), None)
    if refused is not None:
        raise InputError(f"{name}: the header has a {refused!r} column: {not_in_batch(refused)}")
    others = [cell.strip() for cell, key in zip(header, keys, strict=True) if key not in ROW_FIELDS]
    for column in others:
        meant = near_miss(column)
        if meant is not None:
            raise InputError(f"{name}: {near_miss_message('column', shown(column), meant)}")
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
    extras_at = tuple(keys.index(k) if k in keys else None for k in EXTRA_FIELDS)
    given = extras_at if any(at is not None for at in extras_at) else None
    named = [column for column in others if column]
    if unused is not None and named:
        unused(named)
    return _delimited(lines, delimiter, len(keys), columns, given)


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
    extras_at: tuple[int | None, ...] | None = None,
) -> Iterator[Prepared]:
    """The rows of a TSV or CSV; ``extras_at``: the columns of EXTRA_FIELDS (None: none)."""
    sample_at, tpmt_at, nudt15_at, drug_at = columns
    make = partial(tuple.__new__, Prepared)  # Prepared from its 7 items, without a Python call
    for number, line in lines:
        if isinstance(line, _Unreadable):
            yield _error_row(number, f"line {number}", f"line {number} {line.problem}")
            continue
        if not line.strip():
            continue
        cells = _cells(line, delimiter)
        if isinstance(cells, str):
            yield _error_row(number, f"line {number}", f"line {number} {cells}")
            continue
        if not "".join(cells).strip():
            continue
        size = len(cells)
        if size != width:
            named = cells[sample_at].strip() if sample_at < size else ""
            message = f"line {number} has {size} cells, the header {width}"
            yield _error_row(number, named or f"line {number}", message)
            continue
        sample = cells[sample_at].strip() or f"line {number}"
        tpmt = cells[tpmt_at].strip() or None if tpmt_at is not None else None
        nudt15 = cells[nudt15_at].strip() or None if nudt15_at is not None else None
        drugs = cells[drug_at].strip() or None if drug_at is not None else None
        if extras_at is None:  # the common file: no column beyond genes and drugs
            yield make((number, sample, tpmt, nudt15, drugs, None, None))
            continue
        activity, *dose, comed = (
            cells[at].strip() or None if at is not None else None for at in extras_at
        )
        extras = row_extras(f"line {number}", activity, dose, comed)
        if isinstance(extras, str):
            yield _error_row(number, sample, extras)
        else:
            yield make((number, sample, tpmt, nudt15, drugs, None, extras))


def _jsonl(
    number: int,
    first: str,
    lines: Iterator[tuple[int, str | _Unreadable]],
    unused: UnusedNames | None = None,
) -> Iterator[Prepared]:
    decoder = StrictJson()
    seen: dict[str, None] | None = None if unused is None else {}
    yield _json_row(number, first, decoder, seen)
    for number, line in lines:
        if isinstance(line, _Unreadable):
            yield _error_row(number, f"line {number}", f"line {number} {line.problem}")
        elif line.strip():
            yield _json_row(number, line, decoder, seen)
    if unused is not None and seen:
        unused(list(seen))


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
    return _error_row(number, label, f"{label}: {why}")


def checked_row(
    number: int,
    item: Any,
    kind: str,
    place: int,
    decoder: StrictJson | None = None,
    unused: dict[str, None] | None = None,
) -> Prepared:
    """A decoded row as interpret_prepared takes it, or an error row naming the field at fault
    (never its value). Keys are case-insensitive; ``decoder`` holds what decoding found; the
    keys tpmt does not read are added to ``unused`` (at most MAX_UNUSED of them)."""
    if not isinstance(item, dict):
        return _error_row(number, f"{kind} {place}", f"{kind} {place} is not an object")
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
        elif name in NOT_IN_BATCH:  # whatever its value: false or null would not apply either
            problems.append(not_in_batch(name))
        elif (meant := near_miss(str(key).strip())) is not None:
            problems.append(near_miss_message("field", shown(str(key).strip()), meant))
        elif unused is not None and len(unused) < MAX_UNUSED:
            unused[str(key).strip()] = None
    if "drugs" in fields and "drug" in fields:
        problems.append("give 'drugs' or 'drug', not both")
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
    where = f"{kind} {place}"
    if problems:
        return _error_row(number, label, f"{where}: " + "; ".join(problems))
    if not activity and FINISHING_FIELDS.isdisjoint(fields):  # the common row
        return Prepared(number, label, tpmt, nudt15, drugs, None)
    dose = tuple(fields.get(k) for k in DOSE_FIELDS)
    extras = row_extras(where, activity, dose, fields.get(COMED_FIELD))
    if isinstance(extras, str):
        return _error_row(number, label, extras)
    return Prepared(number, label, tpmt, nudt15, drugs, None, extras)


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


def _json_row(
    number: int, line: str, decoder: StrictJson, unused: dict[str, None] | None = None
) -> Prepared:
    try:
        item, _ = decoder.decode(line)
    except (ValueError, RecursionError) as exc:
        return unreadable_row(number, f"line {number}", exc)
    return checked_row(number, item, "line", number, decoder, unused)
