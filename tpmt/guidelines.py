"""Find, load and validate the guideline rule sets; compute and verify each one's content hash.

Rule sets in the package's own folder are *bundled*: each must match the content hash shipped
in ``tpmt/rule_set_hashes.py`` or it is refused. Rule sets from any other folder
(``--guidelines-dir``, $TPMT_GUIDELINES_DIR) are *user-supplied*: not verified, and labelled so
on every result. The aliases ``cpic``/``dpwg`` name fixed rule sets in either case.
"""

from __future__ import annotations

import hashlib
import itertools
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from types import MappingProxyType
from typing import Literal, TypeVar

from pydantic import BaseModel, ValidationError

from tpmt.errors import GuidelineError, UnknownGuidelineError
from tpmt.guideline_schema import (
    AlleleDefinitions,
    DrugRules,
    GeneRules,
    Manifest,
    RecommendationRule,
)
from tpmt.rule_set_hashes import BUNDLED_SHA256
from tpmt.vocab import AlleleFunction, Drug, Gene, Phenotype, Source

ENV_VAR = "TPMT_GUIDELINES_DIR"
ALIASES = MappingProxyType({"cpic": "cpic-2025", "dpwg": "dpwg-2025"})  # fixed, never "newest"
HASH_SHOWN = 12  # hex digits of a content hash shown in messages
REGENERATE = "python scripts/rule_set_hashes.py"
Origin = Literal["bundled", "user"]
FUNCTION_ORDER = list(AlleleFunction)
KNOWN_PHENOTYPES = [p for p in Phenotype if p is not Phenotype.NO_RESULT]
Model = TypeVar("Model", bound=BaseModel)


def bundled_directory() -> Path:
    """The package's own guideline folder: the installed copy, or the checkout's."""
    package = Path(__file__).resolve().parent
    installed = package / "_guidelines"
    return installed if installed.is_dir() else package.parent / "guidelines"


def default_directory() -> Path:
    """The guideline folder: $TPMT_GUIDELINES_DIR, else the bundled one."""
    configured = os.environ.get(ENV_VAR)
    return Path(configured) if configured else bundled_directory()


def _read_bytes(path: Path) -> bytes:
    """A file's bytes, or GuidelineError naming the file."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise GuidelineError(f"{path}: cannot read ({exc.strerror})") from None


def _read_model(path: Path, model: type[Model], raw: bytes | None = None) -> Model:
    """Parse one JSON file (or its ``raw`` bytes) into ``model``; GuidelineError naming file
    and problem."""
    if raw is None:
        raw = _read_bytes(path)
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
    origin: Origin = "user"  # "bundled" only when verified against the shipped hash

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


def content_hash(files: dict[str, bytes]) -> str:
    """SHA-256 over a rule set's files (name → bytes, the manifest first, then by name)."""
    digest = hashlib.sha256()
    for name, raw in files.items():
        digest.update(name.encode() + b"\0" + raw + b"\0")
    return digest.hexdigest()


def _files(directory: Path, manifest_raw: bytes, manifest: Manifest) -> dict[str, bytes]:
    """The bytes of every file of the rule set, in hashing order."""
    names = set(manifest.genes.values()) | set(manifest.drugs.values())
    names |= set(manifest.definitions.values())
    return {
        "manifest.json": manifest_raw,
        **{name: _read_bytes(directory / name) for name in sorted(names)},
    }


def load_rule_set(directory: Path, shipped_sha256: str | None = None) -> RuleSet:
    """Load and cross-check the rule set stored in ``directory``.

    With ``shipped_sha256`` (a bundled rule set) the content must have that hash, checked
    before anything else is read from it; the rule set is then labelled bundled, otherwise
    user-supplied. Everything is parsed from the bytes that were hashed.
    """
    manifest_path = directory / "manifest.json"
    manifest_raw = _read_bytes(manifest_path)
    manifest = _read_model(manifest_path, Manifest, manifest_raw)
    if manifest.id != directory.name:
        raise GuidelineError(f"{manifest_path}: id {manifest.id!r} differs from folder name")
    files = _files(directory, manifest_raw, manifest)
    sha256 = content_hash(files)
    if shipped_sha256 is not None and sha256 != shipped_sha256:
        raise GuidelineError(
            f"bundled rule set {manifest.id} has been modified: content hash "
            f"{sha256[:HASH_SHOWN]}..., expected {shipped_sha256[:HASH_SHOWN]}...; reinstall "
            "tpmt, or load a deliberately edited rule set from its own folder with "
            "--guidelines-dir DIR (its results are then labelled user-supplied)"
        )

    def read(name: str, model: type[Model]) -> Model:
        return _read_model(directory / name, model, files[name])

    genes = {gene: read(name, GeneRules) for gene, name in manifest.genes.items()}
    drugs = {drug: read(name, DrugRules) for drug, name in manifest.drugs.items()}
    definitions = {
        gene: read(name, AlleleDefinitions) for gene, name in manifest.definitions.items()
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
    origin: Origin = "user" if shipped_sha256 is None else "bundled"
    return RuleSet(manifest, genes, drugs, definitions, sha256, directory, origin)


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
    """The rule sets in one guideline folder, loaded on first use.

    ``origin`` says whether the folder's rule sets are bundled (verified against the shipped
    hashes) or user-supplied; by default the package's own folder is bundled and any other
    (including $TPMT_GUIDELINES_DIR) user-supplied.
    """

    def __init__(self, directory: Path | None = None, origin: Origin | None = None) -> None:
        self.directory = directory or default_directory()
        if origin is None:
            origin = "bundled" if _same_folder(self.directory, bundled_directory()) else "user"
        self.origin: Origin = origin
        if not self.directory.is_dir():
            raise GuidelineError(f"{self.directory}: guideline folder not found")
        self._manifests = {
            path.name: _read_model(path / "manifest.json", Manifest)
            for path in sorted(self.directory.iterdir())
            if (path / "manifest.json").is_file()
        }
        if not self._manifests and origin == "user":
            raise GuidelineError(f"{self.directory}: no rule sets (folders with manifest.json)")
        self._loaded: dict[str, RuleSet] = {}

    @property
    def manifests(self) -> dict[str, Manifest]:
        """The manifests of the rule sets present, by id."""
        return dict(self._manifests)

    @property
    def ids(self) -> list[str]:
        """Every rule set of the folder, including bundled ones that are missing from it."""
        shipped = BUNDLED_SHA256 if self.origin == "bundled" else {}
        return sorted({*self._manifests, *shipped})

    def aliases(self) -> dict[str, str]:
        """``cpic``/``dpwg`` → the fixed rule-set id each names (whatever else is present)."""
        return dict(ALIASES)

    def resolve(self, name: str) -> str:
        """Map an id or alias (case-insensitive) to the id of a rule set that is present."""
        key = name.strip().lower()
        if key in self.ids or key in ALIASES.values():
            return self._present(key)
        if key in ALIASES:
            return self._present(ALIASES[key], f" (alias {key!r})")
        accepted = ", ".join([*self.ids, *ALIASES])
        shown = name if len(name) <= 40 else name[:40] + "..."
        raise UnknownGuidelineError(f"unknown guideline {shown!r}; accepted: {accepted}")

    def default_ids(self) -> list[str]:
        """The rule sets used when none is named: the targets of the aliases, CPIC first."""
        return [ALIASES[alias] for alias in sorted(ALIASES)]

    def get(self, name: str) -> RuleSet:
        """The rule set for an id or alias, loaded, validated and (if bundled) verified once."""
        rule_set_id = self.resolve(name)
        if rule_set_id not in self._loaded:
            shipped = None
            if self.origin == "bundled":
                shipped = BUNDLED_SHA256.get(rule_set_id)
                if shipped is None:
                    raise GuidelineError(
                        f"{self.directory / rule_set_id}: rule set {rule_set_id} is not one "
                        f"tpmt ships (no shipped hash; developers: {REGENERATE}); load it "
                        "with --guidelines-dir DIR to use it as user-supplied"
                    )
            self._loaded[rule_set_id] = load_rule_set(self.directory / rule_set_id, shipped)
        return self._loaded[rule_set_id]

    def _present(self, rule_set_id: str, via: str = "") -> str:
        """``rule_set_id`` if its folder has a manifest; GuidelineError saying what to do if not."""
        if rule_set_id in self._manifests:
            return rule_set_id
        if self.origin == "bundled":
            raise GuidelineError(
                f"bundled rule set {rule_set_id}{via} is missing (no "
                f"{self.directory / rule_set_id / 'manifest.json'}): reinstall tpmt"
            )
        present = ", ".join(self._manifests)
        raise GuidelineError(
            f"rule set {rule_set_id}{via} is not in the guideline folder {self.directory} "
            f"(it has {present}): add it there, or name one it has with --guideline"
        )


def _same_folder(one: Path, two: Path) -> bool:
    """Whether two paths name the same existing folder."""
    try:
        return one.samefile(two)
    except OSError:
        return False
