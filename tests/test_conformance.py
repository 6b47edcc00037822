"""Every diplotype and every phenotype key × drug of each rule set against the derived tables."""

from __future__ import annotations

import pytest

from conftest import CONFORMANCE, RULE_SETS, read_tsv
from tpmt.interpreter import Interpreter
from tpmt.models import Recommendation
from tpmt.vocab import Action, Frequency, Gene, Phenotype, Source

EXPECTED_ROWS = {
    ("cpic-2025", "TPMT"): 1225,
    ("cpic-2025", "NUDT15"): 210,
    ("cpic-2018", "TPMT"): 946,
    ("cpic-2018", "NUDT15"): 45,
    ("dpwg-2025", "TPMT"): 210,
    ("dpwg-2025", "NUDT15"): 45,
}


@pytest.mark.parametrize(("rule_set", "gene"), list(EXPECTED_ROWS))
def test_every_published_diplotype_gets_the_published_phenotype(
    interpreter: Interpreter, rule_set: str, gene: str
) -> None:
    rows = read_tsv(CONFORMANCE / rule_set / f"{gene}_diplotypes.tsv")
    assert len(rows) == EXPECTED_ROWS[(rule_set, gene)]
    source = interpreter.library.get(rule_set).source
    wrong = []
    for row in rows:
        kwargs = {gene.lower(): row["diplotype"]}
        report = interpreter.interpret(**kwargs, guidelines=[rule_set])
        got = report.genes[Gene(gene)].phenotype[source]
        if got != row["phenotype"]:
            wrong.append(f"{row['diplotype']}: expected {row['phenotype']}, got {got}")
    assert wrong == []


def test_every_allele_pair_of_the_nomenclature_is_in_the_cpic_2025_table(
    interpreter: Interpreter,
) -> None:
    """The published lists cover every pair of alleles with a function, nothing less."""
    for gene, count in (("TPMT", 49), ("NUDT15", 20)):
        rules = interpreter.library.get("cpic-2025").genes[Gene(gene)]
        with_function = [a for a, f in rules.alleles.items() if f is not None]
        assert len(with_function) == count
        assert count * (count + 1) // 2 == EXPECTED_ROWS[("cpic-2025", gene)]


def _facts(rec: Recommendation) -> dict[str, str]:
    """The same summary of a recommendation that the derived tables hold."""

    def num(x: float) -> str:
        return f"{x:g}"

    percents = sorted(
        {
            f"{num(s.percent_of_standard.min)}-{num(s.percent_of_standard.max or 0)}"
            for s in rec.dosing
            if s.percent_of_standard is not None
        }
    )
    steady = sorted(
        {
            f"{num(s.steady_state_weeks.min)}-"
            + ("" if s.steady_state_weeks.max is None else num(s.steady_state_weeks.max))
            for s in rec.dosing
            if s.steady_state_weeks is not None
        }
    )
    thresholds = sorted(
        {
            f"{num(q.value)} {q.unit}"
            for s in rec.dosing
            for q in s.applies_if_standard_dose_at_least
        }
    )
    return {
        "source_id": rec.source_id or "",
        "classification": rec.classification.value if rec.classification else "",
        "percent": ";".join(percents),
        "alternative": str(
            any(s.action is Action.CONSIDER_ALTERNATIVE for s in rec.dosing)
        ).lower(),
        "thrice_weekly": str(
            any(s.frequency is Frequency.THRICE_WEEKLY for s in rec.dosing)
        ).lower(),
        "steady_state_weeks": ";".join(steady),
        "thresholds": ";".join(thresholds),
        "measure_activity": str(
            any(s.action is Action.MEASURE_ACTIVITY for s in rec.dosing)
        ).lower(),
    }


PHENOTYPE_INPUT = {
    Phenotype.NORMAL.value: "Normal Metabolizer",
    Phenotype.INTERMEDIATE.value: "Intermediate Metabolizer",
    Phenotype.POSSIBLE_INTERMEDIATE.value: "Possible Intermediate Metabolizer",
    Phenotype.POOR.value: "Poor Metabolizer",
    Phenotype.INDETERMINATE.value: "Indeterminate",
    Phenotype.NO_RESULT.value: None,
    "": None,
}


@pytest.mark.parametrize("rule_set", RULE_SETS)
def test_every_phenotype_key_and_drug_matches_the_guideline_text(
    interpreter: Interpreter, rule_set: str
) -> None:
    rows = read_tsv(CONFORMANCE / rule_set / "recommendations.tsv")
    assert len(rows) == (105 if rule_set.startswith("cpic") else 18)
    wrong = []
    for row in rows:
        report = interpreter.interpret(
            tpmt=PHENOTYPE_INPUT[row["TPMT"]],
            nudt15=PHENOTYPE_INPUT[row["NUDT15"]],
            drugs=[row["drug"]],
            guidelines=[rule_set],
        )
        genes = [g for g in Gene if row[g.value]]
        matching = [r for r in report.recommendations if set(r.lookup) == set(genes)]
        assert len(matching) == 1, (row, [r.rule_id for r in report.recommendations])
        rec = matching[0]
        for gene in genes:
            assert rec.lookup[gene] == row[gene.value]
        got = _facts(rec)
        expected = {key: row[key] for key in got}
        if got != expected:
            wrong.append(f"{row['drug']} {row['TPMT']}|{row['NUDT15']}: {got} != {expected}")
    assert wrong == []


def test_cpic_keys_cover_all_35_pairs_for_each_drug(interpreter: Interpreter) -> None:
    for rule_set in ("cpic-2025", "cpic-2018"):
        rows = read_tsv(CONFORMANCE / rule_set / "recommendations.tsv")
        for drug in ("azathioprine", "mercaptopurine", "thioguanine"):
            keys = {(r["TPMT"], r["NUDT15"]) for r in rows if r["drug"] == drug}
            assert len(keys) == 35
            assert ("No Result", "No Result") not in keys


def test_recommendation_source_matches_rule_set(interpreter: Interpreter) -> None:
    report = interpreter.interpret(tpmt="*1/*1", nudt15="*1/*1")
    assert {(r.guideline, r.source) for r in report.recommendations} == {
        ("cpic-2025", Source.CPIC),
        ("dpwg-2025", Source.DPWG),
    }
