"""Every example in examples/ is run and compared with its recorded output (golden files).

Each example is a folder with ``args`` (the command line after ``tpmt``), ``stdout``, and
``exit_code``; ``stderr`` too when the command fails. Regenerate on purpose with
``TPMT_UPDATE_GOLDEN=1 pytest tests/test_examples.py``.

Rule-set content hashes (sha256, printed in full or as their first 16 digits) change with every
edit of the guideline data, so the comparison with the recorded output replaces them with a
placeholder on both sides; a recorded hash may therefore be stale. Separately, every hash the
command prints now must be the live hash (from the library) of the rule set named just before it.
"""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import ROOT
from tpmt.cli import app
from tpmt.guidelines import GuidelineLibrary
from tpmt.rule_set_hashes import DOSE_DATA_SHA256, SAFETY_DATA_SHA256
from tpmt.vocab import Gene

EXAMPLES = sorted(p for p in (ROOT / "examples").iterdir() if (p / "args").is_file())
HASH = re.compile(r"\b(?:[0-9a-f]{64}|[0-9a-f]{16})\b")


def without_hashes(text: str) -> str:
    """Text with every sha256-shaped string (64 or 16 hex digits) replaced by a placeholder."""
    return HASH.sub(lambda m: f"<sha256:{len(m.group(0))} digits>", text)


def misprinted_hashes(text: str, live: dict[str, str]) -> list[str]:
    """Hashes that are not the live hash (or its 16-digit prefix) of the nearest rule set named
    before them."""
    rule_set_ids = re.compile("|".join(re.escape(i) for i in sorted(live, key=len, reverse=True)))
    wrong = []
    for match in HASH.finditer(text):
        named = rule_set_ids.findall(text, 0, match.start())
        owner = named[-1] if named else None
        if owner is None or not live[owner].startswith(match.group(0)):
            wrong.append(f"{match.group(0)} (after {owner})")
    return wrong


@pytest.fixture(scope="module")
def live_hashes() -> dict[str, str]:
    library = GuidelineLibrary(ROOT / "guidelines")
    return {rule_set_id: library.get(rule_set_id).sha256 for rule_set_id in library.manifests}


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example(
    example: Path, monkeypatch: pytest.MonkeyPatch, live_hashes: dict[str, str]
) -> None:
    monkeypatch.chdir(ROOT)  # example arguments name files relative to the repository
    args = shlex.split((example / "args").read_text())
    result = CliRunner().invoke(app, args)
    outputs = {"stdout": result.stdout, "exit_code": f"{result.exit_code}\n"}
    if result.exit_code != 0:
        outputs["stderr"] = result.stderr
    if os.environ.get("TPMT_UPDATE_GOLDEN"):
        for name, text in outputs.items():
            (example / name).write_text(text)
    live = {**live_hashes, **DOSE_DATA_SHA256}  # label dose data is hashed the same way
    live |= {f"{key}/safety": value for key, value in SAFETY_DATA_SHA256.items()}  # and safety
    for name, text in outputs.items():
        assert misprinted_hashes(text, live) == [], f"{example.name}/{name}: stale hash"
        expected = without_hashes((example / name).read_text())
        assert expected == without_hashes(text), f"{example.name}/{name} differs"


def test_there_are_examples() -> None:
    assert len(EXAMPLES) >= 5


def test_hash_handling_sees_the_hashes_of_all_three_rule_sets(live_hashes: dict[str, str]) -> None:
    """The placeholder and the live check are not vacuous: the listing prints all three."""
    listing = (ROOT / "examples" / "guidelines" / "stdout").read_text()
    assert sorted(live_hashes) == ["cpic-2018", "cpic-2025", "dpwg-2025"]
    assert len(HASH.findall(listing)) == 3
    assert without_hashes("sha256 " + "0123456789abcdef" * 4) == "sha256 <sha256:64 digits>"
    assert without_hashes("· sha256 44138a209ae1ea12\n") == "· sha256 <sha256:16 digits>\n"
    shown = "cpic-2025 ... sha256 " + live_hashes["cpic-2025"][:16]
    assert misprinted_hashes(shown, live_hashes) == []
    swapped = "cpic-2025 ... sha256 " + live_hashes["dpwg-2025"]
    assert misprinted_hashes(swapped, live_hashes) == [
        f"{live_hashes['dpwg-2025']} (after cpic-2025)"
    ]
    assert misprinted_hashes("sha256 " + "0" * 64, live_hashes) == ["0" * 64 + " (after None)"]


README_EXAMPLES = [
    e.name
    for e in EXAMPLES
    if "$ tpmt " + (e / "args").read_text().strip() + "\n" in (ROOT / "README.md").read_text()
]


def test_the_readme_shows_examples() -> None:
    assert {"readme-lookup", "batch-compact", "call-panel-text"} <= set(README_EXAMPLES)


@pytest.mark.parametrize("name", README_EXAMPLES)
def test_readme_shows_the_real_output_of_its_example(name: str) -> None:
    """Every README block that runs an example's command shows that example's real output."""
    example = ROOT / "examples" / name
    readme = (ROOT / "README.md").read_text()
    command = "$ tpmt " + (example / "args").read_text().strip()
    shown = command + "\n" + (example / "stdout").read_text()
    assert without_hashes(shown) in without_hashes(readme)


# Allele definitions. With hashes masked above, an edit of the definitions no longer shows up in
# the golden files through the hash, so the defining variants of the alleles that matter most
# are checked here against values written out from published tables:
# - CPIC/ClinPGx allele definitions as packaged by PharmCAT: TPMT_translation.json and
#   NUDT15_translation.json (PharmGKB/PharmCAT @ 5431bf1, data version 2025-11-05-00-25; and the
#   2026 data, TPMT 2026-02-05-15-04 and NUDT15 2026-07-05-00-25, from PharmCAT 3.2.0+),
#   GRCh38 (NC_000006.12, NC_000013.11), VCF-style ref/alt on the + strand;
# - cross-checked against the pypgx allele table (sbslee/pypgx @ fa6b9f7,
#   pypgx/api/data/allele-table.csv, GRCh38Core), which writes NUDT15*2's insertion
#   left-anchored as 13-48037782-A-AGGAGTC (the same event as AGGAGTC>AGGAGTCGGAGTC).
# TPMT is on the - strand: c.238G>C is g.18143724C>G, c.460G>A is g.18138997C>T, c.719A>G is
# g.18130687T>C, c.626-1G>A is g.18130781C>T. NUDT15 c.415C>T is g.48045719C>T; the NUDT15*2
# insertion is a fourth copy of the GAGTCG repeat (g.48037784GAGTCG[4]; reference: 3 copies).
TPMT_POSITIONS = {
    18143724: ("rs1800462", "C", ["G"]),
    18138997: ("rs1800460", "C", ["T"]),
    18130687: ("rs1142345", "T", ["C", "G"]),
    18130781: ("rs1800584", "C", ["T"]),
}
TPMT_ALLELES = {
    "*1": {},
    "*2": {"18143724": ["G"]},
    "*3A": {"18130687": ["C"], "18138997": ["T"]},
    "*3B": {"18138997": ["T"]},
    "*3C": {"18130687": ["C"]},
    "*4": {"18130781": ["T"]},
}
NUDT15_POSITIONS = {
    48045719: ("rs116855232", "C", ["T"]),
    48037782: ("rs746071566", "AGGAGTC", ["A", "AGGAGTCGGAGTC"]),
}
NUDT15_ALLELES_2025_DATA = {  # PharmCAT data 2025-11: *2 = insertion + c.415C>T, *3 = c.415C>T
    "*1": {},
    "*2": {"48037782": ["AGGAGTCGGAGTC"], "48045719": ["T"]},
    "*3": {"48045719": ["T"]},
}
NUDT15_ALLELES_2026_DATA = {  # 2026 data: *2 merged into *3 (c.415C>T with or without insertion)
    "*1": {},
    "*3": {"48037782": ["AGGAGTC", "AGGAGTCGGAGTC"], "48045719": ["T"]},
}


@pytest.mark.parametrize(
    ("rule_set_id", "nudt15_alleles"),
    [
        ("cpic-2018", NUDT15_ALLELES_2025_DATA),
        ("cpic-2025", NUDT15_ALLELES_2026_DATA),
        ("dpwg-2025", NUDT15_ALLELES_2026_DATA),
    ],
)
def test_defining_variants_match_the_published_allele_tables(
    rule_set_id: str, nudt15_alleles: dict[str, dict[str, list[str]]]
) -> None:
    definitions = GuidelineLibrary(ROOT / "guidelines").get(rule_set_id).definitions
    for gene, chromosome, positions, alleles in [
        (Gene.TPMT, "chr6", TPMT_POSITIONS, TPMT_ALLELES),
        (Gene.NUDT15, "chr13", NUDT15_POSITIONS, nudt15_alleles),
    ]:
        defs = definitions[gene]
        assert (defs.gene, defs.chromosome, defs.build) == (gene, chromosome, "GRCh38")
        found = {p.position: (p.rsid, p.ref, sorted(p.alts)) for p in defs.positions}
        assert {pos: found.get(pos) for pos in positions} == positions, gene
        named = {
            name: {p: sorted(b) for p, b in spec.items()} for name, spec in defs.alleles.items()
        }
        assert {name: named.get(name) for name in alleles} == alleles, gene
    assert "*2" not in definitions[Gene.NUDT15].alleles or rule_set_id == "cpic-2018"
