"""Doses in mg: expected values written out from the cited sources.

Standard doses: azathioprine renal transplant 3-5 mg/kg/day initially (Imuran label, set id
606101a0-6244-7eff-e053-2a91aa0acadd, as copied by secondary sources), rheumatoid arthritis
about 1 mg/kg/day (label 040d010a-b1b2-4db7-905d-8aa7f1bab0cd); mercaptopurine ALL maintenance
1.5-2.5 mg/kg/day (label 9c6fc66b-522f-499d-961a-cde6ca0ec2e5); thioguanine about 2 mg/kg/day.
Percentages and thresholds: the rule data (CPIC 2025: one gene IM 30-80% if the standard dose
is >=2 mg/kg/day for azathioprine; either gene PM 10-fold lower thrice weekly for malignancy).
BSA: Mosteller, sqrt(height_cm x weight_kg / 3600), N Engl J Med 1987;317:1098.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from conftest import ROOT
from tpmt.cli import app
from tpmt.dose import dose_request, mosteller_bsa
from tpmt.dose_schema import DOSE_DATA_ID, DOSE_FILE, load_dose_data
from tpmt.errors import GuidelineError, InputError
from tpmt.guidelines import content_hash
from tpmt.interpreter import Interpreter
from tpmt.rule_set_hashes import DOSE_DATA_SHA256

runner = CliRunner()


def doses(report: Any, guideline: str) -> list[dict[str, Any]]:
    """The dose steps of the first recommendation of ``guideline`` (DPWG: the TPMT row), as
    JSON."""
    rows = [r for r in report.recommendations if r.guideline == guideline and r.dose]
    assert rows
    return [json.loads(step.model_dump_json()) for step in rows[0].dose]


# (tpmt, nudt15, drug, dose inputs, guideline, step index, status, mg per dose, rounded, per week)
CASES = [
    pytest.param(
        "*1/*3A",
        "*1/*1",
        "azathioprine",
        {"weight_kg": 70, "indication": "renal-transplant-initial"},
        "cpic-2025",
        0,
        "computed",
        (63.0, 280.0),
        (75.0, 275.0),
        (441.0, 1960.0),
        id="aza-renal-initial-IM-cpic-30-80pct",
    ),
    pytest.param(
        "*1/*3A",
        "*1/*1",
        "azathioprine",
        {"weight_kg": 70, "indication": "renal-transplant-initial"},
        "dpwg-2025",
        0,
        "computed",
        (105.0, 175.0),
        (125.0, 175.0),
        (735.0, 1225.0),
        id="aza-renal-initial-IM-dpwg-50pct",
    ),
    pytest.param(
        "*1/*3A",
        "*1/*1",
        "azathioprine",
        {"weight_kg": 70, "indication": "rheumatoid-arthritis"},
        "cpic-2025",
        0,
        "no_reduction_needed",
        None,
        None,
        None,
        id="aza-RA-1mgkg-below-2mgkg-threshold",
    ),
    pytest.param(
        "*1/*3A",
        "*1/*1",
        "azathioprine",
        {"weight_kg": 70, "indication": "renal-transplant-maintenance"},
        "cpic-2025",
        0,
        "not_computed",
        None,
        None,
        None,
        id="aza-maintenance-1-3-straddles-threshold",
    ),
    pytest.param(
        "*1/*3A",
        "*1/*1",
        "azathioprine",
        {"weight_kg": 70, "indication": "renal-transplant-maintenance", "planned_dose_mg": 175},
        "cpic-2025",
        0,
        "computed",
        (52.5, 140.0),
        (75.0, 125.0),
        (367.5, 980.0),
        id="aza-planned-175mg-2.5mgkg-IM",
    ),
    pytest.param(
        "*1/*1",
        "*1/*1",
        "mercaptopurine",
        {"weight_kg": 70, "indication": "all-maintenance"},
        "cpic-2025",
        0,
        "computed",
        (105.0, 175.0),
        (125.0, 175.0),
        (735.0, 1225.0),
        id="mp-ALL-NM-standard-1.5-2.5mgkg",
    ),
    pytest.param(
        "*3A/*3A",
        "*1/*1",
        "mercaptopurine",
        {"weight_kg": 70, "indication": "all-maintenance"},
        "cpic-2025",
        0,
        "computed",
        (10.5, 17.5),
        None,
        (31.5, 52.5),
        id="mp-ALL-PM-10pct-thrice-weekly",
    ),
    pytest.param(
        "*3A/*3A",
        "*1/*1",
        "mercaptopurine",
        {"weight_kg": 70, "indication": "all-maintenance"},
        "cpic-2025",
        1,
        "not_applicable",
        None,
        None,
        None,
        id="mp-PM-nonmalignancy-step-not-for-ALL",
    ),
    pytest.param(
        "*3A/*3A",
        "*1/*1",
        "azathioprine",
        {"weight_kg": 70, "indication": "renal-transplant-initial"},
        "cpic-2025",
        0,
        "no_dose",
        None,
        None,
        None,
        id="aza-PM-consider-alternative-no-mg",
    ),
    pytest.param(
        "*3A/*3A",
        "*1/*1",
        "thioguanine",
        {"weight_kg": 70, "indication": "acute-nonlymphocytic-leukemia"},
        "cpic-2025",
        0,
        "computed",
        (14.0, 14.0),
        None,
        (42.0, 42.0),
        id="tg-PM-10pct-of-140mg-thrice-weekly",
    ),
    pytest.param(
        "*1/*3A",
        "*1/*1",
        "thioguanine",
        {"weight_kg": 70, "indication": "acute-nonlymphocytic-leukemia"},
        "cpic-2025",
        0,
        "not_computed",
        None,
        None,
        None,
        id="tg-IM-mg-m2-threshold-needs-height",
    ),
    pytest.param(
        "*1/*3A",
        "*1/*1",
        "thioguanine",
        {"weight_kg": 70, "height_cm": 170, "indication": "acute-nonlymphocytic-leukemia"},
        "cpic-2025",
        0,
        "computed",
        (42.0, 112.0),
        (60.0, 100.0),
        (294.0, 784.0),
        id="tg-IM-140mg-is-77mg-m2-above-40",
    ),
    # a child with ALL: 1.5-2.5 mg/kg x 30 kg = 45-75 mg/day, which is 43-72 mg/m2 by a 1.04 m2
    # BSA, but the label states the same standard dose as 50-75 mg/m2: CPIC's >=75 mg/m2
    # threshold is checked against the label's own figures (reaches 75: straddles), never
    # "no reduction needed" because of the conversion
    pytest.param(
        "*1/*3A",
        "*1/*3",
        "mercaptopurine",
        {"weight_kg": 30, "height_cm": 130, "indication": "all-maintenance"},
        "cpic-2025",
        0,
        "not_computed",
        None,
        None,
        None,
        id="mp-ALL-child-IM-IM-label-50-75mg-m2-straddles-75",
    ),
    pytest.param(
        "*1/*3A",
        "*1/*3",
        "mercaptopurine",
        {"weight_kg": 30, "height_cm": 130, "indication": "all-maintenance", "planned_dose_mg": 78},
        "cpic-2025",
        0,
        "computed",
        (15.6, 39.0),
        (25.0, 25.0),
        (109.2, 273.0),
        id="mp-child-planned-78mg-is-75mg-m2-20-50pct",  # 75 mg/m2 x 1.04 m2
    ),
]


@pytest.mark.parametrize(
    (
        "tpmt",
        "nudt15",
        "drug",
        "inputs",
        "guideline",
        "index",
        "status",
        "per_dose",
        "rounded",
        "weekly",
    ),
    CASES,
)
def test_step_doses(
    interpreter: Interpreter,
    tpmt: str,
    nudt15: str,
    drug: str,
    inputs: dict[str, Any],
    guideline: str,
    index: int,
    status: str,
    per_dose: tuple[float, float] | None,
    rounded: tuple[float, float] | None,
    weekly: tuple[float, float] | None,
) -> None:
    report = interpreter.interpret(tpmt, nudt15, [drug], dose=dose_request(**inputs))
    step = doses(report, guideline)[index]
    assert step["status"] == status, step["explanation"]

    def pair(value: dict[str, float] | None) -> tuple[float, float] | None:
        return None if value is None else (value["min"], value["max"])

    assert pair(step["mg_per_dose"]) == per_dose
    assert pair(step["rounded_mg_per_dose"]) == rounded
    assert pair(step["mg_per_week"]) == weekly


def test_standard_dose_and_source_are_named(interpreter: Interpreter) -> None:
    request = dose_request(weight_kg=70, indication="renal-transplant-initial")
    report = interpreter.interpret("*1/*3A", None, ["aza"], dose=request)
    assert report.dose is not None
    standard = report.dose.standard
    assert (standard.mg_per_day.min, standard.mg_per_day.max) == (210.0, 350.0)
    assert standard.basis == "3–5 mg/kg/day × 70 kg = 210–350 mg/day"
    assert "606101a0-6244-7eff-e053-2a91aa0acadd" in standard.source
    assert "Renal Homotransplantation" in standard.source
    assert report.dose.data.id == DOSE_DATA_ID
    assert report.dose.data.sha256 == DOSE_DATA_SHA256[DOSE_DATA_ID]


def test_explanations_say_how_and_why() -> None:
    interpreter = Interpreter(ROOT / "guidelines")
    ra = interpreter.interpret(
        "*1/*3A", None, ["aza"], dose=dose_request(weight_kg=70, indication="rheumatoid-arthritis")
    )
    text = doses(ra, "cpic-2025")[0]["explanation"]
    assert "1 mg/kg/day, below ≥2 mg/kg/day (= 140 mg/day here)" in text
    assert "a reduction might not be necessary; no reduced dose computed" in text
    pm = interpreter.interpret(
        "*3A/*3A", None, ["mp"], dose=dose_request(weight_kg=70, indication="all-maintenance")
    )
    step = doses(pm, "cpic-2025")[0]
    assert "one dose of 10.5–17.5 mg on each of 3 days a week, not daily" in step["explanation"]
    assert step["rounding"].startswith("UNVERIFIED: no 25 mg step")
    assert "0.53–0.88 mL of the 20 mg/mL oral suspension" in step["rounding"]
    aza = interpreter.interpret(
        "*1/*3A",
        None,
        ["aza"],
        dose=dose_request(weight_kg=70, indication="renal-transplant-initial"),
    )
    rounding = doses(aza, "cpic-2025")[0]["rounding"]
    assert rounding == (
        "rounded inward to 25 mg steps (a 25 mg tablet, or half of a scored 50 mg tablet) so "
        "it stays within 63–280 mg: 75–275 mg"
    )


def test_no_dose_inputs_no_dose_sections(interpreter: Interpreter) -> None:
    report = interpreter.interpret("*1/*3A", "*1/*1", ["aza"])
    assert report.dose is None
    assert '"dose":' not in report.model_dump_json()


def test_other_drugs_get_no_dose(interpreter: Interpreter) -> None:
    request = dose_request(weight_kg=70, indication="rheumatoid-arthritis")
    report = interpreter.interpret("*1/*3A", None, None, dose=request)
    assert {r.drug.value for r in report.recommendations if r.dose} == {"azathioprine"}


@pytest.mark.parametrize(
    ("height", "weight", "bsa"),
    [(170, 70, 1.82), (180, 90, 2.12), (100, 16, 0.67)],  # sqrt(h*w/3600), two decimals
)
def test_mosteller(height: float, weight: float, bsa: float) -> None:
    assert mosteller_bsa(height, weight) == bsa


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({"weight_kg": 0, "indication": "all-maintenance"}, "--weight-kg is out of range"),
        ({"weight_kg": 401, "indication": "all-maintenance"}, "--weight-kg is out of range"),
        ({"weight_kg": "nan", "indication": "all-maintenance"}, "--weight-kg is not a number"),
        ({"weight_kg": "x", "indication": "all-maintenance"}, "--weight-kg is not a number"),
        ({"weight_kg": 70, "height_cm": 0, "indication": "all-maintenance"}, "--height-cm is out"),
        ({"weight_kg": 70, "height_cm": 251, "indication": "all-maintenance"}, "--height-cm is"),
        ({"indication": "all-maintenance"}, "a dose in mg needs --weight-kg"),
        ({"weight_kg": 70}, "a dose in mg needs --indication"),
        ({"weight_kg": 70, "planned_dose_mg": 0}, "--planned-dose is out of range"),
    ],
)
def test_implausible_inputs_are_refused(inputs: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError, match=message):
        dose_request(**inputs)


@pytest.mark.parametrize("weight", ["0", "401", "-5"])
def test_cli_weight_out_of_range_exits_3(weight: str) -> None:
    result = runner.invoke(
        app,
        [
            "lookup",
            "--tpmt",
            "*1/*3A",
            "--drug",
            "aza",
            "--weight-kg",
            weight,
            "--indication",
            "renal-transplant-initial",
        ],
    )
    assert result.exit_code == 3
    assert result.stderr.strip() == (
        "tpmt: error: --weight-kg is out of range; accepted: a number of kg above 0.2 and at "
        "most 400"
    )


def test_cli_indication_of_another_drug_and_planned_dose_for_several_drugs() -> None:
    wrong = runner.invoke(
        app,
        [
            "lookup",
            "--tpmt",
            "IM",
            "--drug",
            "mp",
            "--weight-kg",
            "70",
            "--indication",
            "rheumatoid-arthritis",
        ],
    )
    assert wrong.exit_code == 3
    assert "unknown indication 'rheumatoid-arthritis' for the drugs asked" in wrong.stderr
    several = runner.invoke(
        app, ["lookup", "--tpmt", "IM", "--weight-kg", "70", "--planned-dose", "100"]
    )
    assert several.exit_code == 3
    assert "--planned-dose without --indication needs exactly one drug" in several.stderr


def test_cli_text_has_a_dose_block() -> None:
    result = runner.invoke(
        app,
        [
            "lookup",
            "--tpmt",
            "*1/*3A",
            "--drug",
            "aza",
            "--weight-kg",
            "70",
            "--indication",
            "renal-transplant-initial",
        ],
    )
    assert result.exit_code == 0, result.output
    out = " ".join(result.stdout.split())
    assert "Dose in mg" in out
    assert "Standard dose used: 210–350 mg/day" in out
    assert "Dose: 30–80% of the standard dose → 63–280 mg/day." in out
    assert "Dose data: us-labels-2026" in out


def test_modified_bundled_dose_data_is_refused(tmp_path: Any) -> None:
    folder = tmp_path / DOSE_DATA_ID
    folder.mkdir()
    raw = (ROOT / "guidelines" / DOSE_DATA_ID / DOSE_FILE).read_bytes()
    (folder / DOSE_FILE).write_bytes(raw.replace(b'"min": 3, "max": 5', b'"min": 4, "max": 5'))
    with pytest.raises(GuidelineError, match="bundled dose data us-labels-2026 has been modified"):
        load_dose_data(folder, DOSE_DATA_SHA256[DOSE_DATA_ID])


def test_shipped_dose_data_hash_matches_the_file() -> None:
    raw = (ROOT / "guidelines" / DOSE_DATA_ID / DOSE_FILE).read_bytes()
    assert content_hash({DOSE_FILE: raw}) == DOSE_DATA_SHA256[DOSE_DATA_ID]


def test_http_interpret_with_dose_fields() -> None:
    from fastapi.testclient import TestClient

    from tpmt.service import create_app

    client = TestClient(create_app())
    body = {"tpmt": "*1/*3A", "drugs": ["aza"], "weight_kg": 70}
    ok = client.post("/v1/interpret", json={**body, "indication": "renal-transplant-initial"})
    assert ok.status_code == 200, ok.text
    step = ok.json()["recommendations"][0]["dose"][0]
    assert (step["mg_per_dose"], step["percent_of_standard"]) == (
        {"min": 63.0, "max": 280.0},
        {"min": 30, "max": 80},
    )
    assert ok.json()["dose"]["data"]["sha256"] == DOSE_DATA_SHA256[DOSE_DATA_ID]
    bad = client.post("/v1/interpret", json={**body, "weight_kg": 401, "indication": "x"})
    assert bad.status_code == 400
    assert bad.json()["detail"].startswith("weight_kg is out of range; accepted:")
    plain = client.post("/v1/interpret", json={"tpmt": "*1/*3A", "drugs": ["aza"]})
    assert '"dose":' not in plain.text
