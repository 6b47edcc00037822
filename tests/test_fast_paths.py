"""The fast renderers (batch TSV, compact records, report JSON from memoised fields) give exactly
what the whole-report renderers give, and the engine runs per distinct fact, not per input."""

from __future__ import annotations

import json
import random

import pytest

from conftest import CONFORMANCE, ROOT, read_tsv
from tpmt.batch import Prepared, interpret_prepared
from tpmt.calling.run import call_samples
from tpmt.compact import CompactRecord, compact_record
from tpmt.interpreter import Interpreter
from tpmt.render.batch import render_batch, report_tsv_lines
from tpmt.render.calls import render_call_results
from tpmt.render.cells import tsv_cell
from tpmt.render.report_json import ReportJson

NAMES = ["S1", 'quote " and \\ backslash', "tab\there", "é ünïcode 𝔘", "\x01control\x7f", ""]


def _pairs() -> list[tuple[str | None, str | None]]:
    tpmt = [r["diplotype"] for r in read_tsv(CONFORMANCE / "cpic-2025" / "TPMT_diplotypes.tsv")]
    nudt15 = [r["diplotype"] for r in read_tsv(CONFORMANCE / "cpic-2025" / "NUDT15_diplotypes.tsv")]
    rng = random.Random(17)
    pairs: list[tuple[str | None, str | None]] = [(t, rng.choice(nudt15)) for t in tpmt]
    pairs += [(rng.choice(tpmt), n) for n in nudt15]
    pairs += [("IM", None), (None, "Poor Metabolizer"), ("*1/*3A", "indeterminate")]
    return pairs


@pytest.fixture(scope="module")
def fresh() -> Interpreter:
    return Interpreter(ROOT / "guidelines")


def test_batch_tsv_compact_and_json_equal_the_whole_report_renderers(fresh: Interpreter) -> None:
    pairs = _pairs()
    rows = [
        Prepared(n, NAMES[n % len(NAMES)], t, u, None, None)
        for n, (t, u) in enumerate(pairs, start=1)
    ]
    tsv = list(render_batch(interpret_prepared(rows, interpreter=fresh), "tsv"))[1:]
    compact = list(render_batch(interpret_prepared(rows, interpreter=fresh), "jsonl", True))
    full = list(render_batch(interpret_prepared(rows, interpreter=fresh), "jsonl"))
    assert len(tsv) == len(compact) == len(full) == len(rows) > 1400
    for (_, sample, tpmt, nudt15, _, _, _), tsv_text, compact_text, full_text in zip(
        rows, tsv, compact, full, strict=True
    ):
        report = fresh.interpret(tpmt, nudt15, sample=sample)
        clean = tsv_cell(sample)
        assert tsv_text == "".join(f"{clean}\tok\t{line}\n" for line in report_tsv_lines(report))
        expected = compact_record(report)
        assert compact_text == expected.model_dump_json(exclude_defaults=True) + "\n"
        assert CompactRecord.model_validate_json(compact_text) == expected
        assert full_text == '{"status":"ok",' + report.model_dump_json()[1:] + "\n"


def test_compact_records_are_small(fresh: Interpreter) -> None:
    sizes = [
        len(
            compact_record(fresh.interpret(t, n, sample="S0000001")).model_dump_json(
                exclude_defaults=True
            )
        )
        for t, n in _pairs()
    ]
    typical = compact_record(fresh.interpret("*1/*1", "*1/*1", sample="S0000001"))
    assert len(typical.model_dump_json(exclude_defaults=True)) < 1_500
    assert sum(sizes) / len(sizes) < 2_500
    assert max(sizes) < 4_500


def test_engine_runs_per_distinct_fact_not_per_input() -> None:
    """20,000 random published pairs (over 1,400 distinct spellings) take a few hundred runs."""
    interpreter = Interpreter(ROOT / "guidelines")
    pairs = _pairs()
    rng = random.Random(3)
    tpmt = sorted({t for t, _ in pairs if t})
    nudt15 = sorted({n for _, n in pairs if n})
    for _ in range(20_000):
        interpreter.interpret(rng.choice(tpmt), rng.choice(nudt15))
    runs = interpreter.evaluator.evaluations
    assert 100 < runs < 500
    for _ in range(2_000):
        interpreter.interpret(rng.choice(tpmt), rng.choice(nudt15), drugs=["mp"])
    assert interpreter.evaluator.evaluations == runs  # new drugs: no new engine run


def test_report_json_equals_model_dump_json_for_called_samples(fresh: Interpreter) -> None:
    path = ROOT / "tests" / "data" / "real" / "1kgp-tpmt-nudt15.raw.vcf.gz"
    names, results = call_samples(fresh, path)
    serialiser = ReportJson(size=8)  # small: eviction is exercised
    checked = 0
    for name, result in list(results)[:600]:
        if isinstance(result, Exception):
            continue
        assert serialiser.line(result, name) == result.report(name).model_dump_json()
        checked += 1
    assert checked > 500


def test_call_compact_and_jsonl_lines_match_the_reports(fresh: Interpreter) -> None:
    path = ROOT / "tests" / "data" / "real" / "getrm-tutorial-3samples.tpmt-nudt15.vcf.gz"
    names, results = call_samples(fresh, path)
    items = list(results)
    compact = [text for text, _ in render_call_results(items, "jsonl", compact=True)]
    for (name, result), line in zip(items, compact, strict=True):
        assert not isinstance(result, Exception)
        assert json.loads(line) == json.loads(
            compact_record(result.report(name)).model_dump_json(exclude_defaults=True)
        )


def test_every_compact_dosing_string_has_the_documented_form_and_every_rule_id_resolves(
    fresh: Interpreter,
) -> None:
    """Each rule set's every row: its short dosing matches the schema's pattern, and the rule
    id a compact record carries resolves (`tpmt guidelines --rule`) to the same dosing."""
    import re

    from tpmt.compact import DOSING_PATTERN, short_dosing
    from tpmt.render.listing import rule_data

    library = fresh.library
    checked = 0
    for rule_set_id in library.manifests:
        rule_set = library.get(rule_set_id)
        for drug_rules in rule_set.drugs.values():
            for rule in drug_rules.rules:
                rule_id = f"{rule_set_id}:{rule.id}"
                data = rule_data(library, rule_id)
                steps = [s for key in rule.advice for s in drug_rules.advice[key].dosing]
                assert len(data["dosing"]) == len(steps)
                for step in steps:
                    text = short_dosing(step)
                    assert re.match(DOSING_PATTERN, text), text
                    assert ("[note]" in text) == (step.note is not None)
                    checked += 1
    assert checked > 300
