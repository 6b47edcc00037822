"""Render batch records as JSON lines or LIMS-friendly TSV (a row per sample, drug, guideline)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from tpmt.batch import BatchRecord
from tpmt.guideline_schema import DosingStep
from tpmt.models import Report
from tpmt.render.text import alternative_line
from tpmt.vocab import Gene

TSV_COLUMNS = [
    "sample",
    "status",
    "drug",
    "guideline",
    "source",
    "genes",
    "TPMT_input",
    "TPMT_diplotype",
    "TPMT_phenotype",
    "NUDT15_input",
    "NUDT15_diplotype",
    "NUDT15_phenotype",
    "classification",
    "condition",
    "action",
    "percent_min",
    "percent_max",
    "frequency",
    "rule_id",
    "source_id",
    "references",
    "alternatives",
    "warnings",
    "message",
]


def _cell(value: object) -> str:
    text = "" if value is None else f"{value:g}" if isinstance(value, float) else str(value)
    return text.replace("\t", " ").replace("\r", " ").replace("\n", " ")


def _step_cells(step: DosingStep | None) -> list[object]:
    if step is None:
        return ["", "", "", "", ""]
    percent = step.percent_of_standard
    return [
        step.condition.value,
        step.action.value,
        percent.min if percent else None,
        percent.max if percent else None,
        step.frequency.value if step.frequency else None,
    ]


def _rows_for(report: Report) -> list[str]:
    """TSV lines of one report without the leading sample and status cells."""
    lines = []
    warnings_by_gene = [w for g in report.genes.values() for w in g.warnings]
    for rec in report.recommendations:
        genes = []
        for gene in Gene:
            result = report.genes[gene]
            genes += [result.input, result.diplotype, result.phenotype.get(rec.source)]
        references = ";".join(
            f"PMID:{r.pmid}" if r.pmid else f"doi:{r.doi}" if r.doi else r.url or ""
            for r in rec.references
        )
        warnings = " | ".join([*warnings_by_gene, *rec.warnings])
        alternatives = " | ".join(alternative_line(alt) for alt in rec.alternatives)
        # one line per dosing step, so each condition (malignancy / nonmalignancy) is its own row
        steps: list[DosingStep | None] = list(rec.dosing) or [None]
        for step in steps:
            cells = [
                rec.drug.value,
                rec.guideline,
                rec.source.value,
                "+".join(g.value for g in rec.genes),
                *genes,
                rec.classification.value if rec.classification else None,
                *_step_cells(step),
                rec.rule_id,
                rec.source_id,
                references,
                alternatives,
                warnings,
                None,
            ]
            lines.append("\t".join(_cell(c) for c in cells))
    return lines


def render_batch(records: Iterable[BatchRecord], output_format: str) -> Iterator[str]:
    """Text chunks for each record, in input order; report bodies are rendered once."""
    cache: dict[int, tuple[object, str]] = {}
    if output_format == "tsv":
        yield "\t".join(TSV_COLUMNS) + "\n"
    for record in records:
        sample = record.sample
        if "\t" in sample or "\n" in sample or "\r" in sample:
            sample = _cell(sample)
        report = record.report
        if output_format == "fhir":
            from tpmt.render.fhir import error_outcome, report_to_bundle

            if report is None:
                yield json.dumps(error_outcome(record.sample, record.message or "")) + "\n"
            else:
                yield (
                    json.dumps(
                        report_to_bundle(report.model_copy(update={"sample": record.sample}))
                    )
                    + "\n"
                )
            continue
        if report is None:
            if output_format == "tsv":
                empty = [""] * (len(TSV_COLUMNS) - 3)
                yield "\t".join([sample, "error", *empty, _cell(record.message)]) + "\n"
            else:
                yield (
                    json.dumps(
                        {"sample": record.sample, "status": "error", "message": record.message}
                    )
                    + "\n"
                )
            continue
        cached = cache.get(id(report))
        if cached is None or cached[0] is not report:
            if output_format == "tsv":
                body = "\n".join(_rows_for(report))
            else:
                body = '{"status":"ok",' + report.model_dump_json()[1:]
            if len(cache) >= 4096:
                cache.clear()
            cached = cache[id(report)] = (report, body)
        if output_format == "tsv":
            prefix = f"{sample}\tok\t"
            yield prefix + cached[1].replace("\n", "\n" + prefix) + "\n"
        else:
            plain = sample.isascii() and sample.isprintable() and '"' not in sample
            name = f'"{sample}"' if plain and "\\" not in sample else json.dumps(record.sample)
            yield cached[1].replace('"sample":null', '"sample":' + name, 1) + "\n"
