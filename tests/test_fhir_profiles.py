"""FHIR bundles checked against the HL7 Genomics Reporting IG 3.0.0 (STU3, FHIR R4) profiles.

Structure: the fhir.resources R4B models (R4B differs from the IG's R4 4.0.1 in no element used
here). Profiles: the rules below, taken from the IG's FSH sources (tag 3.0.0): meta.profile,
fixed codes, required bindings, category slices, one gene per Observation, references that
resolve within the bundle, and a subject exactly when --patient-ref is given.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from typer.testing import CliRunner

from conftest import ROOT
from tpmt.cli import app

IG = "http://hl7.org/fhir/uv/genomics-reporting/StructureDefinition/"
LOINC = "http://loinc.org"
TBD = "http://hl7.org/fhir/uv/genomics-reporting/CodeSystem/tbd-codes-cs"
GENES = {"HGNC:12014": "TPMT", "HGNC:23063": "NUDT15"}
# GeneticTherapeuticImplicationsVS (extensible): the metabolizer answers tpmt uses ...
METABOLIZER = {"LA25391-6", "LA10317-8", "LA9657-3"}
# ... and the two CPIC terms LOINC has no answer for, under the local system
LOCAL = {"possible-intermediate-metabolizer", "indeterminate"}
TASK_CODES = {"LA26421-0", "LA26422-8"}  # LL4049-4 (required): consider alternative, decrease
VARIANT_VALUES = {"LA9633-4", "LA9634-2", "LA18198-4"}  # LL1971-2 (required)
VARIANT_COMPONENTS = {
    "48018-6",  # gene studied
    "48013-7",  # genomic reference sequence
    "62374-4",  # reference sequence assembly
    "92822-6",  # coordinate system
    "81254-5",  # exact start-end
    "69547-8",  # ref allele
    "69551-0",  # alt allele
    "81252-9",  # variation code (dbSNP)
    "53034-5",  # allelic state
}
VCFS = sorted(
    [*ROOT.glob("examples/*/input.vcf"), *ROOT.glob("tests/data/pharmcat/*/*.vcf")],
    key=lambda p: str(p.relative_to(ROOT)),
)


def code(concept: dict[str, Any]) -> tuple[str, str]:
    (coding,) = concept["coding"]
    return coding["system"], coding["code"]


def components(resource: dict[str, Any], loinc_or_tbd: str) -> list[dict[str, Any]]:
    return [c for c in resource.get("component", []) if code(c["code"])[1] == loinc_or_tbd]


def profile(resource: dict[str, Any]) -> str | None:
    profiles = resource.get("meta", {}).get("profile")
    if profiles is None:
        return None
    (url,) = profiles
    assert url.startswith(IG), url
    return str(url[len(IG) :])


def check_bundle(bundle: dict[str, Any], patient: str | None) -> dict[str, list[dict[str, Any]]]:
    """Assert every profile rule; return the resources by profile (plain: no profile)."""
    Bundle.model_validate(bundle)
    assert bundle["type"] == "collection"
    urls = [e["fullUrl"] for e in bundle["entry"]]
    assert len(set(urls)) == len(urls)
    by_url = {e["fullUrl"]: e["resource"] for e in bundle["entry"]}
    kinds: dict[str, list[dict[str, Any]]] = {}
    for resource in by_url.values():
        kinds.setdefault(profile(resource) or "plain", []).append(resource)
        text = json.dumps(resource)
        for reference in text.split('"reference": "')[1:]:
            target = reference.split('"')[0]
            assert target in by_url or target == patient, target
        subject = resource.get("for" if resource["resourceType"] == "Task" else "subject")
        assert subject == ({"reference": patient} if patient else None)
    assert set(kinds) <= {
        "genomic-report",
        "variant",
        "genotype",
        "therapeutic-implication",
        "medication-recommendation",
        "plain",
    }

    def profile_of(url: str) -> str:
        return profile(by_url[url]) or "plain"

    (report,) = kinds["genomic-report"]
    assert bundle["entry"][0]["resource"] is report
    assert code(report["code"]) == (LOINC, "51969-4")
    assert report["category"] == [
        {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": "GE"}]}
    ]
    observations = [u for u, r in by_url.items() if r["resourceType"] == "Observation"]
    assert [r["reference"] for r in report["result"]] == observations
    tasks = [u for u, r in by_url.items() if r["resourceType"] == "Task"]
    assert [e["valueReference"]["reference"] for e in report["extension"]] == tasks
    for url in observations:
        observation = by_url[url]
        assert observation["status"] == "final"
        assert [code(c) for c in observation["category"]] == [
            ("http://terminology.hl7.org/CodeSystem/observation-category", "laboratory"),
            ("http://terminology.hl7.org/CodeSystem/v2-0074", "GE"),
        ]
        genes = components(observation, "48018-6")
        assert len(genes) <= 1  # one gene per Observation
        for gene in genes:
            system, hgnc = code(gene["valueCodeableConcept"])
            assert system == "http://www.genenames.org" and hgnc in GENES
            assert gene["valueCodeableConcept"]["coding"][0]["display"] == GENES[hgnc]
        kind = profile_of(url)
        if kind == "variant":
            assert code(observation["code"]) == (LOINC, "69548-6") and len(genes) == 1
            names = [code(c["code"])[1] for c in observation["component"]]
            assert set(names) <= VARIANT_COMPONENTS and len(names) == len(set(names))
            value = observation.get("valueCodeableConcept")
            if value is not None:
                assert code(value)[0] == LOINC and code(value)[1] in VARIANT_VALUES
            present = value is not None and code(value)[1] == "LA9633-4"
            assert ("69551-0" in names) == present == ("53034-5" in names)
            (start_end,) = components(observation, "81254-5")
            assert (
                start_end["valueRange"]["low"]["value"] <= start_end["valueRange"]["high"]["value"]
            )
        elif kind == "genotype":
            assert code(observation["code"]) == (LOINC, "84413-4") and len(genes) == 1
            assert observation["valueCodeableConcept"]["text"].startswith(
                GENES[code(genes[0]["valueCodeableConcept"])[1]] + " *"
            )
            for source in observation.get("derivedFrom", []):
                assert profile_of(source["reference"]) == "variant"
        elif kind == "therapeutic-implication":
            assert code(observation["code"]) == (TBD, "therapeutic-implication")
            assert not any(k.startswith("value") for k in observation)  # value[x] 0..0
            sources = [s["reference"] for s in observation["derivedFrom"]]
            assert sources  # derivedFrom 1..*
            phenotype = components(observation, "therapeutic-implication")
            drug = components(observation, "51963-7")
            assert len(phenotype) + len(drug) == 1  # a gene's phenotype, or a drug's advice
            if phenotype:
                check_phenotype(phenotype[0]["valueCodeableConcept"])
                assert len(genes) == 1
                assert {profile_of(s) for s in sources} <= {"genotype", "variant"}
            else:
                assert not genes
                assert code(drug[0]["valueCodeableConcept"]) in {
                    ("http://www.nlm.nih.gov/research/umls/rxnorm", rx)
                    for rx in ("1256", "103", "10485")
                }
                assert {profile_of(s) for s in sources} <= {
                    "genotype",
                    "therapeutic-implication",
                    "plain",
                }
        else:  # a phenotype given as input: no finding to derive an implication from
            assert kind == "plain" and "derivedFrom" not in observation
            assert code(observation["code"]) == (LOINC, "53040-2") and len(genes) == 1
            check_phenotype(observation["valueCodeableConcept"])
    for url in tasks:
        task = by_url[url]
        assert profile(task) == "medication-recommendation"
        assert task["status"] == "requested" and task["intent"] == "proposal"
        if "code" in task:  # required binding: a coded LL4049-4 answer, never text alone
            assert code(task["code"]) in {(LOINC, c) for c in TASK_CODES}
        reason = by_url[task["reasonReference"]["reference"]]
        assert profile(reason) == "therapeutic-implication" and components(reason, "51963-7")
    return kinds


def check_phenotype(concept: dict[str, Any]) -> None:
    system, value = code(concept)
    assert (system, value in METABOLIZER) == (LOINC, True) or (
        system == "urn:tpmt:phenotype" and value in LOCAL
    ), concept


def fhir(*args: str) -> list[dict[str, Any]]:
    result = CliRunner().invoke(app, [*args, "--format", "fhir"])
    assert result.exit_code in (0, 3), result.output
    text = result.stdout
    if args[0] == "lookup":
        return [json.loads(text)]
    return [json.loads(line) for line in text.splitlines()]


@pytest.mark.parametrize("patient", [None, "Patient/p-1"])
def test_lookup_of_two_diplotypes(patient: str | None) -> None:
    extra = ["--patient-ref", patient] if patient else []
    (bundle,) = fhir("lookup", "--tpmt", "*1/*3A", "--nudt15", "*1/*3", *extra)
    kinds = check_bundle(bundle, patient)
    assert [r["valueCodeableConcept"]["text"] for r in kinds["genotype"]] == [
        "TPMT *1/*3A",
        "NUDT15 *1/*3",
    ]
    assert "variant" not in kinds and "plain" not in kinds  # typed diplotypes: no variants
    phenotypes = [r for r in kinds["therapeutic-implication"] if components(r, "48018-6")]
    assert [code(p["component"][1]["valueCodeableConcept"]) for p in phenotypes] == [
        (LOINC, "LA10317-8"),
        (LOINC, "LA10317-8"),
    ]
    tasks = [t for t in kinds["medication-recommendation"] if "partOf" not in t]
    assert len(tasks) == 6  # 3 drugs x (CPIC, DPWG), each with a monitoring follow-up
    assert len(kinds["medication-recommendation"]) == 12
    assert {code(t["code"]) for t in tasks} == {(LOINC, "LA26422-8")}


def test_lookup_of_a_phenotype_only() -> None:
    (bundle,) = fhir("lookup", "--tpmt", "PM", "-d", "thioguanine", "-g", "cpic")
    kinds = check_bundle(bundle, None)
    assert "genotype" not in kinds  # a phenotype is no genotype
    (plain,) = kinds["plain"]
    assert plain["valueCodeableConcept"]["coding"] == [
        {"system": LOINC, "code": "LA9657-3", "display": "Poor metabolizer"}
    ]
    (implication,) = kinds["therapeutic-implication"]
    task, follow_up = kinds["medication-recommendation"]
    assert "code" not in follow_up and follow_up["description"].startswith("Monitoring for ")
    assert code(task["code"]) == (LOINC, "LA26422-8")  # thioguanine PM: reduce the dose


def test_lookup_of_one_gene_with_standard_dose_has_no_task_code() -> None:
    (bundle,) = fhir("lookup", "--nudt15", "*1/*1", "-d", "mercaptopurine")
    kinds = check_bundle(bundle, None)
    assert [r["valueCodeableConcept"]["text"] for r in kinds["genotype"]] == ["NUDT15 *1/*1"]
    assert kinds["medication-recommendation"]
    for task in kinds["medication-recommendation"]:  # standard dose: LL4049-4 has no
        assert "code" not in task  # verified answer, and text alone breaks the binding
        if "partOf" not in task:  # not the monitoring follow-up
            assert "standard_dose" in task["description"]


def test_every_phenotype_pair(tmp_path: Path) -> None:
    """All 35 pairs of phenotypes (and not tested) through batch, with a patient per row."""
    values = ["NM", "IM", "PIM", "PM", "Indeterminate", ""]
    rows = [(t, n) for t in values for n in values if t or n]
    path = tmp_path / "in.tsv"
    path.write_text(
        "sample_id\ttpmt\tnudt15\n" + "".join(f"S{i}\t{t}\t{n}\n" for i, (t, n) in enumerate(rows))
    )
    bundles = fhir("batch", str(path), "--patient-ref", "https://ehr.example/fhir/Patient/{sample}")
    assert len(bundles) == len(rows)
    for i, bundle in enumerate(bundles):
        kinds = check_bundle(bundle, f"https://ehr.example/fhir/Patient/S{i}")
        assert "genotype" not in kinds and "variant" not in kinds
        assert len(kinds["plain"]) == sum(1 for v in rows[i] if v)


def test_batch_rows_that_fail_stay_operation_outcomes(tmp_path: Path) -> None:
    path = tmp_path / "in.tsv"
    path.write_text("sample_id\ttpmt\tnudt15\nA\t*1/*1\t*1/*3\nB\t*1/*99\t\n")
    bundle, outcome = fhir("batch", str(path), "--issued", "2025-06-01T09:30:00Z")
    kinds = check_bundle(bundle, None)
    assert {r.get("issued") for r in kinds["genotype"]} == {"2025-06-01T09:30:00Z"}
    assert outcome["resourceType"] == "OperationOutcome"


@pytest.mark.parametrize("vcf", VCFS, ids=lambda p: str(p.relative_to(ROOT)))
def test_call_bundles_carry_a_variant_per_position_tested(vcf: Path) -> None:
    result = CliRunner().invoke(app, ["call", str(vcf), "-f", "jsonl"])
    reports = [json.loads(line) for line in result.stdout.splitlines()]
    bundles = fhir("call", str(vcf), "--patient-ref", "Patient/{sample}")
    assert len(bundles) == len(reports)
    for report, bundle in zip(reports, bundles, strict=True):
        if report.get("status") == "error":
            assert bundle["resourceType"] == "OperationOutcome"
            continue
        kinds = check_bundle(bundle, f"Patient/{report['sample']}")
        tested = [
            site
            for gene in report["genes"].values()
            for site in (gene["evidence"] or {"sites": []})["sites"]
            if not (site["reason"] or "").startswith("absent")
        ]
        variants = kinds.get("variant", [])
        positions = [components(v, "81254-5")[0]["valueRange"]["low"]["value"] for v in variants]
        assert sorted(set(positions)) == sorted(s["position"] for s in tested)
        for gene, genotype in zip(
            [g for g in report["genes"].values() if g["diplotype"]],
            kinds.get("genotype", []),
            strict=True,
        ):
            assert (
                genotype["valueCodeableConcept"]["text"]
                .split(" ", 1)[1]
                .startswith(gene["diplotype"])
            )


def test_call_variants_of_a_heterozygous_star_3a() -> None:
    """TPMT *1/*3A from PharmCAT's het3a.vcf: the two *3A positions, present, heterozygous."""
    (bundle,) = fhir("call", str(ROOT / "tests/data/pharmcat/TPMT/het3a.vcf"))
    kinds = check_bundle(bundle, None)
    present = [
        v for v in kinds["variant"] if code(v["valueCodeableConcept"]) == (LOINC, "LA9633-4")
    ]
    summary = [
        (
            components(v, "81254-5")[0]["valueRange"]["low"]["value"],
            code(components(v, "81252-9")[0]["valueCodeableConcept"])[1],
            components(v, "69547-8")[0]["valueString"],
            components(v, "69551-0")[0]["valueString"],
            code(components(v, "53034-5")[0]["valueCodeableConcept"]),
            code(components(v, "48013-7")[0]["valueCodeableConcept"]),
        )
        for v in present
    ]
    refseq = ("http://www.ncbi.nlm.nih.gov/refseq", "NC_000006.12")
    assert summary == [
        (18130687, "rs1142345", "T", "C", (LOINC, "LA6706-1"), refseq),
        (18138997, "rs1800460", "C", "T", (LOINC, "LA6706-1"), refseq),
    ]
    assert len(kinds["variant"]) == 30  # 45 defining positions, 15 absent from the file
    (genotype,) = kinds["genotype"]
    assert genotype["valueCodeableConcept"]["text"] == "TPMT *1/*3A (presumptive)"  # 15 untested
    assert len(genotype["derivedFrom"]) == 30


def test_a_fixed_patient_is_refused_for_many_samples(tmp_path: Path) -> None:
    path = tmp_path / "in.tsv"
    path.write_text("sample_id\ttpmt\nA\t*1/*1\nB\t*1/*3A\n")
    refused = CliRunner().invoke(
        app, ["batch", str(path), "-f", "fhir", "--patient-ref", "Patient/1"]
    )
    assert refused.exit_code == 2 and "{sample}" in refused.output
    vcf = str(ROOT / "examples/call-vcf-tsv/input.vcf")
    refused = CliRunner().invoke(app, ["call", vcf, "-f", "fhir", "--patient-ref", "Patient/1"])
    assert refused.exit_code == 2


def test_a_fixed_patient_is_accepted_for_one_called_sample() -> None:
    vcf = ROOT / "examples/call-vcf-tsv/input.vcf"
    sample = next(
        line.split("\t")[9].strip()
        for line in vcf.read_text().splitlines()
        if line.startswith("#CHROM")
    )
    bundles = fhir("call", str(vcf), "--sample", sample, "--patient-ref", "Patient/1")
    (bundle,) = bundles
    check_bundle(bundle, "Patient/1")


@pytest.mark.parametrize(
    ("args", "exit_code"),
    [
        (["--issued", "2025-06-01"], 2),  # a date is no instant
        (["--issued", "2025-02-30T10:00:00Z"], 2),
        (["--issued", "2025-06-01T10:00:00"], 2),  # no time zone
        (["--patient-ref", "123"], 2),
        (["--patient-ref", "Patient/a_b"], 2),
        (["--patient-ref", "Practitioner/1"], 2),
        (["--patient-ref", "Patient/{sample}"], 3),  # no --sample to fill it
    ],
)
def test_bad_fhir_options(args: list[str], exit_code: int) -> None:
    result = CliRunner().invoke(app, ["lookup", "--tpmt", "IM", "-f", "fhir", *args])
    assert result.exit_code == exit_code, result.output
    assert result.stdout == ""


def test_a_sample_id_that_is_no_fhir_id_fails_the_run_and_leaves_no_file(tmp_path: Path) -> None:
    path = tmp_path / "in.tsv"
    path.write_text("sample_id\ttpmt\nA\t*1/*1\nB_2\t*1/*3A\n")
    out = tmp_path / "out.ndjson"
    result = CliRunner().invoke(
        app, ["batch", str(path), "-f", "fhir", "--patient-ref", "Patient/{sample}", "-o", str(out)]
    )
    assert result.exit_code == 3
    assert "not usable as a FHIR id" in result.output and "B_2" not in result.output
    assert not out.exists()


def variant_summary(bundle: dict[str, Any]) -> list[tuple[Any, ...]]:
    """(value, position, rsID, ref, alt, zygosity, notes) of each variant not Absent."""
    rows = []
    for entry in bundle["entry"]:
        resource = entry["resource"]
        if profile(resource) != "variant":
            continue
        value = code(resource["valueCodeableConcept"])[1]
        if value == "LA9634-2":
            continue
        parts = {code(c["code"])[1]: c for c in resource["component"]}
        rows.append(
            (
                value,
                parts["81254-5"]["valueRange"]["low"]["value"],
                code(parts["81252-9"]["valueCodeableConcept"])[1],
                parts["69547-8"]["valueString"],
                parts["69551-0"]["valueString"] if "69551-0" in parts else None,
                code(parts["53034-5"]["valueCodeableConcept"])[1] if "53034-5" in parts else None,
                [n["text"] for n in resource["note"]],
            )
        )
    return rows


def test_a_call_that_failed_quality_is_a_no_call_variant() -> None:
    """examples/call-variant-only: NUDT15 c.415C>T seen with GQ 7, below the minimum 20."""
    (bundle,) = fhir("call", str(ROOT / "examples/call-variant-only/input.vcf"))
    check_bundle(bundle, None)
    assert variant_summary(bundle) == [
        ("LA9633-4", 18130687, "rs1142345", "T", "C", "LA6706-1", ["genotype as given: T/C"]),
        (
            "LA18198-4",  # No call: the genotype shown is not asserted
            48045719,
            "rs116855232",
            "C",
            None,
            None,
            ["genotype as given: C/T", "not used for the call: GQ 7 < 20"],
        ),
    ]


def test_a_novel_allele_is_a_present_variant_that_was_not_used() -> None:
    (bundle,) = fhir("call", str(ROOT / "tests/data/pharmcat/TPMT/unexpected.allele.vcf"))
    kinds = check_bundle(bundle, None)
    assert variant_summary(bundle) == [
        (
            "LA9633-4",
            18147910,
            "rs72552740",
            "A",
            "T",
            "LA6705-3",  # homozygous
            ["genotype as given: T/T", "not used for the call: novel allele"],
        )
    ]
    assert "genotype" not in kinds  # no diplotype called
    (phenotype,) = [r for r in kinds["therapeutic-implication"] if components(r, "48018-6")]
    assert code(components(phenotype, "therapeutic-implication")[0]["valueCodeableConcept"]) == (
        "urn:tpmt:phenotype",
        "indeterminate",
    )
    assert len(phenotype["derivedFrom"]) == len(kinds["variant"])  # derived from the variants
