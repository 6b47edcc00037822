"""Render batch records: full or compact JSON lines, LIMS-friendly TSV (a row per sample, drug,
guideline and dosing step), or FHIR bundles.

The TSV and compact renderers work on a record's composition (tpmt/compose.py): every piece
that depends on one fragment only (a gene's cells, a row's cells, a row's alternatives) is
rendered once and memoised for the output (tpmt/cache.py), so a line costs a few joins. They
produce exactly what ``report_tsv_lines`` and ``compact_record`` give for the whole Report (the
tests compare both over the published pairs). A record whose row gave dose inputs or
co-medications carries its finished Report, which is rendered whole by those same functions.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from pydantic_core import to_json

from tpmt.advice import Options, Slot, slot_causes
from tpmt.batch import BatchRecord
from tpmt.cache import Identity, Memo
from tpmt.comed import NOT_VERIFIED
from tpmt.compact import (
    compact_gene,
    compact_guidelines,
    compact_recommendation,
    compact_record,
    compact_safety,
)
from tpmt.compose import Composition, GeneFragment, Selection
from tpmt.guideline_schema import DosingStep
from tpmt.models import GeneResult, Recommendation, Report
from tpmt.render.activity import activity_summary
from tpmt.render.cells import tsv_cell as _cell
from tpmt.render.report_json import ReportJson
from tpmt.render.text import alternative_line, causes_text, outcome_text
from tpmt.vocab import Gene, Source

if TYPE_CHECKING:
    from tpmt.render.fhir import BundleOptions

MEMO_SIZE = 20_000  # rendered pieces per kind, per output
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
# after ``message``, so the columns before keep their places; empty unless the row gave dose
# inputs (the dosing step's mg, from the report's ``dose``) or co-medications (``comed``)
EXTRA_COLUMNS = [
    "dose_status",
    "mg_per_dose_min",
    "mg_per_dose_max",
    "doses_per_week",
    "rounded_mg_min",
    "rounded_mg_max",
    "rounded_verified",
    "standard_mg_per_day",
    "comed",
]
# last: the guideline step's time to steady state in weeks (numbers, as percent_min/max: a
# '2-4' cell would become a date in a spreadsheet; max empty for 'at least') and the drug's label
# monitoring (every row, unless the Interpreter was made without it)
MONITORING_COLUMNS = ["steady_state_min_weeks", "steady_state_max_weeks", "monitoring"]
TSV_COLUMNS += EXTRA_COLUMNS + MONITORING_COLUMNS
MESSAGE_AT = TSV_COLUMNS.index("message")
DOSE_AT = TSV_COLUMNS.index(EXTRA_COLUMNS[0])
EMPTY_DOSE = "\t" * (DOSE_AT - MESSAGE_AT + len(EXTRA_COLUMNS))  # empty message and dose cells


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


def _dose_cells(rec: Recommendation, index: int, standard: str) -> str:
    """The dose cells of a row's dosing step ``index`` (tab-joined; empty without inputs)."""
    dose = rec.dose[index] if rec.dose and index < len(rec.dose) else None
    cells: list[object] = [""] * 7
    if dose is not None:
        mg, rounded = dose.mg_per_dose, dose.rounded_mg_per_dose
        verified = dose.rounding_verified
        cells = [
            dose.status,
            mg.min if mg else None,
            mg.max if mg else None,
            dose.doses_per_week,
            rounded.min if rounded else None,
            rounded.max if rounded else None,
            None if verified is None else str(verified).lower(),
        ]
    against = any(s.effect == "contraindicated" for s in rec.comed or ())
    shown = standard if rec.dose and not against else ""  # no dose for a contraindication
    return "\t".join(_cell(c) for c in (*cells, shown, _comed_cell(rec)))


def _comed_cell(rec: Recommendation) -> str:
    """'allopurinol:reduce_dose (...; NOT applied to the mg figures)', flagged when unverified."""
    statements = rec.comed or ()
    if not statements:
        return ""
    parts = [
        f"{s.comed}:{s.effect} ({s.short}"
        + ("; NOT applied to the mg figures)" if s.effect == "reduce_dose" else ")")
        for s in statements
    ]
    flag = "" if all(s.verified for s in statements) else f"US label, {NOT_VERIFIED}: "
    return flag + " | ".join(parts)


def _standard_cell(report: Report) -> str:
    """The report's standard dose in mg/day, 'min-max' (one number when they are equal)."""
    if report.dose is None:
        return ""
    mg = report.dose.standard.mg_per_day
    return f"{mg.min:g}" if mg.min == mg.max else f"{mg.min:g}-{mg.max:g}"


def _weeks(step: DosingStep | None) -> str:
    """A step's time to steady state as two cells, min and max weeks (empty: none given)."""
    weeks = step.steady_state_weeks if step is not None else None
    if weeks is None:
        return "\t"
    return f"{weeks.min:g}\t" + ("" if weeks.max is None else f"{weeks.max:g}")


def _monitoring_cell(rec: Recommendation) -> str:
    """The drug's label monitoring: 'tests: schedule [data id]; ...', flagged when unverified."""
    if rec.monitoring is None:
        return ""
    label = rec.monitoring.label
    shown = "; ".join(f"{m.tests}: {m.schedule} [{m.data_id}]" for m in label)
    flag = "" if all(m.verified for m in label) else f"US label, {NOT_VERIFIED}: "
    return _cell(flag + shown)


def _references(rec: Recommendation) -> str:
    return ";".join(
        f"PMID:{r.pmid}" if r.pmid else f"doi:{r.doi}" if r.doi else r.url or ""
        for r in rec.references
    )


RowParts = tuple[str, tuple[str, ...], str, tuple[str, ...]]


def _row_parts(rec: Recommendation) -> RowParts:
    """A row's cells before the gene cells, per dosing step after them, its warnings, and per
    dosing step its last cells (steady state and monitoring, each after a tab)."""
    head = "\t".join(
        _cell(c) for c in (rec.drug.value, rec.guideline, rec.source.value, "+".join(rec.genes))
    )
    steps: list[DosingStep | None] = list(rec.dosing) or [None]
    middles = tuple(
        "\t".join(
            _cell(c)
            for c in (
                rec.classification.value if rec.classification else None,
                *_step_cells(step),
                rec.rule_id,
                rec.source_id,
                _references(rec),
            )
        )
        for step in steps
    )
    monitoring = _monitoring_cell(rec)
    ends = tuple(f"\t{_weeks(step)}\t{monitoring}" for step in steps)
    return head, middles, _cell(" | ".join(rec.warnings)), ends


def _gene_cells(result: GeneResult, source: Source) -> str:
    return "\t".join(
        _cell(c) for c in (result.input, result.diplotype, result.phenotype.get(source))
    )


def _warnings_cell(result: GeneResult) -> str:
    if result.activity is not None:  # a measured TPMT activity: summarised before the warnings
        notes = (activity_summary(result.activity), result.activity.caveat, *result.warnings)
        return _cell(" | ".join(notes))
    return _cell(" | ".join(result.warnings))


RowCells = tuple[Source, str, tuple[str, ...], str, tuple[str, ...]]


def _rows_cells(rows: tuple[Recommendation, ...]) -> tuple[RowCells, ...]:
    return tuple((rec.source, *_row_parts(rec)) for rec in rows)


def _compact_head(selection: Selection) -> str:
    return to_json(compact_guidelines(selection.guidelines)).decode()


def _compact_safety(result: Composition) -> str:
    safety = compact_safety(result.selection.safety, result.advice.rows)
    if safety is None:
        return ""
    return ',"safety":' + safety.model_dump_json(exclude_defaults=True)


def _compact_gene(result: GeneResult) -> str:
    return compact_gene(result).model_dump_json(exclude_defaults=True)


def _compact_rows(result: Composition) -> str:
    """The compact ``recommendations`` object of a composition."""
    parts = []
    for index, rec in enumerate(result.advice.rows):
        alternatives = tuple(s.row.rule_id for s in result.advisor.slots(result, index))
        body = compact_recommendation(rec, alternatives).model_dump_json(exclude_defaults=True)
        parts.append(f"{to_json(rec.rule_id).decode()}:{body}")
    return "{" + ",".join(parts) + "}"


def _joined(*parts: str) -> str:
    return " | ".join(part for part in parts if part)


def report_tsv_lines(report: Report) -> list[str]:
    """TSV lines of one whole report without the leading sample and status cells (nor a
    newline), its dose and co-medication cells included."""
    lines = []
    gene_warnings = _cell(
        " | ".join([*report.warnings, *(w for g in report.genes.values() for w in g.warnings)])
    )
    standard = _standard_cell(report)
    for rec in report.recommendations:
        head, middles, warnings, ends = _row_parts(rec)
        genes = "\t".join(_gene_cells(report.genes[gene], rec.source) for gene in Gene)
        alternatives = _cell(" | ".join(alternative_line(alt) for alt in rec.alternatives))
        warning_cell = _joined(gene_warnings, warnings)
        lines += [
            f"{head}\t{genes}\t{middle}\t{alternatives}\t{warning_cell}\t\t"
            + _dose_cells(rec, index, standard)
            + end
            for index, (middle, end) in enumerate(zip(middles, ends, strict=True))
        ]
    return lines


class Pieces:
    """The rendered pieces of one output, memoised per fragment (keyed by serial numbers)."""

    def __init__(self) -> None:
        self.genes: Memo[tuple[int, Source], str] = Memo("gene cells", MEMO_SIZE)
        self.warnings: Memo[int, str] = Memo("gene warnings", MEMO_SIZE)
        self.rows: Memo[int, tuple[RowCells, ...]] = Memo("row cells", MEMO_SIZE)
        self.alternatives: Memo[tuple[int, int, int], str] = Memo("alternatives", MEMO_SIZE)
        self.outcomes: Memo[Identity, str] = Memo("alternative outcomes", MEMO_SIZE)
        self.lines: Memo[tuple[Identity, ...], str] = Memo("alternative lines", MEMO_SIZE)
        self.compact_genes: Memo[int, str] = Memo("compact genes", MEMO_SIZE)
        self.compact_rows: Memo[tuple[object, ...], str] = Memo("compact rows", MEMO_SIZE)
        self.compact_heads: Memo[int, str] = Memo("compact guidelines", 64)
        self.compact_safeties: Memo[int, str] = Memo("compact label data", 64)

    def gene_cells(self, fragment: GeneFragment, source: Source) -> str:
        return self.genes.call((fragment.key, source), _gene_cells, fragment.result, source)

    def gene_warnings(self, fragment: GeneFragment) -> str:
        return self.warnings.call(fragment.key, _warnings_cell, fragment.result)

    def row_cells(self, result: Composition) -> tuple[RowCells, ...]:
        return self.rows.call(result.advice.serial, _rows_cells, result.advice.rows)

    def alternatives_cell(self, result: Composition, index: int) -> str:
        """The alternatives cell of row ``index`` (memoised per row and its genes' options)."""
        place = result.advice.places[index]
        n = place.rule_set_index
        tpmt, nudt15 = result.tpmt, result.nudt15
        t_varies = place.for_tpmt and tpmt.choice_ids[n]
        n_varies = place.for_nudt15 and nudt15.choice_ids[n]
        if not (t_varies or n_varies):
            return ""
        key = (place.row_id, t_varies and tpmt.serial, n_varies and nudt15.serial)

        def render() -> str:
            options = {Gene.TPMT: tpmt.options[n], Gene.NUDT15: nudt15.options[n]}
            slots = result.advisor.slots(result, index)
            return _cell(" | ".join(self.alternative_line(slot, options) for slot in slots))

        return self.alternatives.get(key, render)

    def alternative_line(self, slot: Slot, options: dict[Gene, Options]) -> str:
        """'if <causes> → <outcome>' for a slot, memoised per slot and the options behind it
        (one gene's options recur with every partner of that gene)."""
        chosen = [options[gene][slot.combo[gene]] for gene in slot.causing]
        key = (Identity(slot), *map(Identity, chosen))
        return self.lines.call(key, self._alternative_line, slot, options)

    def _alternative_line(self, slot: Slot, options: dict[Gene, Options]) -> str:
        causes, more = slot_causes(slot, options)
        return f"if {causes_text(causes, more)} → {self.outcome(slot.row)}"

    def outcome(self, row: Recommendation) -> str:
        return self.outcomes.get(
            Identity(row), lambda: outcome_text(row.lookup, row.dosing, row.rule_id)
        )

    def compact_head(self, selection: Selection) -> str:
        return self.compact_heads.call(selection.serial, _compact_head, selection)

    def compact_safety(self, result: Composition) -> str:
        """',"safety":{...}' naming the label monitoring per drug ('' without), per selection."""
        return self.compact_safeties.call(result.selection.serial, _compact_safety, result)

    def compact_gene(self, fragment: GeneFragment) -> str:
        return self.compact_genes.call(fragment.key, _compact_gene, fragment.result)

    def compact_rows_json(self, result: Composition) -> str:
        key = (result.advice.serial, result.tpmt.choice_ids, result.nudt15.choice_ids)
        return self.compact_rows.call(key, _compact_rows, result)


def _json_text(value: object) -> str:
    return to_json(value).decode()


def tsv_record(pieces: Pieces, sample: str, result: Composition) -> str:
    """The TSV lines of one sample's result."""
    tpmt, nudt15 = result.tpmt, result.nudt15
    gene_warnings = _joined(
        _cell(" | ".join(result.warnings)) if result.warnings else "",
        pieces.gene_warnings(tpmt),
        pieces.gene_warnings(nudt15),
    )
    prefix = f"{sample}\tok\t"
    genes: dict[Source, str] = {}
    lines = []
    for index, (source, head, middles, warnings, ends) in enumerate(pieces.row_cells(result)):
        gene_cells = genes.get(source)
        if gene_cells is None:
            one, two = pieces.gene_cells(tpmt, source), pieces.gene_cells(nudt15, source)
            gene_cells = genes[source] = f"{one}\t{two}\t"
        alternatives = pieces.alternatives_cell(result, index)
        if gene_warnings and warnings:
            warnings = f"{gene_warnings} | {warnings}"
        else:
            warnings = gene_warnings or warnings
        tail = f"\t{alternatives}\t{warnings}{EMPTY_DOSE}"
        for middle, end in zip(middles, ends, strict=True):
            lines.append(f"{prefix}{head}\t{gene_cells}{middle}{tail}{end}\n")
    return "".join(lines)


def compact_line(pieces: Pieces, sample: str | None, result: Composition) -> str:
    """One compact record as a JSON line (the same as ``compact_record`` of the Report)."""
    # the memos' fast paths inlined: this runs once per row of a batch
    peek = pieces.compact_genes.peek
    tpmt = peek(result.tpmt.key) or pieces.compact_gene(result.tpmt)
    nudt15 = peek(result.nudt15.key) or pieces.compact_gene(result.nudt15)
    key = (result.advice.serial, result.tpmt.choice_ids, result.nudt15.choice_ids)
    rows = pieces.compact_rows.peek(key) or pieces.compact_rows_json(result)
    warnings = f',"warnings":{_json_text(list(result.warnings))}' if result.warnings else ""
    safety = pieces.compact_safeties.peek(result.selection.serial)
    if safety is None:
        safety = pieces.compact_safety(result)
    return (
        f'{{"sample":{to_json(sample).decode()},"status":"ok","schema_version":1,'
        f'"guidelines":{pieces.compact_head(result.selection)},'
        f'"genes":{{"TPMT":{tpmt},"NUDT15":{nudt15}}},'
        f'"recommendations":{rows}{warnings}{safety}}}\n'
    )


def ok_line(full: ReportJson, result: Composition, sample: str) -> str:
    """The JSON record of a row that succeeded: its report with ``status`` ok first (the one
    record shape of tpmt batch, tpmt call and POST /v1/batch), without a newline."""
    return '{"status":"ok",' + full.line(result, sample)[1:]


def error_line(sample: str, message: str) -> str:
    """An error record as a JSON line."""
    return _json_text({"sample": sample, "status": "error", "message": message}) + "\n"


def json_record(pieces: Pieces, full: ReportJson, record: BatchRecord, compact: bool) -> str:
    """The JSON line of a record: an error, or its report (compact or full) with a newline."""
    result = record.result
    if result is None:
        return error_line(record.sample, record.message or "")
    finished = record.finished
    if finished is not None:
        if compact:
            return compact_record(finished).model_dump_json(exclude_defaults=True) + "\n"
        return '{"status":"ok",' + finished.model_dump_json()[1:] + "\n"
    if compact:
        return compact_line(pieces, record.sample, result)
    return ok_line(full, result, record.sample) + "\n"


def render_batch(
    records: Iterable[BatchRecord],
    output_format: str,
    compact: bool = False,
    fhir: BundleOptions | None = None,
) -> Iterator[str]:
    """Text chunks for each record, in input order (``fhir``: subject and issue time)."""
    pieces = Pieces()
    full = ReportJson()
    if output_format == "tsv":
        yield "\t".join(TSV_COLUMNS) + "\n"
    for record in records:
        result = record.result
        if output_format == "fhir":
            from tpmt.render.fhir import error_outcome, report_to_bundle

            report = record.report
            if report is None:
                yield json.dumps(error_outcome(record.sample, record.message or "")) + "\n"
            else:
                yield json.dumps(report_to_bundle(report, fhir)) + "\n"
        elif output_format == "tsv":
            sample = _cell(record.sample)
            if result is None:
                empty = [""] * (MESSAGE_AT - 2)
                after = "\t" * (len(TSV_COLUMNS) - MESSAGE_AT - 1)  # the cells after message
                yield "\t".join([sample, "error", *empty, _cell(record.message)]) + after + "\n"
            elif record.finished is not None:
                lines = report_tsv_lines(record.finished)
                yield "".join(f"{sample}\tok\t{line}\n" for line in lines)
            else:
                yield tsv_record(pieces, sample, result)
        else:
            yield json_record(pieces, full, record, compact)
