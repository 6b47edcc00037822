"""Results are immutable: a caller changing a returned Report cannot change any other result."""

from __future__ import annotations

import copy
from typing import Any

import pydantic
import pytest
from pydantic import BaseModel

from conftest import ROOT
from tpmt.frozen import FrozenDict
from tpmt.interpreter import Interpreter
from tpmt.models import Report
from tpmt.vocab import Gene

PAIRS = [("*1/*3A", "*1/*3"), ("*1/*1", "*1/*1"), ("*3A/*3A", "*1/*22"), ("IM", None)]


def _walk(value: Any, path: str = "report") -> list[str]:
    """Every mutable container reachable from a value, by path."""
    found = []
    if isinstance(value, BaseModel):
        assert value.model_config.get("frozen"), path
        for name in type(value).model_fields:
            found += _walk(getattr(value, name), f"{path}.{name}")
    elif isinstance(value, FrozenDict):
        for key, item in value.items():
            found += _walk(item, f"{path}[{key!r}]")
    elif isinstance(value, tuple):
        for n, item in enumerate(value):
            found += _walk(item, f"{path}[{n}]")
    elif isinstance(value, list | dict | set | bytearray):
        found.append(f"{path}: {type(value).__name__}")
    return found


@pytest.mark.parametrize(("tpmt", "nudt15"), PAIRS)
def test_no_mutable_container_anywhere_in_a_report(tpmt: str, nudt15: str | None) -> None:
    report = Interpreter(ROOT / "guidelines").interpret(tpmt, nudt15)
    assert _walk(report) == []


def _attempts(report: Report) -> list[tuple[str, Any]]:
    """Ways a caller might try to change a report, each expected to be refused."""
    rec = report.recommendations[0]
    gene = report.genes[Gene.TPMT]
    step = report.trace[0]
    return [
        ("append a warning", lambda: report.warnings.append("x")),  # type: ignore[attr-defined]
        ("replace a gene", lambda: report.genes.__setitem__(Gene.TPMT, gene)),
        ("drop a gene", lambda: report.genes.pop(Gene.NUDT15)),  # type: ignore[attr-defined]
        ("clear the genes", lambda: report.genes.clear()),  # type: ignore[attr-defined]
        ("set a field", lambda: setattr(report, "sample", "other")),
        ("set a gene field", lambda: setattr(gene, "diplotype", "*1/*1")),
        ("edit a phenotype", lambda: gene.phenotype.__setitem__("CPIC", "Poor Metabolizer")),
        ("append an alternative", lambda: gene.alternatives.append(None)),  # type: ignore[attr-defined]
        ("edit dosing", lambda: setattr(rec.dosing[0], "action", "standard_dose")),
        ("edit a lookup", lambda: rec.lookup.update({Gene.TPMT: "Poor Metabolizer"})),  # type: ignore[attr-defined]
        ("edit a trace fact", lambda: step.fact[0].__setitem__("allele", "*2")),
        ("edit a reference", lambda: setattr(rec.references[0], "pmid", "1")),
    ]


@pytest.mark.parametrize(("tpmt", "nudt15"), PAIRS)
def test_changing_a_returned_report_changes_no_later_result(tpmt: str, nudt15: str | None) -> None:
    interpreter = Interpreter(ROOT / "guidelines")
    first = interpreter.interpret(tpmt, nudt15)
    before = first.model_dump_json()
    refused = []
    for name, attempt in _attempts(first):
        with pytest.raises((TypeError, AttributeError, pydantic.ValidationError)):
            attempt()
        refused.append(name)
    assert len(refused) == 12
    # a caller's own changed copy is theirs alone
    changed = first.model_copy(update={"warnings": ("mine",), "sample": "mine"})
    deep = copy.deepcopy(first)
    assert changed.warnings == ("mine",) and deep == first
    again = interpreter.interpret(tpmt, nudt15)
    assert first.model_dump_json() == before
    assert again.model_dump_json() == before
    assert again.warnings == () and again.sample is None
    assert Interpreter(ROOT / "guidelines").interpret(tpmt, nudt15).model_dump_json() == before


def test_the_sample_is_part_of_the_result_not_a_patch() -> None:
    interpreter = Interpreter(ROOT / "guidelines")
    one = interpreter.interpret("*1/*3A", "*1/*3", sample='P"1\\')
    two = interpreter.interpret("*1/*3A", "*1/*3", sample="P2")
    none = interpreter.interpret("*1/*3A", "*1/*3")
    assert (one.sample, two.sample, none.sample) == ('P"1\\', "P2", None)
    assert Report.model_validate_json(one.model_dump_json()) == one
    assert one.genes is not two.genes or one.genes == two.genes  # shared parts are immutable


def test_assembled_reports_equal_validated_ones() -> None:
    """The composed (unvalidated) report equals the same data validated from scratch."""
    interpreter = Interpreter(ROOT / "guidelines")
    for tpmt, nudt15 in PAIRS:
        report = interpreter.interpret(tpmt, nudt15, sample="S")
        rebuilt = Report.model_validate(report.model_dump())
        assert rebuilt == report
        assert rebuilt.model_dump_json() == report.model_dump_json()


def test_compositions_and_their_fragments_are_read_only() -> None:
    """What batch records expose (the composition) is as read-only as the Report."""
    interpreter = Interpreter(ROOT / "guidelines")
    composition = interpreter.compose("*1/*3A", "*1/*22")
    fragment = composition.tpmt
    with pytest.raises(TypeError):
        fragment.evaluations[0].phenotype_fact["phenotype"] = "Poor Metabolizer"  # type: ignore[index]
    with pytest.raises(TypeError):
        fragment.evaluations[0].firings[0].premises[0]["allele"] = "*2"  # type: ignore[index]
    with pytest.raises(TypeError):
        fragment.options[0].clear()  # type: ignore[attr-defined]
    with pytest.raises(TypeError):
        composition.advice.rows[0].lookup.clear()  # type: ignore[attr-defined]
    with pytest.raises(AttributeError):
        composition.tpmt = fragment  # type: ignore[misc]


def test_a_frozen_map_cannot_be_re_initialised_and_slots_are_read_only() -> None:
    interpreter = Interpreter(ROOT / "guidelines")
    report = interpreter.interpret("*1/*3A", "*1/*3")
    phenotype = report.genes[Gene.TPMT].phenotype
    with pytest.raises(TypeError):
        phenotype.__init__({"CPIC": "Normal Metabolizer"})  # type: ignore[misc]
    composition = interpreter.compose("*1/*3A", "*1/*3")
    slots = [
        s for i in range(len(composition.advice.rows)) for s in interpreter.slots(composition, i)
    ]
    assert slots
    with pytest.raises(TypeError):
        slots[0].combo.clear()  # type: ignore[attr-defined]
    with pytest.raises(TypeError):
        interpreter.matchers(composition.selection.rule_sets).clear()  # type: ignore[attr-defined]


def test_a_caller_appending_a_warning_to_a_batch_record_changes_no_other_record() -> None:
    """The issue's report, from the bad-input side: a batch where one row is bad and two share
    their inputs; a caller's attempt to add a warning to one report reaches no other record."""
    from tpmt.batch import interpret_many

    rows = [
        {"sample_id": "A", "tpmt": "*1/*3A", "nudt15": "*1/*1"},
        {"sample_id": "BAD", "tpmt": "*1/*99"},
        {"sample_id": "B", "tpmt": "*1/*3A", "nudt15": "*1/*1"},
    ]
    first, bad, second = list(interpret_many(rows))
    assert bad.report is None and bad.message is not None
    report = first.report
    assert report is not None
    with pytest.raises(AttributeError):
        report.genes[Gene.TPMT].warnings.append("injected")  # type: ignore[attr-defined]
    with pytest.raises(pydantic.ValidationError):
        report.warnings = ("injected",)  # type: ignore[misc]
    with pytest.raises(TypeError):
        report.genes[Gene.TPMT] = report.genes[Gene.NUDT15]  # type: ignore[index]
    changed = report.model_copy(update={"warnings": ("injected",)})  # a caller's own copy
    assert changed.warnings == ("injected",)
    later = second.report
    assert later is not None and "injected" not in later.warnings
    assert later.genes[Gene.TPMT].warnings == report.genes[Gene.TPMT].warnings
    assert later.model_dump_json().replace('"B"', '"A"') == report.model_dump_json()
