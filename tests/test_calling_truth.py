"""Truth sets: every published diplotype written as a VCF sample comes back (phased: exactly;
unphased: the truth is the call or one of its alternatives)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import CONFORMANCE, read_tsv
from tpmt.calling.run import call_file
from tpmt.interpreter import Interpreter
from tpmt.models import Report
from tpmt.vocab import Gene
from vcfgen import write_vcf


@pytest.mark.parametrize("rule_set_id", ["cpic-2025", "cpic-2018"])
@pytest.mark.parametrize("gene", ["TPMT", "NUDT15"])
@pytest.mark.parametrize("phased", [True, False], ids=["phased", "unphased"])
def test_every_published_diplotype_is_recovered(
    interpreter: Interpreter, tmp_path: Path, rule_set_id: str, gene: str, phased: bool
) -> None:
    rule_set = interpreter.library.get(rule_set_id)
    definitions = rule_set.definitions
    truth = {}
    for row in read_tsv(CONFORMANCE / rule_set_id / f"{gene}_diplotypes.tsv"):
        first, second = row["diplotype"].split("/")
        if first in definitions[Gene(gene)].alleles and second in definitions[Gene(gene)].alleles:
            truth[f"s{len(truth)}"] = (first, second)
    assert len(truth) >= 45
    samples = {name: {gene: pair} for name, pair in truth.items()}
    path = write_vcf(tmp_path / "truth.vcf", list(definitions.values()), samples, phased)
    names, results = call_file(interpreter, path, guidelines=[rule_set_id])
    assert names == list(truth)
    wrong = []
    for name, report in results:
        assert isinstance(report, Report), report
        result = report.genes[Gene(gene)]
        expected = "/".join(truth[name])
        seen = [result.diplotype, *(a.diplotype for a in result.alternatives)]
        if phased and result.diplotype != expected:
            wrong.append(f"{expected}: called {result.diplotype}")
        if not phased and expected not in seen:
            wrong.append(f"{expected}: not in {seen}")
        other = report.genes[Gene.NUDT15 if gene == "TPMT" else Gene.TPMT]
        if other.diplotype != "*1/*1":
            wrong.append(f"{expected}: other gene called {other.diplotype}")
    assert wrong == []
