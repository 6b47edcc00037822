"""Run one sample's gene facts through a rule set's compiled chain, memoised per fact."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from tpmt.engine import Firing, RuleEngine
from tpmt.errors import EngineError
from tpmt.guidelines import RuleSet
from tpmt.parse import DiplotypeInput, FunctionsInput, GeneInput, NotTested, PhenotypeInput
from tpmt.rules import CompiledRuleSet, Fact, compile_rule_set
from tpmt.vocab import AlleleFunction, Gene, Phenotype

MemoKey = tuple[str, tuple[str, ...], tuple[str, ...]]
MEMO_SIZE = 50_000  # evaluations (a few KB each); cleared when full, so memory stays bounded


@dataclass(frozen=True)
class Evaluation:
    """What one rule set concluded: phenotypes, allele functions, rules fired, and the trace."""

    rule_set: str
    phenotypes: dict[Gene, Phenotype]
    functions: dict[Gene, tuple[AlleleFunction, ...]]
    recommendations: tuple[str, ...]
    notes: tuple[str, ...]
    firings: tuple[Firing, ...]


def gene_facts(rule_set: RuleSet, gene_input: GeneInput) -> list[Fact]:
    """The facts that describe one gene's input to ``rule_set``."""
    gene = gene_input.gene.value
    if isinstance(gene_input, DiplotypeInput):
        known = rule_set.genes[gene_input.gene]
        facts = []
        for slot, allele in enumerate(gene_input.alleles, start=1):
            defined = allele in known.alleles or allele in known.aliases
            facts.append(
                {
                    "t": "allele",
                    "gene": gene,
                    "slot": slot,
                    "allele": allele,
                    "nomenclature": "known" if defined else "unknown",
                }
            )
        return facts
    if isinstance(gene_input, FunctionsInput):
        return [
            {"t": "function", "gene": gene, "slot": slot, "function": function.value}
            for slot, function in enumerate(gene_input.functions, start=1)
        ]
    phenotype = (
        gene_input.phenotype if isinstance(gene_input, PhenotypeInput) else Phenotype.NO_RESULT
    )
    return [{"t": "phenotype", "gene": gene, "phenotype": phenotype.value, "by": "input"}]


class Evaluator:
    """Compiles rule sets once, runs the engine, and memoises results per normalised fact."""

    def __init__(self, engine: RuleEngine | None = None) -> None:
        self.engine = engine or RuleEngine()
        self._compiled: dict[str, CompiledRuleSet] = {}
        self._memo: dict[MemoKey, Evaluation] = {}
        self._lock = threading.Lock()

    def compiled(self, rule_set: RuleSet) -> CompiledRuleSet:
        """The compiled chain of ``rule_set`` (compiled on first use, keyed by content hash)."""
        key = rule_set.sha256
        if key not in self._compiled:
            self._compiled[key] = compile_rule_set(rule_set)
        return self._compiled[key]

    def evaluate(self, rule_set: RuleSet, tpmt: GeneInput, nudt15: GeneInput) -> Evaluation:
        """The memoised evaluation; repeated inputs never re-enter the engine."""
        key: MemoKey = (rule_set.sha256, tpmt.key, nudt15.key)
        found = self._memo.get(key)
        if found is None:
            with self._lock:
                found = self._memo.get(key) or self.evaluate_uncached(rule_set, tpmt, nudt15)
                if len(self._memo) >= MEMO_SIZE:
                    self._memo.clear()
                self._memo[key] = found
        return found

    def evaluate_uncached(
        self, rule_set: RuleSet, tpmt: GeneInput, nudt15: GeneInput
    ) -> Evaluation:
        """Run the engine on the inputs and check the result is complete."""
        facts = gene_facts(rule_set, tpmt) + gene_facts(rule_set, nudt15)
        firings = self.engine.evaluate(self.compiled(rule_set), facts)
        phenotypes: dict[Gene, Phenotype] = {}
        for fact in facts:
            if fact["t"] == "phenotype":
                phenotypes[Gene(fact["gene"])] = Phenotype(fact["phenotype"])
        functions: dict[Gene, dict[int, AlleleFunction]] = {gene: {} for gene in Gene}
        for firing in firings:
            if firing.stage == "phenotype" and firing.derived:
                gene = Gene(firing.derived["gene"])
                if gene in phenotypes:
                    raise EngineError(f"{rule_set.id}: two phenotypes derived for {gene}")
                phenotypes[gene] = Phenotype(firing.derived["phenotype"])
            elif firing.stage == "function" and firing.derived:
                derived = firing.derived
                functions[Gene(derived["gene"])][derived["slot"]] = AlleleFunction(
                    derived["function"]
                )
        missing = [gene.value for gene in Gene if gene not in phenotypes]
        if missing:
            raise EngineError(f"{rule_set.id}: no phenotype derived for {', '.join(missing)}")
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
            firings=tuple(firings),
        )

    def clear(self) -> None:
        """Forget every memoised evaluation."""
        with self._lock:
            self._memo.clear()


__all__ = ["Evaluation", "Evaluator", "NotTested", "gene_facts"]
