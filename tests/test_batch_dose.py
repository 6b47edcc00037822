"""Batch rows with dose inputs (weight_kg, height_cm, indication, planned_dose_mg) and
co-medications (comed): the same report as tpmt lookup, shown in every batch format; a bad value
is that row's error record naming the field, never the value; every row keeps its record."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator
from typer.testing import CliRunner

from conftest import ROOT
from tpmt.batch import Prepared, RowExtras, interpret_many, read_rows
from tpmt.cli import app
from tpmt.dose import DoseRequest
from tpmt.interpreter import Interpreter
from tpmt.render.batch import TSV_COLUMNS, render_batch
from tpmt.service import create_app

runner = CliRunner()
HEADER = (
    "sample_id\ttpmt\tnudt15\tdrugs\tweight_kg\theight_cm\tindication\tplanned_dose_mg\tcomed\n"
)
ROWS = (
    HEADER + "D1\t*1/*3A\t*1/*1\tazathioprine\t70\t\trenal-transplant-initial\t\t\n"
    "D2\t*1/*1\t*1/*3\tmercaptopurine\t60\t165\tall-maintenance\t150\t\n"
    "D3\t*1/*3A\t*1/*1\tazathioprine\t70\t\trenal-transplant-initial\t\tfebuxostat\n"
    "D4\t*1/*1\t*1/*1\tazathioprine\t70kg\t\trenal-transplant-initial\t\t\n"
    "D5\t*1/*1\t*1/*1\tazathioprine\t\t\t\t\t\n"
    "D6\t*1/*1\t*1/*3\tmp\t60\t\t\t100\tallopurinol\n"
)
# the same samples as tpmt lookup options (D4, a bad weight, has none)
LOOKUP = {
    "D1": ["--tpmt", "*1/*3A", "--nudt15", "*1/*1", "-d", "azathioprine", "--weight-kg", "70",
           "--indication", "renal-transplant-initial"],
    "D2": ["--tpmt", "*1/*1", "--nudt15", "*1/*3", "-d", "mercaptopurine", "--weight-kg", "60",
           "--height-cm", "165", "--indication", "all-maintenance", "--planned-dose", "150"],
    "D3": ["--tpmt", "*1/*3A", "--nudt15", "*1/*1", "-d", "azathioprine", "--weight-kg", "70",
           "--indication", "renal-transplant-initial", "--comed", "febuxostat"],
    "D5": ["--tpmt", "*1/*1", "--nudt15", "*1/*1", "-d", "azathioprine"],
    "D6": ["--tpmt", "*1/*1", "--nudt15", "*1/*3", "-d", "mp", "--weight-kg", "60",
           "--planned-dose", "100", "--comed", "allopurinol"],
}  # fmt: skip
CLI_TO_FIELD = [
    ("--weight-kg", "weight_kg"),
    ("--height-cm", "height_cm"),
    ("--indication", "indication"),
    ("--planned-dose", "planned_dose_mg"),
    ("--comed", "comed"),
]
UNVERIFIED = "US label, not verified against the current label: "
FEBUXOSTAT = (
    f"{UNVERIFIED}febuxostat:contraindicated (febuxostat is CONTRAINDICATED in patients treated "
    "with azathioprine)"
)
ALLOPURINOL = (
    f"{UNVERIFIED}allopurinol:reduce_dose (reduce mercaptopurine to 1/3–1/4 of the current dose; "
    "NOT applied to the mg figures)"
)
# sample, condition → dose_status, mg/dose min, max, doses/week, rounded min, max, standard, comed
TSV_DOSES = {
    # 70 kg × 3–5 mg/kg/day = 210–350 mg/day; TPMT IM 30–80%: 63–280 mg, rounded inward to 25 mg
    # (a 25 mg tablet, label-confirmed: rounded_verified true)
    ("D1", "any"): ["computed", "63", "280", "7", "75", "275", "true", "210-350", ""],
    # planned 150 mg/day ≥ 75 mg/m2/day at 1.66 m2: 30–80% = 45–120 mg, rounded to 25 mg steps by
    # halving a 50 mg tablet, which no label confirms: rounded_verified false
    ("D2", "malignancy"): ["computed", "45", "120", "7", "50", "100", "false", "150", ""],
    ("D2", "nonmalignancy"): ["not_applicable", "", "", "", "", "", "", "150", ""],
    # febuxostat is contraindicated: no mg figure, and no standard dose shown as if it were one
    ("D3", "any"): ["no_dose", "", "", "", "", "", "", "", FEBUXOSTAT],
    ("D4", ""): ["", "", "", "", "", "", "", "", ""],
    ("D5", "any"): ["", "", "", "", "", "", "", "", ""],
    # no indication: which condition applies is not known, so no mg figure for either step
    ("D6", "malignancy"): ["not_computed", "", "", "", "", "", "", "100", ALLOPURINOL],
    ("D6", "nonmalignancy"): ["not_computed", "", "", "", "", "", "", "100", ALLOPURINOL],
}
BAD_WEIGHT = "line 5: weight_kg is not a number; accepted: a number of kg above 0.2 and at most 400"


def _batch(text: str, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["batch", "-", "-g", "cpic", *args], input=text)
    return result.exit_code, result.stdout


def test_tsv_dose_and_comed_cells_per_step() -> None:
    code, out = _batch(ROWS, "-f", "tsv")
    assert code == 3
    header, *lines = out.splitlines()
    assert header.split("\t") == TSV_COLUMNS
    assert TSV_COLUMNS[TSV_COLUMNS.index("message") :] == [
        "message",
        "dose_status",
        "mg_per_dose_min",
        "mg_per_dose_max",
        "doses_per_week",
        "rounded_mg_min",
        "rounded_mg_max",
        "rounded_verified",
        "standard_mg_per_day",
        "comed",
        "steady_state_min_weeks",
        "steady_state_max_weeks",
        "monitoring",
    ]
    dose_columns = TSV_COLUMNS[TSV_COLUMNS.index("dose_status") : TSV_COLUMNS.index("comed") + 1]
    rows = [dict(zip(TSV_COLUMNS, line.split("\t"), strict=True)) for line in lines]
    found = {(r["sample"], r["condition"]): [r[c] for c in dose_columns] for r in rows}
    assert found == TSV_DOSES
    assert len(rows) == len(TSV_DOSES)  # one line per dosing step, one per error row
    error = next(r for r in rows if r["sample"] == "D4")
    assert (error["status"], error["message"]) == ("error", BAD_WEIGHT)


def test_rows_without_dose_inputs_are_the_same_bytes_with_or_without_the_columns() -> None:
    """A row leaving the dose and comed cells empty takes the fast path: its lines equal those
    of the same row in a file without those columns."""
    plain = "sample_id\ttpmt\tnudt15\tdrugs\nD5\t*1/*1\t*1/*1\tazathioprine\nX\t*1/*3A\t*1/*3\t\n"
    wide = HEADER + "D5\t*1/*1\t*1/*1\tazathioprine\t\t\t\t\t\nX\t*1/*3A\t*1/*3\t\t\t\t\t\t\n"
    assert [r.extras for r in read_rows(io.StringIO(wide))] == [None, None]
    for args in (["-f", "tsv"], ["--compact"], []):
        assert _batch(plain, *args) == _batch(wide, *args)


@pytest.mark.parametrize("sample", sorted(LOOKUP))
def test_full_jsonl_is_the_report_tpmt_lookup_gives(sample: str) -> None:
    _, out = _batch(ROWS)
    records = {r["sample"]: r for r in map(json.loads, out.splitlines())}
    assert len(records) == 6 and records["D4"] == {
        "sample": "D4",
        "status": "error",
        "message": BAD_WEIGHT,
    }
    looked = runner.invoke(app, ["lookup", *LOOKUP[sample], "-g", "cpic", "-f", "json",
                                 "--sample", sample])  # fmt: skip
    assert looked.exit_code == 0, looked.output
    record = records[sample]
    assert record.pop("status") == "ok"
    # the report's texts name inputs as batch fields, not as lookup's options (as the service)
    text = looked.stdout
    for option, field in CLI_TO_FIELD:
        text = text.replace(option, field)
    assert record == json.loads(text)


def test_compact_dose_comed_and_data_identity() -> None:
    _, out = _batch(ROWS, "--compact")
    records = {r["sample"]: r for r in map(json.loads, out.splitlines())}
    schema = json.loads((ROOT / "schema" / "compact.schema.json").read_text())
    validator = Draft202012Validator(schema)
    for record in records.values():
        assert [e.message for e in validator.iter_errors(record)] == []
    d1 = records["D1"]
    assert d1["recommendations"]["cpic-2025:azathioprine.IM-NM"]["dose"] == [
        {
            "status": "computed",
            "mg_per_dose": {"min": 63.0, "max": 280.0},
            "doses_per_week": 7,
            "rounded_mg_per_dose": {"min": 75.0, "max": 275.0},
            "rounding_verified": True,
        }
    ]
    assert d1["dose"]["drug"] == "azathioprine"
    assert d1["dose"]["indication"] == "renal-transplant-initial"
    assert d1["dose"]["standard_mg_per_day"] == {"min": 210.0, "max": 350.0}
    assert (d1["dose"]["data"]["id"], d1["dose"]["data"]["version"]) == ("us-labels-2026", "2026.2")
    assert len(d1["dose"]["data"]["sha256"]) == 16
    assert d1["safety"] == {  # no co-medication: only the monitoring's label data
        "monitoring": {"azathioprine": ["azathioprine-blood-counts", "azathioprine-liver-tests"]},
        "data": {"id": "us-labels-2026/safety", "version": "2026.1", "sha256": "68da3209872e5467"},
    }
    assert "standard_mg_per_day" not in records["D3"]["dose"]  # contraindicated: no dose at all
    d3 = records["D3"]["recommendations"]["cpic-2025:azathioprine.IM-NM"]
    assert d3["dose"] == [{"status": "no_dose"}]
    assert d3["comed"] == [
        {
            "comed": "febuxostat",
            "effect": "contraindicated",
            "verified": False,
            "data_id": "azathioprine+febuxostat",
        }
    ]
    assert records["D3"]["safety"]["comed"] == ["febuxostat"]
    assert records["D3"]["safety"]["data"]["id"] == "us-labels-2026/safety"
    plain = records["D5"]
    assert "dose" not in plain and "comed" not in plain["safety"]
    assert "dose" not in plain["recommendations"]["cpic-2025:azathioprine.NM-NM"]


BAD_FIELDS = [  # field values (JSON) → the message after "line 1: "
    ({"weight_kg": "abc", "indication": "rheumatoid-arthritis"},
     "weight_kg is not a number; accepted: a number of kg above 0.2 and at most 400"),
    ({"weight_kg": 0, "indication": "rheumatoid-arthritis"},
     "weight_kg is out of range; accepted: a number of kg above 0.2 and at most 400"),
    ({"weight_kg": True, "indication": "rheumatoid-arthritis"},
     "weight_kg must be a number of kg above 0.2 and at most 400"),
    ({"weight_kg": 70, "height_cm": 1.75, "indication": "rheumatoid-arthritis"},
     "height_cm is out of range (a height in metres? give centimetres); accepted: a number of cm "
     "above 30 and at most 250"),
    ({"weight_kg": 70, "indication": "SECRET-text"},
     "indication is not one the label dose data has; accepted: azathioprine: "
     "renal-transplant-initial, renal-transplant-maintenance, rheumatoid-arthritis, "
     "other-nonmalignant; mercaptopurine: all-maintenance, other-nonmalignant; thioguanine: "
     "acute-nonlymphocytic-leukemia"),
    ({"weight_kg": 70, "indication": 3},
     "indication must be a string"),
    ({"weight_kg": 70, "planned_dose_mg": -5},
     "planned_dose_mg is out of range; accepted: a number of mg/day above 0 and at most 1000"),
    ({"indication": "rheumatoid-arthritis"},
     "a dose in mg needs weight_kg (kg, above 0.2 and at most 400) together with indication or "
     "planned_dose_mg"),
    ({"weight_kg": 70},
     "a dose in mg needs indication (for the label's standard dose) or planned_dose_mg (mg/day) "
     "besides weight_kg"),
    ({"comed": ["SECRET-drug"]},
     "co-medication 1 of 1 in comed is not one tpmt checks; accepted: allopurinol (also "
     "zyloprim, aloprim), febuxostat (also uloric). Co-medications not listed are not checked: "
     "tpmt saying nothing about a drug is never a statement that it does not interact."),
    ({"comed": 5},
     "field 'comed' must be a list of co-medication names or a comma-separated string"),
    ({"comed": [5]}, "comed must hold co-medication names (strings)"),
    # applying the dose: planned mg/day without an indication needs one drug (three asked)
    ({"weight_kg": 70, "planned_dose_mg": 100},
     "planned_dose_mg without indication needs exactly one drug (drugs)"),
    # a known indication of another drug than the row's
    ({"weight_kg": 70, "indication": "all-maintenance", "drugs": ["aza"]},
     "unknown indication 'all-maintenance' for the drugs asked; accepted: azathioprine: "
     "renal-transplant-initial, renal-transplant-maintenance, rheumatoid-arthritis, "
     "other-nonmalignant"),
]  # fmt: skip


@pytest.mark.parametrize(("fields", "message"), BAD_FIELDS, ids=[str(f) for f, _ in BAD_FIELDS])
def test_a_bad_field_is_that_row_s_error_naming_the_field(
    fields: dict[str, Any], message: str
) -> None:
    rows = [{"sample_id": "B1", "tpmt": "*1/*3A", **fields}, {"sample_id": "B2", "tpmt": "PM"}]
    code, out = _batch("".join(json.dumps(r) + "\n" for r in rows))
    assert code == 3
    first, second = map(json.loads, out.splitlines())
    assert first == {"sample": "B1", "status": "error", "message": f"line 1: {message}"}
    assert "SECRET" not in first["message"]
    assert second["status"] == "ok"


def test_bad_cells_in_tsv_keep_every_row_in_order() -> None:
    bad = {
        "weight_kg": "-1",
        "height_cm": "500",
        "indication": "nonsense",
        "planned_dose_mg": "lots",
        "comed": "grapefruit",
    }
    lines = [HEADER]
    for name, value in bad.items():
        cells = {"weight_kg": "70", "indication": "rheumatoid-arthritis", name: value}
        row = [f"S-{name}", "*1/*1", "*1/*1", "aza"] + [
            cells.get(c, "") for c in HEADER.strip().split("\t")[4:]
        ]
        lines.append("\t".join(row) + "\n")
    lines.append("OK\t*1/*1\t*1/*1\taza\t70\t\trheumatoid-arthritis\t\t\n")
    code, out = _batch("".join(lines), "--compact")
    assert code == 3
    records = list(map(json.loads, out.splitlines()))
    assert [(r["sample"], r["status"]) for r in records] == [
        *((f"S-{name}", "error") for name in bad),
        ("OK", "ok"),
    ]
    for number, (name, value), record in zip(range(2, 7), bad.items(), records, strict=False):
        assert record["message"].startswith(f"line {number}: ")
        assert name in record["message"] and value not in record["message"]


def test_library_interpret_many_finishes_the_report(interpreter: Interpreter) -> None:
    rows = [
        {"Sample_ID": "L1", "TPMT": "*1/*3A", "drugs": ["aza"], "Weight_KG": 70,
         "indication": "renal-transplant-initial", "comed": "febuxostat, allopurinol"},
        {"sample_id": "L2", "tpmt": "*1/*3A", "drugs": ["aza"]},
        {"sample_id": "L3", "tpmt": "*1/*3A", "weight_kg": 500, "indication": "x"},
    ]  # fmt: skip
    first, second, third = interpret_many(rows, guidelines=["cpic"], interpreter=interpreter)
    assert first.finished is not None and first.report is first.finished
    assert first.finished.dose is not None and first.finished.safety is not None
    assert first.finished.safety.comed == ("allopurinol", "febuxostat")
    (rec,) = first.finished.recommendations
    assert [s.comed for s in rec.comed or ()] == ["febuxostat", "allopurinol"]
    assert [d.status for d in rec.dose or ()] == ["no_dose"]
    assert second.finished is None and second.report is not None and second.report.dose is None
    assert (third.ok, third.message) == (
        False,
        "row 3: weight_kg is out of range; accepted: a number of kg above 0.2 and at most 400",
    )


def test_prepared_rows_carry_extras_only_when_given() -> None:
    text = HEADER + "A\t*1/*1\t\t\t70\t\trheumatoid-arthritis\t\tUloric\nB\t*1/*1\t\t\t\t\t\t\t\n"
    first, second = read_rows(io.StringIO(text))
    assert first == Prepared(
        2,
        "A",
        "*1/*1",
        None,
        None,
        None,
        RowExtras("line 2", None, DoseRequest(70.0, None, "rheumatoid-arthritis"), ("febuxostat",)),
    )
    assert second == Prepared(3, "B", "*1/*1", None, None, None, None)


def test_render_batch_fhir_bundles_carry_the_finished_report(interpreter: Interpreter) -> None:
    rows = [{"sample_id": "F1", "tpmt": "*1/*3A", "drugs": "aza", "weight_kg": 70,
             "indication": "renal-transplant-initial"}]  # fmt: skip
    records = interpret_many(rows, guidelines=["cpic"], interpreter=interpreter)
    (bundle,) = (json.loads(chunk) for chunk in render_batch(records, "fhir"))
    assert "63–280 mg" in json.dumps(bundle, ensure_ascii=False)


def test_http_batch_takes_the_same_fields(interpreter: Interpreter) -> None:
    client = TestClient(create_app(interpreter))
    rows = [
        {"sample_id": "H1", "tpmt": "*1/*3A", "nudt15": "*1/*1", "drugs": "azathioprine",
         "weight_kg": 70, "indication": "renal-transplant-initial", "comed": ["febuxostat"]},
        {"sample_id": "H2", "tpmt": "*1/*3A", "weight_kg": "heavy", "indication": "x"},
        {"sample_id": "H3", "tpmt": "*1/*1", "drugs": "aza", "monitoring": True},
        {"sample_id": "H4", "tpmt": "*1/*1", "drugs": "aza"},
    ]  # fmt: skip
    full = client.post("/v1/batch", json=rows).json()
    compact = client.post("/v1/batch?compact=true", json=rows).json()
    assert [(r["sample"], r["status"]) for r in full] == [
        ("H1", "ok"),
        ("H2", "error"),
        ("H3", "error"),
        ("H4", "ok"),
    ]
    assert full[1]["message"] == (
        "item 2: weight_kg is not a number; accepted: a number of kg above 0.2 and at most 400"
    )
    assert "batch gives every row its label monitoring" in full[2]["message"]
    body = {
        "sample": "H1",
        "tpmt": "*1/*3A",
        "nudt15": "*1/*1",
        "drugs": ["azathioprine"],
        "weight_kg": 70,
        "indication": "renal-transplant-initial",
        "comed": ["febuxostat"],
    }
    looked = client.post("/v1/interpret", json=body)  # fmt: skip
    assert looked.status_code == 200, looked.text
    assert {k: v for k, v in full[0].items() if k != "status"} == looked.json()
    cpic = compact[0]["recommendations"]["cpic-2025:azathioprine.IM-NM"]
    assert cpic["dose"] == [{"status": "no_dose"}]
    assert [c["effect"] for c in cpic["comed"]] == ["contraindicated"]
    assert "dose" not in compact[3] and "comed" not in compact[3]["safety"]
