"""Read array/qPCR genotype tables (CSV or TSV: sample, rsID or chrom:pos, genotype)."""

from __future__ import annotations

import csv
import gzip
import re
from collections.abc import Iterator
from pathlib import Path

from tpmt.calling.caller import AlleleMatcher, Site
from tpmt.calling.genotypes import ASSUMED_REFERENCE, REF, SiteGenotype, canonical, uncalled
from tpmt.calling.options import DEFAULT_OPTIONS, CallOptions
from tpmt.calling.vcf import (
    CHROMOSOMES,
    REFSEQ_GRCH37,
    SampleGenotypes,
    SampleRecord,
    chromosome_of,
)
from tpmt.errors import InputError
from tpmt.rows import delimiter_of
from tpmt.textfile import read_text

COLUMNS = {
    "sample": ("sample", "sample_id", "sampleid", "id"),
    "variant": ("variant", "rsid", "snp", "marker", "position", "locus"),
    "genotype": ("genotype", "gt", "call", "result"),
}
MISSING = {"", "./.", ".", "--", "00", "nc", "no call", "undetermined", "na", "n/a"}
POSITION = re.compile(r"^((?:chr)?(?:6|13)|NC_0000(?:06|13)\.\d+)[:_-](\d+)$", re.IGNORECASE)


def looks_like_table(path: Path) -> bool:
    """True for .csv/.tsv/.txt files (also gzipped: .csv.gz ...) that do not start like a VCF."""
    suffixes = [s.lower() for s in path.suffixes[-2:]]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    if not suffixes or suffixes[-1] not in (".csv", ".tsv", ".txt"):
        return False
    opener = gzip.open if path.suffix.lower() == ".gz" else open
    try:
        with opener(path, "rb") as handle:
            return not handle.read(16).startswith(b"##fileformat")
    except (OSError, EOFError):
        return True  # read_table says what is wrong with it


def read_table(
    path: Path,
    matchers: dict[str, AlleleMatcher],
    sample: str | None,
    options: CallOptions = DEFAULT_OPTIONS,
) -> tuple[list[str], Iterator[SampleRecord]]:
    """Samples in first-seen order and their genotypes at defining positions."""
    text = read_text(path, "genotype table")
    reader = csv.DictReader(text.splitlines(), delimiter=delimiter_of(text.split("\n", 1)[0]))
    header = {(name or "").strip().lower(): name for name in reader.fieldnames or []}
    columns = {}
    for role, names in COLUMNS.items():
        found = next((header[n] for n in names if n in header), None)
        if found is None:
            raise InputError(
                f"{path.name}: no {role} column; expected a header with one of "
                f"{', '.join(names)} (got {', '.join(header) or 'nothing'})"
            )
        columns[role] = found
    by_position: dict[tuple[str, int], tuple[str, Site]] = {}
    by_rsid: dict[str, tuple[str, Site]] = {}
    for gene, matcher in matchers.items():
        for site in matcher.sites:
            by_position[(CHROMOSOMES[gene], site.position)] = (gene, site)
            if site.rsid:
                by_rsid[site.rsid.lower()] = (gene, site)
    data: dict[str, SampleGenotypes] = {}
    for line, row in enumerate(reader, start=2):
        name = (row[columns["sample"]] or "").strip()
        if not name:
            raise InputError(f"{path.name} line {line}: empty sample name")
        per_gene = data.setdefault(name, {gene: {} for gene in matchers})
        key = (row[columns["variant"]] or "").strip()
        match = POSITION.match(key)
        if match and match.group(1).upper() in REFSEQ_GRCH37:
            raise InputError(
                f"{path.name} line {line}: {match.group(1)} is the GRCh37 RefSeq accession: "
                "this is GRCh37/hg19 input; tpmt needs GRCh38 coordinates (lift over first)"
            )
        target = (
            by_position.get((chromosome_of(match.group(1)) or "", int(match.group(2))))
            if match
            else by_rsid.get(key.lower())
        )
        if target is None:
            continue  # not an allele-defining position (e.g. rs2842934, ignored by design)
        gene, site = target
        genotype = _genotype(row[columns["genotype"]] or "", site)
        earlier = per_gene[gene].get(site.position)
        if earlier is not None and _differs(earlier, genotype):
            candidates = [g for g in (earlier, genotype) if g.called] + [
                SiteGenotype(g.seen) for g in (earlier, genotype) if g.seen
            ]
            worst = max(candidates, key=lambda g: sum(a != REF for a in g.alleles), default=None)
            genotype = uncalled(
                f"{earlier.shown} vs {genotype.shown}", "conflicting rows for one position", worst
            )
        per_gene[gene][site.position] = genotype
    if options.assume_reference:
        for per_gene in data.values():
            for gene, matcher in matchers.items():
                if per_gene[gene]:  # only genes the table covers for this sample
                    for site in matcher.sites:
                        per_gene[gene].setdefault(site.position, ASSUMED_REFERENCE)
    if sample is not None and sample not in data:
        raise InputError(
            f"sample {sample!r} is not in {path.name}; samples: {', '.join(list(data)[:10])}"
        )
    chosen: list[str] = [sample] if sample is not None else list(data)
    return chosen, ((name, _signature(data[name]), data[name]) for name in chosen)


def _signature(per_gene: SampleGenotypes) -> object:
    return tuple((gene, tuple(sorted(sites.items()))) for gene, sites in sorted(per_gene.items()))


def _differs(first: SiteGenotype, second: SiteGenotype) -> bool:
    """Two rows disagree unless they give the same alleles (in either order) or the same text."""
    if first.reason == "conflicting rows for one position":
        return True
    if first.called and second.called:
        return sorted(map(str, first.alleles)) != sorted(map(str, second.alleles))
    return first.shown != second.shown


def _genotype(value: str, site: Site) -> SiteGenotype:
    """A + strand genotype such as A/G, A|G or AG; anything else is uncalled with the reason."""
    text = value.strip()
    if text.lower() in MISSING:
        return uncalled(text or "missing", "no-call")
    phased = "|" in text
    parts = re.split(r"[/|]", text) if ("/" in text or phased) else list(text)
    bases = [p.strip().upper() for p in parts]
    if len(bases) != 2 or not all(re.fullmatch(r"[ACGT]+|-", b) for b in bases):
        shown = text if len(text) <= 20 else text[:20] + "..."
        return uncalled(
            shown, "malformed or non-diploid genotype (expected two alleles such as A/G)"
        )
    tokens = [canonical(site.position, site.ref, b) for b in bases]
    return SiteGenotype((tokens[0], tokens[1]), phased, None, text)
