"""Find, load and validate the guideline rule sets; compute each one's content hash."""

from __future__ import annotations

import hashlib
import itertools
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from tpmt.errors import GuidelineError, UnknownGuidelineError
from tpmt.guideline_schema import (
    AlleleDefinitions,
    DrugRules,
    GeneRules,
    Manifest,
    RecommendationRule,
)
from tpmt.vocab import AlleleFunction, Drug, Gene, Phenotype, Source

ENV_VAR = "TPMT_GUIDELINES_DIR"
FUNCTION_ORDER = list(AlleleFunction)
KNOWN_PHENOTYPES = [p for p in Phenotype if p is not Phenotype.NO_RESULT]
Model = TypeVar("Model", bound=BaseModel)


def default_directory() -> Path:
    """The guideline folder: $TPMT_GUIDELINES_DIR, the installed copy, or the checkout's."""
    configured = os.environ.get(ENV_VAR)
    if configured:
        return Path(configured)
    package = Path(__file__).resolve().parent
    installed = package / "_guidelines"
    return installed if installed.is_dir() else package.parent / "guidelines"


def _read_model(path: Path, model: type[Model]) -> Model:
    """Parse one JSON file into ``model`` or raise GuidelineError naming file and problem."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise GuidelineError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(top level)'}: {err['msg']}"
            for err in exc.errors()[:3]
        )
        more = f" (and {exc.error_count() - 3} more)" if exc.error_count() > 3 else ""
        raise GuidelineError(f"{path}: {problems}{more}") from None


@dataclass(frozen=True)
class RuleSet:
    """One validated rule set: manifest, gene tables and drug recommendations."""

    manifest: Manifest
    genes: dict[Gene, GeneRules]
    drugs: dict[Drug, DrugRules]
    definitions: dict[Gene, AlleleDefinitions]
    sha256: str
    directory: Path = field(compare=False)

    @property
    def id(self) -> str:
        return self.manifest.id

    @property
    def source(self) -> Source:
        return self.manifest.source

    def function_of(self, gene: Gene, allele: str) -> AlleleFunction | None:
        """The allele's function here (after aliases); None if not in this nomenclature.

        An allele named here without a function has the rule set's ``unassigned_function``.
        """
        rules = self.genes[gene]
        name = rules.aliases[allele].allele if allele in rules.aliases else allele
        if name not in rules.alleles:
            return None
        return rules.alleles[name] or rules.unassigned_function

    def effective_function(self, gene: Gene, allele: str) -> AlleleFunction:
        """The allele's function here; an allele this rule set does not name is of unknown
        function by its own terms (its ``unassigned_function``)."""
        return self.function_of(gene, allele) or self.genes[gene].unassigned_function

    def is_assigned(self, gene: Gene, allele: str) -> bool:
        """True when this rule set names the allele and gives it a function of its own."""
        rules = self.genes[gene]
        name = rules.aliases[allele].allele if allele in rules.aliases else allele
        return rules.alleles.get(name) is not None

    @cached_property
    def recommendation_rules(self) -> dict[str, tuple[Drug, RecommendationRule]]:
        """Every recommendation rule by local id."""
        return {rule.id: (drug, rule) for drug, d in self.drugs.items() for rule in d.rules}


def load_rule_set(directory: Path) -> RuleSet:
    """Load and cross-check the rule set stored in ``directory``."""
    manifest_path = directory / "manifest.json"
    manifest = _read_model(manifest_path, Manifest)
    if manifest.id != directory.name:
        raise GuidelineError(f"{manifest_path}: id {manifest.id!r} differs from folder name")
    genes = {
        gene: _read_model(directory / name, GeneRules) for gene, name in manifest.genes.items()
    }
    drugs = {
        drug: _read_model(directory / name, DrugRules) for drug, name in manifest.drugs.items()
    }
    definitions = {
        gene: _read_model(directory / name, AlleleDefinitions)
        for gene, name in manifest.definitions.items()
    }
    for gene, defs in definitions.items():
        path = directory / manifest.definitions[gene]
        if defs.gene is not gene:
            raise GuidelineError(f"{path}: declares gene {defs.gene}, manifest expects {gene}")
        unknown = [a for a in defs.alleles if a not in genes[gene].alleles]
        if unknown:
            raise GuidelineError(f"{path}: alleles {unknown} are not in {gene}.json")
    if set(genes) != set(Gene):
        raise GuidelineError(f"{manifest_path}: genes must be exactly TPMT and NUDT15")
    for gene, gene_rules in genes.items():
        _check_gene(directory / manifest.genes[gene], gene, gene_rules)
    ids: set[str] = set()
    for drug, drug_rules in drugs.items():
        _check_drug(directory / manifest.drugs[drug], drug, drug_rules, manifest, ids)
    names = set(manifest.genes.values()) | set(manifest.drugs.values())
    files = ["manifest.json", *sorted(names | set(manifest.definitions.values()))]
    digest = hashlib.sha256()
    for name in files:
        digest.update(name.encode() + b"\0" + (directory / name).read_bytes() + b"\0")
    return RuleSet(manifest, genes, drugs, definitions, digest.hexdigest(), directory)


def _check_gene(path: Path, gene: Gene, rules: GeneRules) -> None:
    """Gene file: right gene, complete phenotype rules, valid aliases and ambiguities."""
    if rules.gene is not gene:
        raise GuidelineError(f"{path}: declares gene {rules.gene}, manifest expects {gene}")
    present = {f for f in rules.alleles.values() if f} | {rules.unassigned_function}
    seen: dict[tuple[AlleleFunction, ...], str] = {}
    for rule in rules.phenotype_rules:
        key = tuple(sorted(rule.functions, key=FUNCTION_ORDER.index))
        if key in seen:
            raise GuidelineError(f"{path}: rules {seen[key]} and {rule.id} cover the same pair")
        if not set(key) <= present:
            raise GuidelineError(f"{path}: rule {rule.id} uses a function no allele has")
        seen[key] = rule.id
    needed = itertools.combinations_with_replacement(sorted(present, key=FUNCTION_ORDER.index), 2)
    missing = [" + ".join(pair) for pair in needed if pair not in seen]
    if missing:
        raise GuidelineError(f"{path}: no phenotype rule for {', '.join(missing)}")
    for name, alias in rules.aliases.items():
        if rules.alleles.get(alias.allele) is None:
            raise GuidelineError(
                f"{path}: alias {name} points to {alias.allele}, which has no function"
            )
    for ambiguity in rules.ambiguities:
        for diplotype in [ambiguity.diplotype, *ambiguity.alternatives]:
            for allele in diplotype.split("/"):
                if allele not in rules.alleles and allele not in rules.aliases:
                    raise GuidelineError(f"{path}: {ambiguity.id} names unknown allele {allele}")


def _check_drug(
    path: Path, drug: Drug, rules: DrugRules, manifest: Manifest, ids: set[str]
) -> None:
    """Drug file: right drug, known advice keys, unique ids, every phenotype key covered once."""
    if rules.drug is not drug:
        raise GuidelineError(f"{path}: declares drug {rules.drug}, manifest expects {drug}")
    for rule_id in [r.id for r in rules.rules] + [n.id for n in rules.notes]:
        if rule_id in ids:
            raise GuidelineError(f"{path}: rule id {rule_id} is used twice")
        ids.add(rule_id)
    for rule in rules.rules:
        unknown = [key for key in rule.advice if key not in rules.advice]
        if unknown:
            raise GuidelineError(f"{path}: rule {rule.id} names unknown advice {unknown[0]!r}")
    keys = list(_lookup_keys(manifest.recommendation_lookup))
    for key in keys:
        for context in _contexts(key, manifest.recommendation_lookup):
            matching = [r.id for r in rules.rules if r.when == key and _within(r.context, context)]
            if len(matching) != 1:
                label = ", ".join(f"{g}={p}" for g, p in {**key, **context}.items())
                found = "no rule" if not matching else f"rules {', '.join(matching)}"
                raise GuidelineError(f"{path}: {found} for {label}; exactly one is required")
    for rule in rules.rules:
        if rule.when not in keys:
            raise GuidelineError(f"{path}: rule {rule.id} is outside the expected phenotype keys")
        if rule.context and (
            manifest.recommendation_lookup == "pair" or set(rule.context) & set(rule.when)
        ):
            raise GuidelineError(f"{path}: rule {rule.id}: context must name the other gene")


def _contexts(key: dict[Gene, Phenotype], mode: str) -> list[dict[Gene, Phenotype]]:
    """For per-gene rules, each phenotype the other gene can have; for pairs, no context."""
    if mode == "pair":
        return [{}]
    (gene,) = key
    other = next(g for g in Gene if g is not gene)
    return [{other: phenotype} for phenotype in Phenotype]


def _within(limits: dict[Gene, list[Phenotype]], context: dict[Gene, Phenotype]) -> bool:
    return all(phenotype in limits.get(gene, [phenotype]) for gene, phenotype in context.items())


def _lookup_keys(mode: str) -> Iterable[dict[Gene, Phenotype]]:
    """Every phenotype key a rule set must answer: pairs, or single genes."""
    if mode == "pair":
        for tpmt, nudt15 in itertools.product(Phenotype, Phenotype):
            if not (tpmt is nudt15 is Phenotype.NO_RESULT):
                yield {Gene.TPMT: tpmt, Gene.NUDT15: nudt15}
    else:
        for gene, phenotype in itertools.product(Gene, KNOWN_PHENOTYPES):
            yield {gene: phenotype}


class GuidelineLibrary:
    """The rule sets in one guideline folder, loaded on first use."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory or default_directory()
        if not self.directory.is_dir():
            raise GuidelineError(f"{self.directory}: guideline folder not found")
        self._manifests = {
            path.name: _read_model(path / "manifest.json", Manifest)
            for path in sorted(self.directory.iterdir())
            if (path / "manifest.json").is_file()
        }
        if not self._manifests:
            raise GuidelineError(f"{self.directory}: no rule sets (folders with manifest.json)")
        self._loaded: dict[str, RuleSet] = {}

    @property
    def manifests(self) -> dict[str, Manifest]:
        return dict(self._manifests)

    def aliases(self) -> dict[str, str]:
        """``cpic``/``dpwg`` → the newest rule set of that source."""
        newest: dict[str, Manifest] = {}
        for manifest in self._manifests.values():
            key = manifest.source.value.lower()
            if key not in newest or manifest.date > newest[key].date:
                newest[key] = manifest
        return {alias: manifest.id for alias, manifest in newest.items()}

    def resolve(self, name: str) -> str:
        """Map an id or alias (case-insensitive) to a rule-set id."""
        key = name.strip().lower()
        if key in self._manifests:
            return key
        aliases = self.aliases()
        if key in aliases:
            return aliases[key]
        accepted = ", ".join([*self._manifests, *aliases])
        shown = name if len(name) <= 40 else name[:40] + "..."
        raise UnknownGuidelineError(f"unknown guideline {shown!r}; accepted: {accepted}")

    def default_ids(self) -> list[str]:
        """The newest rule set of each source, CPIC first."""
        aliases = self.aliases()
        return [aliases[key] for key in sorted(aliases)]

    def get(self, name: str) -> RuleSet:
        """The rule set for an id or alias, loaded and validated once."""
        rule_set_id = self.resolve(name)
        if rule_set_id not in self._loaded:
            self._loaded[rule_set_id] = load_rule_set(self.directory / rule_set_id)
        return self._loaded[rule_set_id]
