"""tpmt reinterpret and tpmt guidelines --diff: what a guideline update changes.

The acceptance test re-interprets cpic-2018 results of published diplotype pairs under
cpic-2025 and checks the phenotype and advice changes against an independent computation from
the published tables in tests/data/conformance (diplotype → phenotype, phenotype pair →
recommendation figures), which never calls tpmt's comparison code.
"""

from __future__ import annotations

import csv
import json
from functools import cache
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import ROOT
from tpmt.cli import CHANGES_EXIT, app
from tpmt.records import record_adapter

runner = CliRunner()

# --- the independent computation: published tables only, never tpmt ------------------------
# tests/data/conformance/<rule set>/ (see PROVENANCE.md): diplotype → phenotype per gene, and
# drug × phenotype pair → recommendation figures parsed from the guideline bodies' own texts.
# A published row's dosing differs when any of its figures differs (percent range, alternative
# drug, thrice-weekly dosing, dose thresholds, advice to measure TPMT activity); its strength is
# the classification column.

TABLES = ROOT / "tests" / "data" / "conformance"
DOSING_FIGURES = ("percent", "alternative", "thrice_weekly", "thresholds", "measure_activity")
ADVICE_TYPES = ("advice", "phenotype_advice", "strength")
DRUGS = ("azathioprine", "mercaptopurine", "thioguanine")
# NUDT15*2 (c.415C>T with the insertion) is a sub-allele of *3 since the 2026 nomenclature
# update that cpic-2025 follows; the cpic-2025 table has no *2 rows.
RENAMED = {("cpic-2025", "NUDT15"): {"*2": "*3"}}


def _key(diplotype: str) -> tuple[str, ...]:
    return tuple(sorted(diplotype.split("/")))


@cache
def phenotype_table(rule_set: str, gene: str) -> dict[str, str]:
    """Diplotype → phenotype as published."""
    with (TABLES / rule_set / f"{gene}_diplotypes.tsv").open() as handle:
        return {
            row["diplotype"]: row["phenotype"] for row in csv.DictReader(handle, delimiter="\t")
        }


@cache
def _by_alleles(rule_set: str, gene: str) -> dict[tuple[str, ...], str]:
    return {_key(d): p for d, p in phenotype_table(rule_set, gene).items()}


def phenotype(rule_set: str, gene: str, diplotype: str) -> str:
    """The published phenotype of a diplotype (legacy names mapped as the rule set does)."""
    renamed = RENAMED.get((rule_set, gene), {})
    alleles = "/".join(renamed.get(a, a) for a in diplotype.split("/"))
    return _by_alleles(rule_set, gene)[_key(alleles)]


@cache
def recommendations(rule_set: str) -> dict[tuple[str, str, str], dict[str, str]]:
    """(drug, TPMT phenotype, NUDT15 phenotype) → the published row."""
    with (TABLES / rule_set / "recommendations.tsv").open() as handle:
        return {
            (row["drug"], row["TPMT"], row["NUDT15"]): row
            for row in csv.DictReader(handle, delimiter="\t")
        }


def _differs(old: dict[str, str], new: dict[str, str]) -> tuple[bool, bool]:
    dosing = any(old[f] != new[f] for f in DOSING_FIGURES)
    return dosing, old["classification"] != new["classification"]


def expected_changes(tpmt: str, nudt15: str) -> set[tuple[str, str]]:
    """(change type, gene or drug) for a cpic-2018 pair re-interpreted under cpic-2025."""
    old = {g: phenotype("cpic-2018", g, d) for g, d in (("TPMT", tpmt), ("NUDT15", nudt15))}
    new = {g: phenotype("cpic-2025", g, d) for g, d in (("TPMT", tpmt), ("NUDT15", nudt15))}
    found = {("phenotype", gene) for gene in old if old[gene] != new[gene]}
    for drug in DRUGS:
        before = recommendations("cpic-2018")[(drug, old["TPMT"], old["NUDT15"])]
        after = recommendations("cpic-2025")[(drug, new["TPMT"], new["NUDT15"])]
        dosing, strength = _differs(before, after)
        if dosing:
            found.add(("advice" if old == new else "phenotype_advice", drug))
        elif strength:
            found.add(("strength", drug))
    return found


def expected_recommendation_differences() -> dict[tuple[str, str, str], tuple[str, ...]]:
    """Drug × phenotype pair → what differs ("dosing", "strength") from cpic-2018 to 2025."""
    old, new = recommendations("cpic-2018"), recommendations("cpic-2025")
    out = {}
    for key in old:
        dosing, strength = _differs(old[key], new[key])
        differs = tuple(n for n, c in (("dosing", dosing), ("strength", strength)) if c)
        if differs:
            out[key] = differs
    return out


# --- the command ----------------------------------------------------------------------------

NAMED = (
    "sample_id\ttpmt\tnudt15\n"
    "N1\t*1/*1\t*1/*1\nN2\t*2/*8\t*1/*1\nN3\t*1/*1\t*1/*4\nN4\t*1/*1\t*1/*2\n"
)
RECALL = "called from variant data: re-run from the stored call"


def run(*args: str, stdin: str | None = None):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args), input=stdin)


def stored(tmp_path: Path, rows: str, *options: str, name: str = "stored.jsonl") -> Path:
    """``tpmt batch`` results of ``rows`` under cpic-2018, written to a file."""
    source = tmp_path / "rows.tsv"
    source.write_text(rows)
    target = tmp_path / name
    result = run("batch", str(source), "--guideline", "cpic-2018", "-o", str(target), *options)
    assert result.exit_code in (0, 3), result.output
    return target


def changes(result) -> list[dict[str, object]]:  # type: ignore[no-untyped-def]
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    adapter = record_adapter("reinterpret")
    for line in lines:
        adapter.validate_python(line)
    return lines


def short(rows: list[dict[str, object]]) -> list[tuple[object, ...]]:
    return [
        (r["sample"], r["change_type"], r["gene"] or r["drug"], r["before"], r["after"])
        for r in rows
    ]


# --- named cases, expected values written out --------------------------------------------

NAMED_EXPECTED = {
    # unchanged: a normal pair
    "N1": [("N1", "unchanged", None, None, None)],
    # TPMT Possible Intermediate in both (*8 was uncertain, is decreased): the thioguanine
    # range changed (50-80% → 30-80%), and the "*8 as No function" possibility went away
    "N2": [
        (
            "N2",
            "alternative",
            "TPMT",
            "*2/*8 (unknown_function: *8 as No function): Poor Metabolizer",
            "none",
        ),
        (
            "N2",
            "alternative_advice",
            "azathioprine",
            "nonmalignancy consider_alternative; malignancy reduce_dose 10% thrice_weekly",
            "none",
        ),
        (
            "N2",
            "alternative_advice",
            "mercaptopurine",
            "malignancy reduce_dose 10% thrice_weekly; nonmalignancy consider_alternative",
            "none",
        ),
        (
            "N2",
            "advice",
            "thioguanine",
            "any reduce_dose 50-80% daily if standard >= 40 mg/m2/day (Moderate)",
            "any reduce_dose 30-80% daily if standard >= 40 mg/m2/day (Moderate)",
        ),
        (
            "N2",
            "alternative_advice",
            "thioguanine",
            "malignancy reduce_dose 10% thrice_weekly; nonmalignancy consider_alternative",
            "none",
        ),
    ],
    # NUDT15 *1/*4: Indeterminate in 2018, Intermediate in 2025 → every drug's advice
    "N3": [
        ("N3", "phenotype", "NUDT15", "Indeterminate", "Intermediate Metabolizer"),
        (
            "N3",
            "alternative",
            "NUDT15",
            "*1/*4 (unknown_function: *4 as No function): Intermediate Metabolizer",
            "none",
        ),
        (
            "N3",
            "phenotype_advice",
            "azathioprine",
            "any standard_dose 100% daily; any monitor (Strong)",
            "any reduce_dose 30-80% daily if standard >= 2 mg/kg/day (Strong)",
        ),
        (
            "N3",
            "alternative_advice",
            "azathioprine",
            "any reduce_dose 30-80% daily if standard >= 2 mg/kg/day",
            "none",
        ),
        (
            "N3",
            "phenotype_advice",
            "mercaptopurine",
            "any standard_dose 100% daily; any monitor (Strong)",
            "malignancy reduce_dose 30-80% daily if standard >= 75 mg/m2/day; nonmalignancy "
            "reduce_dose 30-80% daily if standard >= 1.5 mg/kg/day (Strong)",
        ),
        (
            "N3",
            "alternative_advice",
            "mercaptopurine",
            "any reduce_dose 30-80% daily if standard >= 75 mg/m2/day or >= 1.5 mg/kg/day",
            "none",
        ),
        (
            "N3",
            "phenotype_advice",
            "thioguanine",
            "any standard_dose 100% daily; any monitor (Strong)",
            "any reduce_dose 30-80% daily if standard >= 40 mg/m2/day (Moderate)",
        ),
        (
            "N3",
            "alternative_advice",
            "thioguanine",
            "any reduce_dose 50-80% daily if standard >= 40 mg/m2/day",
            "none",
        ),
    ],
    # legacy NUDT15 *1/*2 (a sub-allele of *3 in 2025): still Intermediate, but the phase
    # look-alike *3/*6 became Poor, so a more severe possibility appears for every drug
    "N4": [
        (
            "N4",
            "alternative",
            "NUDT15",
            "*3/*6 (phase): Possible Intermediate Metabolizer",
            "*3/*6 (phase): Poor Metabolizer",
        ),
        ("N4", "alternative_advice", "azathioprine", "none", "any consider_alternative"),
        (
            "N4",
            "alternative_advice",
            "mercaptopurine",
            "none",
            "malignancy reduce_dose 10% thrice_weekly; nonmalignancy consider_alternative",
        ),
        (
            "N4",
            "advice",
            "thioguanine",
            "any reduce_dose 50-80% daily if standard >= 40 mg/m2/day (Moderate)",
            "any reduce_dose 30-80% daily if standard >= 40 mg/m2/day (Moderate)",
        ),
        ("N4", "alternative_advice", "thioguanine", "none", "any reduce_dose 10% thrice_weekly"),
    ],
}


@pytest.mark.parametrize("compact", [False, True], ids=["full", "compact"])
def test_named_cases_from_stored_results(tmp_path: Path, compact: bool) -> None:
    path = stored(tmp_path, NAMED, *(["--compact"] if compact else []))
    result = run("reinterpret", str(path), "--guideline", "cpic-2025", "--format", "jsonl")
    assert result.exit_code == CHANGES_EXIT == 6, result.output
    rows = changes(result)
    for sample, expected in NAMED_EXPECTED.items():
        assert short([r for r in rows if r["sample"] == sample]) == expected, sample
    n3 = next(r for r in rows if r["sample"] == "N3" and r["drug"] == "thioguanine")
    assert (n3["rule_before"], n3["rule_after"]) == (
        "cpic-2018:thioguanine.NM-IND",
        "cpic-2025:thioguanine.NM-IM",
    )
    assert (n3["guideline_before"], n3["guideline_after"]) == ("cpic-2018", "cpic-2025")
    assert "4 samples: 3 changed, 0 could not be re-interpreted" in result.stderr
    assert "phenotype 1, advice 2, phenotype_advice 3, alternative 3, alternative_advice 9" in (
        result.stderr
    )


def test_batch_input_with_from_gives_the_same_changes(tmp_path: Path) -> None:
    source = tmp_path / "rows.tsv"
    source.write_text(NAMED)
    result = run(
        "reinterpret", str(source), "--from", "cpic-2018", "-g", "cpic-2025", "-f", "jsonl"
    )
    assert result.exit_code == 6, result.output
    rows = changes(result)
    assert short(rows) == [row for sample in NAMED_EXPECTED.values() for row in sample]
    assert [r["line"] for r in rows if r["change_type"] == "phenotype"] == [4]  # N3, line 4


def test_same_rule_set_is_unchanged_and_exits_0(tmp_path: Path) -> None:
    path = tmp_path / "stored.jsonl"
    path.write_text(run("batch", "-", "-g", "cpic-2025", stdin=NAMED).stdout)
    result = run("reinterpret", str(path), "-g", "cpic")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split("\t")[:3] == ["sample", "line", "change_type"]
    assert [line.split("\t")[2] for line in lines[1:]] == ["unchanged"] * 4
    assert lines[1].endswith("\tsame rule set (cpic-2025)")


def test_error_records_and_bad_lines_become_error_rows_and_exit_3(tmp_path: Path) -> None:
    path = stored(tmp_path, NAMED + "E5\t*1/*99\t*1/*1\n")
    with path.open("a") as handle:
        handle.write("{not json\n\n[1]\n" + json.dumps({"status": "ok", "sample": "X"}) + "\n")
    result = run("reinterpret", str(path), "-g", "cpic-2025", "-f", "jsonl")
    assert result.exit_code == 3, result.output  # errors win over changes (6)
    rows = changes(result)
    errors = [(r["sample"], r["line"], r["note"]) for r in rows if r["change_type"] == "error"]
    assert [e[:2] for e in errors] == [("E5", 5), ("line 6", 6), ("line 8", 8), ("X", 9)]
    assert errors[0][2].startswith("the stored record is an error, nothing to re-run: unknown")
    assert errors[1][2] == "line 6 is not valid JSON"
    assert errors[2][2] == "line 8 is not a JSON object"
    assert errors[3][2].startswith("line 9: not a tpmt batch or call record")
    assert {r["sample"] for r in rows} >= {"N1", "N2", "N3", "N4"}  # the rest still listed
    assert "8 samples: 3 changed, 4 could not be re-interpreted" in result.stderr
    assert "tpmt: error: 4 of 8 samples could not be re-interpreted" in result.stderr


def test_no_rule_set_of_the_target_source_is_an_error_row(tmp_path: Path) -> None:
    path = stored(tmp_path, NAMED)
    result = run("reinterpret", str(path), "-g", "dpwg-2025", "-f", "jsonl")
    assert result.exit_code == 3
    notes = {r["note"] for r in changes(result)}
    assert notes == {
        "the stored result has no DPWG rule set to compare with dpwg-2025 (it used cpic-2018)"
    }


def test_call_results_are_rerun_with_their_alternatives(tmp_path: Path) -> None:
    vcf = str(ROOT / "examples" / "call-vcf-tsv" / "input.vcf")
    path = tmp_path / "calls.jsonl"
    path.write_text(run("call", vcf, "-g", "cpic-2018").stdout)
    result = run("reinterpret", str(path), "-g", "cpic-2025", "-f", "jsonl")
    assert result.exit_code == 6, result.output
    rows = changes(result)
    na4 = [r for r in rows if r["sample"] == "NA-004" and r["change_type"] == "phenotype"]
    assert short(na4) == [("NA-004", "phenotype", "NUDT15", "Indeterminate", "Normal Metabolizer")]
    assert na4[0]["note"].startswith(RECALL)  # type: ignore[union-attr]
    # NA-003 was called *1/*2 (2018 definitions); its phase look-alike *3/*6 became Poor
    na3 = [r for r in rows if r["sample"] == "NA-003" and r["change_type"] == "alternative"]
    assert short(na3) == [
        (
            "NA-003",
            "alternative",
            "NUDT15",
            "*3/*6 (phase): Possible Intermediate Metabolizer",
            "*3/*6 (phase): Poor Metabolizer",
        )
    ]
    assert [r["change_type"] for r in rows if r["sample"] == "NA-001"] == ["unchanged"]


def test_presumptive_calls_keep_their_untested_alternatives(tmp_path: Path) -> None:
    vcf = str(ROOT / "examples" / "call-variant-only" / "input.vcf")
    path = tmp_path / "calls.jsonl"
    path.write_text(run("call", vcf, "-g", "cpic-2018").stdout)
    rows = changes(run("reinterpret", str(path), "-g", "cpic-2025", "-f", "jsonl"))
    untested = [r for r in rows if r["change_type"] == "alternative"]
    assert len(untested) == 10
    assert short(untested)[0] == (
        "PT-7",
        "alternative",
        "TPMT",
        "*3A/*43 (untested): Possible Intermediate Metabolizer",
        "*3A/*43 (untested): Poor Metabolizer",
    )
    compact = tmp_path / "compact.jsonl"
    compact.write_text(run("call", vcf, "-g", "cpic-2018", "--compact").stdout)
    result = run("reinterpret", str(compact), "-g", "cpic-2025", "-f", "jsonl")
    assert result.exit_code == 3
    assert changes(result)[0]["note"].startswith(  # type: ignore[union-attr]
        "a compact record of a call keeps too little to re-run"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--guideline", "cpic-2025"], "give --from RULE_SET"),
        (["--guideline", "cpic-2025", "--from", "dpwg-2025"], "compare rule sets of one source"),
    ],
)
def test_usage_errors_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    source = tmp_path / "rows.tsv"
    source.write_text(NAMED)
    result = run("reinterpret", str(source), *args)
    assert result.exit_code == 2
    assert message in " ".join(result.output.replace("│", " ").split())


def test_from_with_stored_results_is_a_usage_error(tmp_path: Path) -> None:
    result = run("reinterpret", str(stored(tmp_path, NAMED)), "-g", "cpic-2025", "--from", "x")
    assert result.exit_code == 2
    assert "stored results name their rule sets" in " ".join(
        result.output.replace("│", " ").split()
    )


def test_unknown_target_exits_3_and_missing_file_exits_3(tmp_path: Path) -> None:
    path = stored(tmp_path, NAMED)
    result = run("reinterpret", str(path), "-g", "cpic-1999")
    assert result.exit_code == 3 and "unknown guideline 'cpic-1999'" in result.stderr
    result = run("reinterpret", str(tmp_path / "absent.jsonl"), "-g", "cpic-2025")
    assert result.exit_code == 3 and "cannot read" in result.stderr


def test_output_file_html_and_tsv_cell_safety(tmp_path: Path) -> None:
    path = stored(tmp_path, NAMED.replace("N3\t", "=N3<b>\t"))
    out = tmp_path / "changes.tsv"
    result = run("reinterpret", str(path), "-g", "cpic-2025", "-o", str(out))
    assert result.exit_code == 6 and result.stdout == ""
    rows = list(csv.reader(out.read_text().splitlines(), delimiter="\t"))
    assert {r[0] for r in rows[1:]} == {"N1", "N2", "'=N3<b>", "N4"}
    page = tmp_path / "changes.html"
    result = run(
        "reinterpret",
        str(path),
        "-g",
        "cpic-2025",
        "-f",
        "html",
        "--generated",
        "2026-01-02",
        "-o",
        str(page),
    )
    assert result.exit_code == 6
    text = page.read_text()
    assert "Rule sets: cpic-2018 → cpic-2025 · generated 2026-01-02" in text
    assert "4 samples: 3 changed, 0 could not be re-interpreted" in text
    assert "=N3&lt;b&gt;" in text and "=N3<b>" not in text
    assert text.count('<tr class="change">') == 18 and text.count('<tr class="unchanged">') == 1


def test_stdin(tmp_path: Path) -> None:
    text = stored(tmp_path, NAMED).read_text()
    result = run("reinterpret", "-", "-g", "cpic-2025", stdin=text)
    assert result.exit_code == 6
    assert len(result.stdout.splitlines()) == 1 + 1 + 18  # header, N1 unchanged, 18 changes


# --- acceptance: all changes of published pairs, counted independently --------------------

# every published cpic-2018 pair: 946 TPMT × 45 NUDT15 diplotypes (42,570 samples)


def test_reinterpret_reports_exactly_the_changes_the_published_tables_imply(
    tmp_path: Path,
) -> None:
    tpmt = sorted(phenotype_table("cpic-2018", "TPMT"))
    nudt15 = sorted(phenotype_table("cpic-2018", "NUDT15"))
    pairs = [(t, n) for t in dict.fromkeys(tpmt) for n in nudt15]
    rows = "sample_id\ttpmt\tnudt15\n" + "".join(
        f"S{i}\t{t}\t{n}\n" for i, (t, n) in enumerate(pairs)
    )
    path = stored(tmp_path, rows, "--compact")
    result = run("reinterpret", str(path), "-g", "cpic-2025", "-f", "jsonl")
    assert result.exit_code == 6, result.output[-500:]
    found: dict[str, set[tuple[str, str]]] = {f"S{i}": set() for i in range(len(pairs))}
    for r in changes(result):
        if r["change_type"] in ADVICE_TYPES or r["change_type"] == "phenotype":
            found[str(r["sample"])].add((str(r["change_type"]), str(r["gene"] or r["drug"])))
    expected = {f"S{i}": expected_changes(t, n) for i, (t, n) in enumerate(pairs)}
    assert found == expected
    changed = sum(bool(v) for v in expected.values())
    assert len(pairs) == 946 * 45 and 40_000 < changed <= len(pairs), changed  # not vacuous


def test_full_records_give_the_same_changes_as_compact_ones(tmp_path: Path) -> None:
    tpmt = sorted(phenotype_table("cpic-2018", "TPMT"))[::60]
    pairs = [(t, n) for t in tpmt for n in sorted(phenotype_table("cpic-2018", "NUDT15"))]
    rows = "sample_id\ttpmt\tnudt15\n" + "".join(
        f"S{i}\t{t}\t{n}\n" for i, (t, n) in enumerate(pairs)
    )
    full = run("reinterpret", str(stored(tmp_path, rows)), "-g", "cpic-2025")
    compact = run(
        "reinterpret", str(stored(tmp_path, rows, "--compact", name="c.jsonl")), "-g", "cpic-2025"
    )
    assert full.exit_code == compact.exit_code == 6
    assert full.stdout == compact.stdout
    assert len(full.stdout.splitlines()) > 5 * len(pairs)


# --- tpmt guidelines --diff ---------------------------------------------------------------


def test_diff_recommendations_match_the_published_tables() -> None:
    result = run("guidelines", "--diff", "cpic-2018", "cpic-2025", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    record_adapter("guidelines-diff").validate_python(data)
    found = {
        (r["drug"], r["lookup"]["TPMT"], r["lookup"]["NUDT15"]): tuple(r["differs"])
        for r in data["recommendations"]
    }
    assert found == expected_recommendation_differences()
    assert data["counts"] == {
        "TPMT": 974,
        "NUDT15": 209,
        "azathioprine": 21,
        "mercaptopurine": 11,
        "thioguanine": 25,
    }


def test_diff_phenotypes_match_the_published_tables() -> None:
    data = json.loads(run("guidelines", "--diff", "cpic-2018", "cpic-2025", "-f", "json").stdout)
    for gene in ("TPMT", "NUDT15"):
        old, new = phenotype_table("cpic-2018", gene), phenotype_table("cpic-2025", gene)
        expected = {d: (old[d], new[d]) for d in old if d in new and old[d] != new[d]}
        found = {
            p["diplotype"]: (p["before"], p["after"])
            for p in data["phenotypes"]
            if p["gene"] == gene and p["diplotype"] in old and p["diplotype"] in new
        }
        assert found == expected, gene
        assert len(expected) > 10
    star2 = [p for p in data["phenotypes"] if p["diplotype"] == "*1/*2" and p["gene"] == "NUDT15"]
    assert star2 == []  # *1/*2 is evaluated as *1/*3 in 2025: Intermediate both times


def test_diff_text_and_tsv() -> None:
    text = run("guidelines", "--diff", "cpic-2018", "cpic-2025").stdout
    assert text.startswith("Differences from cpic-2018 to cpic-2025\n")
    assert "  *1/*8        Indeterminate → Normal Metabolizer  (Normal function + Uncertain " in (
        text
    )
    assert "thioguanine: 25 phenotype pairs with different advice" in text
    tsv = run("guidelines", "--diff", "cpic-2018", "cpic-2025", "-f", "tsv").stdout.splitlines()
    header = tsv[0].split("\t")
    assert header[:4] == ["kind", "gene", "drug", "diplotype"]
    row = next(
        dict(zip(header, line.split("\t"), strict=True))
        for line in tsv
        if "\tthioguanine\t\tPossible Intermediate Metabolizer\tNormal Metabolizer\t" in line
    )
    assert row["before"] == "any reduce_dose 50-80% daily if standard >= 40 mg/m2/day (Moderate)"
    assert row["after"] == "any reduce_dose 30-80% daily if standard >= 40 mg/m2/day (Moderate)"
    assert row["differs"] == "dosing"
    same = run("guidelines", "--diff", "cpic-2025", "cpic", "-f", "json").stdout
    assert json.loads(same)["phenotypes"] == [] and json.loads(same)["recommendations"] == []


@pytest.mark.parametrize(
    "args",
    [
        ["guidelines", "--format", "tsv"],
        ["guidelines", "--diff", "cpic-2018", "cpic-2025", "--rule", "x"],
    ],
)
def test_diff_usage_errors(args: list[str]) -> None:
    assert run(*args).exit_code == 2


def test_a_diff_across_sources_is_refused() -> None:
    result = run("guidelines", "--diff", "cpic-2018", "dpwg-2025")
    assert result.exit_code == 3
    assert "a diff compares two versions of one source's guideline" in result.stderr


def test_a_json_list_of_drugs_in_batch_input_is_read_as_drugs(tmp_path: Path) -> None:
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"sample_id": "S1", "tpmt": "*2/*8", "drugs": ["aza", "mp"]}\n')
    result = run("reinterpret", str(rows), "--from", "cpic-2018", "-g", "cpic-2025", "-f", "jsonl")
    assert result.exit_code == 6, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert all(r["change_type"] != "error" for r in records)
    assert {r["drug"] for r in records if r["drug"]} <= {"azathioprine", "mercaptopurine"}
