"""Input that was accepted by accident, now refused with a message (tpmt issue 12 follow-ups).

- POST /v1/interpret takes JSON types as given: true is not 1 kg, "no" is not false (422);
- bad guideline or label data is never one batch row's "internal error": the service refuses
  to start, and a batch that meets it ends with a 500 (the CLI's exit 4);
- a number in text is ASCII digits and a decimal point, not everything float() reads;
- a batch row's 'monitoring' key is refused whatever its value;
- a column or key named almost like a field tpmt reads is refused, other columns are named in
  one note.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import tpmt.label_data
import tpmt.rule_set_hashes
import tpmt.service
from conftest import ROOT
from tpmt.activity import parse_activity
from tpmt.batch import interpret_prepared, read_rows
from tpmt.cli import app
from tpmt.compose import Composition, Selection
from tpmt.dose import FIELD_NAMES, dose_request
from tpmt.errors import GuidelineError, InputError
from tpmt.interpreter import Interpreter
from tpmt.lab_ranges import LabRanges, load_lab_ranges
from tpmt.service import BAD_DATA, INTERNAL_ROW_ERROR, create_app

runner = CliRunner()
SECRET = "PATIENT-SECRET-55"
AZA = {"tpmt": "*1/*3A", "drugs": ["azathioprine"], "indication": "renal-transplant-initial"}
NEAR_MISS = (
    "is not one tpmt reads; did you mean {}? Rename or remove it (tpmt does not ignore a "
    "near-miss of a field it reads)"
)
MONITORING = (
    "batch gives every row its label monitoring: it cannot be switched per row ('monitoring'); "
    'tpmt lookup --no-monitoring or POST /v1/interpret with "monitoring": false leave it out '
    "for a sample"
)
WEIGHT_NOT_A_NUMBER = (
    "weight_kg is not a number; accepted: a number of kg above 0.2 and at most 400"
)


def near_miss(kind: str, name: str, meant: str) -> str:
    return f"{kind} {name!r} " + NEAR_MISS.format(repr(meant))


@pytest.fixture(scope="module")
def client(interpreter: Interpreter) -> TestClient:
    return TestClient(create_app(interpreter), raise_server_exceptions=False)


# 1. /v1/interpret: strict JSON types


@pytest.mark.parametrize(
    ("fields", "where", "message", "kind"),
    [
        ({"weight_kg": True}, "weight_kg", "Input should be a valid number", "float_type"),
        ({"weight_kg": "70"}, "weight_kg", "Input should be a valid number", "float_type"),
        ({"weight_kg": 70, "height_cm": True}, "height_cm", "Input should be a valid number",
         "float_type"),
        ({"weight_kg": 70, "height_cm": "170"}, "height_cm", "Input should be a valid number",
         "float_type"),
        ({"weight_kg": 70, "planned_dose_mg": True}, "planned_dose_mg",
         "Input should be a valid number", "float_type"),
        ({"weight_kg": 70, "planned_dose_mg": "100"}, "planned_dose_mg",
         "Input should be a valid number", "float_type"),
        ({"monitoring": "no"}, "monitoring", "Input should be a valid boolean", "bool_type"),
        ({"monitoring": 0}, "monitoring", "Input should be a valid boolean", "bool_type"),
        ({"monitoring": "false"}, "monitoring", "Input should be a valid boolean", "bool_type"),
        ({"sample": 12}, "sample", "Input should be a valid string", "string_type"),
        ({"indication": 3}, "indication", "Input should be a valid string", "string_type"),
        ({"comed": [1]}, "comed", "Input should be a valid string", "string_type"),
    ],
)  # fmt: skip
def test_interpret_takes_json_types_as_given(
    client: TestClient, fields: dict[str, Any], where: str, message: str, kind: str
) -> None:
    answer = client.post("/v1/interpret", json={**AZA, **fields})
    assert answer.status_code == 422
    loc: list[str | int] = ["body", where] if where != "comed" else ["body", "comed", 0]
    assert answer.json() == {
        "detail": f"{'.'.join(map(str, loc))}: {message}",
        "errors": [{"loc": loc, "msg": message, "type": kind}],
    }


@pytest.mark.parametrize(("weight", "expected"), [(70, 70.0), (70.5, 70.5)])
def test_interpret_takes_integers_and_floats_as_numbers(
    client: TestClient, weight: float, expected: float
) -> None:
    answer = client.post("/v1/interpret", json={**AZA, "weight_kg": weight, "monitoring": False})
    assert answer.status_code == 200
    dose = answer.json()["dose"]
    assert dose["weight_kg"] == expected
    assert dose["standard"]["mg_per_day"] == {"min": 3 * expected, "max": 5 * expected}


# 2. bad guideline or label data: at start-up, and while a batch is interpreted


@pytest.fixture
def fresh_label_data() -> Iterator[None]:
    """The bundled label data loaded again on next use (before and after the test)."""
    tpmt.label_data._BUNDLED.clear()
    yield
    tpmt.label_data._BUNDLED.clear()


MODIFIED = [
    ("SAFETY_DATA_SHA256", "bundled label safety data us-labels-2026 has been modified"),
    ("DOSE_DATA_SHA256", "bundled dose data us-labels-2026 has been modified"),
]


@pytest.mark.parametrize(("hashes", "message"), MODIFIED)
def test_modified_label_data_stops_the_service_at_start(
    interpreter: Interpreter,
    monkeypatch: pytest.MonkeyPatch,
    fresh_label_data: None,
    hashes: str,
    message: str,
) -> None:
    monkeypatch.setattr(tpmt.rule_set_hashes, hashes, {"us-labels-2026": "0" * 64})
    with pytest.raises(GuidelineError, match=message):
        create_app(interpreter)


@pytest.mark.parametrize(("hashes", "message"), MODIFIED)
def test_tpmt_serve_with_modified_label_data_exits_4(
    monkeypatch: pytest.MonkeyPatch, fresh_label_data: None, hashes: str, message: str
) -> None:
    import uvicorn

    served: list[bool] = []
    monkeypatch.setattr(uvicorn.Server, "run", lambda self, sockets: served.append(True))
    monkeypatch.setattr(tpmt.rule_set_hashes, hashes, {"us-labels-2026": "0" * 64})
    result = runner.invoke(app, ["serve", "--port", "0"])
    assert result.exit_code == 4
    assert served == []
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"tpmt: error: {message}: content hash ")
    assert lines[0].endswith(", expected 000000000000...; reinstall tpmt")


class BadDataInterpreter(Interpreter):
    """An interpreter whose rule data turns out bad at the row whose TPMT is '*3A/*1'."""

    def compose_selected(
        self, selection: Selection, tpmt: str | None, nudt15: str | None
    ) -> Composition:
        if tpmt == "*3A/*1":
            raise GuidelineError("cpic-2025/rules/TPMT.json: broken")
        return super().compose_selected(selection, tpmt, nudt15)


@pytest.fixture(scope="module")
def bad_data_client() -> TestClient:
    return TestClient(
        create_app(BadDataInterpreter(ROOT / "guidelines")), raise_server_exceptions=False
    )


@pytest.mark.parametrize("compact", [False, True])
def test_bad_data_in_a_batch_is_a_500_not_a_row_s_error(
    bad_data_client: TestClient, compact: bool
) -> None:
    rows = [
        {"sample_id": "A", "tpmt": "*1/*1"},
        {"sample_id": SECRET, "tpmt": "*3A/*1"},
        {"sample_id": "C", "tpmt": "*1/*1"},
    ]
    answer = bad_data_client.post(f"/v1/batch?compact={str(compact).lower()}", json=rows)
    assert answer.status_code == 500
    assert answer.json() == {"detail": BAD_DATA, "errors": []}
    assert SECRET not in answer.text and INTERNAL_ROW_ERROR not in answer.text


def test_bad_data_after_the_first_chunk_ends_the_stream_unfinished(
    bad_data_client: TestClient,
) -> None:
    """The 200 has gone: the answer is cut short (not a JSON list), never completed."""
    rows = [{"sample_id": f"S{i}", "tpmt": "*1/*1"} for i in range(600)]
    rows[500]["tpmt"] = "*3A/*1"
    answer = bad_data_client.post("/v1/batch?compact=true", json=rows)
    with pytest.raises(json.JSONDecodeError):
        json.loads(answer.text)
    assert INTERNAL_ROW_ERROR not in answer.text


def test_a_bug_in_a_row_is_still_that_row_s_record(bad_data_client: TestClient) -> None:
    rows = [{"sample_id": "A", "tpmt": "*1/*1"}, {"sample_id": "B", "tpmt": "not-a-diplotype"}]
    records = bad_data_client.post("/v1/batch?compact=true", json=rows).json()
    assert [(r["sample"], r["status"]) for r in records] == [("A", "ok"), ("B", "error")]


def test_answered_lets_bad_data_through(interpreter: Interpreter) -> None:
    engine = BadDataInterpreter(ROOT / "guidelines")
    rows = read_rows(io.BytesIO(b"sample_id\ttpmt\nA\t*1/*1\nB\t*3A/*1\nC\t*1/*1\n"))
    records = tpmt.service._answered(rows, engine)
    assert next(records).sample == "A"
    with pytest.raises(GuidelineError, match="broken"):
        next(records)


# 3. numbers in text: ASCII digits and one decimal point


@pytest.mark.parametrize(
    "text",
    ["6_5", "\u0667\u0660", "\uff17\uff10", "1e2", "inf", "nan", "+70", "0x46", "70 kg", "7 0",
     "70,5", ".", "1.2.3", "--5", "\u00b2"],
)  # fmt: skip
def test_a_weight_in_text_is_plain_digits(text: str) -> None:
    with pytest.raises(InputError) as caught:
        dose_request(text, None, "all-maintenance", None, FIELD_NAMES)
    assert str(caught.value) == WEIGHT_NOT_A_NUMBER


@pytest.mark.parametrize(
    ("value", "expected"),
    [(" 70 ", 70.0), ("65.5", 65.5), (".5", 0.5), ("70.", 70.0), ("\t70\u00a0", 70.0), (70, 70.0),
     (70.5, 70.5)],
)  # fmt: skip
def test_plain_numbers_are_read(value: object, expected: float) -> None:
    request = dose_request(value, None, None, value, FIELD_NAMES)
    assert request is not None
    assert (request.weight_kg, request.planned_dose_mg) == (expected, expected)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("-5", "weight_kg is out of range; accepted: a number of kg above 0.2 and at most 400"),
        (10**400, "weight_kg is out of range; accepted: a number of kg above 0.2 and at most 400"),
        (True, "weight_kg must be a number of kg above 0.2 and at most 400"),
    ],
)
def test_negative_huge_and_boolean_weights_are_refused(value: object, message: str) -> None:
    with pytest.raises(InputError) as caught:
        dose_request(value, None, "all-maintenance", None, FIELD_NAMES)
    assert str(caught.value) == message


def test_a_batch_cell_of_6_5_is_not_65_kg(interpreter: Interpreter) -> None:
    text = (
        "sample_id\ttpmt\tdrugs\tweight_kg\tindication\n"
        "A\t*1/*1\tmp\t6_5\tall-maintenance\nB\t*1/*1\tmp\t65\tall-maintenance\n"
    )
    records = list(interpret_prepared(read_rows(io.StringIO(text)), interpreter=interpreter))
    assert [(r.sample, r.ok, r.message) for r in records][0] == (
        "A",
        False,
        f"line 2: {WEIGHT_NOT_A_NUMBER}",
    )
    assert records[1].ok and records[1].report is not None
    assert records[1].report.dose is not None and records[1].report.dose.weight_kg == 65.0


@pytest.fixture(scope="module")
def arup() -> LabRanges:
    return load_lab_ranges(ROOT / "examples" / "activity-discordant" / "arup-0092066.toml")


@pytest.mark.parametrize(
    "text", ["\u0661\u0665 U/mL RBC", "\uff11\uff15 U/mL RBC", "+15 U/mL RBC", "inf U/mL RBC"]
)
def test_an_activity_is_plain_digits(arup: LabRanges, text: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_activity(text, arup)
    assert str(caught.value) == (
        "cannot read the TPMT activity; give a number and its unit, e.g. '15.2 U/mL RBC'"
    )


def test_an_activity_with_an_underscore_is_not_read_as_one_number(arup: LabRanges) -> None:
    with pytest.raises(InputError, match="TPMT activity unit '_5 U/mL RBC' is not the unit"):
        parse_activity("1_5 U/mL RBC", arup)


def test_an_activity_in_ascii_digits_is_read(arup: LabRanges) -> None:
    reading = parse_activity(" 15.5 U/mL RBC ", arup)
    assert (reading.value, reading.range.name) == (15.5, "low")


# 4. 'monitoring' in a batch row, whatever its value


@pytest.mark.parametrize("value", [False, None, 0, "", [], True])
def test_a_monitoring_key_is_refused_whatever_its_value(value: object) -> None:
    line = json.dumps({"sample_id": "S1", "tpmt": "*1/*1", "monitoring": value})
    rows = list(read_rows(io.StringIO(line + '\n{"sample_id": "S2", "tpmt": "*1/*1"}\n')))
    assert [(r.sample, r.error) for r in rows] == [("S1", f"line 1: {MONITORING}"), ("S2", None)]


# 5. near-misses of the fields tpmt reads, and the columns it does not use


@pytest.mark.parametrize(
    ("column", "meant"),
    [
        ("co_med", "comed"),
        ("comeds", "comed"),
        ("comedication", "comed"),
        ("Co-Medications", "comed"),
        ("weight", "weight_kg"),
        ("height", "height_cm"),
        ("indications", "indication"),
        ("planned_dose", "planned_dose_mg"),
        ("Weight KG", "weight_kg"),
        ("sampleid", "sample_id"),
        ("nudt", "nudt15"),
        ("concomitant_medications", "comed"),
        ("Co.Med", "comed"),
    ],
)
def test_a_near_miss_column_is_refused(column: str, meant: str) -> None:
    text = f"sample_id\ttpmt\tnudt15\t{column}\nS1\t*1/*1\t*1/*1\tx\n"
    with pytest.raises(InputError) as caught:
        read_rows(io.StringIO(text), "rows.tsv")
    assert str(caught.value) == "rows.tsv: " + near_miss("column", column, meant)


@pytest.mark.parametrize(
    "column",
    [
        # a field's name with a suffix is another column; a misspelt monitoring is harmless
        "sample_no",
        "sample_ref",
        "tpmt1",
        "tpmt_a1",
        "tpmt_activity_unit",
        "tpmt_activity_date",
        "weight_kg_date",
        "indication_code",
        "monitor",
        "monitoring_notes",
        # common LIMS columns
        "patient_id",
        "mrn",
        "drug_name",
        "genotype",
        "comment",
        "result",
    ],
)
def test_other_columns_are_not_near_misses(column: str) -> None:
    text = f"sample_id\ttpmt\t{column}\nS1\t*1/*1\tx\n"
    rows = list(read_rows(io.StringIO(text), "rows.tsv"))
    assert [(r.sample, r.error) for r in rows] == [("S1", None)]


def test_a_medication_column_names_both_fields_it_may_mean() -> None:
    with pytest.raises(InputError) as caught:
        read_rows(io.StringIO("sample_id\ttpmt\tMedication\nS1\t*1/*1\tx\n"), "rows.tsv")
    assert "did you mean 'drugs' (the thiopurine) or 'comed' (other drugs taken)?" in str(
        caught.value
    )


@pytest.mark.parametrize(("key", "meant"), [("co_med", "comed"), ("weight", "weight_kg")])
def test_a_near_miss_key_is_that_row_s_error(key: str, meant: str) -> None:
    lines = [
        {"sample_id": "S1", "tpmt": "*1/*1", key: "allopurinol"},
        {"sample_id": "S2", "tpmt": "*1/*1", "mrn": "1"},
    ]
    text = "".join(json.dumps(line) + "\n" for line in lines)
    rows = list(read_rows(io.StringIO(text)))
    assert [(r.sample, r.error) for r in rows] == [
        ("S1", "line 1: " + near_miss("field", key, meant)),
        ("S2", None),
    ]


def test_other_columns_are_named_once(interpreter: Interpreter) -> None:
    told: list[Sequence[str]] = []
    text = "sample_id\tMRN\ttpmt\tward\t\nS1\t1\t*1/*1\tA\t\nS2\t2\t*1/*3A\tB\t\n"
    rows = read_rows(io.StringIO(text), "rows.tsv", told.append)
    assert told == [["MRN", "ward"]]  # at once, before the rows; an unnamed column is not named
    records = list(interpret_prepared(rows, interpreter=interpreter))
    assert [(r.sample, r.ok) for r in records] == [("S1", True), ("S2", True)]
    assert told == [["MRN", "ward"]]


def test_other_keys_of_json_lines_are_named_once_after_the_rows() -> None:
    told: list[Sequence[str]] = []
    lines = [
        {"sample_id": "S1", "tpmt": "*1/*1", "mrn": "1"},
        {"sample_id": "S2", "tpmt": "*1/*1", "mrn": "2", "ward": "B"},
        {"sample_id": "S3", "tpmt": "*1/*1", "mrn": "3"},
    ]
    text = "".join(json.dumps(line) + "\n" for line in lines)
    rows = read_rows(io.StringIO(text), "rows.jsonl", told.append)
    assert [r.error for r in rows] == [None, None, None]
    assert told == [["mrn", "ward"]]


def test_no_other_columns_no_note() -> None:
    told: list[Sequence[str]] = []
    list(read_rows(io.StringIO("sample_id\ttpmt\nS1\t*1/*1\n"), "rows.tsv", told.append))
    list(read_rows(io.StringIO('{"id": "S1", "tpmt": "*1/*1"}\n'), "rows.jsonl", told.append))
    assert told == []


def test_tpmt_batch_notes_the_columns_it_does_not_use(tmp_path: Path) -> None:
    extra = [f"c{i}" for i in range(12)]
    source = tmp_path / "rows.tsv"
    source.write_text(
        "\t".join(["sample_id", "tpmt", *extra]) + "\n" + "\t".join(["S1", "*1/*1", *extra]) + "\n"
    )
    result = runner.invoke(app, ["batch", str(source), "--compact", "-f", "jsonl"])
    assert result.exit_code == 0
    assert (
        result.stderr
        == "tpmt: note: columns not used: c0, c1, c2, c3, c4, c5, c6, c7, c8, c9 (and 2 more)\n"
    )
    assert [json.loads(line)["status"] for line in result.stdout.splitlines()] == ["ok"]


def test_tpmt_batch_notes_json_keys_once(tmp_path: Path) -> None:
    source = tmp_path / "rows.jsonl"
    source.write_text(
        "".join(
            json.dumps({"sample_id": f"S{i}", "tpmt": "*1/*1", "mrn": str(i), "war\x1bd": "A"})
            + "\n"
            for i in range(3)
        )
    )
    result = runner.invoke(app, ["batch", str(source), "--compact", "-f", "jsonl"])
    assert result.exit_code == 0
    assert result.stderr == "tpmt: note: columns not used: mrn, 'war\\x1bd'\n"
    assert len(result.stdout.splitlines()) == 3


def test_tpmt_batch_refuses_a_near_miss_column(tmp_path: Path) -> None:
    source = tmp_path / "rows.tsv"
    source.write_text("sample_id\ttpmt\tco_med\nS1\t*1/*1\tallopurinol\n")
    target = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["batch", str(source), "-f", "jsonl", "-o", str(target)])
    assert result.exit_code == 3
    assert (
        result.stderr == f"tpmt: error: {source}: " + near_miss("column", "co_med", "comed") + "\n"
    )
    assert not target.exists()


def test_reinterpret_refuses_a_near_miss_column_and_keeps_other_columns(tmp_path: Path) -> None:
    source = tmp_path / "rows.tsv"
    source.write_text("sample_id\ttpmt\tnudt15\tweight\nS1\t*1/*3A\t*1/*1\t70\n")
    args = ["reinterpret", str(source), "--from", "cpic-2018", "-g", "cpic-2025", "-f", "jsonl"]
    refused = runner.invoke(app, args)
    assert refused.exit_code == 3
    assert refused.stderr == (
        f"tpmt: error: {source}: " + near_miss("column", "weight", "weight_kg") + "\n"
    )
    source.write_text("sample_id\ttpmt\tnudt15\tmrn\nS1\t*1/*3A\t*1/*1\t70\n")
    kept = runner.invoke(app, args)
    assert kept.exit_code in (0, 6)
    records = [json.loads(line) for line in kept.stdout.splitlines()]
    assert {(r["sample"], r["line"]) for r in records} == {("S1", 2)}
    assert "error" not in {r["change_type"] for r in records}
    assert kept.stderr.startswith("tpmt: reinterpret: ")  # no note: reinterpret reads fewer columns


def test_the_service_refuses_a_near_miss_key_in_that_row(client: TestClient) -> None:
    rows = [
        {"sample_id": "S1", "tpmt": "*1/*1", "comeds": ["allopurinol"]},
        {"sample_id": "S2", "tpmt": "*1/*1", "mrn": "1"},
    ]
    records = client.post("/v1/batch?compact=true", json=rows).json()
    assert [(r["sample"], r["status"], r.get("message")) for r in records] == [
        ("S1", "error", "item 1: " + near_miss("field", "comeds", "comed")),
        ("S2", "ok", None),
    ]
