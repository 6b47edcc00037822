"""TPMT enzyme activity as input: lab ranges, the phenotype they give, discordance with a genotype.

The ranges are the example file examples/activity-discordant/arup-0092066.toml (ARUP's published
reference intervals for its test 0092066, U/mL RBC: low < 17.0, intermediate 17.0-23.9, normal
24.0-44.0, high > 44.0); tpmt itself has no built-in ranges.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from conftest import ROOT
from tpmt.activity import parse_activity
from tpmt.batch import interpret_many
from tpmt.errors import InputError
from tpmt.interpreter import Interpreter
from tpmt.lab_ranges import LabRanges, load_lab_ranges, parse_lab_ranges
from tpmt.models import Report
from tpmt.render.batch import render_batch
from tpmt.render.fhir import report_to_bundle
from tpmt.render.html import render_html
from tpmt.render.text import render_report
from tpmt.service import create_app

ARUP = ROOT / "examples" / "activity-discordant" / "arup-0092066.toml"
runner = CliRunner()


@pytest.fixture(scope="module")
def arup() -> LabRanges:
    return load_lab_ranges(ARUP)


def report(interpreter: Interpreter, tpmt: str | None, activity: str, ranges: LabRanges) -> Report:
    reading = parse_activity(activity, ranges)
    return interpreter.interpret(tpmt, "*1/*1", ["mercaptopurine"], ["cpic"], activity=reading)


@pytest.mark.parametrize(
    ("value", "range_name", "phenotype"),
    [
        ("0", "low", "Poor Metabolizer"),
        ("16.9", "low", "Poor Metabolizer"),
        ("17.0", "intermediate", "Intermediate Metabolizer"),
        ("23.9", "intermediate", "Intermediate Metabolizer"),
        ("24.0", "normal", "Normal Metabolizer"),
        ("44.0", "normal", "Normal Metabolizer"),
        ("44.1", "high", "Normal Metabolizer"),
    ],
)
def test_each_boundary_falls_in_the_range_the_lab_states(
    arup: LabRanges, value: str, range_name: str, phenotype: str
) -> None:
    reading = parse_activity(f"{value} U/mL RBC", arup)
    assert (reading.range.name, reading.phenotype.value) == (range_name, phenotype)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("23.95 U/mL RBC", "in none of the lab ranges of ARUP Laboratories"),  # between ranges
        ("20 nmol 6-MTG/g Hb/h", "expected 'U/mL RBC'"),
        ("20", "has no unit"),
        ("twenty U/mL RBC", "cannot read the TPMT activity"),
        ("-3 U/mL RBC", "cannot read the TPMT activity"),
    ],
)
def test_a_value_outside_every_range_or_in_another_unit_is_refused(
    arup: LabRanges, text: str, fragment: str
) -> None:
    with pytest.raises(InputError) as caught:
        parse_activity(text, arup)
    assert fragment in str(caught.value)


def test_units_compare_without_case_or_spacing(arup: LabRanges) -> None:
    assert parse_activity("30  u/ml   rbc", arup).range.name == "normal"


def test_no_lab_ranges_means_no_activity() -> None:
    with pytest.raises(InputError, match="--lab-ranges FILE"):
        parse_activity("15.2 U/mL RBC", None)


CASES = [
    # genotype, activity → phenotype the advice uses, rule, used, discordant, alternative basis
    ("*1/*1", "12.0", "Poor Metabolizer", "PM-NM", "activity", True, "genotype"),
    ("*1/*3A", "30.0", "Intermediate Metabolizer", "IM-NM", "genotype", True, "activity"),
    ("*1/*3A", "20.0", "Intermediate Metabolizer", "IM-NM", "both", False, None),
    ("*1/*1", "30.0", "Normal Metabolizer", "NM-NM", "both", False, None),
    ("*1/*1", "50.0", "Normal Metabolizer", "NM-NM", "both", False, None),  # high → NM
    ("*3A/*3A", "30.0", "Poor Metabolizer", "PM-NM", "genotype", True, "activity"),
    ("*9/*12", "30.0", "Normal Metabolizer", "NM-NM", "activity", False, "genotype"),  # Indet.
]


@pytest.mark.parametrize(
    ("genotype", "value", "phenotype", "row", "used", "discordant", "basis"), CASES
)
def test_the_more_severe_of_genotype_and_activity_is_used(
    interpreter: Interpreter,
    arup: LabRanges,
    genotype: str,
    value: str,
    phenotype: str,
    row: str,
    used: str,
    discordant: bool,
    basis: str | None,
) -> None:
    result = report(interpreter, genotype, f"{value} U/mL RBC", arup)
    tpmt = result.genes["TPMT"]
    assert tpmt.diplotype == genotype
    assert tpmt.phenotype["CPIC"].value == phenotype
    assert [r.rule_id for r in result.recommendations] == [f"cpic-2025:mercaptopurine.{row}"]
    assert tpmt.activity is not None
    assert (tpmt.activity.used["CPIC"], tpmt.activity.discordant) == (used, discordant)
    kept = [a for a in tpmt.alternatives if a.basis in ("activity", "genotype")]
    assert [a.basis for a in kept] == ([basis] if basis else [])
    flagged = [w for w in tpmt.warnings if "disagree" in w]
    assert len(flagged) == (1 if discordant else 0)


def test_normal_genotype_with_low_activity_follows_poor_and_shows_normal(
    interpreter: Interpreter, arup: LabRanges
) -> None:
    tpmt = report(interpreter, "*1/*1", "12.0 U/mL RBC", arup).genes["TPMT"]
    assert tpmt.activity is not None
    assert tpmt.activity.genotype_phenotype == {"CPIC": "Normal Metabolizer"}
    (alternative,) = tpmt.alternatives
    assert (alternative.diplotype, alternative.basis) == ("*1/*1", "genotype")
    assert alternative.phenotype == {"CPIC": "Normal Metabolizer"}
    (warning,) = tpmt.warnings
    assert warning.startswith(
        "TPMT: genotype *1/*1 (Normal Metabolizer) and erythrocyte TPMT activity 12 U/mL RBC "
        "(low by ARUP Laboratories (0092066 Thiopurine Methyltransferase, RBC): Poor "
        "Metabolizer) disagree: the activity is lower than the genotype predicts."
    )
    for cause in (
        "leukemia at diagnosis",
        "no window is given",
        "Mayo Clinic Laboratories",
        "NSAIDs, furosemide, aminosalicylates, trimethoprim, methotrexate, thiazides",
        "the recommendations follow the more severe result, the activity (Poor Metabolizer)",
    ):
        assert cause in warning
    assert "Exeter" not in warning  # raising activity is the other direction's cause


def test_heterozygote_with_normal_activity_follows_the_genotype_and_shows_the_activity(
    interpreter: Interpreter, arup: LabRanges
) -> None:
    tpmt = report(interpreter, "*1/*3A", "30.0 U/mL RBC", arup).genes["TPMT"]
    by_basis = {a.basis: a for a in tpmt.alternatives}
    assert set(by_basis) == {"phase", "activity"}  # *3B/*3C stays, the activity is added
    assert by_basis["activity"].phenotype == {"CPIC": "Normal Metabolizer"}
    assert by_basis["activity"].assumption is not None
    assert "30 U/mL RBC" in by_basis["activity"].assumption
    (warning,) = [w for w in tpmt.warnings if "disagree" in w]
    assert "higher than the genotype predicts" in warning
    assert "Exeter" in warning and "no window is given" in warning
    assert "follow the more severe result, the genotype (Intermediate Metabolizer)" in warning


def test_concordant_results_add_no_warning(interpreter: Interpreter, arup: LabRanges) -> None:
    plain = interpreter.interpret("*1/*3A", "*1/*1", ["mercaptopurine"], ["cpic"])
    both = report(interpreter, "*1/*3A", "20.0 U/mL RBC", arup)
    assert both.genes["TPMT"].warnings == plain.genes["TPMT"].warnings
    assert both.recommendations == plain.recommendations


def test_activity_alone_gives_the_phenotype_with_its_provenance(
    interpreter: Interpreter, arup: LabRanges
) -> None:
    result = report(interpreter, None, "12.0 U/mL RBC", arup)
    tpmt = result.genes["TPMT"]
    assert (tpmt.input, tpmt.input_type.value, tpmt.diplotype) == ("12 U/mL RBC", "activity", None)
    assert tpmt.phenotype == {"CPIC": "Poor Metabolizer"}
    assert tpmt.activity is not None
    assert (tpmt.activity.genotype_phenotype, tpmt.activity.used) == (None, {"CPIC": "activity"})
    assert tpmt.activity.lab == "ARUP Laboratories"
    assert [r.rule_id for r in result.recommendations] == ["cpic-2025:mercaptopurine.PM-NM"]
    step = next(s for s in result.trace if s.rule_id == "cpic-2025:TPMT.activity-only")
    assert step.derived == {"t": "phenotype", "gene": "TPMT", "phenotype": "Poor Metabolizer",
                            "by": "activity"}  # fmt: skip


def test_the_trace_keeps_the_genotype_steps_and_adds_the_activity_step(
    interpreter: Interpreter, arup: LabRanges
) -> None:
    ids = [s.rule_id for s in report(interpreter, "*1/*1", "12 U/mL RBC", arup).trace]
    assert "cpic-2025:TPMT.function.*1" in ids
    assert "cpic-2025:TPMT.activity-more-severe" in ids


def test_without_activity_the_report_has_no_activity_key(interpreter: Interpreter) -> None:
    text = interpreter.interpret("*1/*3A", "*1/*1", ["mp"], ["cpic"]).model_dump_json()
    assert '"activity"' not in text


def test_a_report_with_activity_round_trips_through_json(
    interpreter: Interpreter, arup: LabRanges
) -> None:
    result = report(interpreter, "*1/*1", "12 U/mL RBC", arup)
    again = Report.model_validate_json(result.model_dump_json())
    assert again == result
    assert json.loads(result.model_dump_json())["genes"]["TPMT"]["activity"]["range"] == "low"


def test_every_format_shows_the_activity(interpreter: Interpreter, arup: LabRanges) -> None:
    result = report(interpreter, "*1/*1", "12 U/mL RBC", arup)
    summary = "TPMT activity 12 U/mL RBC: low (x < 17) by ARUP Laboratories"
    assert summary in " ".join(render_report(result).split())
    assert html.escape(summary) in render_html(result, "2026-01-01")
    notes = [
        n["text"] for e in report_to_bundle(result)["entry"] for n in e["resource"].get("note", [])
    ]
    assert any(n.startswith(summary) for n in notes)
    rows = [{"sample_id": "S1", "tpmt": "*1/*1", "nudt15": "*1/*1", "tpmt_activity": "12 U/mL RBC"}]
    records = list(interpret_many(rows, ["cpic"], ["mp"], interpreter, arup))
    tsv = "".join(render_batch(iter(records), "tsv", False))
    assert summary in tsv
    records = list(interpret_many(rows, ["cpic"], ["mp"], interpreter, arup))
    compact = json.loads("".join(render_batch(iter(records), "jsonl", True)))
    assert compact["genes"]["TPMT"]["activity"] == "12 U/mL RBC low → Poor Metabolizer (discordant)"


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"ranges": [{"name": "low", "phenotype": "Poor Metabolizer", "max": 17.0}]},
         "give max and max_inclusive together"),
        ({"ranges": [{"name": "a", "phenotype": "Poor Metabolizer", "max": 20.0,
                      "max_inclusive": True},
                     {"name": "b", "phenotype": "Normal Metabolizer", "min": 20.0,
                      "min_inclusive": True}]},
         "ranges 'a' and 'b' overlap"),
        ({"ranges": [{"name": "high", "phenotype": "Rapid Metabolizer", "min": 44.0,
                      "min_inclusive": False}]},
         "ranges.0.phenotype"),
        ({"units": "U/mL"}, "units: Extra inputs are not permitted"),
        ({"ranges": []}, "ranges"),
    ],
)  # fmt: skip
def test_lab_ranges_files_are_validated(changes: dict[str, object], fragment: str) -> None:
    document = {"lab": "Lab", "unit": "U/mL RBC", "source": "test", **changes}
    if "ranges" not in changes:
        document["ranges"] = [
            {"name": "low", "phenotype": "Poor Metabolizer", "max": 1.0, "max_inclusive": False}
        ]
    with pytest.raises(InputError) as caught:
        parse_lab_ranges(json.dumps(document), "'lab.json'", "json")
    assert fragment in str(caught.value)


def test_touching_bounds_that_one_side_excludes_do_not_overlap() -> None:
    document = {
        "lab": "Lab",
        "unit": "U/mL RBC",
        "source": "test",
        "ranges": [
            {"name": "a", "phenotype": "Poor Metabolizer", "max": 20.0, "max_inclusive": False},
            {"name": "b", "phenotype": "Normal Metabolizer", "min": 20.0, "min_inclusive": True},
        ],
    }
    ranges = parse_lab_ranges(json.dumps(document), "'lab.json'", "json")
    assert [ranges.classify(v).name for v in (19.99, 20.0)] == ["a", "b"]


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(__import__("tpmt.cli").cli.app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_cli_unit_mismatch_is_exit_3_naming_the_unit_expected() -> None:
    code, out, err = run(
        "lookup", "--tpmt", "*1/*1", "--tpmt-activity", "12.3 nmol 6-MTG/g Hb/h",
        "--lab-ranges", str(ARUP),
    )  # fmt: skip
    assert (code, out) == (3, "")
    assert "expected 'U/mL RBC'" in err
    assert "12.3" not in err  # the patient's value is not echoed
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--tpmt-activity", "12 U/mL RBC"], "give --lab-ranges FILE"),
        (["--tpmt-activity", "12", "--lab-ranges", str(ARUP)], "has no unit"),
        (["--tpmt-activity", "12 U/mL RBC", "--lab-ranges", "missing.toml"], "cannot read"),
        (["--tpmt-activity", "12 U/mL RBC", "--lab-ranges", "ranges.yaml"], ".toml or .json"),
    ],
)
def test_cli_activity_errors_are_exit_3(args: list[str], fragment: str) -> None:
    code, _, err = run("lookup", "--tpmt", "*1/*1", *args)
    assert code == 3
    assert fragment in err


def test_cli_json_has_the_activity_block() -> None:
    code, out, _ = run(
        "lookup", "--tpmt", "*1/*3A", "--drug", "mp", "-g", "cpic", "--tpmt-activity",
        "30.0 U/mL RBC", "--lab-ranges", str(ARUP), "--format", "json",
    )  # fmt: skip
    assert code == 0
    activity = json.loads(out)["genes"]["TPMT"]["activity"]
    assert activity["used"] == {"CPIC": "genotype"}
    assert (activity["range"], activity["range_bounds"]) == ("normal", "24 ≤ x ≤ 44")


def test_batch_reads_the_activity_column(tmp_path: Path) -> None:
    table = tmp_path / "rows.tsv"
    table.write_text(
        "sample_id\ttpmt\tnudt15\ttpmt_activity\n"
        "S1\t*1/*1\t*1/*1\t12.0 U/mL RBC\n"
        "S2\t*1/*1\t*1/*1\t\n"
        "S3\t\t*1/*1\t20 U/mL RBC\n"
        "S4\t*1/*1\t*1/*1\t20 ng/mL\n"
    )
    code, out, _ = run("batch", str(table), "-g", "cpic", "-d", "mp", "--lab-ranges", str(ARUP))
    assert code == 3  # one row failed
    records = [json.loads(line) for line in out.splitlines()]
    phenotypes = [
        r["genes"]["TPMT"]["phenotype"]["CPIC"] if r["status"] == "ok" else r["message"][:40]
        for r in records
    ]
    assert phenotypes == [
        "Poor Metabolizer",
        "Normal Metabolizer",
        "Intermediate Metabolizer",
        "TPMT activity unit 'ng/mL' is not the un",
    ]
    assert "activity" not in records[1]["genes"]["TPMT"]


def test_a_json_row_with_a_number_for_the_activity_is_an_error_row(
    interpreter: Interpreter, arup: LabRanges
) -> None:
    rows = [{"sample_id": "S1", "tpmt": "*1/*1", "tpmt_activity": 12.0}]
    (record,) = interpret_many(rows, interpreter=interpreter, lab_ranges=arup)
    assert record.message == (
        "row 1: field 'tpmt_activity' must be a string: the value with its unit, "
        "e.g. '15.2 U/mL RBC'"
    )


def test_service_reads_the_activity_with_the_server_lab_ranges(
    interpreter: Interpreter, arup: LabRanges
) -> None:
    body = {"tpmt": "*1/*1", "drugs": ["mp"], "tpmt_activity": "12 U/mL RBC"}
    with_ranges = TestClient(create_app(interpreter, lab_ranges=arup))
    answer = with_ranges.post("/v1/interpret", json=body)
    assert answer.status_code == 200
    assert answer.json()["genes"]["TPMT"]["activity"]["used"]["CPIC"] == "activity"
    rows = [{"sample_id": "S1", "tpmt": "*1/*3A", "tpmt_activity": "30 U/mL RBC"}]
    (record,) = with_ranges.post("/v1/batch", json=rows).json()
    assert record["genes"]["TPMT"]["activity"]["discordant"] is True
    without = TestClient(create_app(interpreter)).post("/v1/interpret", json=body)
    assert without.status_code == 400
    assert "lab-ranges" in without.json()["detail"]


def test_a_high_activity_is_normal_metabolizer_with_the_labs_note(
    interpreter: Interpreter, arup: LabRanges
) -> None:
    tpmt = report(interpreter, "*1/*1", "50.0 U/mL RBC", arup).genes["TPMT"]
    assert tpmt.phenotype == {"CPIC": "Normal Metabolizer"}
    assert tpmt.activity is not None and tpmt.activity.range == "high"
    assert tpmt.warnings == (
        "TPMT activity: above the lab's normal range; CPIC defines no TPMT phenotype above "
        "Normal Metabolizer, so the Normal Metabolizer recommendations apply",
    )
