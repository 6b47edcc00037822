"""Derive the expected recommendation facts (the conformance tables) from the reference data.

Run by a maintainer, never by the package or its tests:

    python scripts/derive_expectations.py PATH/TO/shared/reference

The numbers are parsed from the guideline bodies' own recommendation texts with regular
expressions, independently of the hand-written ``guidelines/`` files, and written to
``tests/data/conformance/<rule set>/recommendations.tsv``. Amendments that the reference
files predate are applied here and marked in the ``amended`` column.
"""

from __future__ import annotations

import csv
import html
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DRUGS = ["azathioprine", "mercaptopurine", "thioguanine"]
COLUMNS = [
    "drug",
    "TPMT",
    "NUDT15",
    "source_id",
    "classification",
    "percent",
    "alternative",
    "thrice_weekly",
    "steady_state_weeks",
    "thresholds",
    "measure_activity",
    "amended",
]
PERCENT = re.compile(r"(\d+)%?\s*(?:-|to)\s*(\d+)%|(\d+)% of (?:the )?(?:normal|standard)")
THRESHOLD = re.compile(r"[≥]\s*(\d+(?:\.\d+)?)(?:-\d+)?\s*(mg/kg/day|mg/m2/day)")
STEADY = re.compile(r"(at least |Allow )(\d+)(?:-(\d+))? weeks")


def clean(text: str) -> str:
    """Strip HTML tags and the 'Other Considerations' tail."""
    text = html.unescape(re.sub(r"<[^>]+>", " ", text))
    return " ".join(text.split("Other Considerations")[0].split())


def facts_from_text(text: str) -> dict[str, str]:
    """Percent ranges, thresholds, steady state, frequency and actions named in a text."""
    percents = set()
    for low, high, single in PERCENT.findall(text):
        percents.add(f"{low}-{high}" if low else f"{single}-{single}")
    if "10-fold" in text:
        percents.add("10-10")
    if re.search(r"start with the standard dose and reduce", text):
        percents.add("100-100")  # DPWG leukaemia option: standard dose, reduce on toxicity
    if re.search(r"standard starting dose|normal starting dose \(e\.g\.", text) and not percents:
        if not re.search(r"reduced|decreased", text):
            percents.add("100-100")
    steady = set()
    for prefix, low, high in STEADY.findall(text):
        # "at least 2 weeks" has no upper bound; "Allow 2 weeks" means exactly 2
        steady.add(f"{low}-{high or ('' if prefix.startswith('at') else low)}")
    thresholds = {f"{v} {u}" for v, u in THRESHOLD.findall(text)}
    if re.search(r"if normal starting dose is 2-3 mg/kg/day", text):
        thresholds.add("2 mg/kg/day")
    return {
        "percent": ";".join(sorted(percents)),
        "thrice_weekly": str("thrice weekly" in text).lower(),
        "steady_state_weeks": ";".join(sorted(steady)),
        "thresholds": ";".join(sorted(thresholds)),
        "measure_activity": str("erythrocyte" in text and "activity" in text).lower(),
    }


def cpic_2025(reference: Path) -> list[dict[str, str]]:
    rows = []
    for drug in DRUGS:
        path = reference / f"cpic-2026/recommendations_2026_{drug}.tsv"
        for r in csv.DictReader(path.open(), delimiter="\t"):
            rows.append(
                {
                    "drug": drug,
                    "TPMT": r["TPMT"],
                    "NUDT15": r["NUDT15"],
                    "source_id": r["recommendation_id"],
                    "classification": r["classification"],
                    # from the text: the 2026 mercaptopurine PM rows say "consider alternative ...
                    # for nonmalignancy" but carry alternateDrugAvailable=false (a data quirk)
                    "alternative": str("alternative" in r["recommendation_text"]).lower(),
                    "amended": "",
                    **facts_from_text(r["recommendation_text"]),
                }
            )
    return rows


COMPOUND = {"Intermediate Metabolizer", "Possible Intermediate Metabolizer"}


def cpic_2018(reference: Path) -> list[dict[str, str]]:
    rows = []
    for drug in DRUGS:
        data = json.loads(
            (reference / f"pharmcat/guidelines-2024/CPIC_{drug}_and_NUDT15_TPMT.json").read_text()
        )
        for r in data["recommendations"]:
            key = r["lookupKey"]
            row = {
                "drug": drug,
                "TPMT": key["TPMT"],
                "NUDT15": key["NUDT15"],
                "source_id": r["id"],
                "classification": r["classification"]["term"],
                "alternative": str("alternative" in clean(r["text"]["html"])).lower(),
                "amended": "",
                **facts_from_text(clean(r["text"]["html"])),
            }
            if key["TPMT"] in COMPOUND and key["NUDT15"] in COMPOUND:
                # CPIC amendment of March 2024: 20-50% for both genes IM/PIM (all three drugs).
                row["percent"] = "20-50"
                row["amended"] = "CPIC 2024-03: both genes IM/PIM -> 20-50%"
            rows.append(row)
    return rows


def dpwg_2025(reference: Path) -> list[dict[str, str]]:
    rows = []
    for drug in DRUGS:
        for gene in ["TPMT", "NUDT15"]:
            data = json.loads(
                (reference / f"pharmcat/guidelines-2024/DPWG_{drug}_and_{gene}.json").read_text()
            )
            for r in data["recommendations"]:
                phenotype = r["lookupKey"][gene]
                text = clean(r["text"]["html"])
                facts = facts_from_text(text)
                if phenotype == "Normal Metabolizer":
                    facts["percent"] = "100-100"
                limit = re.search(rf"(\d+(?:\.\d+)?) mg/kg per day for {drug}", text)
                if limit:
                    facts["thresholds"] = f"{limit.group(1)} mg/kg/day"
                amended = ""
                if (
                    drug == "thioguanine"
                    and gene == "NUDT15"
                    and phenotype == "Intermediate Metabolizer"
                ):
                    facts["percent"] = "100-100;50-50"  # leukaemia may start at the standard dose
                    amended = "DPWG 2025 (PMID 41318725): thioguanine NUDT15 IM 75% -> 50%"
                alternative = bool(re.search(r"alternative|Avoid", text))
                rows.append(
                    {
                        "drug": drug,
                        "TPMT": phenotype if gene == "TPMT" else "",
                        "NUDT15": phenotype if gene == "NUDT15" else "",
                        "source_id": r["id"],
                        "classification": "",
                        "alternative": str(alternative).lower(),
                        "amended": amended,
                        **facts,
                        "steady_state_weeks": "",
                        "measure_activity": "false",
                    }
                )
    return rows


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__)
        return 2
    reference = Path(argv[1])
    for rule_set, build in (
        ("cpic-2025", cpic_2025),
        ("cpic-2018", cpic_2018),
        ("dpwg-2025", dpwg_2025),
    ):
        rows = build(reference)
        out = ROOT / "tests" / "data" / "conformance" / rule_set / "recommendations.tsv"
        with out.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, COLUMNS, delimiter="\t", lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
        print(f"{rule_set}: {len(rows)} rows")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
