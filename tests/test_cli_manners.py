"""The command line behaves like its neighbours: stdin as `-`, comma lists, formats a command
really has, the sample named in text, a service that says where it listens, completion, and
tables as spreadsheets in comma-decimal locales write them."""

from __future__ import annotations

import gzip
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import ROOT
from tpmt.cli import app

VCF = ROOT / "examples" / "call-vcf-tsv" / "input.vcf"
TABLE = ROOT / "examples" / "call-genotype-table" / "genotypes.tsv"


def _run(*args: str, stdin: bytes | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_text_output_names_the_sample() -> None:
    code, stdout, _ = _run("lookup", "--tpmt", "*1/*3A", "--sample", "LAB-0042")
    assert code == 0
    assert stdout.splitlines()[1] == "Sample LAB-0042"
    code, stdout, _ = _run("lookup", "--tpmt", "*1/*3A", "--sample", "X\x1b[31mred")
    assert "Sample X [31mred" in stdout and "\x1b" not in stdout  # no terminal escapes


def test_each_sample_of_call_text_is_named() -> None:
    code, stdout, _ = _run("call", str(VCF), "--format", "text")
    assert code == 0
    assert [line for line in stdout.splitlines() if line.startswith("Sample ")] == [
        "Sample NA-001",
        "Sample NA-002",
        "Sample NA-003",
        "Sample NA-004",
    ]


@pytest.mark.parametrize("command", [["guidelines"], ["alleles", "--gene", "TPMT"]])
@pytest.mark.parametrize("fmt", ["html", "fhir"])
def test_listings_refuse_formats_they_do_not_have(command: list[str], fmt: str) -> None:
    code, stdout, stderr = _run(*command, "--format", fmt)
    assert code == 2 and stdout == ""
    assert f"'{fmt}' is not one of 'text', 'json'" in stderr


def test_alleles_default_to_the_default_rule_sets() -> None:
    code, stdout, _ = _run("alleles", "--gene", "TPMT", "--format", "json")
    assert code == 0
    assert json.loads(stdout)["rule_sets"] == ["cpic-2025", "dpwg-2025"]
    code, stdout, _ = _run("alleles", "--gene", "TPMT", "-g", "cpic-2018", "--format", "json")
    assert json.loads(stdout)["rule_sets"] == ["cpic-2018"]


def _drugs(*drug_args: str) -> list[str]:
    code, stdout, stderr = _run("lookup", "--tpmt", "*1/*3A", *drug_args, "--format", "json")
    assert code == 0, stderr
    return sorted({r["drug"] for r in json.loads(stdout)["recommendations"]})


def test_drug_lists_are_accepted_as_in_batch_files() -> None:
    both = ["azathioprine", "mercaptopurine"]
    assert _drugs("--drug", "aza,mp") == both
    assert _drugs("--drug", "aza", "--drug", "mp") == both
    assert _drugs("--drug", "aza;mp") == both
    assert _drugs("-d", "aza, tg") == ["azathioprine", "thioguanine"]
    code, _, stderr = _run("lookup", "--tpmt", "*1/*3A", "--drug", "aza,aspirin")
    assert code == 3 and "aspirin" in stderr


@pytest.mark.parametrize("pack", ["plain", "gzip"])
def test_call_reads_a_vcf_from_stdin(pack: str) -> None:
    data = VCF.read_bytes()
    expected = _run("call", str(VCF), "--format", "tsv")
    given = gzip.compress(data) if pack == "gzip" else data
    assert _run("call", "-", "--format", "tsv", stdin=given) == expected


def test_call_reads_a_genotype_table_from_stdin() -> None:
    expected = _run("call", str(TABLE), "--format", "tsv")
    assert expected[0] == 0
    assert _run("call", "-", "--format", "tsv", stdin=TABLE.read_bytes()) == expected


def test_outside_call_from_stdin() -> None:
    code, stdout, _ = _run(
        "lookup", "--outside-call", "-", "--format", "json", stdin=b"TPMT\t*1/*3A\n"
    )
    assert code == 0
    assert json.loads(stdout)["genes"]["TPMT"]["diplotype"] == "*1/*3A"
    code, _, stderr = _run("lookup", "--outside-call", "-", stdin=b"TPMT\t*1/*3A\xe9\n")
    assert code == 3 and "standard input is not UTF-8" in stderr


def test_semicolon_separated_tables_are_read(tmp_path: Path) -> None:
    rows = tmp_path / "rows.csv"
    rows.write_text("sample_id;tpmt;nudt15;drugs\r\nP1;*1/*3A;*1/*3;aza,mp\r\n")
    comma = tmp_path / "rows2.csv"
    comma.write_text("sample_id,tpmt,nudt15,drugs\r\nP1,*1/*3A,*1/*3,aza;mp\r\n")
    assert _run("batch", str(rows)) == _run("batch", str(comma))
    assert _run("batch", str(rows))[0] == 0
    table = tmp_path / "genotypes.csv"
    tab = TABLE.read_text()
    table.write_text(tab.replace("\t", ";"))
    assert _run("call", str(table), "--format", "tsv") == _run(
        "call", str(TABLE), "--format", "tsv"
    )


def test_genotype_table_with_refseq_and_grch37_names(tmp_path: Path) -> None:
    def table(chrom: str) -> Path:
        path = tmp_path / f"{chrom}.tsv"
        path.write_text(
            f"sample_id\tvariant\tgenotype\nP1\t{chrom}:18130687\tT/C\nP1\t{chrom}:18138997\tC/T\n"
        )
        return path

    expected = _run("call", str(table("chr6")), "--format", "tsv")
    assert expected[0] == 0 and "*1/*3A" in expected[1]
    assert _run("call", str(table("NC_000006.12")), "--format", "tsv") == expected
    assert _run("call", str(table("6")), "--format", "tsv") == expected
    code, _, stderr = _run("call", str(table("NC_000006.11")), "--format", "tsv")
    assert code == 3 and "NC_000006.11 is the GRCh37 RefSeq accession" in stderr


def test_shell_completion_is_offered() -> None:
    code, stdout, _ = _run("--help")
    assert "--install-completion" in stdout
    code, stdout, _ = _run("--show-completion", "bash")
    assert code == 0 and "_tpmt_completion" in stdout


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_serve_says_where_it_listens() -> None:
    pytest.importorskip("uvicorn")
    port = _free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with subprocess.Popen(
        [sys.executable, "-m", "tpmt", "serve", "--port", str(port)],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        env=env,
    ) as server:
        assert server.stderr is not None
        try:
            line = server.stderr.readline().decode()
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                with socket.socket() as client:
                    if client.connect_ex(("127.0.0.1", port)) == 0:
                        break
                time.sleep(0.2)
        finally:
            server.terminate()
            server.wait(timeout=30)
            server.stderr.close()
    assert line.strip() == (
        f"tpmt: serving on http://127.0.0.1:{port} "
        f"(API docs: http://127.0.0.1:{port}/docs); Ctrl-C stops"
    )


ACTIVITY_RANGES = str(ROOT / "examples" / "activity-discordant" / "arup-0092066.toml")


@pytest.mark.parametrize(
    ("args", "stdin", "code", "fragment"),
    [
        (["batch", "-"], b"", 3, "is empty: no header line"),
        (["batch", str(ROOT / "examples/batch-compact/rows.tsv"), "--drug", "azt"], None, 3,
         "unknown drug 'azt'; accepted: azathioprine"),
        (["call", str(ROOT / "examples")], None, 3, "it is a folder, not a VCF file"),
        (["call", str(ROOT / "README.md")], None, 3, "is not a readable VCF file (expected a VCF"),
        (["call", "-"], b"sample_id,rsid,genotype\nP\xe9,rs1142345,T/C\n", 3,
         "cannot read genotype table 'stdin.tsv': line 2 is not UTF-8 text (byte 0xE9)"),
        (["lookup", "--outside-call", "no-such-file.tsv"], None, 3,
         "cannot read outside-call file 'no-such-file.tsv': no such file"),
        (["lookup", "--tpmt", "*1/*1", "--tpmt-activity", "12,0 U/mL RBC", "--lab-ranges",
          ACTIVITY_RANGES], None, 3, "the TPMT activity has a decimal comma"),
        (["lookup", "--tpmt", "*1/*1", "--drug", "mp", "--weight-kg", "70", "--height-cm",
          "1.75", "--indication", "all-maintenance"], None, 3,
         "--height-cm is out of range (a height in metres? give centimetres)"),
        (["lookup", "--tpmt", "*1/*1", "-f", "html", "--generated", "2025-13-45"], None, 2,
         "give a date as YYYY-MM-DD"),
        (["serve", "--port", "99999"], None, 2, "99999 is not in the range"),
    ],
    ids=[
        "empty batch", "batch drug typo", "call folder", "call not a vcf", "latin-1 table",
        "missing outside-call", "decimal comma", "height in metres", "bad date", "bad port",
    ],
)  # fmt: skip
def test_walkthrough_findings_get_one_clear_message(
    args: list[str], stdin: bytes | None, code: int, fragment: str
) -> None:
    result = CliRunner().invoke(app, args, input=stdin)
    assert result.exit_code == code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert fragment in " ".join(result.stderr.split())  # typer boxes wrap long lines
    assert result.stdout == ""


def test_gzipped_genotype_tables_are_read(tmp_path: Path) -> None:
    expected = _run("call", str(TABLE), "--format", "tsv")
    packed = tmp_path / "genotypes.tsv.gz"
    packed.write_bytes(gzip.compress(TABLE.read_bytes()))
    assert _run("call", str(packed), "--format", "tsv") == expected
    assert _run("call", "-", "--format", "tsv", stdin=packed.read_bytes()) == expected


def test_a_header_without_rows_is_said() -> None:
    code, stdout, stderr = _run("batch", "-", stdin=b"sample_id\ttpmt\n")
    assert (code, stdout) == (0, "")
    assert stderr == "tpmt: warning: the input has a header but no rows\n"
