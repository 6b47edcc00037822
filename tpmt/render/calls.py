"""Render per-sample results of ``tpmt call``: text, JSON, JSON lines or one TSV row each."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from tpmt.errors import InputError
from tpmt.models import Report
from tpmt.render.text import render_report
from tpmt.vocab import Gene, Source

TSV_COLUMNS = [
    "sample",
    "status",
    "TPMT_diplotype",
    "TPMT_presumptive",
    "TPMT_CPIC",
    "TPMT_DPWG",
    "TPMT_alternatives",
    "TPMT_uncalled",
    "NUDT15_diplotype",
    "NUDT15_presumptive",
    "NUDT15_CPIC",
    "NUDT15_DPWG",
    "NUDT15_alternatives",
    "NUDT15_uncalled",
    "warnings",
]


def _clean(value: str) -> str:
    return value.replace("\t", " ").replace("\n", " ")


def tsv_row(name: str, result: Report | InputError) -> str:
    """One sample as a TSV line (errors keep their row, with the message in ``warnings``)."""
    if isinstance(result, InputError):
        cells = [name, "error"] + [""] * (len(TSV_COLUMNS) - 3) + [str(result)]
        return "\t".join(_clean(c) for c in cells) + "\n"
    cells = [name, "ok"]
    for gene in Gene:
        g = result.genes[gene]
        cells += [
            g.diplotype or "",
            ("yes" if g.presumptive else "no") if g.diplotype else "",
            g.phenotype.get(Source.CPIC, ""),
            g.phenotype.get(Source.DPWG, ""),
            ";".join(f"{a.diplotype} ({a.basis})" for a in g.alternatives),
            ";".join(g.evidence.uncalled) if g.evidence else "",
        ]
    notes = [
        *result.warnings,
        *(w for g in result.genes.values() for w in [*g.limitations, *g.warnings]),
    ]
    cells.append(" | ".join(notes))
    return "\t".join(_clean(str(c)) for c in cells) + "\n"


def render_call_results(
    results: Iterable[tuple[str, Report | InputError]], output_format: str
) -> Iterator[tuple[str, bool]]:
    """Yield (text, succeeded) per sample; TSV starts with its header line."""
    if output_format == "tsv":
        yield "\t".join(TSV_COLUMNS) + "\n", True
    # samples with the same genotypes share one report body (model_copy keeps the same
    # ``genes`` object), so its JSON is rendered once and only the sample name is patched in
    json_cache: dict[int, tuple[str, object]] = {}
    for name, result in results:
        ok = isinstance(result, Report)
        if output_format == "tsv":
            yield tsv_row(name, result), ok
        elif output_format == "fhir":
            from tpmt.render.fhir import error_outcome, report_to_bundle

            resource = (
                error_outcome(name, str(result))
                if isinstance(result, InputError)
                else report_to_bundle(result)
            )
            yield json.dumps(resource) + "\n", ok
        elif isinstance(result, InputError):
            record = {"sample": name, "status": "error", "message": str(result)}
            text = (
                json.dumps(record) + "\n"
                if output_format in ("jsonl", "json")
                else (f"== {name}: error: {result}\n\n")
            )
            yield text, False
        elif output_format == "jsonl":
            cached = json_cache.get(id(result.genes))
            if cached is None or cached[1] is not result.genes:
                body = result.model_copy(update={"sample": None}).model_dump_json()
                cached = json_cache[id(result.genes)] = (body, result.genes)
            line = cached[0].replace('"sample":null', '"sample":' + json.dumps(name), 1)
            yield line + "\n", True
        elif output_format == "json":
            yield result.model_dump_json(indent=2) + "\n", True
        else:
            yield f"== sample {name}\n" + render_report(result) + "\n", True
