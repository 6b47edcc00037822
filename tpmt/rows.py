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

SAMPLE_KEYS = ("sample_id", "sample", "id")
DRUG_KEYS = ("drugs", "drug")
MAX_LINE = 1 << 20  # characters (bytes) in one input line
# number, sample, tpmt, nudt15, drugs cell, error found while reading
Prepared = tuple[int, str, str | None, str | None, Any, str | None]

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
        return iter(())
    if first.lstrip().startswith("{"):
        return _jsonl(number, first, lines)
    delimiter = "\t" if "\t" in first else ","
    header = _cells(first, delimiter)
    if isinstance(header, str):
        raise InputError(f"{name}: the header line {header}")
    keys = [h.strip().lower() for h in header]
    _check_header(name, keys)
    sample_column = next((keys.index(k) for k in SAMPLE_KEYS if k in keys), None)
    if sample_column is None or not ({"tpmt", "nudt15"} & set(keys)):
        raise InputError(
            f"{name}: the header needs a sample_id (or sample, id) column and a tpmt and/or "
            f"nudt15 column; found columns: {', '.join(repr(k) for k in keys[:20])}"
        )
    columns = (
        sample_column,
        keys.index("tpmt") if "tpmt" in keys else None,
        keys.index("nudt15") if "nudt15" in keys else None,
        next((keys.index(k) for k in DRUG_KEYS if k in keys), None),
    )
    return _delimited(lines, delimiter, len(keys), columns)


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
    while True:
        chunk: str | bytes = handle.readline(MAX_LINE + 1)
        if not chunk:
            return
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
                text = _Unreadable("contains a NUL byte (is this a binary file?)")
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
        yield (
            number,
            sample or f"line {number}",
            cells[tpmt_at].strip() or None if tpmt_at is not None else None,
            cells[nudt15_at].strip() or None if nudt15_at is not None else None,
            cells[drug_at].strip() or None if drug_at is not None else None,
            None,
        )


def _jsonl(
    number: int, first: str, lines: Iterator[tuple[int, str | _Unreadable]]
) -> Iterator[Prepared]:
    yield prepare_row(number, row_from_json(first, number))
    for number, line in lines:
        if isinstance(line, _Unreadable):
            yield (number, f"line {number}", None, None, None, f"line {number} {line.problem}")
        elif line.strip():
            yield prepare_row(number, row_from_json(line, number))


class _DuplicateKey(ValueError):
    """A JSON object with the same key twice."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    row = dict(pairs)
    if len(row) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return row


def row_from_json(line: str, number: int, what: str = "line") -> dict[str, Any]:
    """One JSON object, or an error row saying what is wrong with the line."""

    def error(problem: str) -> dict[str, Any]:
        return {"sample_id": f"{what} {number}", "__error__": f"{what} {number}: {problem}"}

    try:
        value = json.loads(line, object_pairs_hook=_unique_keys)
    except _DuplicateKey as exc:
        return error(f"the key {_key_name(str(exc))} appears twice in one object")
    except json.JSONDecodeError as exc:
        return error(f"not JSON ({exc.msg} at position {exc.pos + 1})")
    except RecursionError:
        return error("JSON nested too deeply")
    except ValueError:
        return error("a number in it is too long")
    if not isinstance(value, dict):
        return error("not a JSON object")
    return value


def _key_name(key: str) -> str:
    return repr(key) if len(key) <= 40 else f"{key[:40]!r}..."


def prepare_row(number: int, raw: Mapping[Any, Any], what: str = "line") -> Prepared:
    """Pick the fields out of a mapping with case-insensitive keys, checking their types."""
    row: dict[str, Any] = {}
    place = f"{what} {number}"
    for key, value in raw.items():
        name = str(key).strip().lower()
        if name in row:
            return _error_row(number, place, f"{place}: the key {_key_name(name)} appears twice")
        row[name] = value
    if "__error__" in row:
        return _error_row(number, str(row.get("sample_id", place)), str(row["__error__"]))
    if all(k in row for k in DRUG_KEYS):
        return _error_row(number, place, f"{place}: give 'drugs' or 'drug', not both")
    sample = None
    for key in SAMPLE_KEYS:
        value = row.get(key)
        if isinstance(value, bool) or not isinstance(value, str | int | None):
            return _error_row(number, place, f"{place}: {key} must be text")
        if value is not None and (sample := str(value).strip()):
            break
    fields: dict[str, str | None] = {}
    for gene in ("tpmt", "nudt15"):
        value = row.get(gene)
        if value is not None and not isinstance(value, str):
            return _error_row(
                number,
                sample or place,
                f"{place}: {gene} must be text (a diplotype or phenotype) or null, not "
                f"{_json_type(value)}",
            )
        fields[gene] = (value.strip() or None) if value is not None else None
    drugs = row.get("drugs", row.get("drug"))
    if isinstance(drugs, list):
        if not all(isinstance(d, str) for d in drugs):
            return _error_row(number, sample or place, f"{place}: drugs must list drug names")
        drugs = tuple(drugs)
    elif drugs is not None and not isinstance(drugs, str):
        return _error_row(
            number,
            sample or place,
            f"{place}: drugs must be a list of drug names or a comma-separated text, not "
            f"{_json_type(drugs)}",
        )
    return (number, sample or place, fields["tpmt"], fields["nudt15"], drugs, None)


def _error_row(number: int, sample: str, message: str) -> Prepared:
    return (number, sample, None, None, None, message)


def _json_type(value: object) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, dict | Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "a list"
    return type(value).__name__
