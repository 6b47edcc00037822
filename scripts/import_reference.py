"""Derive allele tables and conformance tables from the shared reference data.

Run by a maintainer, never by the package or its tests:

    python scripts/import_reference.py PATH/TO/shared/reference

It (1) fills the ``alleles`` map of each ``guidelines/<rule set>/<GENE>.json`` from the
PharmCAT allele-definition and phenotype files (keeping every hand-written key), and
(2) writes ``tests/data/conformance/<rule set>/<GENE>_diplotypes.tsv``, the full
diplotype -> phenotype lists published with each data release, which the tests compare
against the engine. See ``tests/data/conformance/PROVENANCE.md``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# rule set -> gene -> (allele-definition file, phenotype file), relative to shared/reference
SOURCES = {
    "cpic-2025": {
        "TPMT": (
            "pharmcat-2026/alleles/TPMT_translation.json",
            "pharmcat-2026/phenotype-cpic/TPMT.json",
        ),
        "NUDT15": (
            "pharmcat-2026/alleles/NUDT15_translation.json",
            "pharmcat-2026/phenotype-cpic/NUDT15.json",
        ),
    },
    "cpic-2018": {
        "TPMT": ("pharmcat/alleles/TPMT_translation.json", "pharmcat/phenotype-cpic/TPMT.json"),
        "NUDT15": (
            "pharmcat/alleles/NUDT15_translation.json",
            "pharmcat/phenotype-cpic/NUDT15.json",
        ),
    },
    "dpwg-2025": {
        "TPMT": (
            "pharmcat-2026/alleles/TPMT_translation.json",
            "pharmcat/phenotype-dpwg/TPMT.json",
        ),
        "NUDT15": (
            "pharmcat-2026/alleles/NUDT15_translation.json",
            "pharmcat/phenotype-dpwg/NUDT15.json",
        ),
    },
}


def allele_sort_key(name: str) -> tuple[int, str]:
    """Order star alleles numerically: *1, *2, *3A, *3B, ..., *10."""
    body = name.lstrip("*")
    digits = "".join(ch for ch in body if ch.isdigit())
    return int(digits), body[len(digits) :]


def import_gene(reference: Path, rule_set: str, gene: str) -> None:
    """Merge the allele map into the gene file and write the diplotype table."""
    definition_file, phenotype_file = SOURCES[rule_set][gene]
    definitions = json.loads((reference / definition_file).read_text())
    phenotypes = json.loads((reference / phenotype_file).read_text())
    names = {allele["name"] for allele in definitions["namedAlleles"]}
    names |= set(phenotypes["haplotypes"])
    alleles = {
        name: phenotypes["haplotypes"].get(name) for name in sorted(names, key=allele_sort_key)
    }
    gene_path = ROOT / "guidelines" / rule_set / f"{gene}.json"
    data = json.loads(gene_path.read_text()) if gene_path.exists() else {"gene": gene}
    data["alleles"] = alleles
    gene_path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")

    out = ROOT / "tests" / "data" / "conformance" / rule_set / f"{gene}_diplotypes.tsv"
    out.parent.mkdir(parents=True, exist_ok=True)
    rows = ["diplotype\tphenotype"]
    for entry in phenotypes["diplotypes"]:
        rows.append(f"{entry['diplotype']}\t{entry['phenotype']}")
    out.write_text("\n".join(rows) + "\n")
    print(f"{rule_set} {gene}: {len(alleles)} alleles, {len(rows) - 1} diplotypes")


MINIMUM_PANEL = {"TPMT": ["*2", "*3A", "*3B", "*3C"], "NUDT15": ["*3"]}
IGNORED = {
    "TPMT": [
        {
            "position": 18138983,
            "rsid": "rs2842934",
            "note": "synonymous c.474T>C (formerly *1S); does not define an allele and is ignored",
        }
    ],
    "NUDT15": [],
}


def import_definitions(reference: Path, rule_set: str, gene: str) -> None:
    """Write guidelines/<rule set>/definitions/<GENE>.json from a PharmCAT translation file."""
    source_file = SOURCES[rule_set][gene][0]
    data = json.loads((reference / source_file).read_text())
    positions = [
        {"position": v["position"], "rsid": v["rsid"], "ref": v["ref"], "alts": v["alts"]}
        for v in data["variants"]
    ]
    alleles = {}
    for named in data["namedAlleles"]:
        spec = {}
        if not named["reference"]:
            for variant, value in zip(data["variants"], named["alleles"], strict=True):
                if value is not None:
                    spec[str(variant["position"])] = value.split(" or ")
        alleles[named["name"]] = spec
    out = {
        "gene": gene,
        "chromosome": data["chromosome"],
        "build": "GRCh38",
        "source": f"PharmCAT {gene}_translation.json ({data['source']})",
        "version": data["version"],
        "positions": positions,
        "alleles": alleles,
        "minimum_panel": MINIMUM_PANEL[gene],
        "ignored_positions": IGNORED[gene],
    }
    path = ROOT / "guidelines" / rule_set / "definitions" / f"{gene}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=1) + "\n")


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__)
        return 2
    reference = Path(argv[1])
    for rule_set, genes in SOURCES.items():
        for gene in genes:
            import_gene(reference, rule_set, gene)
            import_definitions(reference, rule_set, gene)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
