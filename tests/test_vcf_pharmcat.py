"""PharmCAT's own small test VCFs as independent truth for the allele definitions and caller.

The files and PharmCAT's expected calls are described in tests/data/pharmcat/README.md. The
files list fewer positions than cpic-2025 defines, so every call is presumptive and the absent
positions must be reported as untested (never filled in as reference).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tpmt.calling.run import call_file
from tpmt.interpreter import Interpreter
from tpmt.models import GeneResult, Report
from tpmt.vocab import Gene, Source

DATA = Path(__file__).parent / "data" / "pharmcat"
NM, IM, PM = "Normal Metabolizer", "Intermediate Metabolizer", "Poor Metabolizer"
INDETERMINATE = "Indeterminate"

# file, gene, guideline, expected diplotype, its CPIC phenotype, expected phase alternatives
CALLED = [
    ("TPMT/s1s1.vcf", Gene.TPMT, "cpic-2025", "*1/*1", NM, []),
    ("TPMT/het3a.vcf", Gene.TPMT, "cpic-2025", "*1/*3A", IM, [("*3B/*3C", PM)]),
    ("TPMT/s3bs3c.vcf", Gene.TPMT, "cpic-2025", "*1/*3A", IM, [("*3B/*3C", PM)]),
    # homozygous rs2842934 (synonymous, formerly "*1S") is an ignored position
    ("TPMT/s1ss1ss3.vcf", Gene.TPMT, "cpic-2025", "*1/*3A", IM, [("*3B/*3C", PM)]),
    ("TPMT/s3as3b.vcf", Gene.TPMT, "cpic-2025", "*3A/*3B", PM, []),
    # one multi-allelic row (C>T,G; GT 1/2) carries both alleles
    ("TPMT/s16s22.vcf", Gene.TPMT, "cpic-2025", "*16/*22", PM, []),
    ("NUDT15/refref.vcf", Gene.NUDT15, "cpic-2025", "*1/*1", NM, []),
    ("NUDT15/s3ref.vcf", Gene.NUDT15, "cpic-2025", "*1/*3", IM, []),
    # s2ref: c.415C>T (rs116855232, the *3 variant) and the 6-bp GAGTCG insertion, each once.
    # PharmCAT calls this *1/*2 (both on one chromosome) and warns that *3/*6 (one on each) is
    # not excluded. Since the 2026 nomenclature *2 is a sub-allele of *3 (cpic-2025 NUDT15.json
    # aliases), so the same chromosome is *3 and the call is *1/*3: one No function allele,
    # Intermediate Metabolizer, as *1/*2 was. The unphased data cannot rule out *3/*6 (two No
    # function alleles, Poor Metabolizer), so it must stay listed as the phase alternative: a
    # lab would report *1/*3 with *3/*6 not excluded, exactly PharmCAT's warning.
    ("NUDT15/s2ref.vcf", Gene.NUDT15, "cpic-2025", "*1/*3", IM, [("*3/*6", PM)]),
    # under the 2018 rule set *2 still has its own name (same meaning); *6 was then of
    # uncertain function, so *3/*6 was a Possible Intermediate Metabolizer
    (
        "NUDT15/s2ref.vcf",
        Gene.NUDT15,
        "cpic-2018",
        "*1/*2",
        IM,
        [("*3/*6", "Possible Intermediate Metabolizer")],
    ),
]

# file, the defining position PharmCAT's data cannot match, the unexpected allele there
UNCALLABLE = [
    ("TPMT/s15offdata.vcf", 18133890, "chr6:18133890 (rs9333570) C>CTACAAAGAACACAAGAAG"),
    ("TPMT/unexpected.allele.vcf", 18147910, "chr6:18147910 (rs72552740) A>T"),
    ("TPMT/unexpected.allele.with.s9.vcf", 18147910, "chr6:18147910 (rs72552740) A>T"),
]


def call(interpreter: Interpreter, name: str, guideline: str, gene: Gene) -> GeneResult:
    _, results = call_file(interpreter, DATA / name, guidelines=[guideline])
    ((_, report),) = list(results)
    assert isinstance(report, Report), report
    return report.genes[gene]


def positions_in(name: str) -> set[int]:
    lines = (DATA / name).read_text().splitlines()
    return {int(line.split("\t")[1]) for line in lines if not line.startswith("#")}


def untested(result: GeneResult) -> set[int]:
    assert result.evidence is not None
    return {site.position for site in result.evidence.sites if not site.called}


@pytest.mark.parametrize(
    ("name", "gene", "guideline", "diplotype", "phenotype", "phase"),
    CALLED,
    ids=[f"{c[0]}-{c[2]}" for c in CALLED],
)
def test_pharmcat_vcf_gives_pharmcats_call(
    interpreter: Interpreter,
    name: str,
    gene: Gene,
    guideline: str,
    diplotype: str,
    phenotype: str,
    phase: list[tuple[str, str]],
) -> None:
    result = call(interpreter, name, guideline, gene)
    assert result.diplotype == diplotype
    assert result.phenotype[Source.CPIC].value == phenotype
    assert [
        (a.diplotype, a.phenotype[Source.CPIC].value)
        for a in result.alternatives
        if a.basis == "phase"
    ] == phase
    assert not [a for a in result.alternatives if a.basis == "low_quality"]
    defined = {p.position for p in interpreter.library.get(guideline).definitions[gene].positions}
    absent = defined - positions_in(name)
    assert absent  # these files predate the newest positions
    assert untested(result) == absent
    assert result.presumptive is True


@pytest.mark.parametrize(("name", "position", "novel"), UNCALLABLE, ids=[c[0] for c in UNCALLABLE])
def test_pharmcat_vcf_with_an_unexpected_allele_is_not_called(
    interpreter: Interpreter, name: str, position: int, novel: str
) -> None:
    result = call(interpreter, name, "cpic-2025", Gene.TPMT)
    assert result.diplotype is None  # never *1 at the site that could not be matched
    assert result.phenotype[Source.CPIC].value == INDETERMINATE
    assert result.evidence is not None
    assert result.evidence.novel == (novel,)
    site = next(s for s in result.evidence.sites if s.position == position)
    assert (site.called, site.reason) == (False, "novel allele")
    assert any("unexpected allele at a defining position" in w for w in result.warnings)
