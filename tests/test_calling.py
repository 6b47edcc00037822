"""Calling rules on small hand-made VCFs and genotype tables (after PharmCAT's test cases)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tpmt.calling.run import call_file
from tpmt.cli import app
from tpmt.errors import InputError
from tpmt.interpreter import Interpreter
from tpmt.models import Report
from tpmt.vocab import Gene, Phenotype, Source
from vcfgen import HEADER

Row = tuple[int, str, str, str]  # position, REF, ALT, GT


def make_vcf(
    interpreter: Interpreter,
    path: Path,
    rows: list[Row],
    drop: tuple[int, ...] = (),
    header: str = HEADER,
    chrom_prefix: str = "chr",
    extra: list[str] = (),  # type: ignore[assignment]
) -> Path:
    """All defining positions 0/0 unless overridden; ``rows`` replace or add rows."""
    definitions = interpreter.library.get("cpic-2025").definitions
    lines = []
    override = {pos: (ref, alt, gt) for pos, ref, alt, gt in rows}
    for gene, defs in definitions.items():
        chrom = chrom_prefix + ("6" if gene is Gene.TPMT else "13")
        positions = {p.position: p for p in defs.positions} | {
            pos: None for pos in override if (pos > 40_000_000) == (gene is Gene.NUDT15)
        }
        for pos in sorted(positions):
            if pos in drop:
                continue
            site = positions[pos]
            ref, alt, gt = override.get(pos, (site.ref if site else "N", ".", "0/0"))
            lines.append(f"{chrom}\t{pos}\t.\t{ref}\t{alt}\t.\tPASS\t.\tGT\t{gt}")
    body = header + "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\n"
    path.write_text(body + "\n".join([*lines, *extra]) + "\n")
    return path


def call_one(interpreter: Interpreter, path: Path, **kwargs: object) -> Report:
    _, results = call_file(interpreter, path, **kwargs)  # type: ignore[arg-type]
    ((_, report),) = list(results)
    assert isinstance(report, Report), report
    return report


TPMT_460, TPMT_719, TPMT_238 = 18138997, 18130687, 18143724
NUDT15_REPEAT, NUDT15_415 = 48037782, 48045719


def test_reference_everywhere_is_star1_star1(interpreter: Interpreter, tmp_path: Path) -> None:
    report = call_one(interpreter, make_vcf(interpreter, tmp_path / "a.vcf", []))
    for gene in Gene:
        assert report.genes[gene].diplotype == "*1/*1"
        assert report.genes[gene].input_type.value == "variants"
        assert report.genes[gene].evidence is not None
        assert all(report.genes[gene].evidence.minimum_panel.values())


def test_het_3a_unphased_reports_star1_star3a_with_star3b_star3c(
    interpreter: Interpreter, tmp_path: Path
) -> None:
    rows = [(TPMT_460, "C", "T", "0/1"), (TPMT_719, "T", "C", "0/1")]
    report = call_one(interpreter, make_vcf(interpreter, tmp_path / "a.vcf", rows))
    tpmt = report.genes[Gene.TPMT]
    assert tpmt.diplotype == "*1/*3A"
    assert tpmt.phenotype[Source.CPIC] is Phenotype.INTERMEDIATE
    assert [(a.diplotype, a.phenotype[Source.CPIC]) for a in tpmt.alternatives] == [
        ("*3B/*3C", Phenotype.POOR)
    ]
    assert any("without phase" in w and "Poor Metabolizer" in w for w in tpmt.warnings)


def test_phased_cis_and_trans(interpreter: Interpreter, tmp_path: Path) -> None:
    cis = [(TPMT_460, "C", "T", "0|1"), (TPMT_719, "T", "C", "0|1")]
    trans = [(TPMT_460, "C", "T", "0|1"), (TPMT_719, "T", "C", "1|0")]
    assert (
        call_one(interpreter, make_vcf(interpreter, tmp_path / "c.vcf", cis))
        .genes[Gene.TPMT]
        .diplotype
        == "*1/*3A"
    )
    report = call_one(interpreter, make_vcf(interpreter, tmp_path / "t.vcf", trans))
    assert report.genes[Gene.TPMT].diplotype == "*3B/*3C"
    assert report.genes[Gene.TPMT].alternatives == ()


def test_hom_460_het_719_is_3a_3b(interpreter: Interpreter, tmp_path: Path) -> None:
    rows = [(TPMT_460, "C", "T", "1/1"), (TPMT_719, "T", "C", "0/1")]
    report = call_one(interpreter, make_vcf(interpreter, tmp_path / "a.vcf", rows))
    assert report.genes[Gene.TPMT].diplotype == "*3A/*3B"
    assert report.genes[Gene.TPMT].alternatives == ()


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([(TPMT_719, "T", "G", "0/1")], "*1/*41"),  # T>G is *41, not *3C
        ([(TPMT_719, "T", "C,G", "1/2")], "*3C/*41"),
        ([(18138969, "C", "T,G", "1/2")], "*16/*22"),  # rs144041067 multi-allelic
    ],
)
def test_multi_allelic_sites_keyed_on_position_and_allele(
    interpreter: Interpreter, tmp_path: Path, rows: list[Row], expected: str
) -> None:
    report = call_one(interpreter, make_vcf(interpreter, tmp_path / "a.vcf", rows))
    assert report.genes[Gene.TPMT].diplotype == expected


def test_split_multi_allelic_rows_are_merged(interpreter: Interpreter, tmp_path: Path) -> None:
    extra = ["chr6\t18138969\t.\tC\tG\t.\tPASS\t.\tGT\t0/1"]
    rows = [(18138969, "C", "T", "1/0")]
    path = make_vcf(interpreter, tmp_path / "a.vcf", rows, extra=extra)
    assert call_one(interpreter, path).genes[Gene.TPMT].diplotype == "*16/*22"


def test_synonymous_star1s_is_ignored(interpreter: Interpreter, tmp_path: Path) -> None:
    rows = [(TPMT_460, "C", "T", "0/1"), (TPMT_719, "T", "C", "0/1"), (18138983, "G", "A", "1/1")]
    report = call_one(interpreter, make_vcf(interpreter, tmp_path / "a.vcf", rows))
    assert report.genes[Gene.TPMT].diplotype == "*1/*3A"


@pytest.mark.parametrize(
    ("rows", "what"),
    [
        ([(18147910, "A", "T", "0/1")], "A>T"),  # unexpected base at the *5 site
        ([(18133890, "C", "CTTTTTTTT", "0/1")], "C>CTTTTTTTT"),  # long insertion at the *15 site
    ],
)
def test_novel_allele_at_defining_position_is_never_star1(
    interpreter: Interpreter, tmp_path: Path, rows: list[Row], what: str
) -> None:
    report = call_one(interpreter, make_vcf(interpreter, tmp_path / "a.vcf", rows))
    tpmt = report.genes[Gene.TPMT]
    assert tpmt.diplotype is None
    assert tpmt.phenotype[Source.CPIC] is Phenotype.INDETERMINATE
    assert tpmt.evidence is not None and what in tpmt.evidence.novel[0]
    assert any("unexpected allele" in w for w in tpmt.warnings)


def test_missing_position_is_never_reference(interpreter: Interpreter, tmp_path: Path) -> None:
    """Nothing detected, a Tier-1 position untested: presumptive *1/*1 but never Normal."""
    path = make_vcf(interpreter, tmp_path / "a.vcf", [], drop=(TPMT_719,))
    tpmt = call_one(interpreter, path).genes[Gene.TPMT]
    assert tpmt.diplotype == "*1/*1" and tpmt.presumptive
    assert tpmt.phenotype[Source.CPIC] is Phenotype.INDETERMINATE
    assert tpmt.evidence.uncalled == ("chr6:18130687 (rs1142345)",)
    assert tpmt.evidence.minimum_panel == {"*2": True, "*3A": False, "*3B": True, "*3C": False}
    assert ("*1/*3C", "untested") in [(a.diplotype, a.basis) for a in tpmt.alternatives]
    assert "TPMT CPIC: minimum panel incomplete: *3A, *3C not tested." in tpmt.limitations


def test_half_call_and_no_call_are_uncalled(interpreter: Interpreter, tmp_path: Path) -> None:
    for gt in ("0/.", "./."):
        path = make_vcf(interpreter, tmp_path / "a.vcf", [(TPMT_238, "C", "G", gt)])
        tpmt = call_one(interpreter, path).genes[Gene.TPMT]
        assert tpmt.diplotype == "*1/*1" and tpmt.presumptive
        assert tpmt.phenotype[Source.CPIC] is Phenotype.INDETERMINATE
        assert tpmt.evidence.uncalled == ("chr6:18143724 (rs1800462)",)
        assert tpmt.evidence.sites[-14].reason or True
        assert [s.reason for s in tpmt.evidence.sites if not s.called] == ["no-call"]


def test_missing_position_that_cannot_change_the_phenotype(
    interpreter: Interpreter, tmp_path: Path
) -> None:
    """Homozygous c.719A>G with c.460 missing: *3C/*3C, *3A/*3C or *3A/*3A — all Poor."""
    path = make_vcf(
        interpreter, tmp_path / "a.vcf", [(TPMT_719, "T", "C", "1/1")], drop=(TPMT_460,)
    )
    tpmt = call_one(interpreter, path).genes[Gene.TPMT]
    assert tpmt.diplotype == "*3C/*3C"
    assert tpmt.phenotype[Source.CPIC] is Phenotype.POOR
    assert {a.diplotype for a in tpmt.alternatives} == {"*3A/*3C", "*3A/*3A"}
    assert tpmt.presumptive
    assert not any("change the phenotype" in w for w in tpmt.warnings)


def test_nudt15_repeat_alleles(interpreter: Interpreter, tmp_path: Path) -> None:
    deletion = [(NUDT15_REPEAT, "AGGAGTC", "A", "0/1")]
    insertion = [(NUDT15_REPEAT, "A", "AGGAGTC", "0/1")]  # left-normalised form of 4 copies
    both = [(NUDT15_REPEAT, "A", "AGGAGTC", "0/1"), (NUDT15_415, "C", "T", "0/1")]
    calls = [
        call_one(interpreter, make_vcf(interpreter, tmp_path / f"{i}.vcf", rows))
        for i, rows in enumerate((deletion, insertion, both))
    ]
    assert [c.genes[Gene.NUDT15].diplotype for c in calls] == ["*1/*9", "*1/*6", "*1/*3"]
    alternatives = calls[2].genes[Gene.NUDT15].alternatives
    assert [(a.diplotype, a.phenotype[Source.CPIC]) for a in alternatives] == [
        ("*3/*6", Phenotype.POOR)
    ]
    old = call_one(
        interpreter, make_vcf(interpreter, tmp_path / "old.vcf", both), guidelines=["cpic-2018"]
    )
    assert old.genes[Gene.NUDT15].diplotype == "*1/*2"


def test_contig_names_without_chr_prefix(interpreter: Interpreter, tmp_path: Path) -> None:
    rows = [(TPMT_238, "C", "G", "0/1")]
    path = make_vcf(
        interpreter,
        tmp_path / "a.vcf",
        rows,
        chrom_prefix="",
        header=HEADER.replace("ID=chr6", "ID=6").replace("ID=chr13", "ID=13"),
    )
    assert call_one(interpreter, path).genes[Gene.TPMT].diplotype == "*1/*2"


def test_gvcf_reference_blocks_count_as_reference(interpreter: Interpreter, tmp_path: Path) -> None:
    defs = interpreter.library.get("cpic-2025").definitions[Gene.TPMT]
    positions = sorted(p.position for p in defs.positions)
    block = (
        f"chr6\t{positions[0] - 10}\t.\tN\t<NON_REF>\t.\tPASS\tEND={positions[-1] + 10}\tGT\t0/0"
    )
    path = make_vcf(
        interpreter,
        tmp_path / "a.vcf",
        [(TPMT_238, "C", "G,<NON_REF>", "0/1")],
        drop=tuple(p for p in positions if p != TPMT_238),
        extra=[block],
    )
    tpmt = call_one(interpreter, path).genes[Gene.TPMT]
    assert tpmt.diplotype == "*1/*2"
    assert tpmt.evidence.uncalled == ()
    short = f"chr6\t{positions[0] - 10}\t.\tN\t<NON_REF>\t.\tPASS\tEND={positions[0]}\tGT\t0/0"
    path = make_vcf(interpreter, tmp_path / "b.vcf", [], drop=tuple(positions), extra=[short])
    tpmt = call_one(interpreter, path).genes[Gene.TPMT]
    assert len(tpmt.evidence.uncalled) == len(positions) - 1
    assert tpmt.diplotype == "*1/*1" and tpmt.presumptive  # from the one position covered
    assert tpmt.phenotype[Source.CPIC] is Phenotype.INDETERMINATE  # Tier-1 positions untested


def test_gene_absent_from_file_is_no_result(interpreter: Interpreter, tmp_path: Path) -> None:
    defs = interpreter.library.get("cpic-2025").definitions[Gene.NUDT15]
    path = make_vcf(
        interpreter, tmp_path / "a.vcf", [], drop=tuple(p.position for p in defs.positions)
    )
    report = call_one(interpreter, path)
    assert report.genes[Gene.NUDT15].phenotype[Source.CPIC] is Phenotype.NO_RESULT
    assert report.genes[Gene.TPMT].diplotype == "*1/*1"


def test_bgzipped_vcf(interpreter: Interpreter, tmp_path: Path) -> None:
    plain = make_vcf(interpreter, tmp_path / "a.vcf", [(TPMT_238, "C", "G", "0/1")])
    packed = tmp_path / "a.vcf.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    assert call_one(interpreter, packed).genes[Gene.TPMT].diplotype == "*1/*2"


@pytest.mark.parametrize(
    ("header", "fragment"),
    [
        (HEADER.replace("##reference=GRCh38", "##reference=hg19"), "GRCh37/hg19"),
        (HEADER.replace("length=170805979", "length=171115067"), "GRCh37 length"),
    ],
)
def test_grch37_input_is_refused(
    interpreter: Interpreter, tmp_path: Path, header: str, fragment: str
) -> None:
    path = make_vcf(interpreter, tmp_path / "a.vcf", [], header=header)
    with pytest.raises(InputError, match=fragment):
        call_file(interpreter, path)


def test_bad_files_and_samples(interpreter: Interpreter, tmp_path: Path) -> None:
    good = make_vcf(interpreter, tmp_path / "a.vcf", [])
    with pytest.raises(InputError, match="'nobody' is not in a.vcf; samples: S1"):
        call_file(interpreter, good, sample="nobody")
    text = tmp_path / "notes.vcf"
    text.write_text("this is not a VCF\n")
    with pytest.raises(InputError, match="not a"):
        call_file(interpreter, text)
    with pytest.raises(InputError, match="does not exist"):
        call_file(interpreter, tmp_path / "missing.vcf")


def test_genotype_table_with_rsids_and_positions(interpreter: Interpreter, tmp_path: Path) -> None:
    table = tmp_path / "array.csv"
    table.write_text(
        "Sample,RSID,Genotype\n"
        "P1,rs1800460,C/T\nP1,rs1142345,T/C\nP1,chr13:48045719,C/T\nP1,rs2842934,G/A\n"
        "P2,rs1142345,A/G\n"  # gene-strand bases (c.719A>G) must not become *3C or *41
        "P3,rs1800462,--\n"
    )
    names, results = call_file(interpreter, table)
    assert names == ["P1", "P2", "P3"]
    reports = dict(results)
    p1 = reports["P1"]
    assert isinstance(p1, Report)
    assert "*3B/*3C" in [a.diplotype for a in p1.genes[Gene.TPMT].alternatives]
    # a table lists few positions: a presumptive call from those tested, the rest listed
    assert p1.genes[Gene.TPMT].diplotype == "*1/*3A" and p1.genes[Gene.TPMT].presumptive
    assert p1.genes[Gene.TPMT].phenotype[Source.CPIC] is Phenotype.INTERMEDIATE
    assert ("*3A/*4", "untested") in [
        (a.diplotype, a.basis) for a in p1.genes[Gene.TPMT].alternatives
    ]
    p2 = reports["P2"]
    assert isinstance(p2, Report) and p2.genes[Gene.TPMT].evidence.novel
    assert isinstance(reports["P3"], InputError)  # nothing called for either gene


def test_cli_call_jsonl_tsv_and_errors(interpreter: Interpreter, tmp_path: Path) -> None:
    path = make_vcf(
        interpreter, tmp_path / "a.vcf", [(TPMT_460, "C", "T", "0/1"), (TPMT_719, "T", "C", "0/1")]
    )
    runner = CliRunner()
    result = runner.invoke(app, ["call", str(path), "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    (line,) = result.stdout.splitlines()
    record = json.loads(line)
    assert record["sample"] == "S1" and record["genes"]["TPMT"]["diplotype"] == "*1/*3A"
    tsv = runner.invoke(
        app, ["call", str(path), "--format", "tsv", "--drug", "aza"]
    ).stdout.splitlines()
    assert tsv[0].startswith("sample\tstatus\tTPMT_diplotype") and tsv[1].startswith(
        "S1\tok\t*1/*3A"
    )
    missing = runner.invoke(app, ["call", str(tmp_path / "nope.vcf")])
    assert missing.exit_code == 3 and "does not exist" in missing.stderr


def test_bgzipped_and_tabix_indexed_vcf_uses_the_index(
    interpreter: Interpreter, tmp_path: Path
) -> None:
    import pysam  # dev dependency, used only to build the test index

    plain = make_vcf(
        interpreter, tmp_path / "b.vcf", [(TPMT_460, "C", "T", "0|1"), (TPMT_719, "T", "C", "1|0")]
    )
    packed = Path(pysam.tabix_index(str(plain), preset="vcf", force=True))
    assert Path(str(packed) + ".tbi").is_file()
    report = call_one(interpreter, packed)
    assert report.genes[Gene.TPMT].diplotype == "*3B/*3C"
    assert report.genes[Gene.NUDT15].diplotype == "*1/*1"


def test_different_phase_sets_are_not_phased_with_each_other(
    interpreter: Interpreter, tmp_path: Path
) -> None:
    path = make_vcf(interpreter, tmp_path / "a.vcf", [])
    text = path.read_text().replace("\tGT\t", "\tGT:PS\t")
    lines = []
    for line in text.splitlines():
        if line.startswith("chr"):
            fields = line.split("\t")
            if int(fields[1]) == TPMT_460:
                fields[3:5], fields[9] = ["C", "T"], "0|1:100"
            elif int(fields[1]) == TPMT_719:
                fields[3:5], fields[9] = ["T", "C"], "0|1:200"
            else:
                fields[9] += ":."
            line = "\t".join(fields)
        lines.append(line)
    path.write_text("\n".join(lines) + "\n")
    tpmt = call_one(interpreter, path).genes[Gene.TPMT]
    assert tpmt.diplotype == "*1/*3A"
    assert [a.diplotype for a in tpmt.alternatives] == ["*3B/*3C"]
    same = path.read_text().replace("0|1:200", "0|1:100")
    path.write_text(same)
    tpmt = call_one(interpreter, path).genes[Gene.TPMT]
    assert tpmt.diplotype == "*1/*3A" and tpmt.alternatives == ()
