"""The library entry point: parse inputs, evaluate each rule set, assemble the Report."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from pathlib import Path

from tpmt import __version__
from tpmt.advice import with_alternatives
from tpmt.calling.caller import AlleleMatcher, GeneCall
from tpmt.errors import InputError, UnknownAlleleError, UnknownDrugError
from tpmt.evaluate import Evaluation, Evaluator
from tpmt.guidelines import GuidelineLibrary, RuleSet
from tpmt.models import Recommendation, Report, TraceStep
from tpmt.outcome import GeneOutcome, typed_outcome
from tpmt.parse import (
    DiplotypeInput,
    GeneInput,
    NotTested,
    PhenotypeInput,
    allele_sort_key,
    parse_gene_input,
    shown,
)
from tpmt.report import (
    all_alternatives,
    build_report,
    gate_step,
    gene_phenotype,
    gene_result,
    recommendations,
)
from tpmt.variants import variant_outcome
from tpmt.vocab import Drug, Gene, Phenotype

DRUG_NAMES = {
    "azathioprine": Drug.AZATHIOPRINE,
    "aza": Drug.AZATHIOPRINE,
    "mercaptopurine": Drug.MERCAPTOPURINE,
    "6-mercaptopurine": Drug.MERCAPTOPURINE,
    "6-mp": Drug.MERCAPTOPURINE,
    "6mp": Drug.MERCAPTOPURINE,
    "mp": Drug.MERCAPTOPURINE,
    "thioguanine": Drug.THIOGUANINE,
    "tioguanine": Drug.THIOGUANINE,
    "6-thioguanine": Drug.THIOGUANINE,
    "6-tg": Drug.THIOGUANINE,
    "6tg": Drug.THIOGUANINE,
    "tg": Drug.THIOGUANINE,
}
REPORT_CACHE_SIZE = 4_096  # per cache (~50 KB a report): a batch of rare inputs stays < ~400 MB


def tool_version() -> str:
    """The package version."""
    return __version__


def parse_drugs(names: Iterable[str] | None) -> tuple[Drug, ...]:
    """Drug names or abbreviations → drugs in canonical order; None means all three."""
    if names is None:
        return tuple(Drug)
    chosen = set()
    for name in names:
        key = name.strip().lower()
        if key not in DRUG_NAMES:
            accepted = "azathioprine (aza), mercaptopurine (mp, 6-mp), thioguanine (tg, 6-tg)"
            raise UnknownDrugError(f"unknown drug {shown(name)}; accepted: {accepted}")
        chosen.add(DRUG_NAMES[key])
    if not chosen:
        raise UnknownDrugError("no drug given; accepted: azathioprine, mercaptopurine, thioguanine")
    return tuple(drug for drug in Drug if drug in chosen)


class Interpreter:
    """Holds the guideline library, the engine and the caches; safe to share between threads."""

    def __init__(self, guidelines_dir: Path | None = None) -> None:
        self.library = GuidelineLibrary(guidelines_dir)
        self.evaluator = Evaluator()
        self.version = tool_version()
        self._reports: dict[tuple[object, ...], Report] = {}
        self._canonical: dict[tuple[object, ...], Report] = {}
        self._matchers: dict[str, dict[Gene, AlleleMatcher]] = {}
        self._lock = threading.Lock()

    def rule_sets(self, names: Iterable[str] | None) -> list[RuleSet]:
        """Resolve ids/aliases to rule sets: CPIC first, at most one per source."""
        ids = (
            self.library.default_ids()
            if names is None
            else [self.library.resolve(n) for n in names]
        )
        chosen = [self.library.get(i) for i in dict.fromkeys(ids)]
        if not chosen:
            raise InputError("no guideline given; accepted: " + ", ".join(self.library.manifests))
        sources = [rs.source for rs in chosen]
        for source in set(sources):
            if sources.count(source) > 1:
                same = ", ".join(rs.id for rs in chosen if rs.source is source)
                raise InputError(
                    f"choose one {source} rule set per report (got {same}); run twice to compare"
                )
        return sorted(chosen, key=lambda rs: rs.source.value)

    def interpret(
        self,
        tpmt: str | None = None,
        nudt15: str | None = None,
        drugs: Iterable[str] | None = None,
        guidelines: Iterable[str] | None = None,
    ) -> Report:
        """Interpret one sample; identical calls return the same (frozen) Report."""
        drug_key = None if drugs is None else tuple(drugs)
        guideline_key = None if guidelines is None else tuple(guidelines)
        key = (tpmt, nudt15, drug_key, guideline_key)
        found = self._reports.get(key)
        if found is not None:
            return found
        report = self._interpret(tpmt, nudt15, drug_key, guideline_key)
        with self._lock:
            if len(self._reports) >= REPORT_CACHE_SIZE:
                self._reports.clear()
            self._reports[key] = report
        return report

    def _interpret(
        self,
        tpmt: str | None,
        nudt15: str | None,
        drugs: Sequence[str] | None,
        guidelines: Sequence[str] | None,
    ) -> Report:
        rule_sets = self.rule_sets(guidelines)
        chosen_drugs = parse_drugs(drugs)
        inputs = {Gene.TPMT: parse_gene_input(tpmt, Gene.TPMT)}
        inputs[Gene.NUDT15] = parse_gene_input(nudt15, Gene.NUDT15)
        if all(isinstance(i, NotTested) for i in inputs.values()):
            raise InputError("no result given: give a TPMT result, a NUDT15 result, or both")
        for gene_input in inputs.values():
            self._check_alleles(gene_input, rule_sets)
        raw = {Gene.TPMT: tpmt, Gene.NUDT15: nudt15}
        key = (
            inputs[Gene.TPMT].key,
            inputs[Gene.NUDT15].key,
            chosen_drugs,
            tuple(rs.sha256 for rs in rule_sets),
        )
        canonical = self._canonical.get(key)
        if canonical is None:
            outcomes = {gene: typed_outcome(inputs[gene], raw[gene], rule_sets) for gene in Gene}
            canonical = self._build(outcomes, rule_sets, chosen_drugs)
            with self._lock:
                if len(self._canonical) >= REPORT_CACHE_SIZE:
                    self._canonical.clear()
                self._canonical[key] = canonical
        return _with_inputs(canonical, raw)

    def _build(
        self,
        outcomes: dict[Gene, GeneOutcome],
        rule_sets: Sequence[RuleSet],
        chosen_drugs: Sequence[Drug],
        warnings: Sequence[str] = (),
    ) -> Report:
        """Gene phenotypes per rule set, then each drug's advice with its alternatives."""
        phenotypes = {
            gene: [gene_phenotype(rs, outcome, self.phenotype_of) for rs in rule_sets]
            for gene, outcome in outcomes.items()
        }
        alternatives = {
            gene: all_alternatives(outcome, rule_sets, self.phenotype_of)
            for gene, outcome in outcomes.items()
        }
        genes = {
            gene: gene_result(outcomes[gene], rule_sets, phenotypes[gene], alternatives[gene])
            for gene in Gene
        }
        evaluations = []
        gates: list[TraceStep] = []
        for n, rule_set in enumerate(rule_sets):
            inputs = {}
            for gene, outcome in outcomes.items():
                chosen = phenotypes[gene][n]
                inputs[gene] = outcome.gene_input
                if chosen.phenotype is not chosen.engine_phenotype:
                    inputs[gene] = PhenotypeInput(gene, chosen.phenotype)
                    gates.append(gate_step(rule_set, gene, chosen, outcome.untested_panel))
            evaluations.append(
                self.evaluator.evaluate(rule_set, inputs[Gene.TPMT], inputs[Gene.NUDT15])
            )

        def decorate(rule_set: RuleSet, rec: Recommendation) -> Recommendation:
            reported = {gene: genes[gene].phenotype[rule_set.source] for gene in Gene}
            return with_alternatives(
                rule_set, rec, reported, alternatives, self.evaluator.evaluate, _same_rows
            )

        return build_report(
            self.version, rule_sets, genes, evaluations, chosen_drugs, decorate, gates, warnings
        )

    def phenotype_of(self, rule_set: RuleSet, gene_input: GeneInput) -> Phenotype:
        """One gene's phenotype through the same (memoised) engine, the other gene not tested."""
        others: dict[Gene, GeneInput] = {g: NotTested(g) for g in Gene}
        others[gene_input.gene] = gene_input
        evaluation = self.evaluator.evaluate(rule_set, others[Gene.TPMT], others[Gene.NUDT15])
        return evaluation.phenotypes[gene_input.gene]

    def matchers(self, rule_sets: Sequence[RuleSet]) -> dict[Gene, AlleleMatcher]:
        """Allele matchers from the first selected rule set's definitions (compiled once)."""
        primary = rule_sets[0]
        key = primary.sha256
        if key not in self._matchers:
            self._matchers[key] = {g: AlleleMatcher(d) for g, d in primary.definitions.items()}
        return self._matchers[key]

    def interpret_variants(
        self,
        calls: dict[Gene, GeneCall | None],
        sample: str | None = None,
        drugs: Iterable[str] | None = None,
        guidelines: Iterable[str] | None = None,
        notes: Sequence[str] = (),
    ) -> Report:
        """A Report for genes called from variant data (see tpmt.calling)."""
        rule_sets = self.rule_sets(guidelines)
        chosen_drugs = parse_drugs(drugs)
        matchers = self.matchers(rule_sets)
        outcomes = {
            gene: variant_outcome(gene, calls.get(gene), matchers.get(gene)) for gene in Gene
        }
        if all(isinstance(o.gene_input, NotTested) for o in outcomes.values()):
            reasons = " ".join(
                w for o in outcomes.values() for w in [*o.warnings, *o.limitations, *notes]
            )
            seen = [
                f"{o.gene} {'/'.join(c.diplotype)}" for o in outcomes.values() for c in o.candidates
            ]
            if seen:
                reasons += (
                    " Unusable calls showed non-reference alleles: " + ", ".join(seen[:5]) + "."
                )
            raise InputError(f"sample {sample!r}: nothing to interpret. {reasons}")
        report = self._build(outcomes, rule_sets, chosen_drugs, notes)
        return report.model_copy(update={"sample": sample})

    @staticmethod
    def _check_alleles(gene_input: GeneInput, rule_sets: Sequence[RuleSet]) -> None:
        """Every allele must be defined by at least one selected rule set."""
        if not isinstance(gene_input, DiplotypeInput):
            return
        gene = gene_input.gene
        for allele in gene_input.alleles:
            if any(rs.function_of(gene, allele) is not None for rs in rule_sets):
                continue
            known = sorted(
                {a for rs in rule_sets for a in [*rs.genes[gene].alleles, *rs.genes[gene].aliases]},
                key=allele_sort_key,
            )
            ids = ", ".join(rs.id for rs in rule_sets)
            raise UnknownAlleleError(
                f"unknown {gene} allele {shown(allele)} in {gene_input.text} (rule sets: {ids}); "
                f"known: {', '.join(known)}"
            )


def _with_inputs(report: Report, raw: dict[Gene, str | None]) -> Report:
    """The report with each gene's ``input`` as the caller spelled it (no re-validation)."""
    if all(report.genes[gene].input == raw[gene] for gene in Gene):
        return report
    genes = {
        gene: result.model_copy(update={"input": raw[gene]})
        for gene, result in report.genes.items()
    }
    return report.model_copy(update={"genes": genes})


def _same_rows(
    rule_set: RuleSet, evaluation: Evaluation, rec: Recommendation
) -> list[Recommendation]:
    """The rows an evaluation gives for the same drug and gene(s) as ``rec``."""
    return [
        row
        for row in recommendations(rule_set, evaluation, [rec.drug])
        if set(row.genes) == set(rec.genes)
    ]


_default: Interpreter | None = None
_default_lock = threading.Lock()


def default_interpreter() -> Interpreter:
    """The process-wide interpreter over the default guideline folder, created on first use."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = Interpreter()
    return _default


def interpret(
    tpmt: str | None = None,
    nudt15: str | None = None,
    drugs: Iterable[str] | None = None,
    guidelines: Iterable[str] | None = None,
) -> Report:
    """Interpret TPMT and NUDT15 results (diplotypes or phenotypes) into a Report."""
    return default_interpreter().interpret(tpmt, nudt15, drugs, guidelines)
