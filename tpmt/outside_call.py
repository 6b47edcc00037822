"""Read PharmCAT's outside-call TSV (gene, diplotype, phenotype[, activity score] per line)."""

from __future__ import annotations

from pathlib import Path

from tpmt.errors import InputError
from tpmt.textfile import read_text
from tpmt.vocab import Gene


def read_outside_call(path: Path) -> dict[Gene, str]:
    """TPMT/NUDT15 results from an outside-call file; other genes' lines are skipped."""
    return parse_outside_call(read_text(path, "outside-call file"), path.name)


def parse_outside_call(text: str, name: str = "standard input") -> dict[Gene, str]:
    """TPMT/NUDT15 results from the text of an outside-call file."""
    found: dict[Gene, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        cells = [c.strip() for c in line.split("\t")]
        gene_name = cells[0].upper()
        if gene_name not in Gene.__members__:
            continue
        gene = Gene[gene_name]
        diplotype = cells[1] if len(cells) > 1 else ""
        phenotype = cells[2] if len(cells) > 2 else ""
        value = diplotype or phenotype
        if not value:
            raise InputError(
                f"{name} line {number}: {gene} has neither a diplotype nor a phenotype"
            )
        if gene in found:
            raise InputError(f"{name} line {number}: {gene} is given twice")
        found[gene] = value
    if not found:
        raise InputError(f"{name}: no TPMT or NUDT15 line (expected 'TPMT<TAB>*1/*3A')")
    return found
