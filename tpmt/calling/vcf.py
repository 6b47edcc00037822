"""Read GRCh38 VCF (plain or bgzipped, one or many samples, gVCF blocks) with cyvcf2."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tpmt.calling.caller import AlleleMatcher
from tpmt.calling.genotypes import REF, SiteGenotype, canonical, merge
from tpmt.errors import InputError

GRCH37_LENGTHS = {"6": 171115067, "13": 115169878}
GRCH37_WORDS = re.compile(r"grch37|hg19|b37|hs37|human_g1k_v37", re.IGNORECASE)
CHROMOSOMES = {"TPMT": "6", "NUDT15": "13"}
SampleGenotypes = dict[str, dict[int, SiteGenotype]]  # gene -> position -> genotype
SampleRecord = tuple[str, object, SampleGenotypes]  # name, genotype signature, genotypes


@dataclass(frozen=True)
class _Row:
    """One VCF row reduced to what calling needs."""

    gene: str
    position: int
    tokens: tuple[str | None, ...]  # per allele index: canonical token (None: symbolic/unknown)
    end: int | None  # gVCF reference block end
    genotypes: Any  # numpy array (samples x 3): allele indices (-1 missing), phased flag
    phase_sets: Any  # numpy array of phase sets or None
    shown: tuple[str, ...]


def _open(path: Path) -> Any:
    try:
        from cyvcf2 import VCF
    except ImportError:  # pragma: no cover - depends on the optional extra
        raise InputError("reading VCF needs the optional extra: pip install 'tpmt[vcf]'") from None
    if not path.is_file():
        raise InputError(f"VCF file {str(path)!r} does not exist")
    try:
        with path.open("rb") as handle:
            head = handle.read(2)
        vcf = VCF(str(path))
    except Exception as exc:  # cyvcf2 raises plain Exceptions (or OSError) for unreadable files
        raise InputError(
            f"{str(path)!r} is not a readable VCF file ({type(exc).__name__})"
        ) from None
    if head != b"\x1f\x8b" and not vcf.raw_header.startswith("##fileformat=VCF"):
        raise InputError(f"{str(path)!r} is not a VCF file: no ##fileformat=VCF header")
    return vcf


def _check_build(vcf: Any, path: Path) -> None:
    """Refuse GRCh37/hg19 input, judged from the header's reference and contig lengths."""
    for line in vcf.raw_header.splitlines():
        if line.startswith("##reference=") and GRCH37_WORDS.search(line):
            raise InputError(
                f"{path.name}: the header names a GRCh37/hg19 reference ({line[12:60]}); "
                "tpmt needs GRCh38 coordinates (lift over first)"
            )
        match = re.match(r"##contig=<ID=(?:chr)?(6|13),.*length=(\d+)", line)
        if match and GRCH37_LENGTHS[match.group(1)] == int(match.group(2)):
            raise InputError(
                f"{path.name}: contig chr{match.group(1)} has its GRCh37 length "
                f"({match.group(2)}); tpmt needs GRCh38 coordinates (lift over first)"
            )


def _rows(vcf: Any, matchers: dict[str, AlleleMatcher], indexed: bool) -> Iterator[_Row]:
    """The rows that touch a defining position (or cover one with a reference block).

    With a tabix index only the genes' regions are read; otherwise the file is read once.
    """
    genes = {CHROMOSOMES[gene]: gene for gene in matchers}
    positions = {gene: {s.position for s in m.sites} for gene, m in matchers.items()}
    if indexed:
        seqnames = set(vcf.seqnames)
        regions = [
            f"{name}:{max(m.sites[0].position - 100, 1)}-{m.sites[-1].position + 10}"
            for gene, m in matchers.items()
            for name in (f"chr{CHROMOSOMES[gene]}", CHROMOSOMES[gene])
            if name in seqnames
        ]
        records: Iterator[Any] = (r for region in regions for r in vcf(region))
    else:
        records = iter(vcf)
    for record in records:
        gene = genes.get(record.CHROM.removeprefix("chr"))
        if gene is None:
            continue
        row = _row(gene, record, positions[gene])
        if row is not None:
            yield row


def _row(gene: str, record: Any, positions: set[int]) -> _Row | None:
    alleles = [record.REF, *record.ALT]
    end = record.INFO.get("END") if any(a.startswith("<") for a in record.ALT) else None
    tokens: list[str | None] = []
    for allele in alleles:
        symbolic = allele.startswith("<") or allele in ("*", ".")
        tokens.append(None if symbolic else canonical(record.POS, record.REF, allele))
    targets = {int(t.split(":", 1)[0]) for t in tokens if t not in (None, REF)} & positions
    target = next(iter(targets), record.POS if record.POS in positions else None)
    if target is None and end is None:
        return None
    ps = None
    if "PS" in record.FORMAT:
        ps = record.format("PS")
    return _Row(
        gene, target or record.POS, tuple(tokens), end, record.genotype.array(), ps, tuple(alleles)
    )


def read_vcf(
    path: Path, matchers: dict[str, AlleleMatcher], sample: str | None
) -> tuple[list[str], Iterator[SampleRecord]]:
    """Sample names and, lazily, each sample's genotypes at the defining positions.

    Samples with byte-identical genotype (and phase-set) columns share one signature and one
    genotype object, so a population file is decoded once per distinct genotype pattern.
    """
    vcf = _open(path)
    _check_build(vcf, path)
    samples: Sequence[str] = list(vcf.samples)
    if not samples:
        raise InputError(f"{path.name} has no sample columns")
    if sample is not None and sample not in samples:
        shown = ", ".join(samples[:10]) + (" ..." if len(samples) > 10 else "")
        raise InputError(f"sample {sample!r} is not in {path.name}; samples: {shown}")
    indexed = any(Path(str(path) + ext).is_file() for ext in (".tbi", ".csi"))
    rows = list(_rows(vcf, matchers, indexed))
    wanted = [sample] if sample is not None else list(samples)
    index = {name: i for i, name in enumerate(samples)}
    return wanted, _records(wanted, index, rows, matchers)


def _records(
    wanted: list[str], index: dict[str, int], rows: list[_Row], matchers: dict[str, AlleleMatcher]
) -> Iterator[SampleRecord]:
    import numpy as np

    parts = [row.genotypes[:, :3].astype(np.int32) for row in rows]
    parts += [row.phase_sets[:, :1].astype(np.int64) for row in rows if row.phase_sets is not None]
    matrix = np.ascontiguousarray(np.hstack(parts)) if parts else np.zeros((len(index), 0))
    decoded: dict[bytes, SampleGenotypes] = {}
    for name in wanted:
        i = index[name]
        signature = matrix[i].tobytes()
        genotypes = decoded.get(signature)
        if genotypes is None:
            genotypes = decoded[signature] = _sample_genotypes(i, rows, matchers)
        yield name, signature, genotypes


def _sample_genotypes(
    i: int, rows: list[_Row], matchers: dict[str, AlleleMatcher]
) -> SampleGenotypes:
    out: SampleGenotypes = {gene: {} for gene in matchers}
    blocks: list[tuple[_Row, SiteGenotype]] = []
    for row in rows:
        genotype = _site(row, i)
        if row.end is not None:
            blocks.append((row, genotype))
            continue
        sites = out[row.gene]
        sites[row.position] = (
            merge(sites[row.position], genotype) if row.position in sites else genotype
        )
    for row, genotype in blocks:
        if genotype.alleles != (REF, REF):
            continue
        for site in matchers[row.gene].sites:
            if row.position <= site.position <= row.end and site.position not in out[row.gene]:  # type: ignore[operator]
                out[row.gene][site.position] = SiteGenotype(
                    (REF, REF), shown="0/0 (reference block)"
                )
    return out


def _site(row: _Row, i: int) -> SiteGenotype:
    first, second, phased = (int(x) for x in row.genotypes[i][:3])
    picked = [row.tokens[a] if 0 <= a < len(row.tokens) else None for a in (first, second)]
    shown = "/".join(row.shown[a] if 0 <= a < len(row.shown) else "." for a in (first, second))
    phase_set = None
    if row.phase_sets is not None:
        phase_set = str(int(row.phase_sets[i][0]))
    return SiteGenotype(
        (picked[0], picked[1]),
        bool(phased),
        phase_set,
        shown.replace("/", "|") if phased else shown,
    )
