"""Digest the full JSON report of every published diplotype pair (the byte-identity snapshot).

    python scripts/snapshot_pairs.py > tests/data/snapshot/published-pairs.tsv

For each rule-set selection and each TPMT diplotype of that selection's published table, one
line: the selection, the TPMT diplotype, the number of NUDT15 diplotypes, and the SHA-256 of the
compact JSON reports (``Report.model_dump_json()``) of TPMT × every NUDT15 diplotype in table
order, newline-joined. Phenotype-only pairs (every reported phenotype × every phenotype and no
result) are digested the same way. tests/test_snapshot.py recomputes the file and compares.
"""

from __future__ import annotations

import csv
import hashlib
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFORMANCE = ROOT / "tests" / "data" / "conformance"
PHENOTYPES = [
    None,
    "Normal Metabolizer",
    "Intermediate Metabolizer",
    "Possible Intermediate Metabolizer",
    "Poor Metabolizer",
    "Indeterminate",
]
# (selection name, guidelines argument, the table whose diplotypes are used)
SELECTIONS = [("default", None, "cpic-2025"), ("cpic-2018", ["cpic-2018"], "cpic-2018")]


def diplotypes(table: str, gene: str) -> list[str]:
    path = CONFORMANCE / table / f"{gene}_diplotypes.tsv"
    with path.open(newline="") as handle:
        return [row["diplotype"] for row in csv.DictReader(handle, delimiter="\t")]


def snapshot_lines(interpret: object) -> Iterator[str]:
    """The snapshot file's lines; ``interpret`` is tpmt.interpret or an Interpreter's method."""
    run = interpret  # a callable (tpmt, nudt15, guidelines) -> Report
    for name, guidelines, table in SELECTIONS:
        partners = diplotypes(table, "NUDT15")
        for tpmt in diplotypes(table, "TPMT"):
            digest = hashlib.sha256()
            for nudt15 in partners:
                report = run(tpmt=tpmt, nudt15=nudt15, guidelines=guidelines)  # type: ignore[operator]
                digest.update(report.model_dump_json().encode() + b"\n")
            yield f"{name}\t{tpmt}\t{len(partners)}\t{digest.hexdigest()}"
        for tpmt in PHENOTYPES:
            digest = hashlib.sha256()
            count = 0
            for nudt15 in PHENOTYPES:
                if tpmt is None and nudt15 is None:
                    continue
                report = run(tpmt=tpmt, nudt15=nudt15, guidelines=guidelines)  # type: ignore[operator]
                digest.update(report.model_dump_json().encode() + b"\n")
                count += 1
            yield f"{name}\tphenotype:{tpmt}\t{count}\t{digest.hexdigest()}"


def main() -> None:
    from tpmt.interpreter import Interpreter

    interpreter = Interpreter(ROOT / "guidelines")
    for line in snapshot_lines(interpreter.interpret):
        print(line, flush=True)


if __name__ == "__main__":
    sys.exit(main())
