"""Monitoring (on every recommendation; --no-monitoring leaves it out): the label's schedules,
written out from the cited label copies (not verified against the current label), and the guideline
row's time to steady state.

Azathioprine (Imuran label, Precautions: Laboratory Tests): blood counts with platelets weekly in
the first month, twice monthly in months two and three, then monthly. Mercaptopurine (tablets,
5.2 Hepatotoxicity): transaminases, alkaline phosphatase and bilirubin weekly at the start, then
monthly. Thioguanine (Tabloid): liver tests weekly at the start, then monthly; blood counts
frequently. Steady state: the rule rows' steady_state_weeks (CPIC 2025: IM 2-4 weeks).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from test_fhir_profiles import check_bundle
from typer.testing import CliRunner

from tpmt.cli import app

runner = CliRunner()


def lookup(*args: str, fmt: str = "json") -> str:
    result = runner.invoke(app, ["lookup", *args, "--format", fmt])
    assert result.exit_code == 0, result.output
    return result.stdout


# (drug, tpmt, label schedules written out: (tests, schedule), steady state (condition, min, max))
CASES = [
    (
        "azathioprine",
        "*1/*3A",
        [
            (
                "complete blood count including platelets",
                "weekly during the first month, twice monthly in the second and third months, "
                "then monthly, or more often if the dose or other therapy changes",
            ),
            ("liver tests", "no label schedule found (not verified against the current label)"),
        ],
        [("any", 2, 4)],
    ),
    (
        "mercaptopurine",
        "*1/*3A",
        [
            (
                "complete blood count",
                "monitor during therapy; adjust or withhold the dose for severe neutropenia or "
                "thrombocytopenia",
            ),
            (
                "serum transaminases, alkaline phosphatase and bilirubin",
                "weekly when starting therapy, then monthly; more often with other hepatotoxic "
                "drugs or pre-existing liver disease",
            ),
        ],
        [("malignancy", 2, 4), ("nonmalignancy", 2, 4)],
    ),
    (
        "thioguanine",
        "*1/*1",
        [
            (
                "hemoglobin, hematocrit, white cells with differential, platelets",
                "frequently during therapy; withdraw at the first sign of an abnormally large "
                "fall in any blood count",
            ),
            (
                "liver tests (transaminases, alkaline phosphatase, bilirubin)",
                "weekly when starting therapy, then monthly; stop thioguanine if liver toxicity "
                "appears (not for maintenance or long continuous use: liver toxicity, "
                "veno-occlusive disease)",
            ),
        ],
        [("any", 2, None)],
    ),
]


@pytest.mark.parametrize(("drug", "tpmt", "schedules", "steady"), CASES)
def test_monitoring_per_drug(
    drug: str, tpmt: str, schedules: list[tuple[str, str]], steady: list[tuple[Any, ...]]
) -> None:
    report = json.loads(lookup("--tpmt", tpmt, "-d", drug, "-g", "cpic", "--monitoring"))
    (row,) = report["recommendations"]
    monitoring = row["monitoring"]
    assert [(m["tests"], m["schedule"]) for m in monitoring["label"]] == schedules
    assert all(m["verified"] is False for m in monitoring["label"])
    sources = report["safety"]["sources"]  # once per report, by data id
    assert sorted(sources) == sorted(m["data_id"] for m in monitoring["label"])
    assert all("not verified against the current label" in text for text in sources.values())
    assert "source" not in monitoring["label"][0]  # not repeated on every row
    shown = [
        (s["condition"], s["weeks"]["min"], s["weeks"]["max"]) for s in monitoring["steady_state"]
    ]
    assert shown == steady
    assert report["safety"]["comed"] == []


def test_monitoring_is_on_every_recommendation_by_default() -> None:
    report = json.loads(lookup("--tpmt", "*1/*3A", "--nudt15", "*1/*3"))
    assert len(report["recommendations"]) == 9  # 3 drugs x (CPIC, DPWG TPMT, DPWG NUDT15)
    for row in report["recommendations"]:
        ids = [m["data_id"] for m in row["monitoring"]["label"]]
        assert ids[0] == f"{row['drug']}-blood-counts"
    assert report["safety"]["data"]["id"] == "us-labels-2026/safety"
    assert report["safety"]["comed"] == []
    again = json.loads(lookup("--tpmt", "*1/*3A", "--monitoring"))
    assert again == json.loads(lookup("--tpmt", "*1/*3A"))


def test_no_monitoring_leaves_it_out() -> None:
    report = json.loads(lookup("--tpmt", "*1/*3A", "--no-monitoring"))
    assert all("monitoring" not in r for r in report["recommendations"])
    assert "safety" not in report
    with_comed = json.loads(lookup("--tpmt", "*1/*3A", "--no-monitoring", "--comed", "allopurinol"))
    assert all("monitoring" not in r for r in with_comed["recommendations"])
    assert with_comed["safety"]["comed"] == ["allopurinol"]


PAIRS = [
    (tpmt, nudt15)
    for tpmt in ("*1/*1", "*1/*3A", "*3A/*3A", "*1/*22", "IM", "PM", "Indeterminate", None)
    for nudt15 in ("*1/*1", "*1/*3", "*3/*3", "*1/*4", "NM", None)
    if tpmt or nudt15
]


def test_monitoring_is_the_only_difference_from_an_interpreter_without_it() -> None:
    """Monitoring is label data beside the engine's result: without it, the same report."""
    from tpmt.comed import without_monitoring
    from tpmt.interpreter import Interpreter

    plain, watched = Interpreter(monitoring=False), Interpreter()
    for tpmt, nudt15 in PAIRS:
        without = plain.interpret(tpmt, nudt15)
        report = watched.interpret(tpmt, nudt15)
        assert without.safety is None and all(r.monitoring is None for r in without.recommendations)
        assert all(r.monitoring is not None for r in report.recommendations), (tpmt, nudt15)
        assert without_monitoring(report) == without, (tpmt, nudt15)


def test_text_and_html_show_monitoring() -> None:
    text = lookup(
        "--tpmt", "*1/*3A", "-d", "azathioprine", "-g", "cpic", "--monitoring", fmt="text"
    )
    assert (
        "  Monitoring (US label, for every row above)\n"
        "    - complete blood count including platelets: weekly during" in text
    )
    assert text.count("Monitoring (US label") == 1  # once per drug, not per row
    assert "daily, steady state after\n      2–4 weeks" in text  # in the row's dosing line
    html = lookup(
        "--tpmt",
        "*1/*3A",
        "-d",
        "azathioprine",
        "--monitoring",
        "--generated",
        "2026-11-30",
        fmt="html",
    )
    page_one, details = html.split("<div class='details'>")
    assert "<b>Monitoring:</b> the label's blood-count and liver-test schedule" in page_one
    assert "twice monthly in the second and third months" in details
    assert "data azathioprine-blood-counts" in details


@pytest.mark.parametrize("patient", [None, "Patient/p-1"])
def test_fhir_follow_up_task_passes_the_profile_checks(patient: str | None) -> None:
    extra = ["--patient-ref", patient] if patient else []
    bundle = json.loads(
        lookup("--tpmt", "*1/*3A", "--nudt15", "*1/*3", "--monitoring", *extra, fmt="fhir")
    )
    kinds = check_bundle(bundle, patient)
    tasks = kinds["medication-recommendation"]
    follow_ups = [t for t in tasks if "partOf" in t]
    assert len(tasks) == 12 and len(follow_ups) == 6  # 3 drugs x (CPIC, DPWG), each + follow-up
    urls = {
        e["resource"]["description"]: e["fullUrl"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "Task"
    }
    for task in follow_ups:
        assert "code" not in task  # LL4049-4 has no monitoring answer
        assert task["description"].startswith("Monitoring for ")
        (parent,) = task["partOf"]
        assert parent["reference"] in urls.values() and parent["reference"] not in (
            urls[task["description"]],
        )
    aza = next(t for t in follow_ups if "azathioprine (cpic-2025" in t["description"])
    assert "weekly during the first month, twice monthly" in aza["description"]
    assert "steady state after 2–4 weeks (guideline)" in aza["description"]


def test_fhir_contraindication_drops_the_dose_code() -> None:
    args = ["--tpmt", "*1/*3A", "-d", "azathioprine", "-g", "cpic", "--comed", "febuxostat"]
    kinds = check_bundle(json.loads(lookup(*args, "--no-monitoring", fmt="fhir")), None)
    (task,) = kinds["medication-recommendation"]
    assert "code" not in task
    assert task["description"].startswith(
        "CONTRAINDICATED with febuxostat (FDA label, not verified"
    )


def test_batch_tsv_and_compact_carry_steady_state_and_monitoring(tmp_path: Any) -> None:
    """CPIC 2025 mercaptopurine: IM rows 2-4 weeks, PM malignancy 4-6 weeks; DPWG rows give
    none. The TSV monitoring cell is the label's schedules; compact names them per drug."""
    rows = tmp_path / "rows.tsv"
    rows.write_text("sample_id\ttpmt\nA\t*1/*3A\nB\t*3A/*3A\n")
    result = runner.invoke(app, ["batch", str(rows), "-f", "tsv", "-d", "mp"])
    assert result.exit_code == 0, result.output
    header, *lines = result.stdout.splitlines()
    cells = [dict(zip(header.split("\t"), line.split("\t"), strict=True)) for line in lines]
    weeks = {
        (c["sample"], c["guideline"], c["condition"]): (
            c["steady_state_min_weeks"],
            c["steady_state_max_weeks"],
        )
        for c in cells
    }
    assert weeks[("A", "cpic-2025", "malignancy")] == ("2", "4")
    assert weeks[("A", "cpic-2025", "nonmalignancy")] == ("2", "4")
    assert weeks[("B", "cpic-2025", "malignancy")] == ("4", "6")
    assert weeks[("B", "cpic-2025", "nonmalignancy")] == ("", "")  # consider an alternative
    assert all(w == ("", "") for (_, g, _), w in weeks.items() if g == "dpwg-2025")
    assert {c["monitoring"] for c in cells} == {
        "US label, not verified against the current label: complete blood count: monitor during "
        "therapy; adjust or withhold the dose for severe neutropenia or thrombocytopenia "
        "[mercaptopurine-blood-counts]; serum transaminases, alkaline phosphatase and bilirubin: "
        "weekly when starting therapy, then monthly; more often with other hepatotoxic drugs or "
        "pre-existing liver disease [mercaptopurine-liver-tests]"
    }
    compact = runner.invoke(app, ["batch", str(rows), "--compact", "-d", "mp"])
    for line in compact.stdout.splitlines():
        assert json.loads(line)["safety"]["monitoring"] == {
            "mercaptopurine": ["mercaptopurine-blood-counts", "mercaptopurine-liver-tests"]
        }
