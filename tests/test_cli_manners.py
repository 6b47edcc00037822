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
