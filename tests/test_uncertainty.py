"""Uncertain evidence: presumptive calls, the minimum panel, quality, ploidy, conflicts,
unknown function, variant-only input, and the more severe advice attached to each row."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import ROOT
from tpmt.calling.options import CallOptions
from tpmt.calling.run import VARIANT_ONLY, call_file
from tpmt.cli import app
from tpmt.errors import InputError
from tpmt.interpreter import Interpreter
from tpmt.models import Report
from tpmt.render.fhir import report_to_bundle
from tpmt.vocab import Action, Gene, Phenotype, Source
from vcfgen import HEADER

REAL = ROOT / "tests" / "data" / "real"
QUALITY_HEADER = HEADER + (
    '##FORMAT=<ID=GQ,Number=1,Type=Integer,Description="Genotype quality">\n'
    '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Depth">\n'
    '##FORMAT=<ID=MIN_DP,Number=1,Type=Integer,Description="Minimum depth in block">\n'
    '##FORMAT=<ID=FT,Number=1,Type=String,Description="Sample filter">\n'
    '##FILTER=<ID=LowQual,Description="Low quality">\n'
)
COLUMNS = "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT"
TPMT_460, TPMT_719, TPMT_238, NUDT15_415 = 18138997, 18130687, 18143724, 48045719


def _vcf(path: Path, lines: list[str], samples: tuple[str, ...] = ("S1",)) -> Path:
    path.write_text(
        QUALITY_HEADER + COLUMNS + "\t" + "\t".join(samples) + "\n" + "\n".join(lines) + "\n"
    )
    return path


def _one(interpreter: Interpreter, path: Path, **options: object) -> Report | InputError:
    _, results = call_file(interpreter, path, options=CallOptions(**options))  # type: ignore[arg-type]
    ((_, result),) = list(results)
    return result


def _cpic(report: Report, gene: Gene) -> Phenotype:
    return report.genes[gene].phenotype[Source.CPIC]


def _full_panel(interpreter: Interpreter, extra: dict[int, str], fmt: str = "GT") -> list[str]:
    """Every defining position of both genes as 0/0 rows, with ``extra`` rows replacing some."""
    lines = []
    for _gene, defs in interpreter.library.get("cpic-2025").definitions.items():
        for site in defs.positions:
            if site.position in extra:
                lines.append(extra[site.position])
            else:
                value = "0/0" if fmt == "GT" else "0/0:60:30"
                lines.append(
                    f"{defs.chromosome}\t{site.position}\t.\t{site.ref}\t{site.alts[0]}\t.\tPASS\t.\t{fmt}\t{value}"
                )
    return lines


# --- the acceptance example: a 4-SNP panel -------------------------------------------------


def test_four_snp_panel_gives_presumptive_calls_and_attaches_the_poor_metabolizer_row(
    interpreter: Interpreter,
) -> None:
    path = ROOT / "examples" / "call-genotype-table" / "genotypes.tsv"
    _, results = call_file(interpreter, path, drugs=["mp"], guidelines=["cpic"])
    p1 = dict(results)["P1"]
    assert isinstance(p1, Report)
    tpmt, nudt15 = p1.genes[Gene.TPMT], p1.genes[Gene.NUDT15]
    assert (tpmt.diplotype, _cpic(p1, Gene.TPMT), tpmt.presumptive) == (
        "*1/*3A",
        Phenotype.INTERMEDIATE,
        True,
    )
    assert ("*3B/*3C", "phase") in [(a.diplotype, a.basis) for a in tpmt.alternatives]
    assert (nudt15.diplotype, _cpic(p1, Gene.NUDT15), nudt15.presumptive) == (
        "*1/*1",
        Phenotype.NORMAL,
        True,
    )
    (rec,) = p1.recommendations
    assert rec.rule_id == "cpic-2025:mercaptopurine.IM-NM"
    assert rec.genes == (Gene.TPMT, Gene.NUDT15)
    poor = [a for a in rec.alternatives if a.rule_id == "cpic-2025:mercaptopurine.PM-NM"]
    assert poor and ("*3B/*3C", "phase") in [(c.diplotype, c.basis) for c in poor[0].because]
    assert {s.action for s in poor[0].dosing} == {Action.REDUCE_DOSE, Action.CONSIDER_ALTERNATIVE}


# --- real data ------------------------------------------------------------------------------


def _by_sample(interpreter: Interpreter, path: Path, **options: object) -> dict[str, Report]:
    _, results = call_file(interpreter, path, options=CallOptions(**options))  # type: ignore[arg-type]
    out = {}
    for name, result in results:
        assert isinstance(result, Report), result
        out[name] = result
    return out


def test_1000_genomes_variant_only_panel_matches_its_reference_filled_copy(
    interpreter: Interpreter,
) -> None:
    raw = _by_sample(interpreter, REAL / "1kgp-tpmt-nudt15.raw.vcf.gz")
    filled = _by_sample(interpreter, REAL / "1kgp-tpmt-nudt15.filled.vcf.gz")
    assumed = _by_sample(interpreter, REAL / "1kgp-tpmt-nudt15.raw.vcf.gz", assume_reference=True)
    assert len(raw) == len(filled) == len(assumed) == 3202
    detected = nothing = 0
    for name, truth in filled.items():
        for gene in Gene:
            expected, got = truth.genes[gene], raw[name].genes[gene]
            assert assumed[name].genes[gene].diplotype == expected.diplotype, name
            if expected.diplotype == "*1/*1":
                nothing += 1
                assert got.diplotype == "*1/*1" and got.presumptive
                assert got.phenotype == {
                    Source.CPIC: Phenotype.NORMAL,
                    Source.DPWG: Phenotype.NORMAL,
                }
            else:
                detected += 1
                assert got.phenotype == expected.phenotype, (name, gene, expected.diplotype)
                assert got.diplotype == expected.diplotype
    assert detected > 500 and nothing > 5000
    assert any("assumed" in w for w in assumed["HG00096"].warnings)
    assert assumed["HG00096"].genes[Gene.TPMT].evidence.assumed_reference


def _own_variant_only_vcfs(tmp_path: Path) -> dict[str, Path]:
    """Each GeT-RM sample's own variant-only VCF: its rows with a non-reference allele."""
    text = gzip.open(REAL / "getrm-tutorial-3samples.tpmt-nudt15.vcf.gz", "rt").read().splitlines()
    head = [line for line in text if line.startswith("##")]
    columns = next(line for line in text if line.startswith("#CHROM")).split("\t")
    body = [line.split("\t") for line in text if not line.startswith("#")]
    out = {}
    for i, name in enumerate(columns[9:], start=9):
        rows = [r[:9] + [r[i]] for r in body if set(r[i].replace("|", "/").split("/")) - {"0", "."}]
        path = tmp_path / f"{name}.vcf"
        lines = [*head, "\t".join(columns[:9] + [name]), *("\t".join(r) for r in rows)]
        path.write_text("\n".join(lines) + "\n")
        out[name] = path
    return out


def test_getrm_samples_own_variant_only_vcfs(interpreter: Interpreter, tmp_path: Path) -> None:
    files = _own_variant_only_vcfs(tmp_path)
    joint = _by_sample(
        interpreter, REAL / "getrm-tutorial-3samples.tpmt-nudt15.vcf.gz", assume_reference=True
    )
    expected = {
        "NA18526": ("*1/*1", "*1/*3"),
        "NA18565": ("*1/*1", "*1/*1"),
        "NA18861": ("*1/*1", "*1/*1"),
    }
    for name, path in files.items():
        assert tuple(joint[name].genes[g].diplotype for g in Gene) == expected[name]
        default = _one(interpreter, path)
        assumed = _one(interpreter, path, assume_reference=True)
        assert isinstance(assumed, Report)
        assert tuple(assumed.genes[g].diplotype for g in Gene) == expected[name]
        if name == "NA18526":  # the non-normal allele is called without any option
            assert isinstance(default, Report)
            assert default.genes[Gene.NUDT15].diplotype == "*1/*3"
            assert _cpic(default, Gene.NUDT15) is Phenotype.INTERMEDIATE
            assert _cpic(default, Gene.TPMT) is Phenotype.NO_RESULT
            assert VARIANT_ONLY in default.warnings
        else:  # nothing detected and no reference call: nothing to report, and it says why
            assert isinstance(default, InputError) and "--assume-reference" in str(default)


# --- quality ----------------------------------------------------------------------------------


def test_gvcf_blocks_without_coverage_are_never_normal(
    interpreter: Interpreter, tmp_path: Path
) -> None:
    blocks = [
        "chr6\t18130000\t.\tN\t<NON_REF>\t.\tPASS\tEND=18150000\tGT:GQ:MIN_DP:DP\t0/0:0:0:0",
        "chr13\t48037000\t.\tN\t<NON_REF>\t.\tPASS\tEND=48046000\tGT:GQ:MIN_DP:DP\t0/0:0:0:0",
    ]
    result = _one(interpreter, _vcf(tmp_path / "a.vcf", blocks))
    assert isinstance(result, InputError)  # nothing tested in either gene: an error record
    good = [b.replace("0/0:0:0:0", "0/0:40:12:30") for b in blocks]
    report = _one(interpreter, _vcf(tmp_path / "b.vcf", [good[0], blocks[1]]))
    assert isinstance(report, Report)
    assert _cpic(report, Gene.TPMT) is Phenotype.NORMAL
    assert _cpic(report, Gene.NUDT15) is Phenotype.NO_RESULT
    reasons = {s.reason for s in report.genes[Gene.NUDT15].evidence.sites}
    assert reasons == {"reference block: GQ 0 < 20; MIN_DP 0 < 10"}


def test_min_dp_is_used_in_blocks_and_the_threshold_itself_passes(
    interpreter: Interpreter, tmp_path: Path
) -> None:
    block = "chr6\t18130000\t.\tN\t<NON_REF>\t.\tPASS\tEND=18150000\tGT:GQ:MIN_DP:DP\t0/0:20:10:3"
    nudt = "chr13\t48037000\t.\tN\t<NON_REF>\t.\tPASS\tEND=48046000\tGT:GQ:DP\t0/0:20:9"
    report = _one(interpreter, _vcf(tmp_path / "a.vcf", [block, nudt]))
    assert isinstance(report, Report)
    assert _cpic(report, Gene.TPMT) is Phenotype.NORMAL  # GQ 20, MIN_DP 10: both pass
    assert {s.reason for s in report.genes[Gene.NUDT15].evidence.sites} == {
        "reference block: DP 9 < 10"
    }
    relaxed = _one(interpreter, _vcf(tmp_path / "b.vcf", [block, nudt]), min_dp=9)
    assert isinstance(relaxed, Report) and _cpic(relaxed, Gene.NUDT15) is Phenotype.NORMAL


@pytest.mark.parametrize(
    ("filter_", "fields", "reason"),
    [
        ("LowQual", "0/1:60:30:PASS", "FILTER LowQual"),
        ("PASS", "0/1:3:30:PASS", "GQ 3 < 20"),
        (".", "0/1:60:4:PASS", "DP 4 < 10"),
        ("PASS", "0/1:60:30:LowGQ", "FT LowGQ"),
    ],
)
def test_failed_star3a_is_not_silently_star1(
    interpreter: Interpreter, tmp_path: Path, filter_: str, fields: str, reason: str
) -> None:
    fmt = "GT:GQ:DP:FT"
    extra = {
        pos: f"chr6\t{pos}\t.\t{ref}\t{alt}\t.\t{filter_}\t.\t{fmt}\t{fields}"
        for pos, ref, alt in ((TPMT_460, "C", "T"), (TPMT_719, "T", "C"))
    }
    lines = [
        line.replace("\tGT\t0/0", f"\t{fmt}\t0/0:60:30:PASS")
        for line in _full_panel(interpreter, extra)
    ]
    report = _one(interpreter, _vcf(tmp_path / "a.vcf", lines))
    assert isinstance(report, Report)
    tpmt = report.genes[Gene.TPMT]
    assert _cpic(report, Gene.TPMT) is not Phenotype.NORMAL  # Tier-1 positions failed
    assert ("*1/*3A", "low_quality") in [(a.diplotype, a.basis) for a in tpmt.alternatives]
    failed = [s for s in tpmt.evidence.sites if not s.called]
    assert [s.reason for s in failed] == [reason, reason]
    for rec in report.recommendations:  # the IM/PM advice of the failed call is attached
        if Gene.TPMT in rec.genes:
            assert rec.alternatives, rec.rule_id


def test_fields_absent_from_the_file_are_not_penalised(
    interpreter: Interpreter, tmp_path: Path
) -> None:
    report = _one(interpreter, _vcf(tmp_path / "a.vcf", _full_panel(interpreter, {})))
    assert isinstance(report, Report)
    assert [_cpic(report, g) for g in Gene] == [Phenotype.NORMAL, Phenotype.NORMAL]
    assert not report.genes[Gene.TPMT].presumptive


# --- ploidy and conflicts ---------------------------------------------------------------------


def test_non_diploid_genotype_changes_no_other_sample(
    interpreter: Interpreter, tmp_path: Path
) -> None:
    lines = []
    for line in _full_panel(interpreter, {}):
        pos = int(line.split("\t")[1])
        if pos == TPMT_460:
            line = line.rsplit("\t", 1)[0] + "\t0/0/1\t0/1\t1"
        elif pos == TPMT_719:
            line = line.rsplit("\t", 1)[0] + "\t0/0\t0/1\t0/0"
        else:
            line = line + "\t0/0\t0/0"
        lines.append(line)
    path = _vcf(tmp_path / "a.vcf", lines, samples=("TRI", "NA-002", "HAPLOID"))
    _, results = call_file(interpreter, path)
    reports = dict(results)
    other = reports["NA-002"]
    assert isinstance(other, Report)
    assert other.genes[Gene.TPMT].diplotype == "*1/*3A"
    assert [(a.diplotype, a.basis) for a in other.genes[Gene.TPMT].alternatives] == [
        ("*3B/*3C", "phase")
    ]
    for name in ("TRI", "HAPLOID"):
        report = reports[name]
        assert isinstance(report, Report)
        tpmt = report.genes[Gene.TPMT]
        assert _cpic(report, Gene.TPMT) is Phenotype.INDETERMINATE  # never *1/*1 Normal
        (site,) = [s for s in tpmt.evidence.sites if not s.called]
        assert site.position == TPMT_460 and site.reason.startswith("non-diploid genotype")


def test_conflicting_table_rows_make_the_position_uncalled(
    interpreter: Interpreter, tmp_path: Path
) -> None:
    table = tmp_path / "t.tsv"
    table.write_text(
        "sample\trsid\tgenotype\n"
        "A\trs1800462\tC/C\nA\trs1800460\tC/T\nA\trs1142345\tT/C\nA\trs116855232\tC/C\n"
        "A\trs1800460\tC/C\n"  # conflicts with the earlier C/T
        "A\trs116855232\tC/C\n"  # identical duplicate: fine
        "A\trs1800462\tCCC\n"  # malformed
    )
    report = _one(interpreter, table)
    assert isinstance(report, Report)
    tpmt = report.genes[Gene.TPMT]
    reasons = {
        s.rsid: s.reason
        for s in tpmt.evidence.sites
        if s.reason and s.reason != "absent from the input"
    }
    assert reasons == {
        "rs1800460": "conflicting rows for one position",
        "rs1800462": "conflicting rows for one position",
    }
    assert tpmt.diplotype == "*1/*3C" and _cpic(report, Gene.TPMT) is Phenotype.INTERMEDIATE
    assert report.genes[Gene.NUDT15].diplotype == "*1/*1"


# --- unknown function, DPWG per gene, lookups ------------------------------------------------


def test_no_function_with_unknown_function_is_possible_intermediate(
    interpreter: Interpreter,
) -> None:
    report = interpreter.interpret(tpmt="*1/*1", nudt15="*3/*22", drugs=["mp"])
    assert report.genes[Gene.NUDT15].phenotype == {
        Source.CPIC: Phenotype.POSSIBLE_INTERMEDIATE,
        Source.DPWG: Phenotype.INDETERMINATE,
    }
    (alt,) = report.genes[Gene.NUDT15].alternatives
    assert (alt.basis, alt.assumption, alt.phenotype[Source.CPIC]) == (
        "unknown_function",
        "*22 as No function",
        Phenotype.POOR,
    )
    dpwg = [
        r for r in report.recommendations if r.source is Source.DPWG and r.genes == (Gene.NUDT15,)
    ]
    assert dpwg[0].alternatives[0].rule_id == "dpwg-2025:mercaptopurine.NUDT15-PM"
    old = interpreter.interpret(tpmt="*3A/*42", guidelines=["cpic-2018"])
    assert _cpic(old, Gene.TPMT) is Phenotype.POSSIBLE_INTERMEDIATE


def test_dpwg_gives_no_action_for_the_normal_gene_when_the_other_needs_action(
    interpreter: Interpreter,
) -> None:
    report = interpreter.interpret(tpmt="*1/*1", nudt15="*3/*3", drugs=["aza"], guidelines=["dpwg"])
    rows = {tuple(r.genes): r for r in report.recommendations}
    assert rows[(Gene.TPMT,)].rule_id == "dpwg-2025:azathioprine.TPMT-NM.other-gene-action"
    assert [s.action for s in rows[(Gene.TPMT,)].dosing] == [Action.NO_ACTION]
    assert Action.CONSIDER_ALTERNATIVE in {s.action for s in rows[(Gene.NUDT15,)].dosing}
    bundle = report_to_bundle(report)
    tasks = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Task"]
    tasks = [t for t in tasks if "partOf" not in t]  # not the monitoring follow-ups
    assert len(tasks) == 1 and tasks[0]["code"]["coding"][0]["code"] == "LA26421-0"
    both = interpreter.interpret(tpmt="*1/*1", nudt15="*1/*1", drugs=["aza"], guidelines=["dpwg"])
    assert {s.action for r in both.recommendations for s in r.dosing} == {Action.STANDARD_DOSE}


def test_typed_star1_star3a_carries_the_poor_metabolizer_advice(interpreter: Interpreter) -> None:
    report = interpreter.interpret(tpmt="*1/*3A", nudt15="*1/*1", drugs=["tg"], guidelines=["cpic"])
    (rec,) = report.recommendations
    assert [a.rule_id for a in rec.alternatives] == ["cpic-2025:thioguanine.PM-NM"]
    assert [(c.gene, c.diplotype, c.basis) for c in rec.alternatives[0].because] == [
        (Gene.TPMT, "*3B/*3C", "phase")
    ]
    plain = interpreter.interpret(tpmt="Intermediate Metabolizer", nudt15="*1/*1", drugs=["tg"])
    assert all(not r.alternatives for r in plain.recommendations)


# --- variant-only input and --assume-reference ----------------------------------------------


def test_variant_only_vcf_notice_and_assume_reference_never_fills_no_calls(
    interpreter: Interpreter, tmp_path: Path
) -> None:
    lines = [
        f"chr6\t{TPMT_238}\t.\tC\tG\t.\tPASS\t.\tGT\t0/1",
        f"chr6\t{TPMT_719}\t.\tT\tC\t.\tPASS\t.\tGT\t./.",
        f"chr13\t{NUDT15_415}\t.\tC\tT\t.\tLowQual\t.\tGT\t0/1",
    ]
    path = _vcf(tmp_path / "v.vcf", lines)
    default = _one(interpreter, path)
    assert isinstance(default, Report) and VARIANT_ONLY in default.warnings
    assert default.genes[Gene.TPMT].diplotype == "*1/*2" and default.genes[Gene.TPMT].presumptive
    assumed = _one(interpreter, path, assume_reference=True)
    assert isinstance(assumed, Report)
    sites = {s.position: s for s in assumed.genes[Gene.TPMT].evidence.sites}
    assert not sites[TPMT_719].called and sites[TPMT_719].reason == "no-call"
    nudt = {s.position: s for s in assumed.genes[Gene.NUDT15].evidence.sites}
    assert nudt[NUDT15_415].reason == "FILTER LowQual"
    assert _cpic(assumed, Gene.NUDT15) is Phenotype.INDETERMINATE  # c.415 failed: not Normal
    result = CliRunner().invoke(app, ["call", str(path), "--format", "tsv"])
    assert result.exit_code == 0
    assert "1 of 1 samples have no reference calls" in result.stderr
    assert "presumptive" in result.stdout.splitlines()[0]


def test_every_format_names_presumptive_calls_and_alternatives(tmp_path: Path) -> None:
    path = ROOT / "examples" / "call-genotype-table" / "genotypes.tsv"
    runner = CliRunner()
    text = runner.invoke(app, ["call", str(path), "--sample", "P1", "--format", "text"]).stdout
    assert "*1/*3A (presumptive)" in text and "if TPMT *3B/*3C" in text
    record = json.loads(
        runner.invoke(app, ["call", str(path), "--sample", "P1", "--format", "json"]).stdout
    )
    assert record["genes"]["TPMT"]["presumptive"] is True
    assert record["recommendations"][0]["alternatives"]
    fhir = runner.invoke(app, ["call", str(path), "--sample", "P1", "--format", "fhir"]).stdout
    assert "More severe possibilities" in fhir
    batch = tmp_path / "b.tsv"
    batch.write_text("sample_id\ttpmt\tnudt15\nX\t*1/*3A\t*1/*1\n")
    tsv = runner.invoke(app, ["batch", str(batch), "--format", "tsv"]).stdout.splitlines()
    header = tsv[0].split("\t")
    first = dict(zip(header, tsv[1].split("\t"), strict=True))
    assert first["genes"] == "TPMT+NUDT15" and "*3B/*3C (phase)" in first["alternatives"]


def test_unusable_calls_keep_their_non_reference_alleles(
    interpreter: Interpreter, tmp_path: Path
) -> None:
    """Conflicting rows and a haploid call at NUDT15 c.415 still carry *1/*3 onto the advice."""
    table = tmp_path / "c.tsv"
    table.write_text(
        "sample_id\trsid\tgenotype\n"
        "C1\trs116855232\tC/C\nC1\trs116855232\tC/T\n"
        "C1\trs1800462\tC/C\nC1\trs1800460\tC/C\nC1\trs1142345\tT/T\n"
    )
    report = _one(interpreter, table)
    assert isinstance(report, Report)
    nudt15 = report.genes[Gene.NUDT15]
    assert _cpic(report, Gene.NUDT15) is Phenotype.NO_RESULT
    assert ("*1/*3", "low_quality") in [(a.diplotype, a.basis) for a in nudt15.alternatives]
    cpic = [r for r in report.recommendations if r.source is Source.CPIC]
    assert all(r.alternatives for r in cpic)
    lines = _full_panel(
        interpreter, {NUDT15_415: f"chr13\t{NUDT15_415}\t.\tC\tT\t.\tPASS\t.\tGT\t1"}
    )
    haploid = _one(interpreter, _vcf(tmp_path / "h.vcf", lines))
    assert isinstance(haploid, Report)
    alts = haploid.genes[Gene.NUDT15].alternatives
    assert ("*3/*3", "low_quality") in [(a.diplotype, a.basis) for a in alts]


def test_every_site_failing_is_an_error_record_not_a_crash(tmp_path: Path) -> None:
    path = ROOT / "examples" / "call-variant-only" / "input.vcf"
    result = CliRunner().invoke(app, ["call", str(path), "--min-gq", "100", "--format", "tsv"])
    assert result.exit_code == 3
    assert "Traceback" not in result.output
    assert "\terror\t" in result.stdout and "Unusable calls showed" in result.stdout
