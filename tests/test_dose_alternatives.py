"""Doses in mg for the more severe alternatives: the same arithmetic as the recommendation's own.

Expected values written out by hand from the label standard doses and the rule percentages
(sources as in tests/test_dose.py): azathioprine renal transplant initial 3-5 mg/kg/day, so
210-350 mg/day at 70 kg; mercaptopurine ALL maintenance 1.5-2.5 mg/kg/day, so 30-50 mg/day at
20 kg. CPIC 2025: one gene IM 30-80% (azathioprine: if the standard dose is >=2 mg/kg/day);
PM: mercaptopurine 10-fold lower (10%) thrice weekly for malignancy, azathioprine consider an
alternative. DPWG 2025: TPMT PM consider an alternative, or 10% daily if the drug is kept;
NUDT15 IM 50% for nonmalignancy. Rounding: inward to 25 mg steps (both drugs' data).
"""

from __future__ import annotations

import json
from typing import Any

from typer.testing import CliRunner

from tpmt.cli import app
from tpmt.dose import dose_request
from tpmt.interpreter import Interpreter
from tpmt.models import Report
from tpmt.render.fhir import report_to_bundle
from tpmt.render.html import render_html
from tpmt.render.text import WIDTH, render_report

runner = CliRunner()
AZA_RENAL = {"weight_kg": 70, "indication": "renal-transplant-initial"}
MP_ALL = {"weight_kg": 20, "height_cm": 110, "indication": "all-maintenance"}
CONTRAINDICATED = (
    "CONTRAINDICATED with febuxostat (FDA label, not verified against the current label): no "
    "mg figure is given for a contraindicated combination"
)


def alternative_steps(report: Report, guideline: str, rule_id: str) -> list[dict[str, Any]]:
    """The dose steps (as JSON) of the alternative ``rule_id`` of the first row of
    ``guideline`` that has it."""
    found = [
        alt
        for rec in report.recommendations
        if rec.guideline == guideline
        for alt in rec.alternatives
        if alt.rule_id == rule_id
    ]
    assert found, f"no alternative {rule_id}"
    assert found[0].dose is not None
    return [json.loads(step.model_dump_json()) for step in found[0].dose]


def pair(value: dict[str, float] | None) -> tuple[float, float] | None:
    return None if value is None else (value["min"], value["max"])


def figures(step: dict[str, Any]) -> tuple[Any, ...]:
    """Status, mg per dose, doses a week, mg per week, rounded mg per dose."""
    return (
        step["status"],
        pair(step["mg_per_dose"]),
        step["doses_per_week"],
        pair(step["mg_per_week"]),
        pair(step["rounded_mg_per_dose"]),
    )


def test_reduce_dose_alternative_of_an_unknown_function_allele(interpreter: Interpreter) -> None:
    """NUDT15 *1/*22: *22 of unknown function, so NUDT15 IM rows are possible."""
    report = interpreter.interpret("*1/*1", "*1/*22", ["aza"], dose=dose_request(**AZA_RENAL))
    (cpic,) = alternative_steps(report, "cpic-2025", "cpic-2025:azathioprine.NM-IM")
    # 3-5 mg/kg/day is at or above 2 mg/kg/day: 30% of 210, 80% of 350; 7 doses a week
    assert figures(cpic) == ("computed", (63.0, 280.0), 7, (441.0, 1960.0), (75.0, 275.0))
    (dpwg,) = alternative_steps(report, "dpwg-2025", "dpwg-2025:azathioprine.NUDT15-IM")
    assert figures(dpwg) == ("computed", (105.0, 175.0), 7, (735.0, 1225.0), (125.0, 175.0))


def test_mercaptopurine_all_pm_alternative_is_10_fold_lower_thrice_weekly(
    interpreter: Interpreter,
) -> None:
    """TPMT *1/*3A: phase leaves *3B/*3C (PM) possible."""
    report = interpreter.interpret("*1/*3A", None, ["mp"], dose=dose_request(**MP_ALL))
    malignancy, nonmalignancy = alternative_steps(
        report, "cpic-2025", "cpic-2025:mercaptopurine.PM-NR"
    )
    # 10% of 30-50 mg/day = 3-5 mg per dose on 3 days a week = 9-15 mg a week; no 25 mg step
    assert figures(malignancy) == ("computed", (3.0, 5.0), 3, (9.0, 15.0), None)
    assert malignancy["frequency"] == "thrice_weekly"
    assert "0.15–0.25 mL of the 20 mg/mL oral suspension" in malignancy["rounding"]
    assert nonmalignancy["status"] == "not_applicable"  # ALL is a malignancy
    consider, kept = alternative_steps(report, "dpwg-2025", "dpwg-2025:mercaptopurine.TPMT-PM")
    assert figures(consider) == ("no_dose", None, None, None, None)
    assert figures(kept) == ("computed", (3.0, 5.0), 7, (21.0, 35.0), None)  # 10% daily


def test_azathioprine_pm_alternative_has_no_dose(interpreter: Interpreter) -> None:
    report = interpreter.interpret("*1/*3A", None, ["aza"], dose=dose_request(**AZA_RENAL))
    (step,) = alternative_steps(report, "cpic-2025", "cpic-2025:azathioprine.PM-NR")
    assert figures(step) == ("no_dose", None, None, None, None)
    assert step["action"] == "consider_alternative"
    assert step["explanation"].startswith("the guideline advises considering a non-thiopurine")
    consider, kept = alternative_steps(report, "dpwg-2025", "dpwg-2025:azathioprine.TPMT-PM")
    assert consider["status"] == "no_dose"
    # DPWG keeps 10% as an option: 10% of 210-350 mg/day, rounded inward to 25 mg
    assert figures(kept) == ("computed", (21.0, 35.0), 7, (147.0, 245.0), (25.0, 25.0))


def test_febuxostat_contraindication_withdraws_the_alternatives_mg_too() -> None:
    args = ["lookup", "--tpmt", "*1/*3A", "-d", "azathioprine", "--weight-kg", "70"]
    args += ["--indication", "renal-transplant-initial", "--comed", "febuxostat"]
    result = runner.invoke(app, [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    steps = [s for r in report["recommendations"] for a in r["alternatives"] for s in a["dose"]]
    assert len(steps) == 3  # CPIC PM: one step; DPWG PM: two
    for step in steps:
        assert figures(step) == ("no_dose", None, None, None, None)
        assert step["rounding"] is None
    # the step that had mg figures (DPWG's 10% option) is withdrawn; the advice against the drug
    # stays as it was, so the steps still say what each one was
    assert [s["explanation"] == CONTRAINDICATED for s in steps] == [False, False, True]
    assert [s["action"] for s in steps][:2] == ["consider_alternative", "consider_alternative"]
    text = runner.invoke(app, args).stdout
    flat = " ".join(line.strip() for line in text.splitlines())
    assert "21–35 mg" not in flat  # the DPWG PM alternative's 10% figure is gone
    withdrawn = "no mg figure (a non-thiopurine alternative is advised; CONTRAINDICATED with"
    assert flat.count(withdrawn) == 1  # DPWG's alternative (CPIC's advises against the drug)


def test_no_dose_inputs_no_dose_on_alternatives(interpreter: Interpreter) -> None:
    report = interpreter.interpret("*1/*3A", None, ["aza", "mp"])
    alternatives = [a for r in report.recommendations for a in r.alternatives]
    assert len(alternatives) == 4  # CPIC and DPWG, each drug
    assert all(a.dose is None for a in alternatives)
    for rec in json.loads(report.model_dump_json())["recommendations"]:
        for alt in rec["alternatives"]:
            assert "dose" not in alt
    assert "in mg" not in render_report(report) and "no mg figure" not in render_report(report)


def test_other_drugs_alternatives_get_no_dose(interpreter: Interpreter) -> None:
    request = dose_request(**AZA_RENAL)
    report = interpreter.interpret("*1/*3A", None, ["aza", "mp"], dose=request)
    with_dose = {
        (rec.drug.value, alt.dose is not None)
        for rec in report.recommendations
        for alt in rec.alternatives
    }
    assert with_dose == {("azathioprine", True), ("mercaptopurine", False)}


def test_text_html_and_fhir_show_the_alternatives_mg(interpreter: Interpreter) -> None:
    aza_report = interpreter.interpret("*1/*3A", None, ["aza"], dose=dose_request(**AZA_RENAL))
    text = render_report(aza_report)
    assert max(len(line) for line in text.splitlines() if "in mg" in line) <= WIDTH
    flat = " ".join(line.strip() for line in text.splitlines())
    assert "(rule dpwg-2025:azathioprine.TPMT-PM); in mg: 21–35 mg/day (tablets: 25 mg)" in flat
    assert (
        "(rule cpic-2025:azathioprine.PM-NR); no mg figure (a non-thiopurine alternative is "
        "advised)" in flat
    )
    page = render_html(aza_report, "2026-11-22")
    assert "(rule dpwg-2025:azathioprine.TPMT-PM); in mg: 21–35 mg/day (tablets: 25 mg)" in page
    tasks = [
        e["resource"]["description"]
        for e in report_to_bundle(aza_report)["entry"]
        if e["resource"]["resourceType"] == "Task"
    ]
    assert any("TPMT-PM); in mg: 21–35 mg/day (tablets: 25 mg)" in t for t in tasks)


def test_mercaptopurine_alternative_line_says_thrice_weekly(interpreter: Interpreter) -> None:
    report = interpreter.interpret("*1/*3A", None, ["mp"], dose=dose_request(**MP_ALL))
    flat = " ".join(line.strip() for line in render_report(report).splitlines())
    assert (
        "(rule cpic-2025:mercaptopurine.PM-NR); in mg: malignancy: 3–5 mg per dose, 3 days a "
        "week (9–15 mg/week) (tablets (UNVERIFIED): none within it; or 0.15–0.25 mL of the 20 "
        "mg/mL oral suspension (not rounded))" in flat
    )


def test_planned_dose_without_indication_says_what_is_missing(interpreter: Interpreter) -> None:
    """Without an indication the malignancy step cannot be chosen: no mg, and why, per step."""
    request = dose_request(weight_kg=20, planned_dose_mg=40)
    report = interpreter.interpret("*1/*3A", None, ["mp"], dose=request)
    malignancy, nonmalignancy = alternative_steps(
        report, "cpic-2025", "cpic-2025:mercaptopurine.PM-NR"
    )
    assert figures(malignancy) == ("not_computed", None, None, None, None)
    assert nonmalignancy["status"] == "not_computed"
    (kept,) = alternative_steps(report, "dpwg-2025", "dpwg-2025:mercaptopurine.TPMT-PM")[1:]
    assert figures(kept) == ("computed", (4.0, 4.0), 7, (28.0, 28.0), None)  # 10% of 40 mg/day
    flat = " ".join(line.strip() for line in render_report(report).splitlines())
    assert (
        "(rule cpic-2025:mercaptopurine.PM-NR); no mg figure (malignancy: for malignancy only; "
        "give --indication to say which applies; nonmalignancy: a non-thiopurine alternative is "
        "advised)" in flat
    )
