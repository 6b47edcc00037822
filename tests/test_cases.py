"""The tricky cases of the guideline fact sheet (§9) that apply to diplotype/phenotype lookup."""

from __future__ import annotations

import pytest

from tpmt.interpreter import Interpreter
from tpmt.models import Report
from tpmt.vocab import Action, Drug, Gene, Phenotype, Source

IM, PIM, PM, NM, IND = (
    Phenotype.INTERMEDIATE,
    Phenotype.POSSIBLE_INTERMEDIATE,
    Phenotype.POOR,
    Phenotype.NORMAL,
    Phenotype.INDETERMINATE,
)


def cpic(report: Report, gene: Gene) -> Phenotype:
    return report.genes[gene].phenotype[Source.CPIC]


def rec(report: Report, drug: Drug, source: Source = Source.CPIC) -> list:
    return [r for r in report.recommendations if r.drug is drug and r.source is source]


@pytest.mark.parametrize(
    "text",
    ["*1/*3A", "*3A/*1", "tpmt*1/*3a", "TPMT *1 / *3A", "TPMT*1/TPMT*3A", "1/3A", " *1/*3a "],
)
def test_case_1_2_spelling_and_order_normalise_to_one_result(
    interpreter: Interpreter, text: str
) -> None:
    report = interpreter.interpret(tpmt=text)
    assert report.genes[Gene.TPMT].diplotype == "*1/*3A"
    assert cpic(report, Gene.TPMT) is IM
    assert report.genes[Gene.TPMT].input == text


def test_case_4_allele_without_function_is_the_rule_sets_unknown_function(
    interpreter: Interpreter,
) -> None:
    """CPIC: normal + unknown = Indeterminate; no + unknown = Possible Intermediate."""
    for text, expected in (("*1/*42", IND), ("*3A/*42", Phenotype.POSSIBLE_INTERMEDIATE)):
        report = interpreter.interpret(tpmt=text, guidelines=["cpic-2018"])
        assert cpic(report, Gene.TPMT) is expected
        assert any(
            "*42 has no function assigned in cpic-2018" in w
            for w in report.genes[Gene.TPMT].warnings
        )
    report = interpreter.interpret(nudt15="*22/*23")
    assert cpic(report, Gene.NUDT15) is IND
    functions = [a.function[Source.CPIC].value for a in report.genes[Gene.NUDT15].alleles]
    assert functions == ["Unknown function", "Unknown function"]


def test_allele_outside_a_rule_sets_nomenclature_is_indeterminate_there_only(
    interpreter: Interpreter,
) -> None:
    report = interpreter.interpret(tpmt="*1/*40")  # CPIC defines *40, DPWG's table does not
    assert cpic(report, Gene.TPMT) is IND  # uncertain function
    assert report.genes[Gene.TPMT].phenotype[Source.DPWG] is IND
    dpwg = rec(report, Drug.AZATHIOPRINE, Source.DPWG)
    assert [s.action for r in dpwg for s in r.dosing] == [Action.NO_GUIDANCE]


def test_case_5_legacy_nudt15_star2_is_star3_under_cpic_2025(interpreter: Interpreter) -> None:
    report = interpreter.interpret(nudt15="*1/*2")
    gene = report.genes[Gene.NUDT15]
    assert gene.diplotype == "*1/*3"
    assert cpic(report, Gene.NUDT15) is IM
    assert any("sub-allele of *3" in w for w in gene.warnings)
    # without phase this could be *3/*6, which is Poor under CPIC 2025
    assert [(a.diplotype, a.phenotype[Source.CPIC]) for a in gene.alternatives] == [("*3/*6", PM)]
    assert any("would differ" in w for w in gene.warnings)


def test_case_11_nudt15_star2_ambiguity_under_cpic_2018_same_dose(interpreter: Interpreter) -> None:
    report = interpreter.interpret(nudt15="*1/*2", guidelines=["cpic-2018"])
    gene = report.genes[Gene.NUDT15]
    assert gene.diplotype == "*1/*2"
    assert [(a.diplotype, a.phenotype[Source.CPIC]) for a in gene.alternatives] == [("*3/*6", PIM)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Poor Metabolizer", PM),
        ("PM", PM),
        ("poor metaboliser", PM),
        ("TPMT Poor Metabolizer", PM),
        ("IM", IM),
        ("Intermediate", IM),
        ("PIM", PIM),
        ("Possible TPMT Intermediate Metabolizer", PIM),
        ("possible intermediate metaboliser", PIM),
        ("NM", NM),
        ("indeterminate", IND),
    ],
)
def test_case_6_phenotype_spellings(
    interpreter: Interpreter, text: str, expected: Phenotype
) -> None:
    report = interpreter.interpret(tpmt=text)
    assert cpic(report, Gene.TPMT) is expected
    assert report.genes[Gene.TPMT].input_type.value == "phenotype"


def test_case_7_star1_star3a_carries_the_star3b_star3c_alternative(
    interpreter: Interpreter,
) -> None:
    report = interpreter.interpret(tpmt="*1/*3A", nudt15="*1/*3")
    gene = report.genes[Gene.TPMT]
    assert cpic(report, Gene.TPMT) is IM
    assert [(a.diplotype, a.phenotype[Source.CPIC]) for a in gene.alternatives] == [("*3B/*3C", PM)]
    assert any("phase" in w.lower() and "activity" in w for w in gene.warnings)
    back = interpreter.interpret(tpmt="*3B/*3C")
    assert cpic(back, Gene.TPMT) is PM
    assert [a.diplotype for a in back.genes[Gene.TPMT].alternatives] == ["*1/*3A"]


@pytest.mark.parametrize(
    ("rule_set", "tpmt", "nudt15", "expected"),
    [
        ("cpic-2018", "*1/*8", None, (IND, None)),  # case 18: uncertain + normal
        ("dpwg-2025", "*1/*8", None, (IM, None)),
        ("cpic-2025", "*1/*8", None, (NM, None)),  # 2026: *8 decreased
        ("cpic-2018", None, "*1/*4", (None, IND)),
        ("dpwg-2025", None, "*1/*4", (None, IM)),
        ("cpic-2018", "*2/*5", None, (PIM, None)),  # case 19
        ("cpic-2018", "*3A/*30", None, (PIM, None)),  # case 20
        ("cpic-2018", "*30/*35", None, (IND, None)),
        ("cpic-2018", None, "*9/*9", (None, PM)),  # case 21
        ("cpic-2018", None, "*4/*9", (None, PIM)),
        ("dpwg-2025", None, "*4/*9", (None, PM)),
        ("cpic-2018", None, "*4/*4", (None, IND)),  # case 22
        ("dpwg-2025", None, "*4/*4", (None, PM)),
        ("cpic-2025", "*2/*8", None, (PIM, None)),  # 2025: TPMT decreased + no = PIM
        ("cpic-2025", None, "*3/*5", (None, PM)),  # ... but NUDT15 decreased + no = PM
        ("cpic-2025", "*8/*8", "*5/*8", (IM, IM)),
    ],
)
def test_cases_18_to_22_phenotype_rules(
    interpreter: Interpreter, rule_set: str, tpmt: str | None, nudt15: str | None, expected: tuple
) -> None:
    report = interpreter.interpret(tpmt=tpmt, nudt15=nudt15, guidelines=[rule_set])
    source = interpreter.library.get(rule_set).source
    for gene, phenotype in zip(Gene, expected, strict=True):
        if phenotype is not None:
            assert report.genes[gene].phenotype[source] is phenotype


def percents(recommendation) -> set[tuple[float, float | None]]:
    return {
        (s.percent_of_standard.min, s.percent_of_standard.max)
        for s in recommendation.dosing
        if s.percent_of_standard
    }


def test_case_23_24_compound_intermediate_is_20_to_50(interpreter: Interpreter) -> None:
    for tpmt in ("*1/*3A", "*2/*9"):  # IM and PIM
        for rule_set in ("cpic-2025", "cpic-2018"):
            report = interpreter.interpret(tpmt=tpmt, nudt15="*1/*3", guidelines=[rule_set])
            for drug in Drug:
                (r,) = rec(report, drug)
                assert percents(r) == {(20, 50)}, (rule_set, tpmt, drug)


def test_case_25_26_poor_metabolizers(interpreter: Interpreter) -> None:
    report = interpreter.interpret(tpmt="PM", nudt15="PM")
    (mp,) = rec(report, Drug.MERCAPTOPURINE)
    assert mp.rule_id == "cpic-2025:mercaptopurine.PM-PM"
    assert {(s.condition.value, s.action.value) for s in mp.dosing} == {
        ("malignancy", "reduce_dose"),
        ("nonmalignancy", "consider_alternative"),
    }
    old = interpreter.interpret(tpmt="IM", nudt15="PM", guidelines=["cpic-2018"])
    (mp_old,) = rec(old, Drug.MERCAPTOPURINE)
    (step,) = [s for s in mp_old.dosing if s.action is Action.REDUCE_DOSE]
    assert [(d.min, d.unit) for d in step.starting_dose] == [(10, "mg/m2/day")]


def test_case_27_28_thioguanine_changes_between_versions(interpreter: Interpreter) -> None:
    new = rec(interpreter.interpret(tpmt="NM", nudt15="PM"), Drug.THIOGUANINE)[0]
    old = rec(
        interpreter.interpret(tpmt="NM", nudt15="PM", guidelines=["cpic-2018"]), Drug.THIOGUANINE
    )[0]
    assert percents(new) == {(10, 10)}
    assert percents(old) == {(25, 25)}
    single_new = rec(interpreter.interpret(tpmt="IM", nudt15="NM"), Drug.THIOGUANINE)[0]
    single_old = rec(
        interpreter.interpret(tpmt="IM", nudt15="NM", guidelines=["cpic-2018"]), Drug.THIOGUANINE
    )[0]
    assert percents(single_new) == {(30, 80)} and single_new.classification.value == "Moderate"
    assert percents(single_old) == {(50, 80)} and single_old.classification.value == "Moderate"


def test_case_29_azathioprine_poor_has_no_reduced_dose_option_in_2025(
    interpreter: Interpreter,
) -> None:
    new = rec(interpreter.interpret(tpmt="PM"), Drug.AZATHIOPRINE)[0]
    old = rec(interpreter.interpret(tpmt="PM", guidelines=["cpic-2018"]), Drug.AZATHIOPRINE)[0]
    assert [s.action for s in new.dosing] == [Action.CONSIDER_ALTERNATIVE]
    assert Action.REDUCE_DOSE in [s.action for s in old.dosing]


def test_case_30_31_indeterminate_and_not_tested(interpreter: Interpreter) -> None:
    report = interpreter.interpret(tpmt="*1/*9", nudt15="*1/*1", guidelines=["cpic-2018"])
    r = rec(report, Drug.MERCAPTOPURINE)[0]
    actions = {s.action for s in r.dosing}
    assert {Action.STANDARD_DOSE, Action.MEASURE_ACTIVITY, Action.MONITOR} <= actions
    both = rec(
        interpreter.interpret(tpmt="Indeterminate", nudt15="Indeterminate"), Drug.AZATHIOPRINE
    )[0]
    assert {s.action for s in both.dosing} == {Action.MEASURE_ACTIVITY, Action.MONITOR}
    only_tpmt = interpreter.interpret(tpmt="*1/*3A")
    assert only_tpmt.genes[Gene.NUDT15].phenotype[Source.CPIC] is Phenotype.NO_RESULT
    r = rec(only_tpmt, Drug.AZATHIOPRINE)[0]
    assert r.rule_id == "cpic-2025:azathioprine.IM-NR" and r.text.startswith("Based on TPMT")


def test_case_33_phenotype_for_one_gene_and_diplotype_for_the_other(
    interpreter: Interpreter,
) -> None:
    report = interpreter.interpret(tpmt="Poor Metabolizer", nudt15="*1/*3")
    assert report.genes[Gene.TPMT].input_type.value == "phenotype"
    assert report.genes[Gene.NUDT15].input_type.value == "diplotype"
    assert rec(report, Drug.THIOGUANINE)[0].rule_id == "cpic-2025:thioguanine.PM-IM"


def test_case_34_dpwg_thresholds_leukaemia_and_thioguanine_pm(interpreter: Interpreter) -> None:
    report = interpreter.interpret(tpmt="IM", nudt15="PM", guidelines=["dpwg"])
    aza = [r for r in rec(report, Drug.AZATHIOPRINE, Source.DPWG) if Gene.TPMT in r.lookup][0]
    assert [(q.value, q.unit) for s in aza.dosing for q in s.applies_if_standard_dose_at_least] == [
        (1.5, "mg/kg/day")
    ]
    mp = [r for r in rec(report, Drug.MERCAPTOPURINE, Source.DPWG) if Gene.TPMT in r.lookup][0]
    assert {s.condition.value for s in mp.dosing} == {"malignancy", "nonmalignancy"}
    assert any("more stringent" in w for w in mp.warnings)  # both genes affected
    tg = interpreter.interpret(tpmt="PM", guidelines=["dpwg"])
    (tg_pm,) = rec(tg, Drug.THIOGUANINE, Source.DPWG)
    assert percents(tg_pm) == {(6, 7)}


def test_every_output_names_rule_set_version_and_hash(interpreter: Interpreter) -> None:
    report = interpreter.interpret(tpmt="*1/*1")
    assert [g.id for g in report.guidelines] == ["cpic-2025", "dpwg-2025"]
    for info in report.guidelines:
        assert len(info.sha256) == 64 and info.version
    assert all(r.references for r in report.recommendations)
    assert {s.stage for s in report.trace} == {"function", "phenotype", "recommendation"}
