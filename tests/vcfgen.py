"""Write synthetic VCFs from allele definitions (test helper; no reference genome needed)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from tpmt.guideline_schema import AlleleDefinitions

HEADER = """##fileformat=VCFv4.2
##reference=GRCh38
##contig=<ID=chr6,length=170805979>
##contig=<ID=chr13,length=114364328>
##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">
##FORMAT=<ID=PS,Number=1,Type=Integer,Description="Phase set">
##INFO=<ID=END,Number=1,Type=Integer,Description="End of reference block">
"""


def allele_index(definitions: AlleleDefinitions, allele: str, position: int) -> int:
    """Index (0 = REF) of the VCF allele a named allele carries at a position."""
    site = next(p for p in definitions.positions if p.position == position)
    wanted = definitions.alleles[allele].get(str(position))
    if not wanted:
        return 0
    choices = [site.ref, *site.alts]
    return choices.index(wanted[-1])  # the last listed form: the variant form when two are allowed


def write_vcf(
    path: Path,
    definitions: Sequence[AlleleDefinitions],
    samples: dict[str, dict[str, tuple[str, str]]],
    phased: bool,
    drop: Sequence[int] = (),
) -> Path:
    """One row per defining position; ``samples`` maps name -> gene -> (allele, allele)."""
    names = list(samples)
    lines = [HEADER + "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t" + "\t".join(names)]
    sep = "|" if phased else "/"
    rows = []
    for defs in definitions:
        for site in defs.positions:
            if site.position in drop:
                continue
            calls = []
            for name in names:
                first, second = samples[name].get(defs.gene.value, ("*1", "*1"))
                a = allele_index(defs, first, site.position)
                b = allele_index(defs, second, site.position)
                calls.append(f"{a}{sep}{b}")
            rows.append(
                (
                    defs.chromosome,
                    site.position,
                    site.rsid or ".",
                    site.ref,
                    ",".join(site.alts),
                    calls,
                )
            )
    for chrom, pos, rsid, ref, alts, calls in sorted(rows, key=lambda r: (r[0] != "chr6", r[1])):
        lines.append(f"{chrom}\t{pos}\t{rsid}\t{ref}\t{alts}\t.\tPASS\t.\tGT\t" + "\t".join(calls))
    path.write_text("\n".join(lines) + "\n")
    return path
