"""Bad VCF input through ``python -m tpmt call``: a correct call, a no-call at the site, or exit 3
naming the line, the field and what is accepted; never a traceback, never genotype data echoed.

Every file starts as all TPMT and NUDT15 defining positions 0/0 (a complete *1/*1 sample) and
one case changes what it needs, so each outcome is the effect of that one problem. Policy:

* a site that cannot be read (haploid GT, no GT, allele index past ALT, REF/ALT not text) is
  a no-call there: the gene is called from the other positions, presumptive, with the
  diplotypes the site leaves possible (never a silent *1 at that site);
* a record htslib cannot parse (GT written as bases, a value that breaks its declared Type, a
  ':' inside a value, a cut-off line, corrupt or truncated compressed data) refuses the whole
  file with exit 3: reading cannot go on past it, and a partial file must not be reported;
* PS declared Type=String still names phase sets (equal values share a set; '.' is no value);
* Latin-1 bytes are harmless where tpmt does not read (comments, INFO, ID); in sample names
  they refuse the file (names must not be mangled), in FT the call fails quality.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tpmt.interpreter import Interpreter
from tpmt.vocab import Gene

TPMT_719 = 18130687  # rs1142345 T>C: *3A and *3C
TPMT_719_NEXT = 18130694  # the next TPMT defining position (rs150900439)
TPMT_460 = 18138997  # rs1800460 C>T: *3A and *3B
HEADER = (
    b"##fileformat=VCFv4.2\n"
    b"##reference=GRCh38\n"
    b"##contig=<ID=chr6,length=170805979>\n"
    b"##contig=<ID=chr13,length=114364328>\n"
    b'##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
    b'##FORMAT=<ID=FT,Number=1,Type=String,Description="Sample filter">\n'
    b'##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Depth">\n'
    b'##INFO=<ID=NOTE,Number=1,Type=String,Description="Free text">\n'
)  # 8 lines: with no extra header lines the #CHROM line is line 9, chr6:18130687 line 10
COLUMNS = b"#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t"


@dataclass
class Base:
    """The complete *1/*1 sample: one line per defining position."""

    sites: dict[int, tuple[bytes, bytes]]  # position -> (chromosome, REF)

    def lines(self, fmt: bytes = b"GT", value: bytes = b"0/0") -> dict[int, bytes]:
        return {
            pos: b"\t".join([chrom, b"%d" % pos, b".", ref, b".", b".", b"PASS", b".", fmt, value])
            for pos, (chrom, ref) in self.sites.items()
        }


def build(
    base: Base,
    rows: dict[int, bytes] | None = None,
    header: bytes = b"",
    sample: bytes = b"S1",
    drop: tuple[int, ...] = (),
    fmt: bytes = b"GT",
    value: bytes = b"0/0",
) -> bytes:
    """The VCF text: ``rows`` replace whole lines (from the CHROM column on) per position."""
    lines = base.lines(fmt, value) | (rows or {})
    body = b"".join(lines[pos] + b"\n" for pos in sorted(lines) if pos not in drop)
    return HEADER + header + COLUMNS + sample + b"\n" + body


def at_719(
    fmt: bytes, value: bytes, alt: bytes = b"C", info: bytes = b".", ref: bytes = b"T"
) -> dict[int, bytes]:
    return {
        TPMT_719: b"\t".join(
            [b"chr6", b"18130687", b".", ref, alt, b".", b"PASS", info, fmt, value]
        )
    }


def het_3a(fmt: bytes, first: bytes, second: bytes) -> dict[int, bytes]:
    """Heterozygous at both *3A positions, with the given FORMAT and sample columns."""
    rows = at_719(fmt, first)
    rows[TPMT_460] = b"\t".join(
        [b"chr6", b"18138997", b".", b"C", b"T", b".", b"PASS", b".", fmt, second]
    )
    return rows


PS_STRING = b'##FORMAT=<ID=PS,Number=1,Type=String,Description="Phase set">\n'
PS_INTEGER = b'##FORMAT=<ID=PS,Number=1,Type=Integer,Description="Phase set">\n'
GQ_STRING = b'##FORMAT=<ID=GQ,Number=1,Type=String,Description="Genotype quality">\n'
GQ_FLOAT = b'##FORMAT=<ID=GQ,Number=1,Type=Float,Description="Genotype quality">\n'


def gzipped_and_cut(text: bytes) -> bytes:
    """Plain gzip of the file after 30,000 chr1 records, cut at two thirds."""
    head, body = text.split(COLUMNS + b"S1\n")
    filler = b"".join(b"chr1\t%d\t.\tA\tG\t.\tPASS\t.\tGT\t0/1\n" % i for i in range(1, 30_001))
    packed = gzip.compress(head + COLUMNS + b"S1\n" + filler + body)
    return packed[: len(packed) * 2 // 3]


def bgzipped(text: bytes, tmp: Path) -> bytes:
    import pysam  # dev dependency, used only to build test files

    plain, packed = tmp / "plain.vcf", tmp / "packed.vcf.gz"
    plain.write_bytes(text)
    pysam.tabix_compress(str(plain), str(packed), force=True)
    return packed.read_bytes()


@dataclass
class Case:
    """One bad input and the outcome it must give."""

    id: str
    make: Callable[[Base, Path], bytes]
    exit_code: int
    stderr: list[str] = field(default_factory=list)  # fragments of the error line
    absent: list[str] = field(default_factory=list)  # input text that must not be echoed
    tpmt: dict[str, Any] = field(default_factory=dict)  # expected TPMT fields of the record
    reason_719: str | None = None  # expected start of the no-call reason at chr6:18130687
    message: list[str] = field(default_factory=list)  # fragments of a per-sample error record
    suffix: str = ".vcf"
    index: bool = False


CASES = [
    # 1. haploid genotypes on chr6: the site is a no-call; what it showed is carried
    Case(
        "haploid-alt",
        lambda b, _: build(b, at_719(b"GT", b"1")),
        0,
        tpmt={
            "diplotype": "*1/*1",
            "presumptive": True,
            "CPIC": "Indeterminate",
            "has": [("*3C/*3C", "low_quality"), ("*1/*3C", "untested")],
        },
        reason_719="non-diploid genotype (haploid, 1 allele); TPMT and NUDT15 are autosomal",
    ),
    Case(
        "haploid-ref",
        lambda b, _: build(b, at_719(b"GT", b"0")),
        0,
        tpmt={
            "diplotype": "*1/*1",
            "presumptive": True,
            "CPIC": "Indeterminate",
            "has": [("*1/*3C", "untested")],
        },
        reason_719="non-diploid genotype (haploid, 1 allele)",
    ),
    # 2. PS declared Type=String: values are phase-set names
    Case(
        "ps-string-one-set",
        lambda b, _: build(
            b, het_3a(b"GT:PS", b"0|1:chr6-18130687", b"0|1:chr6-18130687"), PS_STRING
        ),
        0,
        tpmt={"diplotype": "*1/*3A", "presumptive": False, "alternatives": []},
    ),
    Case(
        "ps-string-two-sets",
        lambda b, _: build(b, het_3a(b"GT:PS", b"0|1:blockA", b"0|1:blockB"), PS_STRING),
        0,
        tpmt={"diplotype": "*1/*3A", "alternatives": [("*3B/*3C", "phase")]},
    ),
    Case(  # VCF: phased genotypes without a phase-set value belong to one set
        "ps-string-missing",
        lambda b, _: build(b, het_3a(b"GT:PS", b"0|1:.", b"0|1:."), PS_STRING),
        0,
        tpmt={"diplotype": "*1/*3A", "alternatives": []},
    ),
    Case(  # a phase set that is not text: the genotypes count as unphased
        "ps-string-not-ascii",
        lambda b, _: build(b, het_3a(b"GT:PS", b"0|1:bl\xe9", b"0|1:bl\xe9"), PS_STRING),
        0,
        tpmt={"diplotype": "*1/*3A", "alternatives": [("*3B/*3C", "phase")]},
    ),
    Case(
        "ps-value-with-colon",
        lambda b, _: build(b, het_3a(b"GT:PS", b"0|1:chr6:123", b"0|1:chr6:123"), PS_STRING),
        3,
        stderr=[
            "line 11 (chr6:18130687): sample column 1 has 3 ':'-separated values for 2 "
            "FORMAT keys (a value may not contain ':')",
            "nothing was called from this file",
        ],
        absent=["chr6:123"],
    ),
    Case(
        "ps-integer-given-text",
        lambda b, _: build(b, het_3a(b"GT:PS", b"0|1:blockA", b"0|1:blockA"), PS_INTEGER),
        3,
        stderr=[
            "line 11 (chr6:18130687): sample column 1: FORMAT PS is declared Type=Integer in "
            "the header but a value is not a whole number or '.'"
        ],
        absent=["blockA"],
    ),
    # 3. no GT in FORMAT
    Case(
        "no-gt-at-one-site",
        lambda b, _: build(b, at_719(b"DP", b"30")),
        0,
        tpmt={
            "diplotype": "*1/*1",
            "presumptive": True,
            "CPIC": "Indeterminate",
            "has": [("*1/*3C", "untested")],
        },
        reason_719="no GT field in FORMAT",
    ),
    Case(
        "no-gt-anywhere",
        lambda b, _: build(b, fmt=b"DP", value=b"30"),
        3,
        stderr=["1 of 1 samples could not be interpreted"],
        message=[
            "sample 'S1': nothing to interpret",
            "TPMT: none of the 45 defining positions gave a usable call",
            "45 no GT field in FORMAT",
        ],
    ),
    # 4. GT written with bases; other GT mistakes
    Case(
        "gt-bases",
        lambda b, _: build(b, at_719(b"GT", b"T/C")),
        3,
        stderr=[
            "line 10 (chr6:18130687): sample column 1: GT is not allele indices; accepted: "
            "allele indices such as 0/0, 0/1, 1|0 or ./. (0 is REF, 1 the first ALT), not bases"
        ],
        absent=["T/C"],
    ),
    Case(
        "gt-bases-indexed",
        lambda b, t: bgzipped(build(b, at_719(b"GT", b"T/C")), t),
        3,
        stderr=["line 10 (chr6:18130687): sample column 1: GT is not allele indices"],
        absent=["T/C"],
        suffix=".vcf.gz",
        index=True,
    ),
    Case(
        "gt-index-past-alt",
        lambda b, _: build(b, at_719(b"GT", b"0/5")),
        0,
        tpmt={"diplotype": "*1/*1", "presumptive": True, "CPIC": "Indeterminate"},
        reason_719="GT names an allele beyond the row's ALT alleles",
    ),
    # quality fields declared with unusual types
    Case(
        "gq-string",
        lambda b, _: build(b, at_719(b"GT:GQ", b"0/1:5"), GQ_STRING),
        0,
        tpmt={"diplotype": "*1/*1", "presumptive": True, "has": [("*1/*3C", "low_quality")]},
        reason_719="GQ 5 < 20",
    ),
    Case(
        "gq-float-missing",
        lambda b, _: build(b, at_719(b"GT:GQ", b"0/1:."), GQ_FLOAT),
        0,
        tpmt={"diplotype": "*1/*3C", "presumptive": False},
    ),
    Case(  # END not declared: htslib reads it as text; the block still covers the next site
        "gvcf-end-undeclared",
        lambda b, _: build(
            b, at_719(b"GT", b"0/0", alt=b"<NON_REF>", info=b"END=18130700"), drop=(TPMT_719_NEXT,)
        ),
        0,
        tpmt={"diplotype": "*1/*1", "presumptive": False, "alternatives": []},
    ),
    # Latin-1 bytes
    Case(
        "latin1-header-comment",
        lambda b, _: build(b, header=b"##comment=caf\xe9 au lait\n"),
        0,
        tpmt={"diplotype": "*1/*1", "presumptive": False},
    ),
    Case(
        "latin1-info",
        lambda b, _: build(b, at_719(b"GT", b"0/1", info=b"NOTE=\xe9t\xe9")),
        0,
        tpmt={"diplotype": "*1/*3C", "presumptive": False},
    ),
    Case(
        "latin1-sample-name",
        lambda b, _: build(b, sample=b"Ren\xe9"),
        3,
        stderr=[
            "the #CHROM line has sample names that are not UTF-8 text",
            "save the file as UTF-8",
        ],
        absent=["Ren"],
    ),
    Case(
        "latin1-ft",
        lambda b, _: build(b, at_719(b"GT:FT", b"0/1:b\xe9d")),
        0,
        tpmt={"diplotype": "*1/*1", "presumptive": True, "has": [("*1/*3C", "low_quality")]},
        reason_719="FT not readable (not ASCII text)",
    ),
    Case(
        "latin1-alt",
        lambda b, _: build(b, at_719(b"GT", b"0/1", alt=b"\xe9")),
        0,
        tpmt={"diplotype": "*1/*1", "presumptive": True, "CPIC": "Indeterminate"},
        reason_719="REF or ALT is not text",
    ),
    # REF disagrees with GRCh38 (T here): 0/0 would be C/C, homozygous *3C, if REF were right
    Case(
        "ref-not-grch38",
        lambda b, _: build(b, at_719(b"GT", b"0/0", ref=b"C", alt=b"T")),
        0,
        tpmt={
            "diplotype": "*1/*1",
            "presumptive": True,
            "CPIC": "Indeterminate",
            "has": [("*3C/*3C", "untested")],
        },
        reason_719="VCF REF differs from the GRCh38 base the allele definitions give here",
    ),
    # truncated and corrupt files
    Case(
        "truncated-text",
        lambda b, _: build(b)[:-12],
        3,
        stderr=[
            "line 74 (chr13:",
            "tab-separated columns where the #CHROM line names 10 (a truncated file, or spaces "
            "instead of tabs?)",
        ],
    ),
    Case(
        "truncated-gzip",
        lambda b, _: gzipped_and_cut(build(b)),
        3,
        stderr=["truncated or its compressed data is corrupt"],
        suffix=".vcf.gz",
    ),
    Case(
        "truncated-bgzip",
        lambda b, t: bgzipped(build(b), t)[:-28],
        3,
        stderr=["is truncated: its bgzip end-of-file block is missing"],
        suffix=".vcf.gz",
    ),
    Case(
        "gzip-garbage",
        lambda b, _: b"\x1f\x8b" + b"not compressed data " * 20,
        3,
        stderr=["is not a readable VCF file: its compressed data is truncated or corrupt"],
        suffix=".vcf.gz",
    ),
]


@pytest.fixture(scope="module")
def base(interpreter: Interpreter) -> Base:
    definitions = interpreter.library.get("cpic-2025").definitions
    sites = {}
    for gene, defs in definitions.items():
        chrom = b"chr6" if gene is Gene.TPMT else b"chr13"
        for p in defs.positions:
            sites[p.position] = (chrom, p.ref.encode())
    return Base(sites)


def run_call(path: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "TPMT_DEBUG"}
    return subprocess.run(
        [sys.executable, "-m", "tpmt", "call", str(path), "--format", "jsonl"],
        capture_output=True,
        text=True,
        errors="replace",
        env=env,
        check=False,
    )


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_vcf_input_gets_a_clean_outcome(base: Base, tmp_path: Path, case: Case) -> None:
    path = tmp_path / f"input{case.suffix}"
    path.write_bytes(case.make(base, tmp_path))
    if case.index:
        import pysam

        pysam.tabix_index(str(path), preset="vcf", force=True)
    result = run_call(path)
    assert "Traceback" not in result.stderr + result.stdout
    assert "internal error" not in result.stderr
    assert result.returncode == case.exit_code, result.stderr
    for fragment in case.stderr:
        assert fragment in result.stderr
    for text in case.absent:
        assert text not in result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    if case.exit_code == 3 and not case.message:
        assert records == []  # a refused file: no partial output
        assert result.stderr.count("\n") == 1  # one line, no htslib chatter
        return
    (record,) = records
    if case.message:
        assert record["status"] == "error"
        for fragment in case.message:
            assert fragment in record["message"]
        return
    tpmt = record["genes"]["TPMT"]
    expected = case.tpmt
    assert tpmt["diplotype"] == expected["diplotype"]
    if "presumptive" in expected:
        assert tpmt["presumptive"] is expected["presumptive"]
    if "CPIC" in expected:
        assert tpmt["phenotype"]["CPIC"] == expected["CPIC"]
    alternatives = [(a["diplotype"], a["basis"]) for a in tpmt["alternatives"]]
    if "alternatives" in expected:
        assert alternatives == expected["alternatives"]
    for alternative in expected.get("has", []):
        assert alternative in alternatives
    sites = {s["position"]: s for s in tpmt["evidence"]["sites"]}
    if case.reason_719 is not None:
        assert sites[TPMT_719]["called"] is False
        assert sites[TPMT_719]["reason"].startswith(case.reason_719)
    else:
        assert all(s["called"] for s in sites.values())
    assert record["genes"]["NUDT15"]["diplotype"] == "*1/*1"
