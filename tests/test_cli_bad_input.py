"""Every bad input and output fault of the command line, run as a user runs it (a real process).

Each case gives the input, the expected exit code, a fragment of the expected message (on
stderr, or in the row's error record), and how many records the output must hold; no case may
print a traceback, and an output file is either complete or absent.

The other surfaces have tables of their own, in the same form:
- VCF input of ``tpmt call`` (haploid chr6 genotype, PS declared Type=String, FORMAT without GT,
  GT written as bases, Latin-1 bytes, truncated or corrupt files): tests/test_vcf_bad_input.py;
- HTTP bodies (the same bad rows, duplicate keys, deep nesting, huge numbers, non-UTF-8, wrong
  shapes; 400/413/422 bodies that never echo the input; OpenAPI statuses):
  tests/test_service_bad_input.py;
- rule-set integrity (missing manifest behind an alias, edited bundled files, --guidelines-dir
  labels): tests/test_rule_set_integrity.py;
- a caller changing a shared result: tests/test_immutability.py;
- arbitrary bytes as batch input: tests/test_batch_property.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

SECRET = "PATIENT-7731"  # a sample name that must not appear in any top-level error message
GOOD = f"{SECRET}\t*1/*3A\t*1/*1\n"
HEADER = "sample_id\ttpmt\tnudt15\n"


@dataclass
class Case:
    """One bad input: file content and arguments, and what must come out."""

    name: str
    content: bytes | None
    args: list[str]
    exit_code: int
    fragment: str  # in stderr, or in the error record(s) when records is given
    records: int | None = None  # records in the output (None: no output expected)
    errors: int = 0  # how many of those records are errors
    stdin: bytes | None = None
    extra: dict[str, str] = field(default_factory=dict)


def _jsonl(*rows: str) -> bytes:
    return "".join(row + "\n" for row in rows).encode()


CASES = [
    Case(
        "duplicate column",
        (HEADER.rstrip("\n") + "\ttpmt\n" + GOOD.rstrip("\n") + "\t*3A/*3A\n").encode(),
        [],
        3,
        "the column 'tpmt' twice (columns 2 and 4)",
    ),
    Case(
        "drug and drugs columns",
        b"sample_id\ttpmt\tdrug\tdrugs\nS1\t*1/*1\taza\tmp\n",
        [],
        3,
        "both 'drug' and 'drugs'",
    ),
    Case(
        "duplicate JSON key",
        _jsonl(f'{{"sample_id":"{SECRET}","tpmt":"*1/*1","tpmt":"*3A/*3A"}}'),
        [],
        3,
        "key 'tpmt' appears more than once in an object",
        records=1,
        errors=1,
    ),
    Case(
        "JSON keys differing only in case",
        _jsonl('{"sample_id":"S1","TPMT":"*1/*1","tpmt":"*3A/*3A"}'),
        [],
        3,
        "field 'tpmt' is given twice (keys differing in case)",
        records=1,
        errors=1,
    ),
    Case(
        "drugs is an object",
        _jsonl('{"sample_id":"S1","tpmt":"*1/*1","drugs":{"azathioprine":true}}', '{"id":"S2"}'),
        [],
        3,
        "field 'drugs' must be a list of drug names or a comma-separated string",
        records=2,
        errors=2,  # S2 has no gene result at all: an error record too
    ),
    Case(
        "tpmt is a number",
        _jsonl('{"sample_id":"S1","tpmt":3}'),
        [],
        3,
        "field 'tpmt' must be a string (a diplotype or a phenotype) or null",
        records=1,
        errors=1,
    ),
    Case(
        "deeply nested JSON",
        _jsonl('{"sample_id":"S1","tpmt":' + "[" * 100_000 + "]" * 100_000 + "}", '{"id":"S2"}'),
        [],
        3,
        "arrays or objects nested too deeply",
        records=2,
        errors=2,
    ),
    Case(
        "huge integer",
        _jsonl('{"sample_id":' + "9" * 5000 + ',"tpmt":"*1/*1"}', '{"id":"S2","tpmt":"*1/*1"}'),
        [],
        3,
        "a number with 5,000 digits (at most 50 are accepted)",
        records=2,
        errors=1,
    ),
    Case(
        "CSV cell over 128 KB",
        ("sample_id,tpmt,nudt15\nS1," + "A" * 140_000 + ",*1/*1\nS2,*1/*1,*1/*1\n").encode(),
        [],
        3,
        "TPMT input is 140,000 characters long; at most 200 are accepted",
        records=2,
        errors=1,
    ),
    Case(
        "line over 1 MiB",
        ("sample_id,tpmt,nudt15\nS1,*1/*1," + "B" * (1 << 21) + "\nS2,*1/*1,*1/*1\n").encode(),
        [],
        3,
        "line 2 is longer than 1,048,576 characters",
        records=2,
        errors=1,
    ),
    Case(
        "unterminated CSV quote",
        b'sample_id,tpmt,nudt15\nS1,"*1/*1,*1/*1\nS2,*1/*3A,*1/*1\nS3,*1/*1,*1/*1\n',
        [],
        3,
        'line 2 has a quote (") that does not close on the same line',
        records=3,
        errors=1,
    ),
    Case(
        "Latin-1 bytes in a row",
        HEADER.encode() + b"S\xe9bastien\t*1/*1\t*1/*1\n" + GOOD.encode(),
        [],
        3,
        "line 2 is not UTF-8 text (byte 0xE9 at position 2); save the file as UTF-8",
        records=2,
        errors=1,
    ),
    Case(
        "Latin-1 bytes in the header",
        b"sample_id\ttpmt\tnudt15\tcommentaire \xe9\n" + GOOD.encode(),
        [],
        3,
        "line 1 (the header) is not UTF-8 text",
    ),
    Case(
        "NUL byte",
        HEADER.encode() + b"S1\t*1/*1\x00\t*1/*1\n" + GOOD.encode(),
        [],
        3,
        "line 2 contains a NUL byte",
        records=2,
        errors=1,
    ),
    Case(
        "row shorter than the header",
        (HEADER + "S1\t*1/*1\n" + GOOD).encode(),
        [],
        3,
        "line 2 has 2 cells, the header 3",
        records=2,
        errors=1,
    ),
    Case(
        "row longer than the header",
        (HEADER + "S1\t*1/*1\t*1/*1\textra\n" + GOOD).encode(),
        [],
        3,
        "line 2 has 4 cells, the header 3",
        records=2,
        errors=1,
    ),
    Case(
        "a monitoring column (batch always gives it)",
        b"sample_id\ttpmt\tmonitoring\nS1\t*1/*3A\tyes\n",
        [],
        3,
        "the header has a 'monitoring' column: batch gives every row its label monitoring: "
        "it cannot be switched per row",
    ),
    Case(
        "a monitoring field (batch always gives it)",
        _jsonl('{"sample_id":"S1","tpmt":"*1/*3A","monitoring":true}', '{"id":"S2","tpmt":"PM"}'),
        [],
        3,
        "batch gives every row its label monitoring: it cannot be switched per row ('monitoring')",
        records=2,
        errors=1,
    ),
    Case(
        "an unknown indication in a row (free text, never echoed)",
        (
            "sample_id\ttpmt\tnudt15\tweight_kg\tindication\n"
            f"S1\t*1/*3A\t*1/*1\t70\t{SECRET}\nS2\t*1/*1\t*1/*1\t70\tall-maintenance\n"
        ).encode(),
        ["--drug", "mp"],
        3,
        "line 2: indication is not one the label dose data has; accepted: azathioprine: "
        "renal-transplant-initial,",
        records=2,
        errors=1,
    ),
    Case(
        "a planned dose out of range in a row",
        _jsonl(
            '{"sample_id":"S1","tpmt":"*1/*3A","weight_kg":70,"planned_dose_mg":5000}',
            '{"id":"S2","tpmt":"PM"}',
        ),
        [],
        3,
        "line 1: planned_dose_mg is out of range; accepted: a number of mg/day above 0 and at "
        "most 1000",
        records=2,
        errors=1,
    ),
    Case("no sample column", b"name\ttpmt\nS1\t*1/*1\n", [], 3, "needs a sample_id"),
    Case("missing input file", None, ["batch", "no-such-file.tsv"], 3, "cannot read"),
    Case(
        "binary garbage",
        bytes(range(256)) * 4,
        [],
        3,
        "the header",
    ),
    Case("unknown format", (HEADER + GOOD).encode(), ["--format", "xml"], 2, "xml"),
    Case("unknown option", (HEADER + GOOD).encode(), ["--colour"], 2, "--colour"),
    Case(
        "compact with tsv",
        (HEADER + GOOD).encode(),
        ["--format", "tsv", "--compact"],
        2,
        "--compact needs --format jsonl",
    ),
    Case(
        "unknown drug in a row",
        b"sample_id\ttpmt\tdrugs\nS1\t*1/*1\taspirin\n",
        [],
        3,
        "aspirin",
        records=1,
        errors=1,
    ),
]


def _tpmt(
    args: list[str], cwd: Path, stdin: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("TPMT_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "tpmt", *args],
        input=stdin,
        capture_output=True,
        cwd=cwd,
        env=env,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_batch_input(case: Case, tmp_path: Path) -> None:
    args = case.args
    if case.content is not None:
        path = tmp_path / "input.txt"
        path.write_bytes(case.content)
        args = ["batch", str(path), *args]
    result = _tpmt(args, tmp_path, case.stdin)
    stderr = result.stderr.decode()
    assert "Traceback" not in stderr and "Traceback" not in result.stdout.decode()
    assert result.returncode == case.exit_code, stderr
    if case.records is None:
        assert case.fragment in stderr
        assert SECRET not in stderr
        return
    records = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert len(records) == case.records
    failed = [r for r in records if r["status"] == "error"]
    assert len(failed) == case.errors
    assert any(case.fragment in r["message"] for r in failed), failed
    assert SECRET not in " ".join(r["message"] for r in failed)
    if case.errors:
        assert f"{case.errors} of {case.records} rows failed" in stderr


def _input(tmp_path: Path, rows: int = 50) -> Path:
    path = tmp_path / "in.tsv"
    path.write_text(HEADER + "".join(f"S{i}\t*1/*3A\t*1/*1\n" for i in range(rows)))
    return path


@pytest.mark.parametrize("link", [False, True], ids=["same path", "hard link"])
def test_output_onto_the_input_is_refused_and_the_input_kept(tmp_path: Path, link: bool) -> None:
    source = _input(tmp_path)
    before = source.read_bytes()
    target = source
    if link:
        target = tmp_path / "link.tsv"
        os.link(source, target)
    result = _tpmt(["batch", str(source), "-o", str(target)], tmp_path)
    assert result.returncode == 5
    assert f"the output '{target.name}' is the input file" in result.stderr.decode()
    assert source.read_bytes() == before


@pytest.mark.parametrize(
    ("target", "fragment"),
    [
        ("folder", "it is a folder"),
        ("missing/out.jsonl", "the folder does not exist"),
        ("/dev/full", "the disk is full"),
    ],
)
def test_unwritable_output_is_a_clean_error(tmp_path: Path, target: str, fragment: str) -> None:
    (tmp_path / "folder").mkdir()
    if target.startswith("/dev/") and not Path(target).exists():
        pytest.skip(f"{target} is not on this system")
    output = target if target.startswith("/") else str(tmp_path / target)
    result = _tpmt(["batch", str(_input(tmp_path)), "-o", output], tmp_path)
    assert result.returncode == 5
    assert "Traceback" not in result.stderr.decode()
    assert fragment in result.stderr.decode()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder", "in.tsv"]  # nothing left


def test_standard_output_on_a_full_disk(tmp_path: Path) -> None:
    if not Path("/dev/full").exists():
        pytest.skip("/dev/full is not on this system")
    with open("/dev/full", "wb") as full:
        result = subprocess.run(
            [sys.executable, "-m", "tpmt", "batch", str(_input(tmp_path))],
            stdout=full,
            stderr=subprocess.PIPE,
            check=False,
            timeout=120,
        )
    assert result.returncode == 5
    assert "cannot write the standard output" in result.stderr.decode()
    assert "Traceback" not in result.stderr.decode()


def test_existing_output_is_replaced_whole_only_when_the_run_succeeds(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    out.write_text("previous results\n")
    bad_header = tmp_path / "bad.tsv"
    bad_header.write_text("name\tgenotype\nx\ty\n")
    failed = _tpmt(["batch", str(bad_header), "-o", str(out)], tmp_path)
    assert failed.returncode == 3
    assert out.read_text() == "previous results\n"
    done = _tpmt(["batch", str(_input(tmp_path, 7)), "-o", str(out)], tmp_path)
    assert done.returncode == 0
    assert len(out.read_text().splitlines()) == 7
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.tsv", "in.tsv", "out.jsonl"]


def test_atomic_output_keeps_the_old_file_when_writing_fails(tmp_path: Path) -> None:
    from tpmt.output import atomic_output

    out = tmp_path / "out.tsv"
    out.write_text("old\n")
    with pytest.raises(RuntimeError), atomic_output(out) as handle:
        handle.write("half of the new content\n")
        raise RuntimeError("the run failed half-way")
    assert out.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.tsv"]


@pytest.mark.parametrize(
    "args",
    [
        ["batch", "{input}"],
        ["batch", "{input}", "--format", "tsv"],
        ["call", "{vcf}", "--format", "tsv"],
        ["guidelines"],
    ],
    ids=["batch jsonl", "batch tsv", "call tsv", "guidelines"],
)
def test_a_closed_pipe_ends_quietly(tmp_path: Path, args: list[str]) -> None:
    """`tpmt ... | head -1`: exit 141 (as a shell reports SIGPIPE), nothing on stderr."""
    source = _input(tmp_path, 20_000)
    vcf = Path(__file__).parent.parent / "examples" / "call-vcf-tsv" / "input.vcf"
    command = [a.format(input=source, vcf=vcf) for a in args]
    with subprocess.Popen(
        [sys.executable, "-m", "tpmt", *command],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as process:
        assert process.stdout is not None and process.stderr is not None
        process.stdout.readline()
        process.stdout.close()
        stderr = process.stderr.read().decode()
        code = process.wait(timeout=120)
    assert "Traceback" not in stderr and "Exception" not in stderr
    assert code in (0, 141), stderr  # 0 when the output fitted in the pipe before it closed
    assert stderr == ""


FORMULAS = ["=1+1", "+1", "-1", "@SUM(A1)", "\x1b=1", '=HYPERLINK("x")']


def test_spreadsheet_formulas_are_neutralised_in_tsv(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    rows = [{"sample_id": name, "tpmt": "*1/*1", "drugs": ["aza"]} for name in FORMULAS]
    rows.append({"sample_id": "=bad", "tpmt": "=1+1"})
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = _tpmt(["batch", str(path), "--format", "tsv"], tmp_path)
    assert result.returncode == 3
    lines = result.stdout.decode().splitlines()[1:]
    cells = [line.split("\t") for line in lines]
    samples = list(dict.fromkeys(c[0] for c in cells))
    assert samples == ["'=1+1", "'+1", "'-1", "'@SUM(A1)", " =1", '\'=HYPERLINK("x")', "'=bad"]
    for row in cells:
        assert all(not cell.startswith(("=", "+", "-", "@")) for cell in row), row
    assert cells[-1][1] == "error"
