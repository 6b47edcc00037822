"""Property: any bytes as a batch input end in exit 0, 2 or 3, never a traceback, and every row
that can be told apart (a non-blank line after a valid header) yields exactly one record."""

from __future__ import annotations

import json
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from tpmt.cli import app

SETTINGS = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,  # the same examples on every run: CI stays reproducible
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
# pieces a row is built from: real values, separators, and the bytes that broke readers before
PIECES = [
    b"*1/*3A", b"*1/*1", b"*3/*3", b"IM", b"Poor Metabolizer", b"*99", b"aza", b"S1", b"=1+1",
    b"\t", b",", b" ", b"{", b"}", b'"tpmt":', b"[", b"]", b"\xe9", b"\xc3\xa9", b"\x00",
    b"\x1b", b"\r", b"\\", b"9" * 30, b"-", b"@",
]  # fmt: skip
LINE_BREAKS = [b"\n", b"\r\n", b"\r"]
HEADERS = [b"sample_id\ttpmt\tnudt15\n", b"Sample,TPMT,NUDT15,drugs\r\n", b"id\tnudt15\n"]


def _batch(data: bytes, *options: str) -> tuple[int, str, str, str]:
    result = CliRunner().invoke(app, ["batch", "-", *options], input=data)
    error = (
        ""
        if result.exception is None or isinstance(result.exception, SystemExit)
        else (repr(result.exception))
    )
    return result.exit_code, result.stdout, result.stderr, error


def _content_lines(body: bytes) -> int:
    """Lines with something other than blanks, separators and line breaks in them."""
    lines = re.split(rb"\r\n|\r|\n", body)
    return sum(1 for line in lines if line.strip(b" \t,"))


@SETTINGS
@given(st.binary(max_size=2_000))
def test_arbitrary_bytes(data: bytes) -> None:
    code, stdout, stderr, error = _batch(data)
    assert error == "" and "Traceback" not in stderr
    assert code in (0, 3)
    for line in stdout.splitlines():
        record = json.loads(line)
        assert record["status"] in ("ok", "error")


rows = st.lists(
    st.lists(st.sampled_from(PIECES), max_size=8).map(b"".join),
    max_size=12,
)


@SETTINGS
@given(st.sampled_from(HEADERS), rows, st.sampled_from(LINE_BREAKS))
def test_every_line_after_a_valid_header_is_one_record(
    header: bytes, lines: list[bytes], line_break: bytes
) -> None:
    body = b"".join(line.replace(b'"', b"") + line_break for line in lines)
    code, stdout, stderr, error = _batch(header + body)
    assert error == "" and "Traceback" not in stderr
    records = [json.loads(line) for line in stdout.splitlines()]
    # with the delimiter of the header, a line of only separators and blanks is no row; a
    # comma in a TSV line is a character, but the count below treats it as blank: avoid that
    expected = _content_lines(body)
    if b"\t" in header:
        expected = sum(
            1 for line in re.split(rb"\r\n|\r|\n", body) if line.strip(b" \t").strip(b" \t")
        )
    assert len(records) == expected
    failed = sum(r["status"] == "error" for r in records)
    assert code == (3 if failed else 0)
    if not records:
        assert stderr == "tpmt: warning: the input has a header but no rows\n"
    elif failed:
        assert f"{failed} of {len(records)} rows failed" in stderr
    else:
        assert stderr == ""


@SETTINGS
@given(rows)
def test_every_jsonl_line_is_one_record(lines: list[bytes]) -> None:
    first = b'{"sample_id": "J0", "tpmt": "*1/*3A"}\n'
    body = b"".join(line + b"\n" for line in lines)
    code, stdout, stderr, error = _batch(first + body, "--compact")
    assert error == "" and "Traceback" not in stderr
    records = [json.loads(line) for line in stdout.splitlines()]
    expected = 1 + sum(1 for line in re.split(rb"\r\n|\r|\n", body) if line.strip(b" \t"))
    assert len(records) == expected
    assert records[0]["sample"] == "J0" and records[0]["status"] == "ok"
    assert code in (0, 3)
