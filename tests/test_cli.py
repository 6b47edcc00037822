"""The command line through typer's runner, plus one real subprocess."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import ROOT
from tpmt.cli import app
from tpmt.models import Report

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args))


def test_lookup_text_shows_phenotypes_drugs_references_and_versions() -> None:
    result = run("lookup", "--tpmt", "*1/*3A", "--nudt15", "*1/*3")
    assert result.exit_code == 0, result.output
    out = result.stdout
    for fragment in (
        "CPIC Intermediate Metabolizer",
        "alternative (phase): *3B/*3C",
        "Azathioprine",
        "Mercaptopurine",
        "Thioguanine",
        "20–50% of the standard dose",
        "PMID 41618934",
        "cpic-2025",
        "dpwg-2025",
        "sha256",
    ):
        assert fragment in out
    assert "Rule trace" not in out


def test_lookup_json_is_a_valid_report_and_deterministic() -> None:
    first = run("lookup", "--tpmt", "*3A/*1", "--nudt15", "*1/*3", "--format", "json")
    second = run("lookup", "--tpmt", "*3A/*1", "--nudt15", "*1/*3", "--format", "json")
    assert first.exit_code == 0 and first.stdout == second.stdout
    report = Report.model_validate_json(first.stdout)
    data = json.loads(first.stdout)
    assert data["schema_version"] == 1
    assert data["genes"]["TPMT"]["phenotype"] == {
        "CPIC": "Intermediate Metabolizer",
        "DPWG": "Intermediate Metabolizer",
    }
    assert {r["drug"] for r in data["recommendations"]} == {
        "azathioprine",
        "mercaptopurine",
        "thioguanine",
    }
    dosing = data["recommendations"][0]["dosing"][0]
    assert set(dosing) >= {
        "action",
        "percent_of_standard",
        "frequency",
        "condition",
        "steady_state_weeks",
    }
    assert report.trace


def test_explain_prints_the_rule_trace() -> None:
    result = run("lookup", "--tpmt", "*1/*3A", "--drug", "aza", "--explain")
    assert result.exit_code == 0
    assert "Rule trace" in result.stdout
    assert "cpic-2025:TPMT.function.*3A" in result.stdout
    assert "cpic-2025:TPMT.normal+no" in result.stdout


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (["lookup", "--tpmt", "*1/*99"], 3, "unknown TPMT allele '*99'"),
        (["lookup", "--tpmt", "*1/*3A", "--drug", "warfarin"], 3, "unknown drug 'warfarin'"),
        (
            ["lookup", "--tpmt", "*1/*3A", "--guideline", "pharmgkb"],
            3,
            "unknown guideline 'pharmgkb'",
        ),
        (["lookup"], 3, "no result given"),
        (["lookup", "--tpmt", "x" * 100_000], 3, "100,000 characters"),
        (["lookup", "--tpmt", "*1/*1", "--format", "xml"], 2, "xml"),
        (["alleles", "--gene", "CYP2D6"], 3, "unknown gene 'CYP2D6'"),
        (["frobnicate"], 2, "frobnicate"),
    ],
)
def test_bad_input_exit_codes_and_one_line_messages(
    args: list[str], code: int, fragment: str
) -> None:
    result = run(*args)
    assert result.exit_code == code, result.output
    assert fragment in result.stderr
    assert "Traceback" not in result.output
    assert result.stdout == ""
    if code == 3:
        assert result.stderr.startswith("tpmt: error: ") and result.stderr.count("\n") == 1


def test_guidelines_lists_versions_sources_and_hashes() -> None:
    result = run("guidelines", "--format", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert [d["id"] for d in data] == ["cpic-2018", "cpic-2025", "dpwg-2025"]
    assert all(len(d["sha256"]) == 64 and d["provenance"] for d in data)
    assert [d["aliases"] for d in data] == [[], ["cpic"], ["dpwg"]]
    text = run("guidelines").stdout
    assert "cpic-2025  CPIC  2026-02  [alias cpic, default]" in text


def test_alleles_lists_functions_per_rule_set() -> None:
    result = run(
        "alleles", "--gene", "nudt15", "--format", "json", "-g", "cpic-2018", "-g", "cpic-2025"
    )
    data = json.loads(result.stdout)
    assert data["alleles"]["*2"]["cpic-2025"] == "= *3 (No function)"
    assert data["alleles"]["*22"]["cpic-2025"] == "no function assigned"
    assert data["alleles"]["*22"]["cpic-2018"] == "not defined"
    assert data["alleles"]["*5"]["cpic-2025"] == "Decreased function"
    text = run("alleles", "--gene", "TPMT", "--guideline", "cpic").stdout
    assert text.splitlines()[0].startswith("TPMT allele")
    assert "*8           Decreased function" in text


@pytest.mark.parametrize("record", ["report", "compact"])
def test_schema_command_matches_the_published_schema_file(record: str) -> None:
    result = run("schema", "--record", record)
    assert result.exit_code == 0
    published = (ROOT / "schema" / f"{record}.schema.json").read_text()
    assert json.loads(result.stdout) == json.loads(published)
    if record == "report":
        assert run("schema").stdout == result.stdout


def test_version() -> None:
    result = run("--version")
    assert result.exit_code == 0 and result.stdout.startswith("tpmt ")


def test_real_subprocess_and_bad_guideline_data_exit_4(tmp_path: Path) -> None:
    """The installed console script end to end; then a corrupted copy of the data → exit 4."""
    exe = shutil.which("tpmt") or sys.executable
    base = [exe] if exe != sys.executable else [sys.executable, "-m", "tpmt"]
    ok = subprocess.run(
        [*base, "lookup", "--tpmt", "*1/*3A", "--nudt15", "*1/*3", "-f", "json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["genes"]["NUDT15"]["diplotype"] == "*1/*3"

    broken = tmp_path / "guidelines"
    shutil.copytree(ROOT / "guidelines", broken)
    gene_file = broken / "cpic-2025" / "TPMT.json"
    data = json.loads(gene_file.read_text())
    data["phenotype_rules"] = [r for r in data["phenotype_rules"] if r["id"] != "TPMT.no+no"]
    data["surprise"] = 1
    gene_file.write_text(json.dumps(data))
    env = dict(os.environ, TPMT_GUIDELINES_DIR=str(broken))
    bad = subprocess.run(
        [*base, "lookup", "--tpmt", "*1/*3A"], capture_output=True, text=True, timeout=60, env=env
    )
    assert bad.returncode == 4
    assert "TPMT.json" in bad.stderr and "surprise" in bad.stderr
    assert "Traceback" not in bad.stderr and bad.stdout == ""
