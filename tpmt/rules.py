"""Compile a rule set into durable_rules ruleset definitions (pure data, no engine import)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, Literal

from tpmt.errors import GuidelineError
from tpmt.guidelines import RuleSet
from tpmt.vocab import AlleleFunction, Gene

Stage = Literal["function", "phenotype", "recommendation", "note"]
Fact = dict[str, Any]
# The engine runs a rule set in three steps, each a ruleset of its own (see tpmt/evaluate.py):
# allele -> function, function pair -> phenotype, phenotype pair -> recommendations and notes.
STEPS: dict[str, tuple[Stage, ...]] = {
    "function": ("function",),
    "phenotype": ("phenotype",),
    "advice": ("recommendation", "note"),
}

# Engine limits (research/durable-rules.md §3): >511 sibling tests on one property hang the
# process, and objects over 255 properties fail. Stay well below both.
MAX_FAN_OUT = 500
MAX_RULES = 400


@dataclass(frozen=True)
class CompiledRule:
    """What an engine action needs: the logical rule id, its stage and what it derives."""

    rule_id: str
    stage: Stage
    derive: Fact | None  # constant fields of the derived fact; slot is copied from the premise


@dataclass(frozen=True)
class CompiledRuleSet:
    """A durable ruleset definition plus the metadata of each durable rule name."""

    name: str
    definition: dict[str, dict[str, Any]]
    rules: dict[str, CompiledRule]


def _pattern(**fields: Any) -> dict[str, Any]:
    """A durable test that every field equals its value."""
    return {"$and": [{key: value} for key, value in fields.items()]}


def compile_rule_set(rule_set: RuleSet) -> CompiledRuleSet:
    """Turn guideline data into a forward chain: allele → function → phenotype → advice."""
    definition: dict[str, dict[str, Any]] = {}
    rules: dict[str, CompiledRule] = {}

    def add(name: str, when: dict[str, Any], rule: CompiledRule) -> None:
        if name in definition:
            raise GuidelineError(f"{rule_set.id}: compiled rule {name} defined twice")
        definition[name] = when
        rules[name] = rule

    for gene, gene_rules in rule_set.genes.items():
        _compile_gene(
            gene, gene_rules.alleles, gene_rules.aliases, gene_rules.unassigned_function, add
        )
        for rule in gene_rules.phenotype_rules:
            derive = {"t": "phenotype", "gene": gene.value, "phenotype": rule.phenotype.value}
            first, second = (f.value for f in rule.functions)
            orders = {(first, second), (second, first)}
            for n, (one, two) in enumerate(sorted(orders)):
                premise_a = _pattern(t="function", gene=gene.value, slot=1, function=one)
                premise_b = _pattern(t="function", gene=gene.value, slot=2, function=two)
                add(
                    f"{rule.id}#{n}",
                    {"all": [{"a": premise_a}, {"b": premise_b}]},
                    CompiledRule(rule.id, "phenotype", derive),
                )
    for drug_rules in rule_set.drugs.values():
        for rec in drug_rules.rules:
            premises = [
                {alias: _pattern(t="phenotype", gene=gene.value, phenotype=phenotype.value)}
                for alias, (gene, phenotype) in zip("ab", rec.when.items(), strict=False)
            ]
            compiled = CompiledRule(rec.id, "recommendation", None)
            if not rec.context:
                add(rec.id, {"all": premises}, compiled)
                continue
            ((other, allowed),) = rec.context.items()
            for n, phenotype in enumerate(allowed):
                extra = {"c": _pattern(t="phenotype", gene=other.value, phenotype=phenotype.value)}
                add(f"{rec.id}#{n}", {"all": [*premises, extra]}, compiled)
        for note in drug_rules.notes:
            genes = list(note.when)
            for n, combo in enumerate(itertools.product(*note.when.values())):
                premises = [
                    {alias: _pattern(t="phenotype", gene=gene.value, phenotype=phenotype.value)}
                    for alias, gene, phenotype in zip("ab", genes, combo, strict=False)
                ]
                add(f"{note.id}#{n}", {"all": premises}, CompiledRule(note.id, "note", None))
    _check_limits(rule_set.id, definition)
    return CompiledRuleSet(f"tpmt-{rule_set.id}-{rule_set.sha256[:16]}", definition, rules)


def compile_steps(rule_set: RuleSet) -> dict[str, CompiledRuleSet]:
    """The forward chain split into the engine's three steps (names carry the step)."""
    whole = compile_rule_set(rule_set)
    steps = {}
    for step, stages in STEPS.items():
        names = [name for name, rule in whole.rules.items() if rule.stage in stages]
        steps[step] = CompiledRuleSet(
            f"{whole.name}-{step}",
            {name: whole.definition[name] for name in names},
            {name: whole.rules[name] for name in names},
        )
    return steps


def _compile_gene(
    gene: Gene,
    alleles: dict[str, AlleleFunction | None],
    aliases: dict[str, Any],
    unassigned: AlleleFunction,
    add: Any,
) -> None:
    """One rule per allele (and alias) deriving its function; one for alleles not defined here.

    An allele without a function, or outside the nomenclature, gets the rule set's declared
    ``unassigned_function`` (by the rule set's own terms, its function is unknown).
    """
    table = {name: function or unassigned for name, function in alleles.items()}
    targets = {name: table[alias.allele] for name, alias in aliases.items()}
    for kind, mapping in (("function", table), ("alias", targets)):
        for name, function in mapping.items():
            rule_id = f"{gene.value}.{kind}.{name}"
            when = _pattern(t="allele", gene=gene.value, allele=name, nomenclature="known")
            derive = {"t": "function", "gene": gene.value, "function": function.value}
            add(rule_id, {"all": [{"m": when}]}, CompiledRule(rule_id, "function", derive))
    rule_id = f"{gene.value}.function.not-in-nomenclature"
    when = _pattern(t="allele", gene=gene.value, nomenclature="unknown")
    derive = {"t": "function", "gene": gene.value, "function": unassigned.value}
    add(rule_id, {"all": [{"m": when}]}, CompiledRule(rule_id, "function", derive))


def _check_limits(rule_set_id: str, definition: dict[str, dict[str, Any]]) -> None:
    """Refuse definitions that would hang or crash the C engine."""
    if len(definition) > MAX_RULES:
        raise GuidelineError(f"{rule_set_id}: {len(definition)} rules exceed {MAX_RULES}")
    values: dict[tuple[str, str], set[str]] = {}
    for when in definition.values():
        for premise in when["all"]:
            for test in next(iter(premise.values()))["$and"]:
                ((key, value),) = test.items()
                values.setdefault(("fact", key), set()).add(str(value))
    widest = max(len(v) for v in values.values())
    if widest > MAX_FAN_OUT:
        raise GuidelineError(f"{rule_set_id}: {widest} values on one property exceed {MAX_FAN_OUT}")
