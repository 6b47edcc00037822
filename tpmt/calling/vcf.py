"""Read GRCh38 VCF (plain or bgzipped, one or many samples, gVCF blocks) with cyvcf2."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from tpmt.cache import Memo
from tpmt.calling.caller import AlleleMatcher
from tpmt.calling.genotypes import ASSUMED_REFERENCE, REF, SiteGenotype, canonical, merge, uncalled
from tpmt.calling.options import DEFAULT_OPTIONS, CallOptions
from tpmt.calling.vcf_lines import check_complete, unreadable_record
from tpmt.errors import InputError

GRCH37_LENGTHS = {"6": 171115067, "13": 115169878}
GRCH37_WORDS = re.compile(r"grch37|hg19|b37|hs37|human_g1k_v37", re.IGNORECASE)
CHROMOSOMES = {"TPMT": "6", "NUDT15": "13"}
# RefSeq accessions of the two chromosomes (NCBI assembly reports of GRCh38.p14 and GRCh37.p13)
REFSEQ_GRCH38 = {"NC_000006.12": "6", "NC_000013.11": "13"}
REFSEQ_GRCH37 = {"NC_000006.11": "6", "NC_000013.10": "13"}
# GRCh37 position = GRCh38 position + offset across each gene's defining region: all 61
# TPMT/NUDT15 variants with both coordinates in pypgx's allele table (sbslee/pypgx,
# pypgx/api/data/allele-table.csv, GRCh37Core vs GRCh38Core) differ by exactly these.
GRCH37_OFFSETS = {"TPMT": 231, "NUDT15": 574_136}
SampleGenotypes = dict[str, dict[int, SiteGenotype]]  # gene -> position -> genotype
SampleRecord = tuple[str, object, SampleGenotypes]  # name, genotype signature, genotypes
CHUNK = 4_096  # samples whose signatures are computed together
MISSING_INT = -1  # cyvcf2 gives large negative sentinels for missing integer FORMAT values
NO_PHASE_SET = -1  # a phased genotype without a phase-set value
UNREADABLE_PHASE_SET = -2  # a phase-set value that is not text: the genotype counts as unphased
UNREADABLE_FT = "not readable (not ASCII text)"
REF_MISMATCH = (
    "VCF REF differs from the GRCh38 base the allele definitions give here (another "
    "reference build, or a strand flip?)"
)


@dataclass(frozen=True)
class _Row:
    """One VCF row reduced to what calling needs."""

    gene: str
    position: int
    tokens: tuple[str | None, ...]  # per allele index: canonical token (None: symbolic/unknown)
    end: int | None  # gVCF reference block end
    genotypes: Any  # numpy array (samples x ploidy+1): allele indices (-1 missing, -2 pad), phased
    phase_sets: Any  # numpy int64 array (samples x 1) of phase-set codes, or None
    shown: tuple[str, ...]
    filter: str | None  # None when FILTER is PASS or "."
    quality: dict[str, Any]  # FORMAT FT / GQ / DP / MIN_DP arrays that are present
    reason: str | None = None  # why no sample can be called from this row (no GT, bad REF/ALT)


def _open(path: Path) -> Any:
    try:
        from cyvcf2 import VCF
    except ImportError:  # pragma: no cover - depends on the optional extra
        raise InputError("reading VCF needs the optional extra: pip install 'tpmt[vcf]'") from None
    if path.is_dir():
        raise InputError(f"cannot read {path.name!r}: it is a folder, not a VCF file")
    if not path.is_file():
        raise InputError(f"VCF file {path.name!r} does not exist")
    head = b""
    try:
        with path.open("rb") as handle:
            head = handle.read(2)
        check_complete(path)
        _quiet_htslib()
        vcf = VCF(str(path))
    except InputError:
        raise
    except Exception:  # cyvcf2 raises plain Exceptions (or OSError) for unreadable files
        if head == b"\x1f\x8b":
            raise InputError(
                f"{path.name!r} is not a readable VCF file: its compressed data is truncated "
                "or corrupt"
            ) from None
        raise InputError(
            f"{path.name!r} is not a readable VCF file (expected a VCF, plain or bgzipped, that "
            "starts with ##fileformat=VCF; or a genotype table named .csv, .tsv or .txt)"
        ) from None
    if head != b"\x1f\x8b" and not vcf.raw_header.startswith("##fileformat=VCF"):
        raise InputError(f"{path.name!r} is not a VCF file: no ##fileformat=VCF header")
    return vcf


def _quiet_htslib() -> None:
    """Silence htslib's own stderr messages: every problem is reported as one tpmt error."""
    from cyvcf2.cyvcf2 import set_htslib_log_level

    set_htslib_log_level(0)


def _samples(vcf: Any, path: Path) -> list[str]:
    """The sample names of the #CHROM line (refused unless they are UTF-8 text)."""
    try:
        return list(vcf.samples)
    except UnicodeDecodeError:
        raise InputError(
            f"{path.name}: the #CHROM line has sample names that are not UTF-8 text "
            "(Latin-1?); VCF files are UTF-8: save the file as UTF-8"
        ) from None


def chromosome_of(name: str) -> str | None:
    """'6' for chr6, 6, Chr6 or NC_000006.12 (GRCh38 RefSeq); None for other names."""
    if name.startswith("NC_"):
        return REFSEQ_GRCH38.get(name)
    return name[3:] if name[:3].lower() == "chr" else name


def _grch37_refused(path: Path, why: str) -> InputError:
    return InputError(
        f"{path.name}: {why}: this is GRCh37/hg19 input; tpmt needs GRCh38 coordinates "
        "(lift the file over to GRCh38 first)"
    )


def _check_build(vcf: Any, path: Path) -> None:
    """Refuse GRCh37/hg19 input, judged from the header's reference and contigs."""
    for line in vcf.raw_header.splitlines():
        if line.startswith("##reference=") and GRCH37_WORDS.search(line):
            raise _grch37_refused(path, f"the header names the reference {line[12:60]!r}")
        match = re.match(r"##contig=<ID=([^,>]+)(.*)", line)
        if not match:
            continue
        name = match.group(1)
        if name in REFSEQ_GRCH37:
            raise _grch37_refused(path, f"contig {name} is the GRCh37 RefSeq accession")
        number = chromosome_of(name)
        length = re.search(r"length=(\d+)", match.group(2))
        if number in GRCH37_LENGTHS and length and GRCH37_LENGTHS[number] == int(length[1]):
            raise _grch37_refused(
                path, f"contig {name} has the GRCh37 length of chromosome {number} ({length[1]})"
            )


def _check_positions(path: Path, at_grch37: list[str], rows: list[_Row]) -> None:
    """Refuse a file whose records sit at GRCh37 positions of defining variants and at none of
    their GRCh38 positions (a lifted-over-less file without contig lengths)."""
    if at_grch37 and not any(row.end is None for row in rows):
        raise _grch37_refused(
            path,
            f"{len(at_grch37)} record(s) sit at GRCh37 positions of defining variants "
            f"(first: {at_grch37[0]}) and none at their GRCh38 positions",
        )


def _rows(
    vcf: Any,
    path: Path,
    matchers: dict[str, AlleleMatcher],
    indexed: bool,
    seen: set[str],
    at_grch37: list[str],
) -> Iterator[_Row]:
    """The rows that touch a defining position (or cover one with a reference block).

    With a tabix index only the genes' regions are read; otherwise the file is read once.
    ``seen`` collects the genes with any record on their chromosome (in the region read);
    ``at_grch37`` the records at a GRCh37 position of a defining variant (with its REF).
    A record htslib cannot parse (or corrupt compressed data) refuses the file with its line.
    """
    genes = {CHROMOSOMES[gene]: gene for gene in matchers}
    positions = {gene: {s.position: s.ref for s in m.sites} for gene, m in matchers.items()}
    old_positions = {
        gene: {
            at + GRCH37_OFFSETS[gene]: ref
            for at, ref in sites.items()
            if at + GRCH37_OFFSETS[gene] not in sites
        }
        for gene, sites in positions.items()
    }
    spans = {
        CHROMOSOMES[gene]: (max(m.sites[0].position - 100, 1), m.sites[-1].position + 10)
        for gene, m in matchers.items()
    }
    if indexed:
        regions = [
            f"{name}:{spans[CHROMOSOMES[gene]][0]}-{spans[CHROMOSOMES[gene]][1]}"
            for gene in matchers
            for name in vcf.seqnames
            if chromosome_of(name) == CHROMOSOMES[gene]
        ]
        records: Iterator[Any] = (r for region in regions for r in vcf(region))
    else:
        records = iter(vcf)

    def in_region(chrom: bytes, position: int) -> bool:
        span = spans.get(chromosome_of(chrom.decode("ascii", errors="replace")) or "")
        return span is not None and span[0] <= position <= span[1]

    labels: dict[str, int] = {}  # string phase sets, numbered in the order first seen
    samples = len(vcf.samples)
    count = 0
    while True:
        try:
            record = next(records)
        except StopIteration:
            return
        except Exception:  # cyvcf2 raises plain Exceptions for unparsable records and bad data
            raise unreadable_record(path, None if indexed else count + 1, in_region) from None
        count += 1
        try:
            chrom = record.CHROM
        except UnicodeDecodeError:
            continue  # not one of the genes' chromosomes
        if chrom in REFSEQ_GRCH37:
            raise _grch37_refused(path, f"records are on {chrom}, the GRCh37 RefSeq accession")
        gene = genes.get(chromosome_of(chrom) or "")
        if gene is None:
            continue
        seen.add(gene)
        old_ref = old_positions[gene].get(record.POS)
        if old_ref is not None:
            with contextlib.suppress(UnicodeDecodeError):
                if _same_bases(record.REF, old_ref):
                    at_grch37.append(f"{chrom}:{record.POS}")
        row = _row(gene, record, positions[gene], labels, samples)
        if row is not None:
            yield row


def _row(
    gene: str, record: Any, positions: dict[int, str], labels: dict[str, int], samples: int
) -> _Row | None:
    try:
        alleles = [record.REF, *record.ALT]
    except UnicodeDecodeError:
        return _unusable_row(gene, record, positions, samples, "REF or ALT is not text")
    expected = positions.get(record.POS)
    if expected is not None and not _same_bases(record.REF, expected):
        return _unusable_row(gene, record, positions, samples, REF_MISMATCH)
    end = _end(record) if any(a.startswith("<") for a in alleles[1:]) else None
    tokens: list[str | None] = []
    for allele in alleles:
        symbolic = allele.startswith("<") or allele in ("*", ".")
        tokens.append(None if symbolic else canonical(record.POS, record.REF, allele))
    targets = {int(t.split(":", 1)[0]) for t in tokens if t not in (None, REF)} & positions.keys()
    target = next(iter(targets), record.POS if record.POS in positions else None)
    if target is None and end is None:
        return None
    genotypes = _genotype_array(record)
    if genotypes is None:
        return _unusable_row(gene, record, positions, samples, "no GT field in FORMAT", target)
    ps = _phase_sets(record, labels, samples) if "PS" in record.FORMAT else None
    quality = {
        key: _quality_column(record, key, samples)
        for key in ("FT", "GQ", "DP", "MIN_DP")
        if key in record.FORMAT
    }
    verdict = record.FILTER  # None for PASS or "."
    return _Row(
        gene,
        target or record.POS,
        tuple(tokens),
        end,
        _compact_genotypes(genotypes),
        ps,
        tuple(alleles),
        None if verdict in (None, "PASS", ".") else str(verdict),
        quality,
    )


def _same_bases(written: str, reference: str) -> bool:
    """Whether a VCF REF agrees with the GRCh38 bases where both are given."""
    length = min(len(written), len(reference))
    return written[:length].upper() == reference[:length].upper()


def _unusable_row(
    gene: str,
    record: Any,
    positions: dict[int, str],
    samples: int,
    reason: str,
    target: int | None = None,
) -> _Row | None:
    """A row at a defining position that no sample can be called from, with the reason."""
    import numpy as np

    position = target or (record.POS if record.POS in positions else None)
    if position is None:
        return None
    empty = np.zeros((samples, 0), dtype=np.int8)
    return _Row(gene, position, (), None, empty, None, (), None, {}, reason)


def _end(record: Any) -> int | None:
    """A reference block's END (None when absent or not a whole number)."""
    try:
        value = record.INFO.get("END")
    except UnicodeDecodeError:
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip() if value is not None else ""
    return int(text) if text.isdigit() else None


def _genotype_array(record: Any) -> Any:
    """The GT array (samples x ploidy+1), or None when the row has no readable GT."""
    if "GT" not in record.FORMAT:
        return None
    try:
        return record.genotype.array()
    except Exception:  # cyvcf2: "couldn't get genotypes for variant"
        return None


def _phase_sets(record: Any, labels: dict[str, int], samples: int) -> Any:
    """Phase-set codes (samples x 1, int64): integers as written, other values numbered.

    PS is declared Integer by the VCF specification; a file that declares it String (or not at
    all) still names phase sets, so equal values share a set. Missing values are NO_PHASE_SET.
    """
    import numpy as np

    try:
        values = record.format("PS")
    except UnicodeDecodeError:
        return np.full((samples, 1), UNREADABLE_PHASE_SET, dtype=np.int64)
    if values is None:
        return None
    if values.dtype.kind in "iu":
        codes = values.reshape(samples, -1)[:, :1].astype(np.int64)
        codes[codes < 0] = NO_PHASE_SET  # missing value or vector-end sentinels
        return codes
    column = _column(values)
    codes = np.empty((samples, 1), dtype=np.int64)
    for i, value in enumerate(column.tolist()):
        text = str(value).strip()
        missing = text in ("", ".", "nan")
        codes[i, 0] = NO_PHASE_SET if missing else labels.setdefault(text, len(labels))
    return codes


def _quality_column(record: Any, key: str, samples: int) -> Any:
    """One quality value per sample: FT as text, GQ/DP/MIN_DP as integers (-1 missing)."""
    import numpy as np

    try:
        values = record.format(key)
    except UnicodeDecodeError:
        values = np.array([UNREADABLE_FT] * samples)
    if values is None:  # no value for any sample
        values = np.array(["."] * samples) if key == "FT" else np.full(samples, MISSING_INT)
    values = _column(values)
    if key == "FT":
        return values
    if values.dtype.kind in "iu":
        return values
    numbers = [_whole(v) for v in values.tolist()]
    return np.array(numbers, dtype=np.int64)


def _whole(value: object) -> int:
    """A quality number as a whole number (-1 when missing or not a number)."""
    try:
        number = float(str(value))
    except ValueError:
        return MISSING_INT
    return MISSING_INT if number != number else int(number)  # NaN: missing


def _compact_genotypes(array: Any) -> Any:
    """The genotype array in the smallest integer type that holds it (int8 for most files)."""
    import numpy as np

    if array.size and -128 <= array.min() and array.max() <= 127:
        return array.astype(np.int8)
    return array


def _column(values: Any) -> Any:
    """One value per sample: the first of a per-sample vector, or the string itself."""
    return values[:, 0] if getattr(values, "ndim", 1) == 2 else values


def read_vcf(
    path: Path,
    matchers: dict[str, AlleleMatcher],
    sample: str | None,
    options: CallOptions = DEFAULT_OPTIONS,
) -> tuple[list[str], Iterator[SampleRecord]]:
    """Sample names and, lazily, each sample's genotypes at the defining positions.

    Samples with byte-identical genotype (and phase-set) columns share one signature and one
    genotype object, so a population file is decoded once per distinct genotype pattern.
    """
    vcf = _open(path)
    _check_build(vcf, path)
    samples: Sequence[str] = _samples(vcf, path)
    if not samples:
        raise InputError(f"{path.name} has no sample columns")
    if sample is not None and sample not in samples:
        shown = ", ".join(samples[:10]) + (" ..." if len(samples) > 10 else "")
        raise InputError(f"sample {sample!r} is not in {path.name}; samples: {shown}")
    indexed = any(Path(str(path) + ext).is_file() for ext in (".tbi", ".csi"))
    genes_seen: set[str] = set()
    at_grch37: list[str] = []
    rows = list(_rows(vcf, path, matchers, indexed, genes_seen, at_grch37))
    _check_positions(path, at_grch37, rows)
    wanted = [sample] if sample is not None else list(samples)
    index = {name: i for i, name in enumerate(samples)}
    return wanted, _records(wanted, index, rows, matchers, options, genes_seen)


def _records(
    wanted: list[str],
    index: dict[str, int],
    rows: list[_Row],
    matchers: dict[str, AlleleMatcher],
    options: CallOptions,
    genes_seen: set[str],
) -> Iterator[SampleRecord]:
    """Each wanted sample's signature and genotypes, computed a chunk of samples at a time.

    The signature is the sample's genotype, phase-set and quality-verdict columns as bytes;
    only one chunk's matrix is in memory at once.
    """
    import numpy as np

    positions = np.array([index[name] for name in wanted], dtype=np.int64)
    decoded: Memo[bytes, SampleGenotypes] = Memo("decoded genotype patterns", 8_192)
    for start in range(0, len(wanted), CHUNK):
        chosen = positions[start : start + CHUNK]
        parts = [row.genotypes[chosen].astype(np.int32) for row in rows]
        for row in rows:
            for key, values in sorted(row.quality.items()):
                parts.append(_quality_codes(key, values[chosen], options))
        phase_sets = [row.phase_sets[chosen, :1] for row in rows if row.phase_sets is not None]
        matrix = _matrix(parts, len(chosen), np.int32)
        phases = _matrix(phase_sets, len(chosen), np.int64)  # positions: keep all 64 bits
        for offset, i in enumerate(chosen.tolist()):
            signature = matrix[offset].tobytes() + phases[offset].tobytes()
            genotypes = decoded.get(
                signature,
                partial(_sample_genotypes, i, rows, matchers, options, genes_seen),
            )
            yield wanted[start + offset], signature, genotypes


def _matrix(parts: list[Any], height: int, dtype: Any) -> Any:
    """The columns side by side, one row per sample, in one integer type."""
    import numpy as np

    if not parts:
        return np.zeros((height, 0), dtype=dtype)
    return np.ascontiguousarray(np.hstack([part.astype(dtype) for part in parts]))


def _quality_codes(key: str, values: Any, options: CallOptions) -> Any:
    """A per-sample pass/fail column for the genotype signature (0 pass, 1 fail)."""
    import numpy as np

    codes = [0 if _quality_problem(key, v, options) is None else 1 for v in values]
    return np.array(codes, dtype=np.int32).reshape(-1, 1)


def _quality_problem(key: str, value: Any, options: CallOptions) -> str | None:
    """Why one FORMAT value fails the quality gate (None: passes or absent)."""
    if key == "FT":
        text = str(value).strip()
        return None if text in ("", ".", "PASS") else f"FT {text}"
    number = int(value)
    if number < 0:
        return None  # missing value: a file without the field is not penalised
    if key == "GQ" and number < options.min_gq:
        return f"GQ {number} < {options.min_gq}"
    if key in ("DP", "MIN_DP") and number < options.min_dp:
        return f"{key} {number} < {options.min_dp}"
    return None


def _row_problems(row: _Row, i: int, options: CallOptions) -> list[str]:
    """Every quality problem of one sample's call in one row."""
    problems = [f"FILTER {row.filter}"] if row.filter else []
    block = row.end is not None
    for key in ("FT", "GQ", "DP", "MIN_DP"):
        if key not in row.quality:
            continue
        if key == "DP" and block and "MIN_DP" in row.quality:
            continue  # in a reference block MIN_DP is the depth that counts
        problem = _quality_problem(key, row.quality[key][i], options)
        if problem:
            problems.append(problem)
    return problems


def _sample_genotypes(
    i: int,
    rows: list[_Row],
    matchers: dict[str, AlleleMatcher],
    options: CallOptions,
    genes_seen: set[str],
) -> SampleGenotypes:
    out: SampleGenotypes = {gene: {} for gene in matchers}
    blocks: list[tuple[_Row, SiteGenotype]] = []
    for row in rows:
        genotype = _site(row, i, options)
        if row.end is not None:
            blocks.append((row, genotype))
            continue
        sites = out[row.gene]
        sites[row.position] = (
            merge(sites[row.position], genotype) if row.position in sites else genotype
        )
    for row, genotype in blocks:
        if genotype.alleles != (REF, REF) and genotype.seen != (REF, REF):
            continue
        covered = SiteGenotype((REF, REF), shown="0/0 (reference block)")
        if genotype.reason:
            covered = uncalled("0/0 (reference block)", f"reference block: {genotype.reason}")
        for site in matchers[row.gene].sites:
            if row.position <= site.position <= row.end and site.position not in out[row.gene]:  # type: ignore[operator]
                out[row.gene][site.position] = covered
    if options.assume_reference:
        for gene, matcher in matchers.items():
            if gene not in genes_seen:
                continue  # nothing read on this gene's chromosome: never fill a whole gene
            for site in matcher.sites:
                out[gene].setdefault(site.position, ASSUMED_REFERENCE)
    return out


def _most_severe_pair(tokens: list[str | None]) -> SiteGenotype | None:
    """A diploid reading of a non-diploid call that keeps its non-reference alleles."""
    alts = [t for t in tokens if t not in (None, REF)]
    if not alts:
        return None
    second = alts[1] if len(alts) > 1 else (alts[0] if len(tokens) == 1 else REF)
    return SiteGenotype((alts[0], second))


def _non_diploid(count: int) -> str:
    """Why a genotype with other than two alleles is not called."""
    ploidy = "haploid, 1 allele" if count == 1 else f"{count} alleles"
    return (
        f"non-diploid genotype ({ploidy}); TPMT and NUDT15 are autosomal: a diploid call is needed"
    )


def _site(row: _Row, i: int, options: CallOptions) -> SiteGenotype:
    """One sample's call in one row: its alleles, phase, and any reason it is not usable."""
    if row.reason is not None:
        return uncalled(".", row.reason)
    values = [int(x) for x in row.genotypes[i]]
    phased = bool(values[-1])
    indices = [a for a in values[:-1] if a != -2]  # -2 pads samples of lower ploidy
    sep = "|" if phased else "/"
    shown = sep.join(row.shown[a] if 0 <= a < len(row.shown) else "." for a in indices)
    if len(indices) != 2:
        tokens = [row.tokens[a] if 0 <= a < len(row.tokens) else None for a in indices]
        return uncalled(shown or ".", _non_diploid(len(indices)), seen=_most_severe_pair(tokens))
    if any(a >= len(row.tokens) for a in indices):
        return uncalled(shown, "GT names an allele beyond the row's ALT alleles")
    picked = [row.tokens[a] if a >= 0 else None for a in indices]
    phase_set = None
    if row.phase_sets is not None:
        code = int(row.phase_sets[i][0])
        phased = phased and code != UNREADABLE_PHASE_SET
        phase_set = None if code < 0 else str(code)
    genotype = SiteGenotype((picked[0], picked[1]), phased, phase_set, shown)
    if not genotype.called:
        missing = any(a < 0 for a in indices)
        return uncalled(shown, "no-call" if missing else "symbolic allele (<...> or *)")
    problems = _row_problems(row, i, options)
    if problems:
        return uncalled(shown, "; ".join(problems), seen=genotype)
    return genotype
