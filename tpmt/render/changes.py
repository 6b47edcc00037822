"""Render re-interpretation changes (TSV, JSON lines, HTML) and rule-set differences."""

from __future__ import annotations

import html
import json
from collections import Counter
from collections.abc import Iterable, Iterator

from tpmt.records import CHANGE_TYPES, ChangeRecord, DiffRecommendation, DiffRow, GuidelineDiff
from tpmt.render.cells import tsv_cell

COLUMNS = tuple(ChangeRecord.model_fields)
CHANGED = frozenset(CHANGE_TYPES) - {"unchanged", "error"}


class Tally:
    """Counts of change types and of samples with changes or errors, kept while rendering."""

    def __init__(self) -> None:
        self.types: Counter[str] = Counter()
        self.samples = 0
        self.changed = 0
        self.failed = 0

    def add(self, records: list[ChangeRecord]) -> None:
        """Count one sample's records."""
        self.samples += 1
        kinds = {r.change_type for r in records}
        self.changed += bool(kinds & CHANGED)
        self.failed += "error" in kinds
        self.types.update(r.change_type for r in records)

    def summary(self) -> str:
        """'12 samples: 3 changed, 1 error; change rows: phenotype 2, advice 4'."""
        rows = ", ".join(f"{kind} {self.types[kind]}" for kind in CHANGE_TYPES if self.types[kind])
        return (
            f"{self.samples} samples: {self.changed} changed, {self.failed} could not be "
            f"re-interpreted; rows: {rows or 'none'}"
        )


def render_changes(
    samples: Iterable[list[ChangeRecord]], output_format: str, tally: Tally, generated: str = ""
) -> Iterator[str]:
    """Chunks of output for each sample's change records, counted into ``tally``."""
    if output_format == "html":
        everything = []
        for records in samples:
            tally.add(records)
            everything.extend(records)
        yield render_html(everything, tally, generated)
        return
    if output_format == "tsv":
        yield "\t".join(COLUMNS) + "\n"
    for records in samples:
        tally.add(records)
        if output_format == "tsv":
            yield "".join(_tsv_row(r) for r in records)
        else:
            yield "".join(r.model_dump_json() + "\n" for r in records)


def _tsv_row(record: ChangeRecord) -> str:
    values = record.model_dump(mode="json")
    return "\t".join(tsv_cell(values[column]) for column in COLUMNS) + "\n"


_STYLE = """body{font-family:sans-serif;font-size:10pt;margin:1.5em}
table{border-collapse:collapse;width:100%}th,td{border:1px solid #999;padding:3px 5px;
text-align:left;vertical-align:top}th{background:#eee}tr{page-break-inside:avoid}
.error td{background:#fde2e2}.unchanged td{color:#555}
@media print{thead{display:table-header-group}}"""


def render_html(records: list[ChangeRecord], tally: Tally, generated: str) -> str:
    """A printable change list: summary, then one table row per change."""
    esc = html.escape
    guidelines = sorted(
        {f"{r.guideline_before} → {r.guideline_after}" for r in records if r.guideline_after}
    )
    head = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<title>tpmt re-interpretation: changes</title>",
        f"<style>{_STYLE}</style></head><body>",
        "<h1>Re-interpretation after a guideline update</h1>",
        f"<p>Rule sets: {esc(', '.join(guidelines) or 'none')}"
        + (f" · generated {esc(generated)}" if generated else "")
        + "</p>",
        f"<p>{esc(tally.summary())}</p>",
        "<table><thead><tr>"
        + "".join(
            f"<th>{name}</th>"
            for name in (
                "Sample",
                "Change",
                "Gene / drug",
                "TPMT",
                "NUDT15",
                "Before",
                "After",
                "Rules",
                "Note",
            )
        )
        + "</tr></thead><tbody>",
    ]
    body = []
    for r in records:
        rules = " → ".join(x for x in (r.rule_before, r.rule_after) if x)
        cells = (
            r.sample,
            r.change_type,
            r.gene or r.drug or "",
            r.tpmt or "",
            r.nudt15 or "",
            r.before or "",
            r.after or "",
            rules,
            r.note or "",
        )
        kind = r.change_type if r.change_type in ("error", "unchanged") else "change"
        body.append(
            f'<tr class="{kind}">' + "".join(f"<td>{esc(str(c))}</td>" for c in cells) + "</tr>"
        )
    return "\n".join([*head, *body, "</tbody></table></body></html>"]) + "\n"


def _side(rec: DiffRecommendation, which: str) -> list[str]:
    side = rec.before if which == "before" else rec.after
    out = []
    for rule_id, strength, dosing in zip(side.rule_ids, side.strength, side.dosing, strict=True):
        out.append(f"{rule_id}  {strength or 'not graded'}  {'; '.join(dosing) or 'no dosing'}")
    return out


def render_diff_text(diff: GuidelineDiff) -> str:
    """The differences as text: phenotypes per gene, then recommendations per drug."""
    before, after = diff.before.id, diff.after.id
    lines = [
        f"Differences from {before} to {after}",
        "A diplotype differs when its phenotype differs (or one rule set does not name an",
        "allele); a recommendation differs when its dosing (per condition: actions, percent of",
        "the standard dose, frequency, dose thresholds) or its strength differs. Wording,",
        "references and steady-state times are not compared.",
        "",
    ]
    for gene in ("TPMT", "NUDT15"):
        rows = [p for p in diff.phenotypes if p.gene == gene]
        lines.append(f"{gene}: {len(rows)} diplotypes with a different phenotype")
        for p in rows:
            functions = ""
            if p.functions_before != p.functions_after:
                functions = f"  ({p.functions_before or '-'} → {p.functions_after or '-'})"
            lines.append(f"  {p.diplotype:<12} {p.before} → {p.after}{functions}")
        lines.append("")
    for drug in ("azathioprine", "mercaptopurine", "thioguanine"):
        recs = [r for r in diff.recommendations if r.drug == drug]
        lines.append(f"{drug}: {len(recs)} phenotype pairs with different advice")
        for r in recs:
            pair = " + ".join(f"{g} {p}" for g, p in r.lookup.items())
            lines.append(f"  {pair}  [{', '.join(r.differs)}]")
            lines.extend(f"    before  {line}" for line in _side(r, "before"))
            lines.extend(f"    after   {line}" for line in _side(r, "after"))
        lines.append("")
    return "\n".join(lines)


DIFF_COLUMNS = (
    "kind",
    "gene",
    "drug",
    "diplotype",
    "tpmt",
    "nudt15",
    "differs",
    "before",
    "after",
    "rule_before",
    "rule_after",
)


def render_diff_tsv(diff: GuidelineDiff) -> str:
    """The differences as one TSV table (kind: phenotype or recommendation)."""
    rows = ["\t".join(DIFF_COLUMNS)]
    for p in diff.phenotypes:
        cells: tuple[object, ...] = ("phenotype", p.gene, "", p.diplotype, "", "", "phenotype")
        rows.append("\t".join(tsv_cell(c) for c in (*cells, p.before, p.after, "", "")))
    for r in diff.recommendations:
        cells = (
            "recommendation",
            "",
            r.drug,
            "",
            r.lookup.get("TPMT"),  # type: ignore[call-overload]
            r.lookup.get("NUDT15"),  # type: ignore[call-overload]
            ",".join(r.differs),
            _tsv_side(r.before),
            _tsv_side(r.after),
            " ".join(r.before.rule_ids),
            " ".join(r.after.rule_ids),
        )
        rows.append("\t".join(tsv_cell(c) for c in cells))
    return "\n".join(rows) + "\n"


def _tsv_side(side: DiffRow) -> str:
    """'dosing; dosing (Strong)' per row, rows joined by ' | '."""
    return " | ".join(
        f"{'; '.join(dosing) or 'no dosing'} ({strength or 'not graded'})"
        for strength, dosing in zip(side.strength, side.dosing, strict=True)
    )


def render_diff_json(diff: GuidelineDiff) -> str:
    """The differences as one JSON document (tpmt schema --record guidelines-diff)."""
    return json.dumps(diff.model_dump(mode="json"), indent=2) + "\n"
