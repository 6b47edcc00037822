"""Contig names and reference builds: RefSeq accessions are read like chr6/chr13; GRCh37 input
is refused with a message naming the build, from the header or from where the records sit."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import ROOT
from tpmt.cli import app

EXAMPLE = ROOT / "examples" / "call-vcf-tsv" / "input.vcf"
# GRCh37 = GRCh38 + 231 (TPMT) / + 574,136 (NUDT15); literal pairs from pypgx's allele table
# (sbslee/pypgx, pypgx/api/data/allele-table.csv): TPMT *3C rs1142345, *3B rs1800460, *2
# rs1800462; NUDT15 *3 rs116855232
GRCH38_TO_37 = {
    ("6", 18130687): 18130918,
    ("6", 18138997): 18139228,
    ("6", 18143724): 18143955,
    ("13", 48045719): 48619855,
}


def _rename(text: str, names: dict[str, str], lengths: bool = True) -> str:
    lines = []
    for line in text.splitlines():
        if line.startswith("##contig") and not lengths:
            continue
        for old, new in names.items():
            line = line.replace(f"ID={old},", f"ID={new},")
            if line.startswith(f"{old}\t"):
                line = new + line[len(old) :]
        lines.append(line)
    return "\n".join(lines) + "\n"


def _call(path: Path, *extra: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["call", str(path), "--format", "tsv", *extra])
    return result.exit_code, result.stdout, result.stderr


def test_refseq_grch38_accessions_give_the_same_calls(tmp_path: Path) -> None:
    expected = _call(EXAMPLE)
    renamed = tmp_path / "refseq.vcf"
    renamed.write_text(
        _rename(EXAMPLE.read_text(), {"chr6": "NC_000006.12", "chr13": "NC_000013.11"})
    )
    assert _call(renamed) == expected
    assert expected[0] == 0 and "*1/*3A" in expected[1]


def test_plain_and_capitalised_chromosome_names_give_the_same_calls(tmp_path: Path) -> None:
    expected = _call(EXAMPLE)
    for names in ({"chr6": "6", "chr13": "13"}, {"chr6": "Chr6", "chr13": "Chr13"}):
        path = tmp_path / "renamed.vcf"
        path.write_text(_rename(EXAMPLE.read_text(), names))
        assert _call(path) == expected


@pytest.mark.parametrize(
    ("names", "lengths", "fragment"),
    [
        ({"chr6": "NC_000006.11"}, True, "contig NC_000006.11 is the GRCh37 RefSeq accession"),
        ({"chr6": "NC_000006.11"}, False, "records are on NC_000006.11, the GRCh37 RefSeq"),
    ],
)
def test_grch37_refseq_names_are_refused(
    tmp_path: Path, names: dict[str, str], lengths: bool, fragment: str
) -> None:
    path = tmp_path / "b37.vcf"
    path.write_text(_rename(EXAMPLE.read_text(), names, lengths))
    code, stdout, stderr = _call(path)
    assert code == 3 and stdout == ""
    assert fragment in stderr and "GRCh37/hg19" in stderr and "Traceback" not in stderr


def test_grch37_contig_length_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "b37.vcf"
    path.write_text(EXAMPLE.read_text().replace("length=170805979", "length=171115067"))
    code, _, stderr = _call(path)
    assert code == 3
    assert "contig chr6 has the GRCh37 length of chromosome 6 (171115067)" in stderr


def _variant_only_grch37(tmp_path: Path, shift: bool) -> Path:
    """A variant-only file, no contig lines: *1/*3A and NUDT15 *1/*3 at GRCh37 (or 38)."""
    rows = [
        ("chr6", 18130687, "rs1142345", "T", "C"),
        ("chr6", 18138997, "rs1800460", "C", "T"),
        ("chr13", 48045719, "rs116855232", "C", "T"),
    ]
    lines = [
        "##fileformat=VCFv4.2",
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1",
    ]
    for chrom, pos, rsid, ref, alt in rows:
        at = GRCH38_TO_37[(chrom.removeprefix("chr"), pos)] if shift else pos
        lines.append(f"{chrom}\t{at}\t{rsid}\t{ref}\t{alt}\t.\tPASS\t.\tGT\t0/1")
    path = tmp_path / ("b37.vcf" if shift else "b38.vcf")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_grch37_positions_without_contig_lengths_are_refused(tmp_path: Path) -> None:
    code, stdout, stderr = _call(_variant_only_grch37(tmp_path, shift=True))
    assert code == 3 and stdout == ""
    assert re.search(r"3 record\(s\) sit at GRCh37 positions of defining variants", stderr)
    assert "first: chr6:18130918" in stderr


def test_the_same_file_at_grch38_positions_is_called(tmp_path: Path) -> None:
    code, stdout, stderr = _call(_variant_only_grch37(tmp_path, shift=False))
    assert code == 0, stderr
    assert "*1/*3A" in stdout and "*1/*3" in stdout


def test_grch37_offsets_match_the_literal_pairs() -> None:
    from tpmt.calling.vcf import GRCH37_OFFSETS

    for (chrom, pos38), pos37 in GRCH38_TO_37.items():
        gene = "TPMT" if chrom == "6" else "NUDT15"
        assert pos38 + GRCH37_OFFSETS[gene] == pos37
