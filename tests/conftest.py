"""Shared fixtures: one interpreter over the repository's guideline folder."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tpmt.interpreter import Interpreter

ROOT = Path(__file__).resolve().parent.parent
CONFORMANCE = ROOT / "tests" / "data" / "conformance"
RULE_SETS = ["cpic-2025", "cpic-2018", "dpwg-2025"]


def read_tsv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


@pytest.fixture(scope="session")
def interpreter() -> Interpreter:
    return Interpreter(ROOT / "guidelines")
