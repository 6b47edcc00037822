"""The engine wrapper: clean sessions, surfaced action errors, memo equal to the engine."""

from __future__ import annotations

import dataclasses
import itertools
import threading

import pytest

from conftest import RULE_SETS
from tpmt.engine import RuleEngine
from tpmt.errors import EngineError
from tpmt.evaluate import Evaluation, Evaluator
from tpmt.guidelines import RuleSet
from tpmt.interpreter import Interpreter
from tpmt.parse import DiplotypeInput, NotTested, PhenotypeInput
from tpmt.rules import CompiledRule, compile_rule_set
from tpmt.vocab import Gene, Phenotype


def every_input(rule_set: RuleSet, gene: Gene) -> list:
    """Every diplotype over the rule set's alleles and aliases, every phenotype, not tested."""
    rules = rule_set.genes[gene]
    names = [*rules.alleles, *rules.aliases]
    diplotypes = [
        DiplotypeInput(gene, pair) for pair in itertools.combinations_with_replacement(names, 2)
    ]
    phenotypes = [PhenotypeInput(gene, p) for p in Phenotype if p is not Phenotype.NO_RESULT]
    return [*diplotypes, *phenotypes, NotTested(gene)]


def by_stage(evaluation: Evaluation) -> Evaluation:
    """The firings in stage order (within a stage, in firing order: the trace's tie order).

    The chain interleaves stages as facts arrive; the steps run them stage by stage.
    """
    order = {"function": 0, "phenotype": 1, "recommendation": 2, "note": 3}
    firings = tuple(sorted(evaluation.firings, key=lambda f: order[f.stage]))
    return dataclasses.replace(evaluation, firings=firings)


@pytest.mark.parametrize("rule_set_id", RULE_SETS)
def test_memoised_steps_equal_the_whole_chain_on_the_whole_input_space(
    interpreter: Interpreter, rule_set_id: str
) -> None:
    """Each gene's every input against every phenotype of the other gene, memo vs engine."""
    rule_set = interpreter.library.get(rule_set_id)
    memo = Evaluator()
    direct = Evaluator()
    partners = {
        gene: [PhenotypeInput(gene, p) for p in Phenotype if p is not Phenotype.NO_RESULT]
        for gene in Gene
    }
    pairs = [(t, n) for t in every_input(rule_set, Gene.TPMT) for n in partners[Gene.NUDT15]]
    pairs += [(t, NotTested(Gene.NUDT15)) for t in every_input(rule_set, Gene.TPMT)[:-1]]
    pairs += [(t, n) for n in every_input(rule_set, Gene.NUDT15) for t in partners[Gene.TPMT]]
    for tpmt, nudt15 in pairs:
        first = memo.evaluate(rule_set, tpmt, nudt15)
        runs = memo.evaluations
        assert memo.evaluate(rule_set, tpmt, nudt15) == first
        assert memo.evaluations == runs  # a second call never re-enters the engine
        assert by_stage(direct.evaluate_chained(rule_set, tpmt, nudt15)) == by_stage(first)
    assert len(pairs) > 1000
    # the engine ran once per distinct allele, function pair and phenotype pair, not per input
    assert memo.evaluations < len(pairs) / 3


def test_sessions_are_empty_after_each_evaluation(interpreter: Interpreter) -> None:
    evaluator = Evaluator()
    rule_set = interpreter.library.get("cpic-2025")
    compiled = evaluator.compiled(rule_set)
    evaluator.evaluate_chained(
        rule_set, DiplotypeInput(Gene.TPMT, ("*1", "*3A")), NotTested(Gene.NUDT15)
    )
    host = evaluator.engine._host
    assert host.get_facts(compiled.name, "0") == []
    assert "exception" not in host.get_state(compiled.name, "0")


def test_an_action_error_surfaces_and_the_next_evaluation_is_clean(
    interpreter: Interpreter,
) -> None:
    rule_set = interpreter.library.get("cpic-2025")
    compiled = compile_rule_set(rule_set)
    broken_name = "TPMT.function.*1"
    rules = dict(compiled.rules)
    rules[broken_name] = CompiledRule(
        broken_name, "function", {"t": "function"}
    )  # no gene → KeyError later
    engine = RuleEngine()
    bad = type(compiled)(compiled.name + "-broken", compiled.definition, rules)
    original = engine._action

    def exploding(rule: CompiledRule):
        if rule.rule_id == broken_name:

            def action(c: object) -> None:
                raise RuntimeError("boom")

            return action
        return original(rule)

    engine._action = exploding  # type: ignore[method-assign]
    facts = [{"t": "allele", "gene": "TPMT", "slot": 1, "allele": "*1", "nomenclature": "known"}]
    with pytest.raises(EngineError, match="boom"):
        engine.evaluate(bad, facts)
    good = [{"t": "allele", "gene": "TPMT", "slot": 1, "allele": "*3A", "nomenclature": "known"}]
    firings = engine.evaluate(bad, good)
    assert [f.rule_id for f in firings] == ["TPMT.function.*3A"]


def test_concurrent_callers_get_correct_results(interpreter: Interpreter) -> None:
    evaluator = Evaluator()
    rule_set = interpreter.library.get("cpic-2025")
    inputs = every_input(rule_set, Gene.TPMT)[:200]
    expected = {
        i: evaluator.evaluate_chained(rule_set, i, NotTested(Gene.NUDT15)).phenotypes
        for i in inputs
    }
    errors: list[str] = []

    def work() -> None:
        for item in inputs:
            got = evaluator.evaluate_chained(rule_set, item, NotTested(Gene.NUDT15)).phenotypes
            if got != expected[item]:
                errors.append(str(item))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_compiled_rule_sets_stay_inside_engine_limits(interpreter: Interpreter) -> None:
    for rule_set_id in RULE_SETS:
        compiled = compile_rule_set(interpreter.library.get(rule_set_id))
        assert 50 < len(compiled.definition) < 400
        assert compiled.name.startswith(f"tpmt-{rule_set_id}-")
