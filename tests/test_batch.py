"""Batch mode: every row yields one record, in order; bad rows are records, not gaps."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tpmt.batch import interpret_many, read_rows
from tpmt.cli import app
from tpmt.errors import InputError
from tpmt.interpreter import Interpreter
from tpmt.render.batch import TSV_COLUMNS

TSV = (
    "Sample_ID\tTPMT\tNUDT15\tdrugs\n"
    "S1\t*1/*3A\t*1/*3\t\n"
    "S2\t*1/*99\tIM\t\n"
    "S3\tPM\t\tmercaptopurine\n"
    "\t\t\t\n"
    "S4\t\t\t\n"
    "S5\t*1/*1\t*1/*1\taza;tg\n"
    "S6\t*1/*1\t*1/*1\t\textra-cell\n"
)


def test_library_interpret_many_is_lazy_and_keeps_every_row(interpreter: Interpreter) -> None:
    rows = iter(
        [
            {"sample_id": "A", "TPMT": "*1/*3A"},
            {"Sample": "B", "tpmt": "*1/*99"},
            {"id": "C", "nudt15": "PM", "drugs": ["tg"]},
        ]
    )
    records = interpret_many(rows, interpreter=interpreter)
    first = next(records)
    assert first.sample == "A" and first.ok
    rest = list(records)
    assert [(r.sample, r.ok) for r in rest] == [("B", False), ("C", True)]
    assert "unknown TPMT allele '*99'" in (rest[0].message or "")
    assert {r.drug.value for r in rest[1].report.recommendations} == {"thioguanine"}


def test_tsv_and_csv_and_jsonl_inputs_are_detected(interpreter: Interpreter) -> None:
    tsv = list(read_rows(io.StringIO(TSV)))
    csv_rows = list(read_rows(io.StringIO(TSV.replace("\t", ","))))
    assert [r[1] for r in tsv] == [r[1] for r in csv_rows] == ["S1", "S2", "S3", "S4", "S5", "S6"]
    assert tsv[-1][5] is not None and "5 cells, the header 4" in tsv[-1][5]
    jsonl = list(read_rows(io.StringIO('{"sample_id": "J1", "tpmt": "IM"}\n[1]\n{bad\n')))
    assert [(r[1], r[5] is None) for r in jsonl] == [
        ("J1", True),
        ("line 2", False),
        ("line 3", False),
    ]


def test_bad_header_is_a_clear_error() -> None:
    with pytest.raises(InputError, match="needs a sample_id .or sample, id. column"):
        read_rows(io.StringIO("name\tgenotype\nx\ty\n"), "rows.tsv")


def test_cli_batch_jsonl_every_row_in_order_and_exit_3(tmp_path: Path) -> None:
    path = tmp_path / "in.tsv"
    path.write_text(TSV)
    result = CliRunner().invoke(app, ["batch", str(path)])
    assert result.exit_code == 3
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["sample"], r["status"]) for r in records] == [
        ("S1", "ok"),
        ("S2", "error"),
        ("S3", "ok"),
        ("S4", "error"),
        ("S5", "ok"),
        ("S6", "error"),
    ]
    assert records[0]["genes"]["TPMT"]["phenotype"]["CPIC"] == "Intermediate Metabolizer"
    assert {r["drug"] for r in records[2]["recommendations"]} == {"mercaptopurine"}
    assert "3 of 6 rows failed" in result.stderr


def test_cli_batch_tsv_columns_rows_and_output_file(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text("sample_id,tpmt,nudt15\nP1,*1/*3A,*1/*3\nP2,*1/*1,*1/*1\n")
    out = tmp_path / "out.tsv"
    result = CliRunner().invoke(app, ["batch", str(path), "-f", "tsv", "-o", str(out), "-d", "mp"])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    lines = out.read_text().splitlines()
    assert lines[0].split("\t") == TSV_COLUMNS
    rows = [dict(zip(TSV_COLUMNS, line.split("\t"), strict=True)) for line in lines[1:]]
    p1_cpic = [r for r in rows if r["sample"] == "P1" and r["guideline"] == "cpic-2025"]
    assert {(r["condition"], r["percent_min"], r["percent_max"]) for r in p1_cpic} == {
        ("malignancy", "20", "50"),
        ("nonmalignancy", "20", "50"),
    }
    assert all(r["drug"] == "mercaptopurine" and r["status"] == "ok" for r in rows)
    assert rows[0]["references"].startswith("PMID:41618934")


def test_cli_batch_reads_stdin() -> None:
    result = CliRunner().invoke(
        app, ["batch", "-"], input='{"sample_id": "X", "nudt15": "*3/*3"}\n'
    )
    assert result.exit_code == 0
    assert json.loads(result.stdout)["genes"]["NUDT15"]["phenotype"]["CPIC"] == "Poor Metabolizer"


def test_cli_batch_missing_file_and_bad_header(tmp_path: Path) -> None:
    runner = CliRunner()
    missing = runner.invoke(app, ["batch", str(tmp_path / "none.tsv")])
    assert missing.exit_code == 3 and "cannot read" in missing.stderr
    bad = tmp_path / "bad.tsv"
    bad.write_text("a\tb\n1\t2\n")
    result = runner.invoke(app, ["batch", str(bad)])
    assert result.exit_code == 3 and "needs a sample_id (or sample, id) column" in result.stderr


def test_outside_call_file(tmp_path: Path) -> None:
    path = tmp_path / "outside.tsv"
    path.write_text(
        "# PharmCAT outside calls\nCYP2C19\t*1/*2\nTPMT\t*1/*3A\nNUDT15\t\tPoor Metabolizer\n"
    )
    result = CliRunner().invoke(app, ["lookup", "--outside-call", str(path), "-f", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["genes"]["TPMT"]["diplotype"] == "*1/*3A"
    assert data["genes"]["NUDT15"]["phenotype"]["CPIC"] == "Poor Metabolizer"
    both = CliRunner().invoke(app, ["lookup", "--outside-call", str(path), "--tpmt", "IM"])
    assert both.exit_code == 3 and "not both" in both.stderr
    path.write_text("TPMT\t*1/*3A\nTPMT\t*1/*1\n")
    twice = CliRunner().invoke(app, ["lookup", "--outside-call", str(path)])
    assert twice.exit_code == 3 and "given twice" in twice.stderr


def test_public_api_names_resolve() -> None:
    import tpmt

    for name in tpmt.__all__:
        assert getattr(tpmt, name) is not None
    assert callable(tpmt.interpret_many)
