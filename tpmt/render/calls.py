"""Render per-sample results of ``tpmt call``: text, JSON, JSON lines (full or compact), FHIR,
one TSV row each, or one printable HTML file."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from functools import partial
from typing import TYPE_CHECKING

from tpmt.cache import Identity, Memo
from tpmt.compose import Composition
from tpmt.errors import InputError
from tpmt.models import GeneResult
from tpmt.render.batch import MEMO_SIZE, Pieces, compact_line, error_line, ok_line
from tpmt.render.cells import tsv_cell
from tpmt.render.report_json import ReportJson
from tpmt.render.text import render_report
from tpmt.vocab import Source

if TYPE_CHECKING:
    from tpmt.render.fhir import BundleOptions

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


def _gene_cells(g: GeneResult) -> list[str]:
    return [
        g.diplotype or "",
        ("yes" if g.presumptive else "no") if g.diplotype else "",
        g.phenotype.get(Source.CPIC, ""),
        g.phenotype.get(Source.DPWG, ""),
        ";".join(f"{a.diplotype} ({a.basis})" for a in g.alternatives),
        ";".join(g.evidence.uncalled) if g.evidence else "",
    ]


def tsv_body(result: Composition) -> str:
    """A sample's TSV cells after its name (and a newline)."""
    genes = [result.tpmt.result, result.nudt15.result]
    cells = ["ok", *_gene_cells(genes[0]), *_gene_cells(genes[1])]
    notes = [*result.warnings, *(w for g in genes for w in [*g.limitations, *g.warnings])]
    cells.append(" | ".join(notes))
    return "\t".join(tsv_cell(str(c)) for c in cells) + "\n"


def tsv_error(name: str, error: InputError) -> str:
    """An error row: the message in ``warnings``."""
    cells = [name, "error"] + [""] * (len(TSV_COLUMNS) - 3) + [str(error)]
    return "\t".join(tsv_cell(c) for c in cells) + "\n"


def render_call_results(
    results: Iterable[tuple[str, Composition | InputError]],
    output_format: str,
    compact: bool = False,
    names: Sequence[str] = (),
    generated: str = "",
    fhir: BundleOptions | None = None,
) -> Iterator[tuple[str, bool]]:
    """Yield (text, succeeded) per sample; TSV starts with its header line; HTML (which needs
    the sample ``names`` for its index and the ``generated`` date) adds a head and a tail."""
    if output_format == "html":
        from tpmt.render.html import render_call_html

        reports = (
            (name, result if isinstance(result, InputError) else result.report(name))
            for name, result in results
        )
        yield from render_call_html(reports, names, generated)
        return
    if output_format == "tsv":
        yield "\t".join(TSV_COLUMNS) + "\n", True
    bodies: Memo[Identity, str] = Memo("call TSV rows", MEMO_SIZE)
    pieces = Pieces()
    full = ReportJson()
    for name, result in results:
        if isinstance(result, InputError):
            if output_format == "tsv":
                yield tsv_error(name, result), False
            elif output_format == "fhir":
                from tpmt.render.fhir import error_outcome

                yield json.dumps(error_outcome(name, str(result))) + "\n", False
            elif output_format in ("jsonl", "json"):
                yield error_line(name, str(result)), False
            else:
                yield f"== {name}: error: {result}\n\n", False
        elif output_format == "tsv":
            body = bodies.get(Identity(result), partial(tsv_body, result))
            yield f"{tsv_cell(name)}\t{body}", True
        elif output_format == "fhir":
            from tpmt.render.fhir import report_to_bundle

            yield json.dumps(report_to_bundle(result.report(name), fhir)) + "\n", True
        elif compact:
            yield compact_line(pieces, name, result), True
        elif output_format == "jsonl":
            yield ok_line(full, result, name) + "\n", True
        elif output_format == "json":
            record = json.loads(ok_line(full, result, name))
            yield json.dumps(record, indent=2, ensure_ascii=False) + "\n", True
        else:
            yield render_report(result.report(name)) + "\n", True
