"""The published JSON Schemas (schema/*.json) against everything tpmt writes as JSON.

Every record kind is checked two ways: with the jsonschema library against the published file,
and with pydantic against the model in tpmt/records.py. The outputs are the recorded examples
(examples/*/stdout) and fresh runs of every JSON-writing command and endpoint over the example
inputs. Regenerate a schema on purpose with ``tpmt schema --record KIND > schema/KIND.schema.json``.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator
from typer.testing import CliRunner

from conftest import ROOT
from tpmt.cli import RecordKind, app
from tpmt.interpreter import Interpreter
from tpmt.records import RECORD_KINDS, record_adapter, record_schema
from tpmt.render.listing import rule_data
from tpmt.service import create_app

runner = CliRunner()
SCHEMA = ROOT / "schema"
EXAMPLES = sorted(p for p in (ROOT / "examples").iterdir() if (p / "args").is_file())
ROWS_TSV = "examples/batch-compact/rows.tsv"
GENOTYPES = "examples/call-genotype-table/genotypes.tsv"
VCF = "examples/call-vcf-tsv/input.vcf"
VARIANT_ONLY = "examples/call-variant-only/input.vcf"
ROWS_JSONL = (
    '{"sample_id": "J1", "tpmt": "*1/*3A", "nudt15": "*1/*3"}\n'
    "{bad\n"
    '{"sample_id": "J3", "tpmt": "PM", "drugs": ["warfarin"]}\n'
    "7\n"
    '{"sample_id": "J5", "tpmt": "*1/*42", "nudt15": "Indeterminate", "drugs": "tg"}\n'
)
GENOTYPES_WITH_A_FAILURE = (  # P2: a triploid genotype, so no usable TPMT call
    "sample_id\trsid\tgenotype\nP1\trs1142345\tT/C\nP2\trs1142345\tT/T/C\nP3\trs1142345\tT/G\n"
)


@cache
def validator(kind: str) -> Draft202012Validator:
    document = json.loads((SCHEMA / f"{kind}.schema.json").read_text())
    Draft202012Validator.check_schema(document)
    return Draft202012Validator(document)


def problems(kind: str, text: str) -> list[str]:
    """Why ``text`` (one JSON record) is not a valid ``kind`` record, by either check."""
    found = [e.message[:200] for e in validator(kind).iter_errors(json.loads(text))]
    try:
        record_adapter(kind).validate_json(text)
    except ValueError as exc:
        found.append(f"pydantic: {str(exc)[:300]}")
    return found


def kind_of(args: list[str]) -> str | None:
    """The record kind a command line writes, or None when it writes no JSON records."""
    command, fmt = args[0], _option(args, "--format", "-f")
    if command == "lookup":
        return "report" if fmt == "json" else None
    if command in ("batch", "call") and "--compact" in args:
        return "compact"
    if command == "batch":
        return "batch" if fmt in (None, "jsonl") else None
    if command == "call":
        return "call" if fmt in (None, "jsonl", "json") else None
    if command == "reinterpret":
        return "reinterpret" if fmt == "jsonl" else None
    if command == "guidelines" and "--diff" in args:
        return "guidelines-diff" if fmt == "json" else None
    if command in ("guidelines", "alleles") and fmt == "json":
        return "rule" if "--rule" in args else command
    return None


def _option(args: list[str], *names: str) -> str | None:
    for index, arg in enumerate(args[:-1]):
        if arg in names:
            return args[index + 1]
    return None


def records(text: str, args: list[str]) -> Iterator[str]:
    """The JSON records of an output: one document (json formats), else one per line."""
    if _option(args, "--format", "-f") == "json" and "--compact" not in args:
        yield text
    else:
        yield from (line for line in text.splitlines() if line.strip())


def test_every_record_kind_is_published_and_the_command_prints_it() -> None:
    assert set(RECORD_KINDS) == {k.value for k in RecordKind}
    assert set(RECORD_KINDS) == {
        "report",
        "batch",
        "call",
        "compact",
        "guidelines",
        "rule",
        "alleles",
        "health",
        "reinterpret",
        "guidelines-diff",
    }
    assert {p.name for p in SCHEMA.glob("*.schema.json")} == {
        f"{k}.schema.json" for k in RECORD_KINDS
    }
    for kind in RECORD_KINDS:
        result = runner.invoke(app, ["schema", "--record", kind])
        assert result.exit_code == 0, result.output
        published = (SCHEMA / f"{kind}.schema.json").read_text()
        assert result.stdout == published, f"regenerate schema/{kind}.schema.json"
        assert json.loads(published) == record_schema(kind)


@pytest.mark.parametrize(
    ("kind", "record"),
    [
        ("batch", {"sample": "A", "status": "ok", "report": {}}),  # the old /v1/batch shape
        ("batch", {"sample": "A", "status": "error"}),
        ("batch", {"sample": "A", "status": "failed", "message": "x"}),
        ("call", {"sample": "A", "status": "error", "message": "x", "extra": 1}),
        ("compact", {"sample": "A", "status": "ok", "schema_version": 1}),
        ("health", {"status": "ok"}),
    ],
)
def test_the_schemas_refuse_other_shapes(kind: str, record: dict[str, Any]) -> None:
    text = json.dumps(record)
    assert len(problems(kind, text)) == 2  # both checks refuse it


def test_a_report_is_not_a_batch_record_and_a_batch_record_is_not_a_report() -> None:
    args = ["lookup", "--tpmt", "PM", "--sample", "S1", "--format", "json"]
    report = runner.invoke(app, args).stdout
    assert problems("report", report) == []
    assert problems("call", report) != []  # a call record has status, as a batch record
    assert problems("batch", report) != []  # no status
    line = runner.invoke(app, ["batch", ROWS_TSV]).stdout.splitlines()[0]
    assert problems("batch", line) == []
    assert problems("report", line) != []  # status is not a report field


def test_every_json_example_validates() -> None:
    checked = {}
    for example in EXAMPLES:
        args = shlex.split((example / "args").read_text())
        kind = kind_of(args)
        stdout = (example / "stdout").read_text()
        if kind is None:
            assert not _is_json(stdout), f"{example.name} writes JSON of no known kind"
            continue
        lines = list(records(stdout, args))
        for text in lines:
            assert problems(kind, text) == [], (example.name, text[:200])
        checked[example.name] = (kind, len(lines))
    assert checked == {
        "activity-only": ("report", 1),
        "batch-compact": ("compact", 3),
        "call-genotype-table": ("call", 2),
        "lookup-json-mercaptopurine": ("report", 1),
        "lookup-dose-mercaptopurine-poor": ("report", 1),
        "lookup-comed-febuxostat-dose": ("report", 1),
    }


def _is_json(text: str) -> bool:
    try:
        json.loads(text.splitlines()[0] if text.startswith("{") else text)
    except (ValueError, IndexError):
        return False
    return True


def _commands(tmp_path: Path) -> list[list[str]]:
    jsonl = tmp_path / "rows.jsonl"
    jsonl.write_text(ROWS_JSONL)
    failing = tmp_path / "genotypes.tsv"
    failing.write_text(GENOTYPES_WITH_A_FAILURE)
    guides = str(ROOT / "guidelines")  # a user folder: records say origin user
    return [
        ["batch", ROWS_TSV],
        ["batch", ROWS_TSV, "--compact", "--drug", "mp", "--guideline", "cpic"],
        ["batch", str(jsonl)],
        ["batch", str(jsonl), "--compact"],
        ["batch", str(jsonl), "--guideline", "cpic-2018", "--guidelines-dir", guides],
        ["call", GENOTYPES],
        ["call", GENOTYPES, "--compact"],
        ["call", str(failing)],
        ["call", str(failing), "--compact"],
        ["call", str(failing), "--format", "json", "--sample", "P2"],
        ["call", GENOTYPES, "--format", "json", "--sample", "P1"],
        ["call", GENOTYPES, "--format", "json", "--sample", "P2", "--compact"],
        ["call", VCF],
        ["call", VCF, "--compact", "--drug", "azathioprine"],
        ["call", VARIANT_ONLY],
        ["call", VARIANT_ONLY, "--assume-reference", "--compact"],
        ["lookup", "--tpmt", "*1/*3A", "--nudt15", "*1/*3", "--format", "json"],
        ["lookup", "--tpmt", "*1/*42", "--nudt15", "*1/*22", "--format", "json"],
        ["lookup", "--tpmt", "Indeterminate", "--guideline", "cpic-2018", "--format", "json"],
        ["lookup", "--nudt15", "PM", "--guidelines-dir", guides, "--format", "json"],
        ["lookup", "--tpmt", "PM", "--explain", "--sample", "S", "--format", "json"],
        [
            "lookup",
            "--tpmt",
            "*1/*1",
            "--tpmt-activity",
            "12 U/mL RBC",
            "--lab-ranges",
            str(ROOT / "examples" / "activity-discordant" / "arup-0092066.toml"),
            "--format",
            "json",
        ],
        ["guidelines", "--format", "json"],
        ["guidelines", "--format", "json", "--guidelines-dir", guides],
        ["guidelines", "--rule", "cpic-2025:mercaptopurine.IM-IM", "--format", "json"],
        ["alleles", "--gene", "TPMT", "--format", "json"],
        ["alleles", "--gene", "NUDT15", "--guideline", "cpic-2018", "--format", "json"],
        ["guidelines", "--diff", "cpic-2018", "cpic-2025", "--format", "json"],
        [
            "reinterpret",
            "examples/reinterpret-cpic-2025/stored.jsonl",
            "-g",
            "cpic-2025",
            "-f",
            "jsonl",
        ],
    ]


def test_every_json_command_output_validates(tmp_path: Path) -> None:
    statuses: dict[str, set[str]] = {}
    for args in _commands(tmp_path):
        kind = kind_of(args)
        assert kind is not None, args
        result = runner.invoke(app, args)
        assert result.exit_code in (0, 3, 6), (args, result.output[-500:])
        lines = list(records(result.stdout, args))
        assert lines, args
        for text in lines:
            assert problems(kind, text) == [], (args, text[:200])
            if kind in ("batch", "call", "compact"):
                statuses.setdefault(kind, set()).add(json.loads(text).get("status", "report"))
    assert statuses == {
        "batch": {"ok", "error"},
        "call": {"ok", "error"},  # tpmt call writes the records tpmt batch writes
        "compact": {"ok", "error"},
    }


def test_every_rule_validates(interpreter: Interpreter) -> None:
    library = interpreter.library
    rule_ids = [
        f"{rule_set_id}:{rule.id}"
        for rule_set_id in library.ids
        for drug in library.get(rule_set_id).drugs.values()
        for rule in drug.rules
    ]
    assert len(rule_ids) > 200
    for rule_id in rule_ids:
        assert problems("rule", json.dumps(rule_data(library, rule_id))) == [], rule_id


@pytest.fixture(scope="module")
def client(interpreter: Interpreter) -> TestClient:
    return TestClient(create_app(interpreter))


def test_every_endpoint_answer_validates(client: TestClient) -> None:
    assert problems("health", client.get("/healthz").text) == []
    assert problems("guidelines", client.get("/v1/guidelines").text) == []
    for body in ({"tpmt": "*1/*3A", "nudt15": "*1/*3"}, {"nudt15": "*1/*22", "drugs": ["tg"]}):
        answer = client.post("/v1/interpret", json=body)
        assert answer.status_code == 200
        assert problems("report", answer.text) == []
    for compact, kind in ((False, "batch"), (True, "compact")):
        answer = client.post(
            "/v1/batch",
            params={"compact": compact},
            content=ROWS_JSONL,
            headers={"content-type": "application/x-ndjson"},
        )
        assert answer.status_code == 200
        items = answer.json()
        assert [i["status"] for i in items] == ["ok", "error", "error", "error", "ok"]
        for item in items:
            assert problems(kind, json.dumps(item)) == []


def test_guidelines_endpoint_writes_what_the_command_writes(client: TestClient) -> None:
    command = runner.invoke(app, ["guidelines", "--format", "json"]).stdout
    assert client.get("/v1/guidelines").json() == json.loads(command)


@pytest.mark.parametrize("compact", [False, True])
def test_batch_endpoint_writes_the_records_of_tpmt_batch(
    client: TestClient, tmp_path: Path, compact: bool
) -> None:
    """The same bytes: the JSON list of the lines tpmt batch --format jsonl writes."""
    rows = tmp_path / "rows.jsonl"
    rows.write_text(ROWS_JSONL)
    command = runner.invoke(app, ["batch", str(rows), *(["--compact"] if compact else [])])
    assert command.exit_code == 3
    lines = command.stdout.splitlines()
    assert len(lines) == 5
    answer = client.post(
        "/v1/batch",
        params={"compact": compact},
        content=ROWS_JSONL,
        headers={"content-type": "application/x-ndjson"},
    )
    assert answer.text == "[" + ",".join(lines) + "]"


def _local_refs(node: Any) -> Any:
    """A schema with OpenAPI component references rewritten as JSON Schema $defs references,
    without ``"default": null`` (FastAPI leaves null values out of the OpenAPI document)."""
    if isinstance(node, dict):
        return {
            k: re.sub("^#/components/schemas/", "#/$defs/", v) if k == "$ref" else _local_refs(v)
            for k, v in node.items()
            if not (k == "default" and v is None)
        }
    if isinstance(node, list):
        return [_local_refs(v) for v in node]
    return node


def test_openapi_answers_are_the_published_records_with_valid_examples(
    client: TestClient,
) -> None:
    spec = client.get("/openapi.json").json()
    components = spec["components"]["schemas"]
    expected = {
        ("/healthz", "get"): ["health"],
        ("/v1/guidelines", "get"): ["guidelines"],
        ("/v1/interpret", "post"): ["report"],
        ("/v1/batch", "post"): ["batch", "compact"],
    }
    assert {(p, m) for p, ops in spec["paths"].items() for m in ops} == set(expected)
    for (path, method), kinds in expected.items():
        content = spec["paths"][path][method]["responses"]["200"]["content"]["application/json"]
        schema = _local_refs(content["schema"])
        assert schema != {}
        published = [json.loads((SCHEMA / f"{k}.schema.json").read_text()) for k in kinds]
        if kinds == ["batch", "compact"]:  # a list of batch records, or of compact records
            assert [s["items"] for s in schema["anyOf"]] == [
                {"anyOf": p["anyOf"]} for p in published
            ]
        elif kinds == ["guidelines"]:
            assert schema["items"] == published[0]["items"]
        else:
            assert schema == {"$ref": f"#/$defs/{published[0]['title']}"}
        for document in published:  # the same definitions as the published files
            for name, definition in document.get("$defs", {}).items():
                assert _local_refs(components[name]) == _local_refs(definition), name
        if kinds == ["report"]:
            assert _local_refs(components["Report"]) == _local_refs(
                {k: v for k, v in published[0].items() if k != "$defs"}
            )
        examples = content["examples"]
        assert examples
        for example, kind in zip(examples.values(), [*kinds, *kinds], strict=False):
            values = example["value"] if kind in ("batch", "compact") else [example["value"]]
            for value in values:
                assert problems(kind, json.dumps(value)) == [], (path, kind)
    batch = spec["paths"]["/v1/batch"]["post"]["responses"]["200"]["content"]["application/json"]
    assert [r["status"] for r in batch["examples"]["full"]["value"]] == ["ok", "error"]
    assert [r["sample"] for r in batch["examples"]["compact"]["value"]] == ["S1", "S2"]
