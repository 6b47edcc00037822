"""FHIR output: structurally valid R4 Bundles (fhir.resources R4B models) with the IG's codes."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from fhir.resources.R4B.bundle import Bundle
from typer.testing import CliRunner

from tpmt.cli import app
from tpmt.interpreter import Interpreter
from tpmt.render.fhir import report_to_bundle

PHENOTYPES = ["NM", "IM", "PIM", "PM", "Indeterminate", None]


def resources(bundle: dict, kind: str) -> list[dict]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def test_every_phenotype_pair_gives_a_valid_bundle(interpreter: Interpreter) -> None:
    for tpmt, nudt15 in itertools.product(PHENOTYPES, PHENOTYPES):
        if tpmt is None and nudt15 is None:
            continue
        bundle = report_to_bundle(interpreter.interpret(tpmt=tpmt, nudt15=nudt15))
        Bundle.model_validate(bundle)
        urls = {e["fullUrl"] for e in bundle["entry"]}
        for entry in bundle["entry"]:
            text = json.dumps(entry["resource"])
            for reference in text.split('"reference": "')[1:]:
                assert reference.split('"')[0] in urls  # every reference resolves in the bundle


def test_codes_follow_the_genomics_reporting_ig(interpreter: Interpreter) -> None:
    report = interpreter.interpret(
        tpmt="*1/*3A", nudt15="PIM", drugs=["azathioprine"], guidelines=["cpic"]
    )
    bundle = report_to_bundle(report)
    (diagnostic,) = resources(bundle, "DiagnosticReport")
    assert diagnostic["code"]["coding"][0]["code"] == "51969-4"
    genotypes = [
        o for o in resources(bundle, "Observation") if o["code"]["coding"][0]["code"] == "84413-4"
    ]
    assert [g["valueCodeableConcept"]["text"] for g in genotypes][0] == "TPMT *1/*3A"
    assert genotypes[0]["component"][0]["valueCodeableConcept"]["coding"][0]["code"] == "HGNC:12014"
    (implication,) = [
        o
        for o in resources(bundle, "Observation")
        if o["code"]["coding"][0]["code"] == "therapeutic-implication"
    ]
    values = [
        c["valueCodeableConcept"] for c in implication["component"] if "valueCodeableConcept" in c
    ]
    codes = [v["coding"][0]["code"] for v in values if "coding" in v]
    assert "LA10317-8" in codes  # TPMT Intermediate metabolizer
    assert "possible-intermediate-metabolizer" in codes  # local code: LOINC has none
    assert "1256" in codes  # RxNorm azathioprine
    assert (
        implication["extension"][0]["valueRelatedArtifact"]["url"]
        == "https://doi.org/10.1002/cpt.70209"
    )
    (task,) = resources(bundle, "Task")
    assert task["status"] == "requested" and task["intent"] == "proposal"
    assert task["code"]["coding"][0]["code"] == "LA26422-8"  # decrease dose
    assert task["reasonReference"]["reference"] in {e["fullUrl"] for e in bundle["entry"]}


def test_bundle_is_deterministic(interpreter: Interpreter) -> None:
    first = report_to_bundle(interpreter.interpret(tpmt="*1/*3A"))
    second = report_to_bundle(interpreter.interpret(tpmt="*3A/*1"))
    assert json.dumps(first) != ""  # both are produced
    assert [e["fullUrl"] for e in first["entry"]] != [
        e["fullUrl"] for e in second["entry"]
    ] or first == second


@pytest.mark.parametrize("command", ["lookup", "batch", "call"])
def test_cli_fhir_output_validates(command: str, tmp_path: Path, interpreter: Interpreter) -> None:
    runner = CliRunner()
    if command == "lookup":
        result = runner.invoke(app, ["lookup", "--tpmt", "PM", "--nudt15", "*1/*3", "-f", "fhir"])
        documents = [json.loads(result.stdout)]
    elif command == "batch":
        path = tmp_path / "in.tsv"
        path.write_text("sample_id\ttpmt\tnudt15\nA\t*1/*1\t*1/*3\nB\t*1/*99\t\n")
        result = runner.invoke(app, ["batch", str(path), "-f", "fhir"])
        documents = [json.loads(line) for line in result.stdout.splitlines()]
        assert documents[1]["resourceType"] == "OperationOutcome"
        documents = documents[:1]
    else:
        example = Path(__file__).resolve().parent.parent / "examples" / "call-vcf-tsv" / "input.vcf"
        result = runner.invoke(app, ["call", str(example), "-f", "fhir"])
        documents = [json.loads(line) for line in result.stdout.splitlines()]
        assert len(documents) == 4
    for document in documents:
        Bundle.model_validate(document)
