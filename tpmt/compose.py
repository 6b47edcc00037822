"""Report fragments built once (per gene input, per advice key) and composed into a Report.

A Report is made of immutable parts: each gene's ``GeneResult`` with its trace steps (a
``GeneFragment``, which depends on that gene's input and the rule sets only), and the
recommendation rows with their trace steps (an ``AdviceFragment``, which depends on the drugs,
each gene's phenotype fact and the alternatives that can change the advice). Composing one is a
handful of lookups; nothing inside is copied, so nothing can be changed for another caller.
"""

from __future__ import annotations

import dataclasses
import itertools
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

from tpmt.advice import Choices, Options, Slot, choices, gene_options
from tpmt.evaluate import Evaluation, Evaluator, GeneEvaluation
from tpmt.frozen import FrozenDict
from tpmt.guidelines import RuleSet
from tpmt.models import (
    SCHEMA_VERSION,
    GeneResult,
    GuidelineInfo,
    Recommendation,
    Report,
    SafetyContext,
    TraceStep,
    assemble,
)
from tpmt.outcome import GeneOutcome
from tpmt.parse import GeneInput, PhenotypeInput
from tpmt.report import (
    STAGE_ORDER,
    all_alternatives,
    gate_step,
    gene_phenotype,
    gene_result,
    recommendations,
    trace_steps,
)
from tpmt.vocab import Drug, Gene, InputType, Phenotype

KeyedStep = tuple[str, TraceStep]  # the trace's sort key (stage order, then rule id)
_SERIALS = itertools.count(1)  # serial numbers of fragments and rows, never reused
PhenotypeOf = Callable[[RuleSet, GeneInput], Phenotype]


@dataclass(frozen=True, eq=False)
class Selection:
    """The rule sets and drugs a call asked for, resolved once."""

    rule_sets: tuple[RuleSet, ...]
    drugs: tuple[Drug, ...]
    guidelines: tuple[GuidelineInfo, ...]
    key: tuple[str, ...]  # the rule sets' content hashes
    safety: SafetyContext | None = None  # the label data behind every row's monitoring
    serial: int = field(default_factory=lambda: next(_SERIALS))  # (memo keys)


@dataclass(frozen=True, eq=False)
class GeneFragment:
    """One gene's part of a report under a selection of rule sets."""

    result: GeneResult
    evaluations: tuple[GeneEvaluation, ...]  # per rule set: what the advice step reads
    options: tuple[Options, ...]  # per rule set: the phenotypes the evidence allows, and why
    choices: tuple[Choices, ...]  # per rule set: the same at phenotype level
    choice_ids: tuple[int, ...]  # per rule set: a number for the choices (0: nothing varies)
    steps: tuple[KeyedStep, ...]
    facts: tuple[tuple[str, str], ...]  # per rule set: the phenotype fact (phenotype, by)
    facts_id: int  # a number for ``facts`` (memo keys)
    serial: int  # of the options, shared by the spellings of one input (memo keys)
    key: int = field(default_factory=lambda: next(_SERIALS))  # of this fragment (memo keys)
    not_tested: bool = False  # the gene has no result

    @property
    def varies(self) -> bool:
        """Whether the evidence leaves another phenotype possible under some rule set."""
        return any(self.choice_ids)

    def with_input(self, raw: str | None) -> GeneFragment:
        """The fragment with the gene's input as the caller spelled it."""
        if self.result.input == raw:
            return self
        result = self.result.model_copy(update={"input": raw})
        return dataclasses.replace(self, result=result, key=next(_SERIALS))


@dataclass(frozen=True, eq=False)
class RowsFragment:
    """One rule set's rows for a pair of phenotype facts, per drug, with their trace steps."""

    rows: dict[Drug, tuple[Recommendation, ...]]
    steps: dict[Drug, tuple[KeyedStep, ...]]
    ids: dict[Drug, tuple[int, ...]]  # a serial number per row (memo keys)


class Place(NamedTuple):
    """Where a row of a report comes from, and which genes it is for."""

    rule_set: RuleSet
    drug: Drug
    rule_set_index: int  # in the selection
    row_id: int
    for_tpmt: bool
    for_nudt15: bool


@dataclass(frozen=True, eq=False)
class PlainAdvice:
    """A report's rows in report order (each drug, then each rule set), before alternatives."""

    rows: tuple[Recommendation, ...]
    steps: tuple[KeyedStep, ...]
    places: tuple[Place, ...]
    serial: int = field(default_factory=lambda: next(_SERIALS))


def plain_advice(selection: Selection, fragments: Sequence[RowsFragment]) -> PlainAdvice:
    """The rows of each rule set's fragment, in report order, with their trace steps."""
    rows: list[Recommendation] = []
    steps: list[KeyedStep] = []
    places: list[Place] = []
    for drug in selection.drugs:
        for n, (rule_set, fragment) in enumerate(zip(selection.rule_sets, fragments, strict=True)):
            rows += fragment.rows[drug]
            places += [
                Place(rule_set, drug, n, row_id, Gene.TPMT in row.genes, Gene.NUDT15 in row.genes)
                for row, row_id in zip(fragment.rows[drug], fragment.ids[drug], strict=True)
            ]
            steps += fragment.steps[drug]
    return PlainAdvice(tuple(rows), tuple(sorted(steps, key=_STEP_KEY)), tuple(places))


def _keyed(steps: Sequence[TraceStep]) -> tuple[KeyedStep, ...]:
    """Steps with their sort key, in trace order (a stable sort: equal keys keep their order)."""
    keyed = [(f"{STAGE_ORDER[s.stage]}{s.rule_id}", s) for s in steps]
    return tuple(sorted(keyed, key=_STEP_KEY))


def gene_fragment(
    outcome: GeneOutcome,
    selection: Selection,
    evaluator: Evaluator,
    phenotype_of: PhenotypeOf,
    number: Callable[[object], int],
) -> GeneFragment:
    """Phenotypes (with the minimum-panel rule), alternatives, the GeneResult and its steps."""
    rule_sets = selection.rule_sets
    phenotypes = [gene_phenotype(rs, outcome, phenotype_of) for rs in rule_sets]
    alternatives = all_alternatives(outcome, rule_sets, phenotype_of)
    activity = None
    if outcome.activity is not None:  # a measured TPMT activity: see tpmt/activity.py
        from tpmt.activity import apply_activity

        activity = apply_activity(outcome, outcome.activity, rule_sets, phenotypes)
        phenotypes, alternatives = activity.phenotypes, alternatives + activity.alternatives
    result = gene_result(outcome, rule_sets, phenotypes, alternatives)
    if activity is not None:
        result = activity.annotate(result)
    evaluations = []
    steps: list[TraceStep] = []
    for n, (rule_set, chosen) in enumerate(zip(rule_sets, phenotypes, strict=True)):
        gene_input = outcome.gene_input
        if chosen.phenotype is not chosen.engine_phenotype:
            gene_input = PhenotypeInput(outcome.gene, chosen.phenotype)
            if activity is None:
                steps.append(gate_step(rule_set, outcome.gene, chosen, outcome.untested_panel))
        if activity is not None:  # the genotype's own steps, then the activity's
            if gene_input is not outcome.gene_input:
                genotype = evaluator.gene(rule_set, outcome.gene_input)
                steps += trace_steps(rule_set, genotype.firings, ())
            steps += activity.steps[n]
        evaluation = evaluator.gene(rule_set, gene_input)
        steps += trace_steps(rule_set, evaluation.firings, ())
        evaluations.append(evaluation)
    options = tuple(
        gene_options(rs, outcome.gene, result.phenotype[rs.source], alternatives)
        for rs in rule_sets
    )
    facts = tuple((e.phenotype_fact["phenotype"], e.phenotype_fact["by"]) for e in evaluations)
    phenotype_choices = tuple(map(choices, options))
    return GeneFragment(
        result,
        tuple(evaluations),
        options,
        phenotype_choices,
        tuple(number(c) if len(c) > 1 else 0 for c in phenotype_choices),
        _keyed(steps),
        facts,
        number(facts),
        next(_SERIALS),
        not_tested=result.input_type is InputType.NOT_TESTED,
    )


def rows_fragment(
    rule_set: RuleSet,
    evaluation: Evaluation,
    finish: Callable[[Recommendation], Recommendation] | None = None,
) -> RowsFragment:
    """The rows and recommendation/note trace steps of an evaluation, per drug (each row passed
    through ``finish``, e.g. to add the label's monitoring)."""
    firings = evaluation.advice_firings
    rows = {d: tuple(recommendations(rule_set, evaluation, [d])) for d in rule_set.drugs}
    if finish is not None:
        rows = {d: tuple(map(finish, drug_rows)) for d, drug_rows in rows.items()}
    return RowsFragment(
        rows=FrozenDict(rows),
        steps=FrozenDict({d: _keyed(trace_steps(rule_set, firings, [d])) for d in rule_set.drugs}),
        ids=FrozenDict({d: tuple(next(_SERIALS) for _ in rows[d]) for d in rule_set.drugs}),
    )


_STEP_KEY = operator.itemgetter(0)
_STEP = operator.itemgetter(1)


def compose_report(
    tool_version: str,
    selection: Selection,
    tpmt: GeneFragment,
    nudt15: GeneFragment,
    rows: tuple[Recommendation, ...],
    row_steps: tuple[KeyedStep, ...],
    sample: str | None = None,
    warnings: tuple[str, ...] = (),
    safety: SafetyContext | None = None,
) -> Report:
    """The Report of these parts (no validation needed: every part is already valid)."""
    # gene steps (function, phenotype) all sort before advice steps (recommendation, note)
    genes_steps = sorted(tpmt.steps + nudt15.steps, key=_STEP_KEY)
    return assemble(
        Report,
        schema_version=SCHEMA_VERSION,
        tool_version=tool_version,
        sample=sample,
        guidelines=selection.guidelines,
        genes=FrozenDict({Gene.TPMT: tpmt.result, Gene.NUDT15: nudt15.result}),
        recommendations=rows,
        trace=(*map(_STEP, genes_steps), *map(_STEP, row_steps)),
        warnings=warnings,
        dose=None,
        safety=safety,
    )


class Advisor(Protocol):
    """What attaches the more severe alternatives to a composition's rows (the Interpreter)."""

    def decorated_rows(self, composition: Composition) -> tuple[Recommendation, ...]: ...

    def slots(self, composition: Composition, index: int) -> tuple[Slot, ...]: ...


class Composition(NamedTuple):
    """A sample's result before its Report is assembled: the fragments it is made of.

    Renderers that need only part of a report (batch TSV, compact records) read these
    directly; ``report()`` assembles the whole immutable Report. (A named tuple: one is made
    per input row, and it is the cheapest immutable record to make.)
    """

    advisor: Advisor
    tool_version: str
    selection: Selection
    tpmt: GeneFragment
    nudt15: GeneFragment
    advice: PlainAdvice
    warnings: tuple[str, ...] = ()

    def report(self, sample: str | None = None) -> Report:
        """The whole Report, with ``sample`` as its sample name."""
        return compose_report(
            self.tool_version,
            self.selection,
            self.tpmt,
            self.nudt15,
            self.advisor.decorated_rows(self),
            self.advice.steps,
            sample,
            self.warnings,
            self.selection.safety,
        )
