"""Render a Report as a FHIR R4 Bundle following the HL7 Genomics Reporting IG 3.0.0 PGx shape."""

from __future__ import annotations

import uuid
from typing import Any

from tpmt.models import GeneResult, Recommendation, Report
from tpmt.render.activity import activity_summary
from tpmt.render.text import alternative_line
from tpmt.severity import governing
from tpmt.vocab import Action, Gene, InputType, Phenotype

IG = "http://hl7.org/fhir/uv/genomics-reporting"
LOINC = "http://loinc.org"
TBD = f"{IG}/CodeSystem/tbd-codes-cs"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
HGNC = "http://www.genenames.org"
LOCAL_PHENOTYPE = (
    "urn:tpmt:phenotype"  # CPIC terms LOINC lacks (Possible IM, Indeterminate, No Result)
)
NAMESPACE = uuid.UUID("8a4c7d0e-2f8b-5d36-9c61-7b0d3e5a4f21")
HGNC_IDS = {Gene.TPMT: "HGNC:12014", Gene.NUDT15: "HGNC:23063"}
RXNORM_IDS = {"azathioprine": "1256", "mercaptopurine": "103", "thioguanine": "10485"}
LOINC_PHENOTYPES = {
    Phenotype.NORMAL: ("LA25391-6", "Normal metabolizer"),
    Phenotype.INTERMEDIATE: ("LA10317-8", "Intermediate metabolizer"),
    Phenotype.POOR: ("LA9657-3", "Poor metabolizer"),
}
TASK_CODES = {
    Action.REDUCE_DOSE: ("LA26422-8", "Decrease dose"),
    Action.CONSIDER_ALTERNATIVE: ("LA26421-0", "Consider alternative medication"),
}
CATEGORIES = [
    {
        "coding": [
            {
                "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                "code": "laboratory",
            }
        ]
    },
    {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": "GE"}]},
]


def _urn(*parts: str) -> str:
    return f"urn:uuid:{uuid.uuid5(NAMESPACE, '|'.join(parts))}"


def _coding(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    coding = {"system": system, "code": code}
    if display:
        coding["display"] = display
    return {"coding": [coding]}


def phenotype_concept(gene: Gene, phenotype: Phenotype) -> dict[str, Any]:
    """LOINC answer where one exists, else a local code; the CPIC wording as text."""
    if phenotype in LOINC_PHENOTYPES:
        code, display = LOINC_PHENOTYPES[phenotype]
        concept = _coding(LOINC, code, display)
    else:
        concept = _coding(
            LOCAL_PHENOTYPE, phenotype.value.lower().replace(" ", "-"), phenotype.value
        )
    concept["text"] = f"{gene.value} {phenotype.value}"
    return concept


def _gene_observation(
    key: str, gene: Gene, result: GeneResult, subject: dict[str, Any] | None
) -> dict[str, Any]:
    gene_component = {
        "code": _coding(LOINC, "48018-6", "Gene studied [ID]"),
        "valueCodeableConcept": _coding(HGNC, HGNC_IDS[gene], gene.value),
    }
    if result.diplotype is not None:
        profile, code, value = (
            "genotype",
            _coding(LOINC, "84413-4", "Genotype display name"),
            {
                "text": f"{gene.value} {result.diplotype}"
                + (" (presumptive)" if result.presumptive else "")
            },
        )
    else:
        source = next(iter(result.phenotype))
        profile = "genotype"
        code = _coding(LOINC, "84413-4", "Genotype display name")
        shown = result.input or result.input_type.value.replace("_", " ")
        value = {
            "text": f"{gene.value} diplotype not determined ({shown}; "
            f"{source} {result.phenotype[source].value})"
        }
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "meta": {"profile": [f"{IG}/StructureDefinition/{profile}"]},
        "status": "final",
        "category": CATEGORIES,
        "code": code,
        "valueCodeableConcept": value,
        "component": [gene_component],
    }
    if subject:
        resource["subject"] = subject
    if result.warnings or result.limitations:
        resource["note"] = [{"text": w} for w in [*result.limitations, *result.warnings]]
    if result.activity is not None:  # a measured TPMT activity: a note (no IG profile used)
        notes = [activity_summary(result.activity), result.activity.caveat]
        resource["note"] = [{"text": n} for n in notes] + resource.get("note", [])
    return {"fullUrl": key, "resource": resource}


def _implication(
    key: str,
    rec: Recommendation,
    genotype_keys: dict[Gene, str],
    report: Report,
    subject: dict[str, Any] | None,
) -> dict[str, Any]:
    components: list[dict[str, Any]] = [
        {
            "code": _coding(TBD, "therapeutic-implication"),
            "valueCodeableConcept": phenotype_concept(gene, phenotype),
        }
        for gene, phenotype in rec.lookup.items()
    ]
    components.append(
        {
            "code": _coding(LOINC, "51963-7", "Medication assessed [ID]"),
            "valueCodeableConcept": _coding(RXNORM, RXNORM_IDS[rec.drug.value], rec.drug.value),
        }
    )
    if rec.classification is not None:
        components.append(
            {
                "code": _coding(LOINC, "93044-6", "Level of evidence"),
                "valueCodeableConcept": {"text": f"{rec.source.value} {rec.classification.value}"},
            }
        )
    components.append(
        {
            "code": _coding(TBD, "conclusion-string"),
            "valueString": " ".join([rec.text, *rec.implications]),
        }
    )
    info = next(g for g in report.guidelines if g.id == rec.guideline)
    citation: dict[str, Any] = {
        "type": "citation",
        "label": f"{info.title} ({info.id}, {info.version})",
        "citation": f"PMID {info.pmid}" if info.pmid else info.title,
    }
    if info.doi:
        citation["url"] = f"https://doi.org/{info.doi}"
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "meta": {"profile": [f"{IG}/StructureDefinition/therapeutic-implication"]},
        "extension": [
            {
                "url": "http://hl7.org/fhir/StructureDefinition/workflow-relatedArtifact",
                "valueRelatedArtifact": citation,
            }
        ],
        "status": "final",
        "category": CATEGORIES,
        "code": _coding(TBD, "therapeutic-implication"),
        "derivedFrom": [{"reference": genotype_keys[gene]} for gene in rec.lookup],
        "component": components,
    }
    if subject:
        resource["subject"] = subject
    return {"fullUrl": key, "resource": resource}


def _task_text(rec: Recommendation) -> str:
    genes = "/".join(g.value for g in rec.genes)
    text = f"{rec.drug.value} ({rec.guideline}, {genes}, rule {rec.rule_id}): {rec.text}"
    if rec.alternatives:
        text += " More severe possibilities: " + " | ".join(
            alternative_line(alt) for alt in rec.alternatives
        )
    return text


def _task(
    key: str, rec: Recommendation, implication_key: str, subject: dict[str, Any] | None
) -> dict[str, Any]:
    actions = {step.action for step in rec.dosing}
    chosen = next(
        (a for a in (Action.CONSIDER_ALTERNATIVE, Action.REDUCE_DOSE) if a in actions), None
    )
    if chosen is not None:
        code, display = TASK_CODES[chosen]
        concept = _coding(LOINC, code, display)
        concept["text"] = ", ".join(sorted(a.value for a in actions))
    else:
        concept = {"text": ", ".join(sorted(a.value for a in actions))}
    resource: dict[str, Any] = {
        "resourceType": "Task",
        "meta": {"profile": [f"{IG}/StructureDefinition/medication-recommendation"]},
        "status": "requested",
        "intent": "proposal",
        "code": concept,
        "description": _task_text(rec),
        "reasonReference": {"reference": implication_key},
    }
    if subject:
        resource["for"] = subject
    return {"fullUrl": key, "resource": resource}


def report_to_bundle(report: Report) -> dict[str, Any]:
    """A FHIR R4 collection Bundle (JSON-ready dict); deterministic: ids come from the content."""
    sample = report.sample or "sample"
    subject = {"display": report.sample} if report.sample else None
    seed = [
        sample,
        *(g.sha256 for g in report.guidelines),
        *(f"{g}:{r.input}:{r.diplotype}" for g, r in report.genes.items()),
    ]
    genotype_keys = {gene: _urn(*seed, gene.value) for gene in report.genes}
    entries = [
        _gene_observation(genotype_keys[gene], gene, result, subject)
        for gene, result in report.genes.items()
        if result.input_type is not InputType.NOT_TESTED
    ]
    tested = {gene for gene, r in report.genes.items() if r.input_type is not InputType.NOT_TESTED}
    implications, tasks = [], []
    groups: dict[tuple[str, str], list[Recommendation]] = {}
    for rec in report.recommendations:
        rec_key = _urn(*seed, rec.rule_id)
        rec_copy = rec.model_copy(
            update={"lookup": {g: p for g, p in rec.lookup.items() if g in tested}}
        )
        implications.append(_implication(rec_key, rec_copy, genotype_keys, report, subject))
        groups.setdefault((rec.drug.value, rec.guideline), []).append(rec)
    for rows in groups.values():  # one Task per drug and rule set: the row that needs action
        rec = governing(rows)
        tasks.append(
            _task(_urn(*seed, rec.rule_id, "task"), rec, _urn(*seed, rec.rule_id), subject)
        )
    conclusion = "; ".join(
        f"{gene.value} {r.diplotype or '(no diplotype)'}"
        + (" (presumptive)" if r.presumptive else "")
        + ": "
        + ", ".join(f"{s.value} {p.value}" for s, p in r.phenotype.items())
        for gene, r in report.genes.items()
    )
    diagnostic: dict[str, Any] = {
        "resourceType": "DiagnosticReport",
        "meta": {"profile": [f"{IG}/StructureDefinition/genomic-report"]},
        "extension": [
            {
                "url": f"{IG}/StructureDefinition/recommended-action",
                "valueReference": {"reference": t["fullUrl"]},
            }
            for t in tasks
        ],
        "status": "final",
        "category": [CATEGORIES[1]],
        "code": _coding(LOINC, "51969-4", "Genetic analysis report"),
        "result": [{"reference": e["fullUrl"]} for e in [*entries, *implications]],
        "conclusion": conclusion,
    }
    if subject:
        diagnostic["subject"] = subject
    if report.sample:
        diagnostic["identifier"] = [{"value": report.sample}]
    report_entry = {"fullUrl": _urn(*seed, "report"), "resource": diagnostic}
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [report_entry, *entries, *implications, *tasks],
    }


def error_outcome(sample: str, message: str) -> dict[str, Any]:
    """An OperationOutcome standing in for a sample that could not be interpreted."""
    return {
        "resourceType": "OperationOutcome",
        "issue": [
            {"severity": "error", "code": "invalid", "diagnostics": f"sample {sample}: {message}"}
        ],
    }
