"""Run a sample's facts through a rule set in the engine's three steps, each memoised."""

from __future__ import annotations

from dataclasses import dataclass

from tpmt.cache import Memo
from tpmt.engine import Firing, RuleEngine
from tpmt.errors import EngineError
from tpmt.frozen import FrozenDict
from tpmt.guidelines import RuleSet
from tpmt.parse import DiplotypeInput, FunctionsInput, GeneInput, NotTested, PhenotypeInput
from tpmt.rules import CompiledRuleSet, Fact, compile_rule_set, compile_steps
from tpmt.vocab import AlleleFunction, Gene, Phenotype


@dataclass(frozen=True)
class Evaluation:
    """What one rule set concluded: phenotypes, allele functions, rules fired, and the trace."""

    rule_set: str
    phenotypes: dict[Gene, Phenotype]
    functions: dict[Gene, tuple[AlleleFunction, ...]]
    recommendations: tuple[str, ...]
    notes: tuple[str, ...]
    firings: tuple[Firing, ...]

    @property
    def advice_firings(self) -> tuple[Firing, ...]:
        """The recommendation and note firings."""
        return tuple(f for f in self.firings if f.stage in ("recommendation", "note"))


def gene_facts(rule_set: RuleSet, gene_input: GeneInput) -> list[Fact]:
    """The facts that describe one gene's input to ``rule_set``."""
    gene = gene_input.gene.value
    if isinstance(gene_input, DiplotypeInput):
        known = rule_set.genes[gene_input.gene]
        facts: list[Fact] = []
        for slot, allele in enumerate(gene_input.alleles, start=1):
            defined = allele in known.alleles or allele in known.aliases
            facts.append(
                FrozenDict(
                    {
                        "t": "allele",
                        "gene": gene,
                        "slot": slot,
                        "allele": allele,
                        "nomenclature": "known" if defined else "unknown",
                    }
                )
            )
        return facts
    if isinstance(gene_input, FunctionsInput):
        return [
            FrozenDict({"t": "function", "gene": gene, "slot": slot, "function": function.value})
            for slot, function in enumerate(gene_input.functions, start=1)
        ]
    phenotype = (
        gene_input.phenotype if isinstance(gene_input, PhenotypeInput) else Phenotype.NO_RESULT
    )
    return [
        FrozenDict({"t": "phenotype", "gene": gene, "phenotype": phenotype.value, "by": "input"})
    ]


@dataclass(frozen=True)
class GeneEvaluation:
    """One gene's step results under one rule set: its phenotype fact and the firings."""

    phenotype_fact: Fact
    functions: tuple[AlleleFunction, ...]
    firings: tuple[Firing, ...]

    @property
    def phenotype(self) -> Phenotype:
        return Phenotype(self.phenotype_fact["phenotype"])


def _identity(fact: Fact) -> tuple[object, ...]:
    return fact["t"], fact["gene"], fact.get("slot")


def _rebind(firing: Firing, facts: list[Fact]) -> Firing:
    """The firing with its premises replaced by this sample's facts of the same identity.

    A memoised step is keyed on what its rules test (functions, phenotypes); the facts may
    differ in what they record (``by``: the rule that derived them), so the trace shows ours.
    """
    current = {_identity(fact): fact for fact in facts}
    premises = tuple(current[_identity(p)] for p in firing.premises)
    if premises == firing.premises:
        return firing
    return Firing(firing.rule_id, firing.stage, premises, firing.derived)


class Evaluator:
    """Runs rule sets through the engine in three memoised steps; safe to share between threads.

    Allele → function (per gene, slot and allele), function pair → phenotype (per gene), and
    phenotype pair → recommendations and notes: each step is its own durable ruleset and its
    own memo (tpmt/cache.py), so the engine runs once per distinct allele, function pair and
    phenotype pair, however many distinct input strings lead to them.
    """

    def __init__(self, engine: RuleEngine | None = None) -> None:
        self.engine = engine or RuleEngine()
        self._compiled: Memo[str, CompiledRuleSet] = Memo("compiled rule sets", 64)
        self._steps: Memo[str, dict[str, CompiledRuleSet]] = Memo("compiled steps", 64)
        self._functions: Memo[tuple[object, ...], Firing] = Memo("allele → function", 10_000)
        self._phenotypes: Memo[tuple[object, ...], tuple[Firing, ...]] = Memo(
            "function pair → phenotype", 10_000
        )
        self._advice: Memo[tuple[object, ...], tuple[Firing, ...]] = Memo(
            "phenotype pair → advice", 10_000
        )

    @property
    def evaluations(self) -> int:
        """How many times the engine has run (the memos' misses)."""
        return self.engine.evaluations

    def compiled(self, rule_set: RuleSet) -> CompiledRuleSet:
        """The whole forward chain of ``rule_set`` in one ruleset (the reference path)."""
        return self._compiled.get(rule_set.sha256, lambda: compile_rule_set(rule_set))

    def steps(self, rule_set: RuleSet) -> dict[str, CompiledRuleSet]:
        """The chain split into the engine's three steps (compiled once per content hash)."""
        return self._steps.get(rule_set.sha256, lambda: compile_steps(rule_set))

    def _function(self, rule_set: RuleSet, fact: Fact) -> Firing:
        key = (rule_set.sha256, fact["gene"], fact["slot"], fact["allele"], fact["nomenclature"])

        def run() -> Firing:
            firings = self.engine.evaluate(self.steps(rule_set)["function"], [fact])
            if len(firings) != 1 or firings[0].derived is None:
                raise EngineError(f"{rule_set.id}: {len(firings)} functions for {fact['allele']}")
            return firings[0]

        return self._functions.get(key, run)

    def _phenotype(self, rule_set: RuleSet, gene: Gene, facts: list[Fact]) -> Firing:
        key = (rule_set.sha256, gene, *(fact["function"] for fact in facts))

        def run() -> tuple[Firing, ...]:
            return tuple(self.engine.evaluate(self.steps(rule_set)["phenotype"], facts))

        firings = self._phenotypes.get(key, run)
        if len(firings) > 1:
            raise EngineError(f"{rule_set.id}: two phenotypes derived for {gene}")
        if not firings or firings[0].derived is None:
            raise EngineError(f"{rule_set.id}: no phenotype derived for {gene}")
        return _rebind(firings[0], facts)

    def gene(self, rule_set: RuleSet, gene_input: GeneInput) -> GeneEvaluation:
        """One gene through the function and phenotype steps (a reported phenotype as given)."""
        facts = gene_facts(rule_set, gene_input)
        if facts[0]["t"] == "phenotype":
            return GeneEvaluation(facts[0], (), ())
        firings: list[Firing] = []
        if facts[0]["t"] == "allele":
            firings = [self._function(rule_set, fact) for fact in facts]
            facts = [firing.derived for firing in firings if firing.derived is not None]
        phenotype = self._phenotype(rule_set, gene_input.gene, facts)
        functions = tuple(AlleleFunction(fact["function"]) for fact in facts)
        derived = phenotype.derived or {}
        return GeneEvaluation(derived, functions, (*firings, phenotype))

    def advice(self, rule_set: RuleSet, tpmt: Fact, nudt15: Fact) -> tuple[Firing, ...]:
        """The recommendation and note firings for a pair of phenotype facts."""
        facts = [tpmt, nudt15]
        key = (rule_set.sha256, tpmt["phenotype"], nudt15["phenotype"])

        def run() -> tuple[Firing, ...]:
            return tuple(self.engine.evaluate(self.steps(rule_set)["advice"], facts))

        return tuple(_rebind(firing, facts) for firing in self._advice.get(key, run))

    def evaluate(self, rule_set: RuleSet, tpmt: GeneInput, nudt15: GeneInput) -> Evaluation:
        """The evaluation of a sample, composed from the memoised steps."""
        return self.combine(rule_set, self.gene(rule_set, tpmt), self.gene(rule_set, nudt15))

    def combine(
        self, rule_set: RuleSet, tpmt: GeneEvaluation, nudt15: GeneEvaluation
    ) -> Evaluation:
        """Two genes' evaluations through the advice step."""
        genes = {Gene.TPMT: tpmt, Gene.NUDT15: nudt15}
        advice = self.advice(rule_set, tpmt.phenotype_fact, nudt15.phenotype_fact)
        firings = (*tpmt.firings, *nudt15.firings, *advice)
        # as the chain lists them: reported phenotypes first, then derived ones
        order = sorted(Gene, key=lambda gene: bool(genes[gene].firings))
        return _evaluation(rule_set, firings, {g: genes[g].phenotype for g in order})

    def evaluate_chained(self, rule_set: RuleSet, tpmt: GeneInput, nudt15: GeneInput) -> Evaluation:
        """The whole chain in one engine session, no memo: the reference for the steps."""
        facts = gene_facts(rule_set, tpmt) + gene_facts(rule_set, nudt15)
        firings = tuple(self.engine.evaluate(self.compiled(rule_set), facts))
        phenotypes: dict[Gene, Phenotype] = {}
        for fact in facts:
            if fact["t"] == "phenotype":
                phenotypes[Gene(fact["gene"])] = Phenotype(fact["phenotype"])
        for firing in firings:
            if firing.stage == "phenotype" and firing.derived:
                gene = Gene(firing.derived["gene"])
                if gene in phenotypes:
                    raise EngineError(f"{rule_set.id}: two phenotypes derived for {gene}")
                phenotypes[gene] = Phenotype(firing.derived["phenotype"])
        return _evaluation(rule_set, firings, phenotypes)


def _evaluation(
    rule_set: RuleSet, firings: tuple[Firing, ...], phenotypes: dict[Gene, Phenotype]
) -> Evaluation:
    """Check an evaluation is complete and collect what it concluded."""
    missing = [gene.value for gene in Gene if gene not in phenotypes]
    if missing:
        raise EngineError(f"{rule_set.id}: no phenotype derived for {', '.join(missing)}")
    functions: dict[Gene, dict[int, AlleleFunction]] = {gene: {} for gene in Gene}
    for firing in firings:
        if firing.stage == "function" and firing.derived:
            derived = firing.derived
            functions[Gene(derived["gene"])][derived["slot"]] = AlleleFunction(derived["function"])
    recommendations = tuple(sorted(f.rule_id for f in firings if f.stage == "recommendation"))
    if rule_set.manifest.recommendation_lookup == "pair" and len(recommendations) != len(
        rule_set.drugs
    ):
        raise EngineError(f"{rule_set.id}: {len(recommendations)} recommendations fired")
    return Evaluation(
        rule_set=rule_set.id,
        phenotypes=phenotypes,
        functions={g: tuple(f[s] for s in sorted(f)) for g, f in functions.items()},
        recommendations=recommendations,
        notes=tuple(sorted({f.rule_id for f in firings if f.stage == "note"})),
        firings=firings,
    )


__all__ = ["Evaluation", "Evaluator", "GeneEvaluation", "NotTested", "gene_facts"]
