"""Render a Report as a FHIR R4 Bundle following the HL7 Genomics Reporting IG 3.0.0 PGx shape.

Codes are the IG 3.0.0 ones (its FSH sources, tag 3.0.0) unless noted: LOINC answers for the
metabolizer status come from its GeneticTherapeuticImplicationsVS, the Task codes from its
examples of the LL4049-4 binding. Every fullUrl is a uuid5 of the resource's own content (and
the sample), so equal content gives equal ids whatever the input's spelling.
"""

from __future__ import annotations

import datetime
import json
import re
import uuid
from dataclasses import dataclass
from typing import Any

from tpmt.comed import contraindications
from tpmt.errors import InputError
from tpmt.models import GeneResult, Recommendation, Report, SiteEvidence
from tpmt.render.activity import activity_summary
from tpmt.render.dose_text import step_line
from tpmt.render.safety_text import banner, comed_line, monitoring_summary
from tpmt.render.text import alternative_line
from tpmt.severity import governing
from tpmt.vocab import Action, Gene, InputType, Phenotype

IG = "http://hl7.org/fhir/uv/genomics-reporting"
LOINC = "http://loinc.org"
TBD = f"{IG}/CodeSystem/tbd-codes-cs"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
HGNC = "http://www.genenames.org"
REFSEQ = "http://www.ncbi.nlm.nih.gov/refseq"
DBSNP = "http://www.ncbi.nlm.nih.gov/projects/SNP"
LOCAL_PHENOTYPE = "urn:tpmt:phenotype"  # CPIC terms LOINC lacks (Possible IM, Indeterminate)
PROFILE = {
    name: f"{IG}/StructureDefinition/{name}"
    for name in (
        "genomic-report",
        "variant",
        "genotype",
        "therapeutic-implication",
        "medication-recommendation",
    )
}
NAMESPACE = uuid.UUID("8a4c7d0e-2f8b-5d36-9c61-7b0d3e5a4f21")
HGNC_IDS = {Gene.TPMT: "HGNC:12014", Gene.NUDT15: "HGNC:23063"}
# GRCh38 chromosome accessions (refSeqChromosomeId of the PharmCAT allele definitions)
CHROMOSOMES = {Gene.TPMT: "NC_000006.12", Gene.NUDT15: "NC_000013.11"}
RXNORM_IDS = {"azathioprine": "1256", "mercaptopurine": "103", "thioguanine": "10485"}
LOINC_PHENOTYPES = {
    Phenotype.NORMAL: ("LA25391-6", "Normal metabolizer"),
    Phenotype.INTERMEDIATE: ("LA10317-8", "Intermediate metabolizer"),
    Phenotype.POOR: ("LA9657-3", "Poor metabolizer"),
}
# LL4049-4 answers used by the IG's examples; "standard dose" has no verified answer, so those
# Tasks carry no code (the binding is required: a text-only code would break it)
TASK_CODES = {
    Action.CONSIDER_ALTERNATIVE: ("LA26421-0", "Consider alternative medication"),
    Action.REDUCE_DOSE: ("LA26422-8", "Decrease dose"),
}
# LL1971-2 (variant assessment; required binding). Present is in the IG's examples; Absent and
# No call as used by independent implementations of the IG.
PRESENT = ("LA9633-4", "Present")
ABSENT = ("LA9634-2", "Absent")
NO_CALL = ("LA18198-4", "No call")
ZYGOSITY = {1: ("LA6706-1", "Heterozygous"), 2: ("LA6705-3", "Homozygous")}
GRCH38 = ("LA26806-2", "GRCh38")
ONE_BASED = ("LA30102-0", "1-based character counting")
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
FHIR_ID = r"[A-Za-z0-9\-.]{1,64}"
PATIENT_REFERENCE = re.compile(rf"(?:https?://[^\s/]+(?:/[^\s/]+)*/)?Patient/{FHIR_ID}")
INSTANT = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?:Z|[+-][0-9]{2}:[0-9]{2})"
)
SAMPLE_PLACEHOLDER = "{sample}"
NOVEL = "novel allele"  # the caller's reason for a position with an unexpected allele


@dataclass(frozen=True)
class BundleOptions:
    """What the caller adds to every bundle: the patient reference and the issue time."""

    patient_ref: str | None = None  # Patient/<id> or an absolute URL; may contain {sample}
    issued: str | None = None  # FHIR instant


def check_issued(text: str) -> str:
    """``text`` if it is a FHIR instant (seconds and a time zone), else an InputError."""
    valid = INSTANT.fullmatch(text) is not None
    if valid:
        try:
            datetime.datetime.fromisoformat(text)
        except ValueError:
            valid = False
    if not valid:
        raise InputError(
            "the issue time needs a date and time with seconds and a time zone, "
            "e.g. 2025-06-01T09:30:00Z or 2025-06-01T11:30:00+02:00"
        )
    return text


def check_patient_ref(template: str) -> str:
    """``template`` if it is a Patient reference (with {sample} standing for an id part)."""
    if PATIENT_REFERENCE.fullmatch(template.replace(SAMPLE_PLACEHOLDER, "x")) is None:
        raise InputError(
            "the patient reference must be Patient/<id> or an absolute URL ending "
            "in /Patient/<id> (id: letters, digits, '-' and '.', at most 64); {sample} stands "
            "for each sample's id"
        )
    return template


def patient_reference(template: str, sample: str | None) -> str:
    """The reference for one report: ``template`` with {sample} replaced by its sample id."""
    check_patient_ref(template)
    if SAMPLE_PLACEHOLDER not in template:
        return template
    if sample is None:
        raise InputError("--patient-ref uses {sample} but the report has no sample id")
    reference = template.replace(SAMPLE_PLACEHOLDER, sample)
    if PATIENT_REFERENCE.fullmatch(reference) is None:
        raise InputError(
            "--patient-ref: a sample id is not usable as a FHIR id (letters, digits, '-' and "
            "'.', at most 64); give the references another way or rename the samples"
        )
    return reference


def _coding(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    coding = {"system": system, "code": code}
    if display:
        coding["display"] = display
    return {"coding": [coding]}


def _component(code: dict[str, Any], **value: Any) -> dict[str, Any]:
    return {"code": code, **value}


def _gene_component(gene: Gene) -> dict[str, Any]:
    return _component(
        _coding(LOINC, "48018-6", "Gene studied [ID]"),
        valueCodeableConcept=_coding(HGNC, HGNC_IDS[gene], gene.value),
    )


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


class _Entries:
    """Bundle entries keyed by their content: adding equal content twice gives one entry."""

    def __init__(self, sample: str | None, subject: dict[str, Any] | None, issued: str | None):
        self.sample = sample
        self.subject = subject
        self.issued = issued
        self.entries: list[dict[str, Any]] = []
        self.urls: set[str] = set()

    def observation(
        self,
        profile: str | None,
        code: dict[str, Any],
        extension: list[dict[str, Any]] | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """An Observation with the shared parts (category, subject, issued) filled in."""
        resource: dict[str, Any] = {"resourceType": "Observation"}
        if profile is not None:
            resource["meta"] = {"profile": [PROFILE[profile]]}
        if extension:
            resource["extension"] = extension
        resource.update(status="final", category=CATEGORIES, code=code)
        if self.subject is not None:
            resource["subject"] = self.subject
        if self.issued is not None:
            resource["issued"] = self.issued
        resource.update(fields)
        return resource

    def add(self, resource: dict[str, Any]) -> str:
        """Add ``resource`` (once) and return its fullUrl."""
        content = json.dumps([self.sample, resource], sort_keys=True, separators=(",", ":"))
        url = f"urn:uuid:{uuid.uuid5(NAMESPACE, content)}"
        if url not in self.urls:
            self.urls.add(url)
            self.entries.append({"fullUrl": url, "resource": resource})
        return url


def _alleles(site: SiteEvidence) -> list[str] | None:
    """The two alleles of a genotype as given (0 = reference), or None if not readable."""
    merged: list[str] | None = None
    for part in site.genotype.split("+"):  # split multi-allelic rows, merged by the caller
        alleles = [site.ref if a == "0" else a for a in re.split(r"[/|]", part)]
        if len(alleles) != 2 or not all(re.fullmatch(r"[ACGTN]+", a) for a in alleles):
            return None
        if merged is None:
            merged = alleles
        else:
            merged = [m if a == site.ref else a for m, a in zip(merged, alleles, strict=True)]
    return merged


def _site_components(gene: Gene, site: SiteEvidence) -> list[dict[str, Any]]:
    """Where a defining position is: gene, GRCh38 chromosome, 1-based span, reference, rsID."""
    components = [
        _gene_component(gene),
        _component(
            _coding(LOINC, "48013-7"), valueCodeableConcept=_coding(REFSEQ, CHROMOSOMES[gene])
        ),
        _component(_coding(LOINC, "62374-4"), valueCodeableConcept=_coding(LOINC, *GRCH38)),
        _component(_coding(LOINC, "92822-6"), valueCodeableConcept=_coding(LOINC, *ONE_BASED)),
        _component(
            _coding(LOINC, "81254-5"),
            valueRange={
                "low": {"value": site.position},
                "high": {"value": site.position + len(site.ref) - 1},
            },
        ),
        _component(_coding(LOINC, "69547-8"), valueString=site.ref),
    ]
    if site.rsid is not None:
        components.append(
            _component(_coding(LOINC, "81252-9"), valueCodeableConcept=_coding(DBSNP, site.rsid))
        )
    return components


def _variant_observations(entries: _Entries, gene: Gene, result: GeneResult) -> list[str]:
    """A Variant Observation per defining position tested (absent from the input: not tested).

    Present (one per alternate allele, with its zygosity) or Absent when the position was
    called; No call when it was read but not usable (no-call, quality, conflict); a novel
    allele is Present, with a note that it was not used.
    """
    urls: list[str] = []
    for site in result.evidence.sites if result.evidence is not None else ():
        if site.reason is not None and site.reason.startswith("absent"):
            continue
        readable = site.called or site.reason == NOVEL
        alleles = _alleles(site) if readable else None
        notes = [{"text": f"genotype as given: {site.genotype}"}]
        if site.reason is not None:
            notes.append({"text": f"not used for the call: {site.reason}"})
        values: list[tuple[tuple[str, str] | None, list[dict[str, Any]]]]
        if not readable or alleles is None:
            # no value when a called genotype cannot be read (the note shows it)
            values = [(NO_CALL if not readable else None, [])]
        else:
            alts = sorted({a for a in alleles if a != site.ref})
            values = (
                [(ABSENT, [])]
                if not alts
                else [
                    (
                        PRESENT,
                        [
                            _component(_coding(LOINC, "69551-0"), valueString=alt),
                            _component(
                                _coding(LOINC, "53034-5"),
                                valueCodeableConcept=_coding(LOINC, *ZYGOSITY[alleles.count(alt)]),
                            ),
                        ],
                    )
                    for alt in alts
                ]
            )
        for value, alt_components in values:
            fields: dict[str, Any] = {}
            if value is not None:
                fields["valueCodeableConcept"] = _coding(LOINC, *value)
            resource = entries.observation(
                "variant",
                _coding(LOINC, "69548-6", "Genetic variant assessment"),
                **fields,
                component=[*_site_components(gene, site), *alt_components],
                note=notes,
            )
            urls.append(entries.add(resource))
    return urls


def _genotype_observation(
    entries: _Entries, gene: Gene, result: GeneResult, variants: list[str]
) -> str | None:
    """The Genotype Observation of one gene, or None when no diplotype was determined."""
    if result.diplotype is None:
        return None
    text = f"{gene.value} {result.diplotype}" + (" (presumptive)" if result.presumptive else "")
    fields: dict[str, Any] = {"valueCodeableConcept": {"text": text}}
    if variants:
        fields["derivedFrom"] = [{"reference": url} for url in variants]
    fields["component"] = [_gene_component(gene)]
    if result.warnings or result.limitations:
        fields["note"] = [{"text": w} for w in [*result.limitations, *result.warnings]]
    return entries.add(
        entries.observation(
            "genotype", _coding(LOINC, "84413-4", "Genotype display name"), **fields
        )
    )


def _phenotype_observations(
    entries: _Entries, gene: Gene, result: GeneResult, sources: list[str]
) -> dict[Phenotype, str]:
    """One Observation per distinct phenotype of a gene (the rule sets may disagree).

    With a genotype or variants to derive it from it is a therapeutic-implication; from a
    phenotype given as input it is a plain Observation (LOINC 53040-2), since the IG requires
    an implication to be derived from a finding and there is none.
    """
    by_phenotype: dict[Phenotype, list[str]] = {}
    for source, phenotype in result.phenotype.items():
        if phenotype is not Phenotype.NO_RESULT:
            by_phenotype.setdefault(phenotype, []).append(source.value)
    urls: dict[Phenotype, str] = {}
    for phenotype, bodies in by_phenotype.items():
        concept = phenotype_concept(gene, phenotype)
        components = [
            _gene_component(gene),
            _component(_coding(TBD, "therapeutic-implication"), valueCodeableConcept=concept),
            _component(
                _coding(TBD, "conclusion-string"),
                valueString=f"{concept['text']} ({', '.join(bodies)})",
            ),
        ]
        given = f"{gene.value} phenotype given as input; no genotype reported"
        notes = [given] if result.activity is None else []
        if result.activity is not None:  # a measured TPMT activity: its summary and caveat
            notes = [activity_summary(result.activity), result.activity.caveat]
        if sources:
            resource = entries.observation(
                "therapeutic-implication",
                _coding(TBD, "therapeutic-implication"),
                derivedFrom=[{"reference": url} for url in sources],
                component=components,
                **({"note": [{"text": n} for n in notes]} if result.activity else {}),
            )
        else:
            resource = entries.observation(
                None,
                _coding(LOINC, "53040-2", "Genetic variation's effect on drug metabolism"),
                valueCodeableConcept=concept,
                component=[components[0], components[2]],
                note=[{"text": n} for n in notes],
            )
        urls[phenotype] = entries.add(resource)
    return urls


def _implication(entries: _Entries, rec: Recommendation, report: Report, derived: list[str]) -> str:
    """One guideline row for one drug: no phenotype of its own, derived from the genes' ones."""
    components: list[dict[str, Any]] = [
        _component(
            _coding(LOINC, "51963-7", "Medication assessed [ID]"),
            valueCodeableConcept=_coding(RXNORM, RXNORM_IDS[rec.drug.value], rec.drug.value),
        )
    ]
    if rec.classification is not None:
        components.append(
            _component(
                _coding(LOINC, "93044-6", "Level of evidence"),
                valueCodeableConcept={"text": f"{rec.source.value} {rec.classification.value}"},
            )
        )
    components.append(
        _component(
            _coding(TBD, "conclusion-string"), valueString=" ".join([rec.text, *rec.implications])
        )
    )
    info = next(g for g in report.guidelines if g.id == rec.guideline)
    citation: dict[str, Any] = {
        "type": "citation",
        "label": f"{info.title} ({info.id}, {info.version})",
        "citation": f"PMID {info.pmid}" if info.pmid else info.title,
    }
    if info.doi:
        citation["url"] = f"https://doi.org/{info.doi}"
    artifact = {
        "url": "http://hl7.org/fhir/StructureDefinition/workflow-relatedArtifact",
        "valueRelatedArtifact": citation,
    }
    resource = entries.observation(
        "therapeutic-implication",
        _coding(TBD, "therapeutic-implication"),
        extension=[artifact],
        derivedFrom=[{"reference": url} for url in derived],
        component=components,
    )
    return entries.add(resource)


def _task_text(rec: Recommendation) -> str:
    genes = "/".join(g.value for g in rec.genes)
    actions = ", ".join(sorted({step.action.value for step in rec.dosing}))
    text = f"{rec.drug.value} ({rec.guideline}, {genes}, rule {rec.rule_id}; {actions}): {rec.text}"
    if rec.alternatives:
        text += " More severe possibilities: " + " | ".join(
            alternative_line(alt) for alt in rec.alternatives
        )
    if rec.comed:
        text += " Co-medication: " + " | ".join(comed_line(s) for s in rec.comed)
    if rec.dose:
        text += " Dose in mg: " + " | ".join(step_line(step) for step in rec.dose)
    return text


def _monitoring_task(entries: _Entries, rec: Recommendation, task: str, implication: str) -> str:
    """A follow-up Task for the label's monitoring, part of the drug's recommendation Task.

    No code: LL4049-4 (required binding) has no monitoring answer, and text alone would break
    the binding; the description says what to monitor and when."""
    assert rec.monitoring is not None
    resource: dict[str, Any] = {
        "resourceType": "Task",
        "meta": {"profile": [PROFILE["medication-recommendation"]]},
        "partOf": [{"reference": task}],
        "status": "requested",
        "intent": "proposal",
        "description": f"Monitoring for {rec.drug.value} ({rec.guideline}, rule {rec.rule_id}): "
        + monitoring_summary(rec.monitoring),
    }
    if entries.subject is not None:
        resource["for"] = entries.subject
    resource["reasonReference"] = {"reference": implication}
    return entries.add(resource)


def _task(entries: _Entries, rec: Recommendation, implication: str) -> str:
    actions = {step.action for step in rec.dosing}
    chosen = next((a for a in TASK_CODES if a in actions), None)
    resource: dict[str, Any] = {
        "resourceType": "Task",
        "meta": {"profile": [PROFILE["medication-recommendation"]]},
        "status": "requested",
        "intent": "proposal",
    }
    against = contraindications(rec)  # overrides the dose: no dose code, said first
    if chosen is not None and not against:
        resource["code"] = _coding(LOINC, *TASK_CODES[chosen])
    resource["description"] = "".join(banner(st) + ". " for st in against) + _task_text(rec)
    if entries.subject is not None:
        resource["for"] = entries.subject
    resource["reasonReference"] = {"reference": implication}
    return entries.add(resource)


def report_to_bundle(report: Report, options: BundleOptions | None = None) -> dict[str, Any]:
    """A FHIR R4 collection Bundle (JSON-ready dict); deterministic: ids come from the content.

    ``options``: the subject and issue time (default: none of either).
    """
    options = options or BundleOptions()
    subject = None
    if options.patient_ref is not None:
        subject = {"reference": patient_reference(options.patient_ref, report.sample)}
    issued = check_issued(options.issued) if options.issued is not None else None
    entries = _Entries(report.sample, subject, issued)
    findings: list[str] = []
    phenotypes: dict[Gene, dict[Phenotype, str]] = {}
    genotypes: dict[Gene, str] = {}
    for gene, result in report.genes.items():
        if result.input_type is InputType.NOT_TESTED:
            continue
        variants = _variant_observations(entries, gene, result)
        genotype = _genotype_observation(entries, gene, result, variants)
        if genotype is not None:
            genotypes[gene] = genotype
        sources = [genotype] if genotype is not None else variants
        phenotypes[gene] = _phenotype_observations(entries, gene, result, sources)
        findings += [*variants, *([genotype] if genotype else []), *phenotypes[gene].values()]
    implications, tasks = [], []
    groups: dict[tuple[str, str], list[tuple[Recommendation, str]]] = {}
    for rec in report.recommendations:
        derived = [
            url
            for gene, phenotype in rec.lookup.items()
            for url in (genotypes.get(gene), phenotypes.get(gene, {}).get(phenotype))
            if url is not None
        ]
        implication = _implication(entries, rec, report, derived)
        implications.append(implication)
        groups.setdefault((rec.drug.value, rec.guideline), []).append((rec, implication))
    for rows in groups.values():  # one Task per drug and rule set: the row that needs action
        rec = governing([r for r, _ in rows])
        implication = next(url for r, url in rows if r is rec)
        tasks.append(_task(entries, rec, implication))
        if rec.monitoring is not None:  # its follow-up: the label's monitoring
            tasks.append(_monitoring_task(entries, rec, tasks[-1], implication))
    conclusion = "; ".join(
        f"{gene.value} {r.diplotype or '(no diplotype)'}"
        + (" (presumptive)" if r.presumptive else "")
        + ": "
        + ", ".join(f"{s.value} {p.value}" for s, p in r.phenotype.items())
        for gene, r in report.genes.items()
    )
    diagnostic: dict[str, Any] = {
        "resourceType": "DiagnosticReport",
        "meta": {"profile": [PROFILE["genomic-report"]]},
        "extension": [
            {
                "url": f"{IG}/StructureDefinition/recommended-action",
                "valueReference": {"reference": url},
            }
            for url in tasks
        ],
        "status": "final",
        "category": [CATEGORIES[1]],
        "code": _coding(LOINC, "51969-4", "Genetic analysis report"),
    }
    if subject is not None:
        diagnostic["subject"] = subject
    if issued is not None:
        diagnostic["issued"] = issued
    if report.sample:
        diagnostic["identifier"] = [{"value": report.sample}]
    diagnostic["result"] = [{"reference": url} for url in [*findings, *implications]]
    diagnostic["conclusion"] = conclusion
    report_url = entries.add(diagnostic)
    head = next(e for e in entries.entries if e["fullUrl"] == report_url)
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [head, *(e for e in entries.entries if e is not head)],
    }


def error_outcome(sample: str, message: str) -> dict[str, Any]:
    """An OperationOutcome standing in for a sample that could not be interpreted."""
    return {
        "resourceType": "OperationOutcome",
        "issue": [
            {"severity": "error", "code": "invalid", "diagnostics": f"sample {sample}: {message}"}
        ],
    }
