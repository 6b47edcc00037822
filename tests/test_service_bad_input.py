"""The HTTP service against hostile bodies: every one a 4xx with an ErrorBody, or (a fault in
one batch row) that row's error record; never a 500, a traceback, a broken stream, or an echo
of the submitted value."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

import tpmt.service
from tpmt.batch import BatchRecord
from tpmt.compose import Composition, Selection
from tpmt.interpreter import Interpreter
from tpmt.render.batch import json_record
from tpmt.service import create_app

SECRET = "PATIENT-SECRET-123"
JSON = "application/json"
LINES = "application/x-ndjson"
DEEP = b"[" * 100_000
HUGE = b"1" * 5001  # the digits of a 5,001-digit integer


@pytest.fixture(scope="module")
def client(interpreter: Interpreter) -> TestClient:
    return TestClient(create_app(interpreter), raise_server_exceptions=False)


def assert_clean_error(answer: Any, status: int, fragment: str, secret: str) -> None:
    """A whole-body refusal: the status, an ErrorBody holding the fragment, nothing echoed."""
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/json"
    body = answer.json()
    assert set(body) == {"detail", "errors"}
    assert isinstance(body["detail"], str) and "\n" not in body["detail"]
    assert fragment in body["detail"]
    assert "Traceback" not in answer.text
    assert secret not in answer.text
    assert all(set(problem) == {"loc", "msg", "type"} for problem in body["errors"])


# path, body, content type, status, fragment of the detail, a submitted value never echoed
WHOLE_BODY_REFUSALS = [
    (
        "/v1/interpret",
        b'{"tpmt": "*1/*1", "drugs": {"' + SECRET.encode() + b'": 1}}',
        JSON,
        422,
        "body.drugs: Input should be a valid list",
        SECRET,
    ),
    ("/v1/interpret", DEEP, JSON, 400, "nested too deeply", "[[["),
    ("/v1/interpret", b'{"a":' * 10_000, JSON, 400, "nested too deeply", '{"a"'),
    ("/v1/interpret", b'{"tpmt": ' + HUGE + b"}", JSON, 400, "5,001 digits", "11111"),
    ("/v1/interpret", b'{"sample": ' + HUGE + b"}", JSON, 400, "5,001 digits", "11111"),
    (
        "/v1/interpret",
        f'{{"tpmt": "*1/*1", "sample": "{SECRET}\u00e9"}}'.encode("latin-1"),
        JSON,
        400,
        "body is not UTF-8: cannot decode byte 48 of line 1",
        SECRET,
    ),
    (
        "/v1/interpret",
        b'{"tpmt": "*1/*1", "tpmt": "*3A/*3A"}',
        JSON,
        400,
        "key 'tpmt' appears more than once in an object",
        "*3A/*3A",
    ),
    ("/v1/interpret", b'{"tpmt": NaN}', JSON, 400, "NaN is not a JSON number", "*1/"),
    ("/v1/interpret", b'{"tpmt": -Infinity}', JSON, 400, "-Infinity is not a JSON number", "*1/"),
    (
        "/v1/interpret",
        json.dumps(SECRET).encode(),
        JSON,
        422,
        "body: Input should be a valid dictionary",
        SECRET,
    ),
    (
        "/v1/interpret",
        json.dumps({"tpmt": "*1/*1", "patient_name": SECRET}).encode(),
        JSON,
        422,
        "body.patient_name: Extra inputs are not permitted",
        SECRET,
    ),
    (
        "/v1/interpret",
        b'{"tpmt": 123456789}',
        JSON,
        422,
        "body.tpmt: Input should be a valid string",
        "123456789",
    ),
    (
        "/v1/interpret",
        json.dumps({"tpmt": SECRET * 20}).encode(),
        JSON,
        422,
        "body.tpmt: String should have at most 200 characters",
        SECRET,
    ),
    (
        "/v1/interpret",
        b'{"tpmt": ' + SECRET.encode() + b"}",
        JSON,
        400,
        "body is not JSON: Expecting value at line 1, column 10",
        SECRET,
    ),
    ("/v1/interpret", b"", JSON, 400, "body is not JSON: Expecting value", "*1/"),
    (
        "/v1/interpret",
        b'{"tpmt": "*1/*1"} ' + SECRET.encode(),
        JSON,
        400,
        "body is not JSON: Extra data",
        SECRET,
    ),
    (  # a bad value is named by its first 40 characters only
        "/v1/interpret",
        json.dumps({"tpmt": "*1/" + SECRET * 4}).encode(),
        JSON,
        400,
        "is not a valid TPMT diplotype",
        SECRET * 3,
    ),
    (
        "/v1/interpret",
        b'{"tpmt": "' + SECRET.encode() + b'"' + b" " * 100_000 + b"}",
        JSON,
        413,
        "request body over 100,000 bytes",
        SECRET,
    ),
    ("/v1/batch", DEEP, JSON, 400, "nested too deeply", "[[["),
    (
        "/v1/batch",
        f'[{{"sample_id": "{SECRET}", "tpmt": '.encode() + DEEP,
        JSON,
        400,
        "nested too deeply",
        SECRET,
    ),
    (
        "/v1/batch",
        f'[{{"sample_id": "{SECRET}\u00e9", "tpmt": "*1/*1"}}]'.encode("latin-1"),
        JSON,
        400,
        "body is not UTF-8: cannot decode byte 35 of line 1",
        SECRET,
    ),
    (
        "/v1/batch",
        f'{{"sample_id": "A", "tpmt": "*1/*1"}}\n{{"sample_id": "{SECRET}\u00e9"}}\n'.encode(
            "latin-1"
        ),
        LINES,
        400,
        "body is not UTF-8: cannot decode byte 34 of line 2",
        SECRET,
    ),
    (
        "/v1/batch",
        json.dumps({"sample_id": SECRET, "tpmt": "*1/*1"}).encode(),
        JSON,
        400,
        "body must be a JSON list of row objects, or JSON lines sent as application/x-ndjson",
        SECRET,
    ),
    (
        "/v1/batch",
        json.dumps({"rows": [{"sample_id": SECRET}]}).encode(),
        JSON,
        400,
        "body must be a JSON list of row objects",
        SECRET,
    ),
    ("/v1/batch", json.dumps(SECRET).encode(), JSON, 400, "must be a JSON list", SECRET),
    ("/v1/batch", HUGE, JSON, 400, "must be a JSON list", "11111"),
    (
        "/v1/batch",
        f'[{{"sample_id": "{SECRET}"}} {{"sample_id": "B"}}]'.encode(),
        JSON,
        400,
        "expected ',' or ']' at line 1, column 38",
        SECRET,
    ),
    (
        "/v1/batch",
        f'[{{"sample_id": "{SECRET}", "tpmt": "*1/*1"'.encode(),
        JSON,
        400,
        "body is not a JSON list: Expecting ',' delimiter",
        SECRET,
    ),
    (
        "/v1/batch",
        f'[{{"sample_id": "{SECRET}"}}] {SECRET}'.encode(),
        JSON,
        400,
        "text after the end of the JSON list",
        SECRET,
    ),
    ("/v1/batch", b"", JSON, 400, "must be a JSON list", "*1/"),
    (
        "/v1/batch?compact=maybe",
        json.dumps([{"sample_id": SECRET, "tpmt": "*1/*1"}]).encode(),
        JSON,
        422,
        "query.compact: Input should be a valid boolean",
        SECRET,
    ),
]


@pytest.mark.parametrize(
    ("path", "body", "content_type", "status", "fragment", "secret"), WHOLE_BODY_REFUSALS
)
def test_a_bad_body_is_refused_whole_without_echo(
    client: TestClient,
    path: str,
    body: bytes,
    content_type: str,
    status: int,
    fragment: str,
    secret: str,
) -> None:
    answer = client.post(path, content=body, headers={"content-type": content_type})
    assert_clean_error(answer, status, fragment, secret)


def test_a_validation_error_names_every_field_and_no_value(client: TestClient) -> None:
    answer = client.post("/v1/interpret", json={"tpmt": 1, "nudt15": [SECRET], SECRET: 2})
    assert answer.status_code == 422
    assert answer.json() == {
        "detail": "body.tpmt: Input should be a valid string (and 2 more)",
        "errors": [
            {
                "loc": ["body", "tpmt"],
                "msg": "Input should be a valid string",
                "type": "string_type",
            },
            {
                "loc": ["body", "nudt15"],
                "msg": "Input should be a valid string",
                "type": "string_type",
            },
            {
                "loc": ["body", SECRET],  # a key: named, as the field at fault
                "msg": "Extra inputs are not permitted",
                "type": "extra_forbidden",
            },
        ],
    }
    long_key = "k" * 100
    answer = client.post("/v1/interpret", json={long_key: 1})
    assert answer.json()["errors"][0]["loc"] == ["body", "k" * 40 + "..."]


# one bad row between two good ones: (row text, expected sample of its record, fragment of its
# message, a submitted value never echoed); the label is "item 2" (JSON list) or "line 2"
BAD_ROWS = [
    (
        f'{{"sample_id": "{SECRET}", "tpmt": "*1/*1", "drugs": {{"SECRET-DRUG": 1}}}}',
        SECRET,
        "field 'drugs' must be a list of drug names or a comma-separated string",
        "SECRET-DRUG",
    ),
    (
        f'{{"sample_id": "{SECRET}", "tpmt": "*1/*1", "drugs": [987654321]}}',
        SECRET,
        "field 'drugs' must hold drug names (strings)",
        "987654321",
    ),
    (
        f'{{"sample_id": "{SECRET}", "tpmt": "*1/*1", "drugs": 987654321}}',
        SECRET,
        "field 'drugs' must be a list of drug names or a comma-separated string",
        "987654321",
    ),
    (
        f'{{"sample_id": "{SECRET}", "tpmt": "*1/*1", "tpmt": "*3A/*3A"}}',
        SECRET,
        "key 'tpmt' appears more than once in an object",
        "*3A/*3A",
    ),
    (
        f'{{"sample_id": "{SECRET}", "sample_id": "OTHER-SECRET"}}',
        "LABEL",  # which of the two names is meant is unknown: the row is named by position
        "key 'sample_id' appears more than once in an object",
        "OTHER-SECRET",
    ),
    (
        f'{{"sample_id": "{SECRET}", "TPMT": "*1/*1", "tpmt": "*3A/*3A"}}',
        SECRET,
        "field 'tpmt' is given twice (keys differing in case)",
        "*3A/*3A",
    ),
    (
        f'{{"Sample_ID": "{SECRET}", "sample_id": "OTHER-SECRET", "tpmt": "*1/*1"}}',
        "LABEL",
        "field 'sample_id' is given twice (keys differing in case)",
        "OTHER-SECRET",
    ),
    (
        f'{{"sample_id": "{SECRET}", "tpmt": "*1/*1", "drug": {{"SECRET-DRUG": 1}}}}',
        SECRET,
        "field 'drug' must be a list of drug names or a comma-separated string",
        "SECRET-DRUG",
    ),
    (
        f'{{"sample_id": "{SECRET}", "drug": "azathioprine", "drugs": ["thioguanine"]}}',
        SECRET,
        "give 'drugs' or 'drug', not both",
        "thioguanine",
    ),
    (
        '{"sample_id": ' + HUGE.decode() + ', "tpmt": "*1/*1"}',
        "LABEL",
        "a number with 5,001 digits (at most 50 are accepted)",
        "11111",
    ),
    (
        f'{{"sample_id": "{SECRET}", "tpmt": {HUGE.decode()}}}',
        SECRET,
        "a number with 5,001 digits",
        "11111",
    ),
    (
        f'{{"sample_id": "{SECRET}", "nudt15": NaN}}',
        SECRET,
        "NaN is not a JSON number",
        "nan",
    ),
    (
        '{"sample_id": 1e999, "tpmt": "*1/*1"}',
        "LABEL",  # a float is not taken as a name: 1e999 would be "inf"
        "field 'sample_id' must be a string or an integer",
        "inf",
    ),
    (
        f'{{"sample_id": {{"name": "{SECRET}"}}, "tpmt": "*1/*1"}}',
        "LABEL",
        "field 'sample_id' must be a string or an integer",
        SECRET,
    ),
    (
        f'{{"sample_id": "{SECRET}", "tpmt": ["*1/*1"]}}',
        SECRET,
        "field 'tpmt' must be a string (a diplotype or a phenotype) or null",
        "*1/*1",
    ),
    (
        f'{{"sample_id": "{SECRET}", "tpmt": 7}}',
        SECRET,
        "field 'tpmt' must be a string",
        "7 ",
    ),
    (json.dumps([SECRET]), "LABEL", "is not an object", SECRET),
    (
        f'{{"sample_id": "{SECRET}", "tpmt": "*1/*99"}}',
        SECRET,
        "unknown TPMT allele '*99'",
        "OTHER-SECRET",
    ),
]


@pytest.mark.parametrize("form", ["list", "lines"])
@pytest.mark.parametrize(("row", "sample", "fragment", "secret"), BAD_ROWS)
def test_a_bad_row_is_its_own_error_record(
    client: TestClient, form: str, row: str, sample: str, fragment: str, secret: str
) -> None:
    good = ['{"sample_id": "A", "tpmt": "*1/*1"}', '{"sample_id": "B", "nudt15": "PM"}']
    rows = [good[0], row, good[1]]
    if form == "list":
        body, content_type, label = "[" + ",\n".join(rows) + "]", JSON, "item 2"
    else:
        body, content_type, label = "\n".join(rows) + "\n", LINES, "line 2"
    answer = client.post("/v1/batch", content=body, headers={"content-type": content_type})
    assert answer.status_code == 200
    records = answer.json()
    assert [(r["sample"], r["status"]) for r in records] == [
        ("A", "ok"),
        (label if sample == "LABEL" else sample, "error"),
        ("B", "ok"),
    ]
    message = records[1]["message"]
    assert fragment in message
    assert secret not in message
    assert "Traceback" not in answer.text
    if "allele" not in fragment:
        assert message.startswith((label + ":", label + " is"))


def test_a_too_deep_json_line_is_its_row_s_error(client: TestClient) -> None:
    body = b'{"sample_id": "A", "tpmt": "*1/*1"}\n' + DEEP + b'\n{"sample_id": "B", "tpmt": "IM"}'
    answer = client.post("/v1/batch", content=body, headers={"content-type": LINES})
    assert answer.status_code == 200
    assert answer.json()[1] == {
        "sample": "line 2",
        "status": "error",
        "message": "line 2: arrays or objects nested too deeply",
    }
    assert [r["status"] for r in answer.json()] == ["ok", "error", "ok"]


def test_json_lines_are_named_by_their_line_in_the_body(client: TestClient) -> None:
    body = b'{"sample_id": "A", "tpmt": "IM"}\n\n\n{bad\n'
    answer = client.post("/v1/batch", content=body, headers={"content-type": LINES})
    assert answer.json()[1] == {
        "sample": "line 4",
        "status": "error",
        "message": "line 4: not JSON (Expecting property name enclosed in double quotes at "
        "column 2)",
    }


def test_too_many_rows_is_413(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tpmt.service, "MAX_BATCH_ROWS", 2)
    rows = [{"sample_id": SECRET, "tpmt": "*1/*1"}] * 3
    assert_clean_error(
        client.post("/v1/batch", json=rows), 413, "3 rows; at most 2 per request", SECRET
    )
    lines = "".join(json.dumps(r) + "\n" for r in rows)
    answer = client.post("/v1/batch", content=lines, headers={"content-type": LINES})
    assert_clean_error(answer, 413, "3 rows; at most 2 per request", SECRET)


class FaultyInterpreter(Interpreter):
    """An interpreter with a bug: one spelling of a result makes it raise."""

    def compose_selected(
        self, selection: Selection, tpmt: str | None, nudt15: str | None
    ) -> Composition:
        if tpmt == "*3A/*1":
            raise RuntimeError(f"bug while composing {tpmt}")
        return super().compose_selected(selection, tpmt, nudt15)


@pytest.fixture(scope="module")
def faulty_client() -> TestClient:
    root = Path(__file__).resolve().parent.parent
    return TestClient(
        create_app(FaultyInterpreter(root / "guidelines")), raise_server_exceptions=False
    )


@pytest.mark.parametrize("compact", [False, True])
def test_a_bug_in_one_row_is_that_row_s_error_record(
    faulty_client: TestClient, compact: bool
) -> None:
    """Rows after the one that failed are still interpreted: the stream is whole."""
    rows = [
        {"sample_id": "A", "tpmt": "*1/*3A"},
        {"sample_id": SECRET, "tpmt": "*3A/*1"},
        {"sample_id": "C", "tpmt": "*1/*1"},
        {"sample_id": "D", "tpmt": "*3A/*1"},
        {"sample_id": "E", "nudt15": "PM"},
    ]
    answer = faulty_client.post(f"/v1/batch?compact={str(compact).lower()}", json=rows)
    assert answer.status_code == 200
    records = answer.json()
    assert [(r["sample"], r["status"]) for r in records] == [
        ("A", "ok"),
        (SECRET, "error"),
        ("C", "ok"),
        ("D", "error"),
        ("E", "ok"),
    ]
    assert records[1]["message"] == tpmt.service.INTERNAL_ROW_ERROR


def test_a_bug_while_writing_a_record_is_that_row_s_error_record(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def faulty(pieces: Any, full: Any, record: BatchRecord, compact: bool) -> str:
        if record.sample == SECRET:
            raise RuntimeError(f"bug writing {record.sample}")
        return json_record(pieces, full, record, compact)

    monkeypatch.setattr(tpmt.service, "json_record", faulty)
    rows = [{"sample_id": s, "tpmt": "*1/*1"} for s in ("A", SECRET, "C")]
    records = client.post("/v1/batch?compact=true", json=rows).json()
    assert [(r["sample"], r["status"]) for r in records] == [
        ("A", "ok"),
        (SECRET, "error"),
        ("C", "ok"),
    ]
    assert records[1]["message"] == tpmt.service.INTERNAL_ROW_ERROR


def test_a_bug_in_interpret_is_a_500_error_body(monkeypatch: pytest.MonkeyPatch) -> None:
    root = Path(__file__).resolve().parent.parent
    faulty = TestClient(
        create_app(FaultyInterpreter(root / "guidelines")), raise_server_exceptions=False
    )
    monkeypatch.setattr(
        FaultyInterpreter,
        "interpret",
        lambda self, *args: (_ for _ in ()).throw(RuntimeError(f"bug {args}")),
    )
    answer = faulty.post("/v1/interpret", json={"tpmt": "*1/*1"})
    assert answer.status_code == 500
    assert answer.json() == {
        "detail": "internal error (a bug; logged without data)",
        "errors": [],
    }
    assert "*1/*1" not in answer.text


EXPECTED_STATUSES = {
    ("/v1/interpret", "post"): {"200", "400", "413", "422", "500"},
    ("/v1/batch", "post"): {"200", "400", "413", "422", "500"},
    ("/v1/guidelines", "get"): {"200", "413", "500"},
    ("/healthz", "get"): {"200", "413", "500"},
}


def test_openapi_lists_every_status_with_the_error_body(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    for (path, method), statuses in EXPECTED_STATUSES.items():
        responses = spec["paths"][path][method]["responses"]
        assert set(responses) == statuses, path
        for status in statuses - {"200"}:
            schema = responses[status]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (path, status)
    error_body = spec["components"]["schemas"]["ErrorBody"]
    assert set(error_body["properties"]) == {"detail", "errors"}
    problem = spec["components"]["schemas"]["FieldProblem"]
    assert set(problem["properties"]) == {"loc", "msg", "type"}  # no "input"
    body = spec["paths"]["/v1/interpret"]["post"]["requestBody"]["content"][JSON]["schema"]
    assert set(body["properties"]) == {
        "sample",
        "tpmt",
        "nudt15",
        "drugs",
        "guidelines",
        "tpmt_activity",
        "weight_kg",
        "height_cm",
        "indication",
        "planned_dose_mg",
        "comed",
        "monitoring",
    }


def test_the_error_body_of_a_413_from_the_size_guard(interpreter: Interpreter) -> None:
    small = TestClient(create_app(interpreter, max_body=1_000))
    answer = small.post("/v1/batch", json=[{"sample_id": SECRET, "tpmt": "*1/*1"}] * 30)
    assert_clean_error(answer, 413, "request body over 1,000 bytes", SECRET)
