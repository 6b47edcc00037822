"""Co-medication: the labels' statements beside the genotype advice, written out from the cited
label text (every entry as copied by secondary sources, not verified against the current label).

Azathioprine with allopurinol: reduce to approximately one-third to one-quarter of the usual dose
(Imuran label, set id 606101a0-6244-7eff-e053-2a91aa0acadd, Precautions: Drug Interactions).
Mercaptopurine with allopurinol: one-third to one-quarter of the current dose (mercaptopurine
tablets, set id c3b5b8b0-bc5c-4ce9-bbdc-febba60c2658). Febuxostat: "ULORIC is contraindicated in
patients being treated with azathioprine or mercaptopurine" (Uloric label, 4 Contraindications).
Thioguanine: no allopurinol or febuxostat statement found in its label copies (unverified).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from conftest import ROOT
from tpmt.cli import app
from tpmt.comed import comed_request, with_safety
from tpmt.errors import GuidelineError, InputError
from tpmt.guidelines import content_hash
from tpmt.interpreter import Interpreter
from tpmt.rule_set_hashes import SAFETY_DATA_SHA256
from tpmt.safety_schema import SAFETY_DATA_ID, SAFETY_FILE, bundled_safety_data, load_safety_data
from tpmt.service import create_app

runner = CliRunner()
NOT_VERIFIED = "not verified against the current label"


def lookup_json(*args: str) -> dict[str, Any]:
    result = runner.invoke(app, ["lookup", *args, "--format", "json"])
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.stdout))


def cpic_row(report: dict[str, Any], drug: str) -> dict[str, Any]:
    (row,) = [r for r in report["recommendations"] if r["drug"] == drug and r["source"] == "CPIC"]
    return dict(row)


# (tpmt, drug, co-medication, effect, short statement written out from the label text, data id)
CASES = [
    (
        "*1/*3A",
        "azathioprine",
        "allopurinol",
        "reduce_dose",
        "reduce azathioprine to about 1/3–1/4 of the usual dose",
        "azathioprine+allopurinol",
    ),
    (
        "*1/*3A",
        "mercaptopurine",
        "allopurinol",
        "reduce_dose",
        "reduce mercaptopurine to 1/3–1/4 of the current dose",
        "mercaptopurine+allopurinol",
    ),
    (
        "*1/*1",
        "azathioprine",
        "febuxostat",
        "contraindicated",
        "febuxostat is CONTRAINDICATED in patients treated with azathioprine",
        "azathioprine+febuxostat",
    ),
    (
        "*1/*1",
        "mercaptopurine",
        "uloric",
        "contraindicated",
        "febuxostat is CONTRAINDICATED in patients treated with mercaptopurine",
        "mercaptopurine+febuxostat",
    ),
    (
        "*1/*3A",
        "thioguanine",
        "allopurinol",
        "not_established",
        "no label statement found for thioguanine with allopurinol",
        "thioguanine+allopurinol",
    ),
    (
        "*1/*3A",
        "thioguanine",
        "febuxostat",
        "not_established",
        "no label statement found for thioguanine with febuxostat",
        "thioguanine+febuxostat",
    ),
]


@pytest.mark.parametrize(("tpmt", "drug", "comed", "effect", "short", "data_id"), CASES)
def test_label_statement_per_pair(
    tpmt: str, drug: str, comed: str, effect: str, short: str, data_id: str
) -> None:
    report = lookup_json("--tpmt", tpmt, "-d", drug, "-g", "cpic", "--comed", comed)
    (statement,) = cpic_row(report, drug)["comed"]
    assert statement["effect"] == effect
    assert statement["short"] == short
    assert statement["data_id"] == data_id
    assert statement["verified"] is False  # no entry could be read in the current label
    assert NOT_VERIFIED in statement["advice"] and NOT_VERIFIED in statement["source"]
    assert report["safety"]["comed"] == [comed.replace("uloric", "febuxostat")]
    assert report["safety"]["checked"] == ["allopurinol", "febuxostat"]


def test_azathioprine_allopurinol_im_states_both_reductions_never_multiplied() -> None:
    report = lookup_json(
        "--tpmt", "*1/*3A", "-d", "azathioprine", "-g", "cpic", "--comed", "allopurinol"
    )
    (statement,) = cpic_row(report, "azathioprine")["comed"]
    assert statement["advice"] == (
        "genotype: CPIC cpic-2025: 30–80% of the standard dose, if the standard dose is ≥2 "
        "mg/kg/day, daily, steady state after 2–4 weeks; allopurinol: reduce azathioprine to "
        "about 1/3–1/4 of the usual dose (FDA label, not verified against the current label). "
        "tpmt does not combine them — the prescriber decides; a combined reduction may be needed"
    )
    text = json.dumps(report)
    for product in ("7.5", "10%", "20%", "26.7", "8–27", "10–27"):  # 30-80% x 1/4-1/3 never shown
        assert product not in statement["advice"], product
    assert '"dose"' not in text  # no dose inputs: no mg section


def test_febuxostat_contraindication_withdraws_the_mg_figures() -> None:
    args = ["--tpmt", "*1/*3A", "-d", "azathioprine", "--weight-kg", "70"]
    args += ["--indication", "renal-transplant-initial", "--comed", "febuxostat"]
    report = lookup_json(*args)
    for row in report["recommendations"]:
        assert row["comed"][0]["effect"] == "contraindicated"
        for step in row["dose"]:
            assert step["status"] == "no_dose"
            assert step["mg_per_dose"] is None and step["mg_per_week"] is None
            assert step["rounded_mg_per_dose"] is None and step["rounding"] is None
            assert step["explanation"] == (
                "CONTRAINDICATED with febuxostat (FDA label, not verified against the current "
                "label): no mg figure is given for a contraindicated combination"
            )
    assert report["dose"]["notes"][0].startswith("azathioprine is CONTRAINDICATED with febuxostat")
    text = runner.invoke(app, ["lookup", *args]).stdout
    lines = text.splitlines()
    heading = lines.index("Azathioprine")
    assert lines[heading + 1].startswith("  ! CONTRAINDICATED with febuxostat (FDA label, not")
    assert "63–280 mg" not in text and "mg once a day" not in text  # the IM figure is gone


def test_allopurinol_with_dose_keeps_genotype_mg_and_says_it_excludes_the_comed() -> None:
    args = ["--tpmt", "*1/*3A", "-d", "azathioprine", "-g", "cpic", "--weight-kg", "70"]
    report = lookup_json(
        *args, "--indication", "renal-transplant-initial", "--comed", "allopurinol"
    )
    (step,) = cpic_row(report, "azathioprine")["dose"]
    assert step["mg_per_dose"] == {"min": 63.0, "max": 280.0}  # 30-80% of 210-350 mg, nothing else
    assert any("include no co-medication reduction" in n for n in report["safety"]["notes"])


def test_contraindication_comes_first_and_aliases_merge() -> None:
    report = lookup_json(
        "--tpmt", "*1/*1", "-d", "mercaptopurine", "-g", "cpic",
        "--comed", "Allopurinol, zyloprim", "--comed", "ULORIC",
    )  # fmt: skip
    effects = [s["effect"] for s in cpic_row(report, "mercaptopurine")["comed"]]
    assert effects == ["contraindicated", "reduce_dose"]
    assert report["safety"]["comed"] == ["allopurinol", "febuxostat"]


@pytest.mark.parametrize("value", ["aspirin", "allopurinol,mesalamine", "6-mp"])
def test_unknown_comed_is_exit_3_listing_accepted_names(value: str) -> None:
    result = runner.invoke(app, ["lookup", "--tpmt", "*1/*1", "--comed", value])
    assert result.exit_code == 3
    assert (
        "accepted: allopurinol (also zyloprim, aloprim), febuxostat (also uloric)" in result.stderr
    )
    assert "never a statement that it does not interact" in result.stderr
    assert value.split(",")[-1] not in result.stderr  # the value is not echoed
    assert "Traceback" not in result.output


def test_without_comed_the_report_is_unchanged(interpreter: Interpreter) -> None:
    report = interpreter.interpret("*1/*3A", "*1/*3", None, None)
    loaded = bundled_safety_data()
    assert with_safety(report, None, loaded) is report
    assert (
        comed_request(None, loaded.data) is None and comed_request(["", " "], loaded.data) is None
    )
    with pytest.raises(InputError, match="must hold co-medication names"):
        comed_request([1], loaded.data)  # type: ignore[list-item]
    assert all(rec.comed is None for rec in report.recommendations)
    assert report.safety is not None and report.safety.comed == ()  # the monitoring's label data


def test_http_comed_field(interpreter: Interpreter) -> None:
    client = TestClient(create_app(interpreter, max_body=50_000))
    body = {"tpmt": "*1/*3A", "drugs": ["azathioprine"], "guidelines": ["cpic"]}
    answer = client.post("/v1/interpret", json={**body, "comed": ["allopurinol"]})
    assert answer.status_code == 200
    (row,) = answer.json()["recommendations"]
    assert row["comed"][0]["data_id"] == "azathioprine+allopurinol"
    bad = client.post("/v1/interpret", json={**body, "comed": ["aspirin"]})
    assert bad.status_code == 400 and "accepted: allopurinol" in bad.json()["detail"]
    assert "in comed is not one" in bad.json()["detail"]
    wrong_type = client.post("/v1/interpret", json={**body, "comed": "allopurinol"})
    assert wrong_type.status_code == 422


def test_batch_applies_comed_per_row_in_jsonl_and_tsv(tmp_path: Any) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text('{"sample_id":"A","tpmt":"*1/*3A","comed":["allopurinol"],"drugs":"aza"}\n'
                    '{"sample_id":"B","tpmt":"*1/*3A","comed":null}\n'
                    '{"sample_id":"C","tpmt":"*1/*3A","comed":["aspirin"]}\n')  # fmt: skip
    result = runner.invoke(app, ["batch", str(path), "--compact", "-g", "cpic"])
    assert result.exit_code == 3
    first, second, third = (json.loads(line) for line in result.stdout.splitlines())
    assert first["safety"]["comed"] == ["allopurinol"]
    (row,) = first["recommendations"].values()
    assert row["comed"] == [
        {
            "comed": "allopurinol",
            "effect": "reduce_dose",
            "verified": False,
            "data_id": "azathioprine+allopurinol",
        }
    ]
    assert second["status"] == "ok" and "comed" not in second["safety"]  # monitoring only
    assert third["status"] == "error" and third["message"].startswith(
        "line 3: co-medication 1 of 1 in comed is not one tpmt checks; accepted: allopurinol"
    )
    assert "aspirin" not in third["message"]
    table = tmp_path / "in.tsv"
    table.write_text("sample_id\ttpmt\tComed\nA\t*1/*3A\tallopurinol;febuxostat\n")
    tsv = runner.invoke(app, ["batch", str(table), "-f", "tsv", "-d", "mp", "-g", "cpic"])
    assert tsv.exit_code == 0
    header, *lines = tsv.stdout.splitlines()
    cells = [dict(zip(header.split("\t"), line.split("\t"), strict=True)) for line in lines]
    assert [(c["condition"], c["comed"]) for c in cells] == [
        (
            condition,
            "US label, not verified against the current label: febuxostat:contraindicated "
            "(febuxostat is CONTRAINDICATED in patients treated with mercaptopurine) | "
            "allopurinol:reduce_dose (reduce mercaptopurine to 1/3–1/4 of the current dose; NOT "
            "applied to the mg figures)",
        )
        for condition in ("malignancy", "nonmalignancy")
    ]


def test_safety_data_hash_is_shipped_and_checked(tmp_path: Any) -> None:
    folder = ROOT / "guidelines" / SAFETY_DATA_ID
    raw = (folder / SAFETY_FILE).read_bytes()
    assert content_hash({SAFETY_FILE: raw}) == SAFETY_DATA_SHA256[SAFETY_DATA_ID]
    copy = tmp_path / SAFETY_DATA_ID
    copy.mkdir()
    (copy / SAFETY_FILE).write_bytes(raw.replace(b"1/3", b"1/2", 1))
    with pytest.raises(GuidelineError, match="has been modified"):
        load_safety_data(copy, SAFETY_DATA_SHA256[SAFETY_DATA_ID])


def test_every_pair_is_stated_once(tmp_path: Any) -> None:
    data = json.loads((ROOT / "guidelines" / SAFETY_DATA_ID / SAFETY_FILE).read_text())
    data["interactions"] = [i for i in data["interactions"] if i["id"] != "thioguanine+febuxostat"]
    copy = tmp_path / SAFETY_DATA_ID
    copy.mkdir()
    (copy / SAFETY_FILE).write_text(json.dumps(data))
    with pytest.raises(GuidelineError, match="each drug with each co-medication once"):
        load_safety_data(copy, None)


def test_allopurinol_marks_the_mg_figures_as_excluding_its_reduction() -> None:
    """70 kg, renal transplant initial 3-5 mg/kg/day = 210-350 mg/day, TPMT IM 30-80%: 63-280 mg.
    The label's allopurinol reduction (to about 1/3-1/4) is stated, never multiplied in, and the
    mg figures say so in their status, so a reader of the mg columns alone cannot miss it."""
    args = ["lookup", "--tpmt", "*1/*3A", "-d", "aza", "-g", "cpic", "--weight-kg", "70"]
    args += ["--indication", "renal-transplant-initial", "--comed", "allopurinol"]
    report = json.loads(runner.invoke(app, [*args, "-f", "json"]).stdout)
    (row,) = report["recommendations"]
    (step,) = row["dose"]
    assert step["status"] == "computed_excluding_comed"
    assert (step["mg_per_dose"]["min"], step["mg_per_dose"]["max"]) == (63.0, 280.0)  # not cut
    assert step["explanation"].endswith(
        "NOT included: the co-medication reduction (allopurinol: reduce azathioprine to about "
        "1/3–1/4 of the usual dose; FDA label, not verified against the current label)"
    )
    without = json.loads(runner.invoke(app, [*args[:-2], "-f", "json"]).stdout)
    assert without["recommendations"][0]["dose"][0]["status"] == "computed"
    text = " ".join(line.strip() for line in runner.invoke(app, args).stdout.splitlines())
    assert "NOT included: the co-medication reduction (allopurinol" in text


def test_library_interpret_takes_comed_and_monitoring() -> None:
    from tpmt import interpret
    from tpmt.dose import dose_request

    dose = dose_request(weight_kg=70, indication="renal-transplant-initial")
    report = interpret("*1/*3A", None, ["aza"], ["cpic"], dose=dose, comed=["febuxostat"])
    (row,) = report.recommendations
    assert [s.effect for s in row.comed or ()] == ["contraindicated"]
    assert row.dose is not None and row.dose[0].status == "no_dose"
    assert report.safety is not None and report.safety.comed == ("febuxostat",)
    plain = interpret("*1/*3A", None, ["aza"], ["cpic"], monitoring=False)
    assert plain.safety is None and plain.recommendations[0].monitoring is None
    with pytest.raises(InputError, match="co-medication 1 of 1 in comed is not one tpmt checks"):
        interpret("*1/*1", comed="aspirin")


def test_allopurinol_marks_a_standard_dose_below_the_threshold_too() -> None:
    """Planned 50 mg/day at 70 kg is 0.71 mg/kg/day, below CPIC's >=1.5 mg/kg/day for
    nonmalignancy: no genotype reduction, but allopurinol still calls for 1/3-1/4 of it."""
    args = ["lookup", "--tpmt", "*1/*3A", "-d", "mp", "-g", "cpic", "--weight-kg", "70"]
    args += ["--indication", "other-nonmalignant", "--planned-dose", "50", "-f", "json"]
    plain = json.loads(runner.invoke(app, args).stdout)
    assert plain["recommendations"][0]["dose"][1]["status"] == "no_reduction_needed"
    report = json.loads(runner.invoke(app, [*args, "--comed", "allopurinol"]).stdout)
    step = report["recommendations"][0]["dose"][1]
    assert step["status"] == "no_reduction_needed_excluding_comed"
    assert (
        "NOT included: the co-medication reduction (allopurinol: reduce mercaptopurine"
        in (step["explanation"])
    )
