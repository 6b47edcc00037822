"""Say which VCF line htslib could not read and why, without echoing genotype data."""

from __future__ import annotations

import gzip
import re
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

from tpmt.errors import InputError

BGZF_EOF = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")
GT_PATTERN = re.compile(rb"[/|]?(\.|\d+)([/|](\.|\d+))*")
NUMBER_PATTERNS = {
    b"Integer": re.compile(rb"\.|[-+]?\d+"),
    b"Float": re.compile(rb"\.|[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?|[-+]?(inf|nan)", re.I),
}
GT_ACCEPTED = (
    "accepted: allele indices such as 0/0, 0/1, 1|0 or ./. (0 is REF, 1 the first ALT), not bases"
)
InRegion = Callable[[bytes, int], bool]


def check_complete(path: Path) -> None:
    """Refuse a bgzipped file whose end-of-file block is missing (it was cut short)."""
    with path.open("rb") as handle:
        head = handle.read(16)
        if not (head[:4] == b"\x1f\x8b\x08\x04" and head[12:14] == b"BC"):
            return  # plain text or plain gzip: truncation shows up as a read error
        handle.seek(0, 2)
        if handle.tell() < len(BGZF_EOF):
            raise InputError(f"{path.name} is truncated (bgzip data ends early)")
        handle.seek(-len(BGZF_EOF), 2)
        if handle.read() != BGZF_EOF:
            raise InputError(
                f"{path.name} is truncated: its bgzip end-of-file block is missing "
                "(copy or compress the file again)"
            )


def _lines(path: Path) -> Iterator[bytes]:
    with path.open("rb") as probe:
        compressed = probe.read(2) == b"\x1f\x8b"
    opener = gzip.open if compressed else open
    with opener(path, "rb") as handle:
        yield from handle


def unreadable_record(path: Path, record: int | None, in_region: InRegion) -> InputError:
    """The error for a record htslib refused: its line, the field at fault, what is accepted.

    ``record`` is the 1-based number of the record among all records (sequential reading);
    ``None`` (indexed reading) looks for the first bad line in the regions read.
    """
    types: dict[bytes, bytes] = {}
    columns = 0
    records = 0
    number = 0
    lines = _lines(path)
    try:
        for number, line in enumerate(lines, 1):
            if line.startswith(b"##FORMAT=<"):
                found = re.search(rb"ID=([^,>]+).*?Type=(\w+)", line)
                if found:
                    types[found.group(1)] = found.group(2)
                continue
            if line.startswith(b"#"):
                columns = len(line.rstrip(b"\r\n").split(b"\t"))
                continue
            records += 1
            if record is not None and records < record:
                continue
            fields = line.rstrip(b"\r\n").split(b"\t")
            position = int(fields[1]) if len(fields) > 1 and fields[1].isdigit() else 0
            if record is None and not in_region(fields[0], position):
                continue
            problem = diagnose(fields, types, columns)
            if problem is None and record is not None:
                for _ in lines:  # nothing wrong in the text: is the compressed data cut short?
                    pass
            if problem is not None or record is not None:
                where = f"line {number}" + (f" ({_text(fields[0])}:{position})" if position else "")
                return InputError(
                    f"{path.name}: {where}: {problem or 'the record could not be read'}; "
                    "nothing was called from this file"
                )
    except (OSError, EOFError, zlib.error):
        return InputError(
            f"{path.name} is truncated or its compressed data is corrupt (after line {number}); "
            "nothing was called from this file"
        )
    if record is not None:
        return InputError(
            f"{path.name} ends in the middle of a record (after line {number}): the file is "
            "truncated; nothing was called from this file"
        )
    return InputError(f"{path.name}: a record could not be read; nothing was called from this file")


def _text(value: bytes) -> str:
    return value[:40].decode("utf-8", errors="replace")


def diagnose(fields: list[bytes], types: dict[bytes, bytes], columns: int) -> str | None:
    """What is wrong with one data line's fields (None: nothing this check can see)."""
    if columns and len(fields) != columns:
        return (
            f"{len(fields)} tab-separated columns where the #CHROM line names {columns} "
            "(a truncated file, or spaces instead of tabs?)"
        )
    if len(fields) < 8:
        return f"{len(fields)} tab-separated columns; a VCF record has at least 8"
    if not fields[1].isdigit():
        return "POS is not a whole number"
    if len(fields) < 10:
        return None
    keys = fields[8].split(b":")
    for column, sample in enumerate(fields[9:], 1):
        values = sample.split(b":")
        if len(values) > len(keys):
            return (
                f"sample column {column} has {len(values)} ':'-separated values for "
                f"{len(keys)} FORMAT keys (a value may not contain ':')"
            )
        for key, value in zip(keys, values, strict=False):
            problem = _value_problem(key, value, types.get(key))
            if problem:
                return f"sample column {column}: {problem}"
    return None


def _value_problem(key: bytes, value: bytes, declared: bytes | None) -> str | None:
    """Why one FORMAT value does not fit its key (None: fits, or nothing to check)."""
    name = _text(key)
    if key == b"GT":
        return None if GT_PATTERN.fullmatch(value) else f"GT is not allele indices; {GT_ACCEPTED}"
    pattern = NUMBER_PATTERNS.get(declared or b"")
    if pattern is None or all(pattern.fullmatch(v) for v in value.split(b",")):
        return None
    kind = "a whole number" if declared == b"Integer" else "a number"
    return (
        f"FORMAT {name} is declared Type={_text(declared or b'')} in the header but a value "
        f"is not {kind} or '.'"
    )
