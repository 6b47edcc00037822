"""The library entry point: parse inputs, build (memoised) fragments, compose the Report."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from tpmt import __version__
from tpmt.advice import Options, Slot, plan, slot_alternative, with_slots
from tpmt.cache import Identity, Memo
from tpmt.compose import (
    Composition,
    GeneFragment,
    PlainAdvice,
    RowsFragment,
    Selection,
    gene_fragment,
    plain_advice,
    rows_fragment,
)
from tpmt.errors import InputError, UnknownAlleleError, UnknownDrugError
from tpmt.evaluate import Evaluator, GeneEvaluation
from tpmt.frozen import FrozenDict
from tpmt.guidelines import HASH_SHOWN, GuidelineLibrary, Origin, RuleSet
from tpmt.models import AdviceAlternative, Recommendation, Report
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
from tpmt.report import guideline_info
from tpmt.vocab import Drug, Gene, Phenotype

_TPMT, _NUDT15 = Gene.TPMT, Gene.NUDT15  # enum members, looked up once (hot paths)

if TYPE_CHECKING:  # variant calling is imported on first use: typed lookups start faster
    from tpmt.activity import ActivityReading
    from tpmt.calling.caller import AlleleMatcher, GeneCall
    from tpmt.dose import DoseRequest

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
    """Holds the guideline library, the engine and the memos; safe to share between threads.

    Reports are composed from fragments memoised per rule-set selection, gene input and
    advice key (see tpmt/cache.py); every Report returned is immutable, so sharing the
    fragments between results is safe.
    """

    def __init__(
        self,
        guidelines_dir: Path | None = None,
        origin: Origin | None = None,
        monitoring: bool = True,
    ) -> None:
        """``monitoring``: every recommendation carries its drug's label monitoring and its time
        to steady state (the bundled label data, verified on first use)."""
        self.library = GuidelineLibrary(guidelines_dir, origin)
        self._monitoring = monitoring  # read-only: the memos below depend on it
        self.evaluator = Evaluator()
        self.version = tool_version()
        self._selections: Memo[tuple[object, ...], Selection] = Memo("selections", 1_024)
        self._typed: Memo[tuple[object, ...], GeneFragment] = Memo("typed gene inputs", 20_000)
        self._spelled: Memo[tuple[object, ...], GeneFragment] = Memo("spellings", 20_000)
        self._rows: Memo[tuple[object, ...], RowsFragment] = Memo("phenotype facts → rows", 10_000)
        self._advice: Memo[tuple[object, ...], PlainAdvice] = Memo("rows in order", 10_000)
        self._decorated_reports: Memo[tuple[int, ...], tuple[Recommendation, ...]] = Memo(
            "report rows with alternatives", 10_000
        )
        self._numbers: Memo[object, int] = Memo("choices and facts numbers", 10_000)
        self._serials = itertools.count(1)
        self._alternatives: Memo[tuple[Identity, ...], AdviceAlternative] = Memo(
            "slot × options → alternative", 50_000
        )
        self._plans: Memo[tuple[object, ...], tuple[Slot, ...]] = Memo(
            "row × phenotype choices → more severe rows", 20_000
        )
        self._decorated: Memo[tuple[object, ...], Recommendation] = Memo(
            "row × gene options → row with alternatives", 20_000
        )
        self._matchers: Memo[str, dict[Gene, AlleleMatcher]] = Memo("allele matchers", 64)
        self._origin_notes: Memo[tuple[str, ...], tuple[str, ...]] = Memo("origin notes", 64)
        self._activity: Memo[tuple[object, ...], GeneFragment] = Memo("TPMT with activity", 4_096)

    @property
    def monitoring(self) -> bool:
        """Whether every recommendation carries its drug's label monitoring (fixed at creation)."""
        return self._monitoring

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

    def selection(self, drugs: Iterable[str] | None, guidelines: Iterable[str] | None) -> Selection:
        """The rule sets and drugs of a call (resolved once per distinct argument)."""
        drug_key = None if drugs is None else tuple(drugs)
        guideline_key = None if guidelines is None else tuple(guidelines)
        found = self._selections.peek((drug_key, guideline_key))
        if found is not None:
            return found

        def resolve() -> Selection:
            rule_sets = tuple(self.rule_sets(guideline_key))
            guideline_infos = tuple(guideline_info(rs) for rs in rule_sets)
            key = tuple(rule_set.sha256 for rule_set in rule_sets)
            drugs = parse_drugs(drug_key)
            safety = None
            if self._monitoring:
                from tpmt.comed import safety_context
                from tpmt.safety_schema import bundled_safety_data

                safety = safety_context((), bundled_safety_data(), monitored_drugs=drugs)
            return Selection(rule_sets, drugs, guideline_infos, key, safety)

        return self._selections.get((drug_key, guideline_key), resolve)

    def compose(
        self,
        tpmt: str | None = None,
        nudt15: str | None = None,
        drugs: Iterable[str] | None = None,
        guidelines: Iterable[str] | None = None,
    ) -> Composition:
        """What one sample's typed results are made into, before the Report is assembled."""
        return self.compose_selected(self.selection(drugs, guidelines), tpmt, nudt15)

    def compose_selected(
        self, selection: Selection, tpmt: str | None, nudt15: str | None
    ) -> Composition:
        """``compose`` for a selection already resolved (batches resolve it once)."""
        peek = self._spelled.peek  # _spelling's fast path, inlined: this runs once per row
        one = peek((_TPMT, tpmt, selection.serial)) or self._spelling(_TPMT, tpmt, selection)
        two = peek((_NUDT15, nudt15, selection.serial)) or self._spelling(
            _NUDT15, nudt15, selection
        )
        if one.not_tested and two.not_tested:
            raise InputError("no result given: give a TPMT result, a NUDT15 result, or both")
        return self._composition(selection, one, two)

    def interpret(
        self,
        tpmt: str | None = None,
        nudt15: str | None = None,
        drugs: Iterable[str] | None = None,
        guidelines: Iterable[str] | None = None,
        sample: str | None = None,
        dose: DoseRequest | None = None,
        dose_names: Mapping[str, str] | None = None,
        activity: ActivityReading | None = None,
    ) -> Report:
        """Interpret one sample's typed results; the Report is immutable. With ``dose``
        (tpmt.dose.dose_request) each dosing step of the dose's drug is also given in mg;
        ``dose_names`` are the option or field names its messages use. ``activity``: a TPMT
        activity (tpmt.activity.parse_activity)."""
        if activity is not None:
            selection = self.selection(drugs, guidelines)
            report = self.compose_activity(selection, tpmt, nudt15, activity).report(sample)
        else:
            report = self.compose(tpmt, nudt15, drugs, guidelines).report(sample)
        return report if dose is None else with_dose(report, dose, dose_names)

    def compose_activity(
        self, selection: Selection, tpmt: str | None, nudt15: str | None, activity: ActivityReading
    ) -> Composition:
        """``compose_selected`` with a measured TPMT activity (see tpmt.activity)."""
        from tpmt.activity import activity_outcome

        def build() -> GeneFragment:
            gene_input = parse_gene_input(tpmt, _TPMT)
            if isinstance(gene_input, NotTested):
                return self.gene_fragment(activity_outcome(activity), selection)
            self._check_alleles(gene_input, selection.rule_sets)
            outcome = typed_outcome(gene_input, tpmt, selection.rule_sets)
            return self.gene_fragment(replace(outcome, activity=activity), selection)

        one = self._activity.get((tpmt, activity, selection.serial), build)
        two = self._spelled.peek((_NUDT15, nudt15, selection.serial)) or self._spelling(
            _NUDT15, nudt15, selection
        )
        return self._composition(selection, one, two)

    def _composition(
        self,
        selection: Selection,
        tpmt: GeneFragment,
        nudt15: GeneFragment,
        warnings: tuple[str, ...] = (),
    ) -> Composition:
        key = (selection.serial, tpmt.facts_id, nudt15.facts_id)
        advice = self._advice.peek(key)
        if advice is None:
            advice = self._advice.get(key, partial(self._plain_advice, selection, tpmt, nudt15))
        if self.library.origin == "user":
            warnings = (*self.origin_notes(selection), *warnings)
        return Composition(self, self.version, selection, tpmt, nudt15, advice, warnings)

    def origin_notes(self, selection: Selection) -> tuple[str, ...]:
        """The report warning that labels user-supplied rule sets (none for bundled ones)."""

        def notes() -> tuple[str, ...]:
            user = [g for g in selection.guidelines if g.origin == "user"]
            if not user:
                return ()
            listed = ", ".join(f"{g.id} (sha256 {g.sha256[:HASH_SHOWN]}...)" for g in user)
            return (
                f"user-supplied rule sets, not verified against tpmt's bundled copies: {listed}",
            )

        return self._origin_notes.get(selection.key, notes)

    def _plain_advice(
        self, selection: Selection, tpmt: GeneFragment, nudt15: GeneFragment
    ) -> PlainAdvice:
        """The rows of every rule set for the genes' phenotype facts, in report order."""
        fragments = [
            self.rows(rule_set, tpmt.evaluations[n], nudt15.evaluations[n])
            for n, rule_set in enumerate(selection.rule_sets)
        ]
        return plain_advice(selection, fragments)

    def _spelling(self, gene: Gene, raw: str | None, selection: Selection) -> GeneFragment:
        """The gene fragment for the input as typed (memoised per spelling)."""
        found = self._spelled.peek((gene, raw, selection.serial))
        if found is not None:
            return found

        def build() -> GeneFragment:
            gene_input = parse_gene_input(raw, gene)
            self._check_alleles(gene_input, selection.rule_sets)

            def typed() -> GeneFragment:
                outcome = typed_outcome(gene_input, None, selection.rule_sets)
                return self.gene_fragment(outcome, selection)

            canonical = self._typed.get((gene, gene_input.key, selection.key), typed)
            return canonical.with_input(raw)

        return self._spelled.get((gene, raw, selection.serial), build)

    def gene_fragment(self, outcome: GeneOutcome, selection: Selection) -> GeneFragment:
        """One gene's fragment (not memoised: callers key it by what the outcome came from)."""
        return gene_fragment(outcome, selection, self.evaluator, self.phenotype_of, self._number)

    def _number(self, value: object) -> int:
        """A number standing for a hashable value (equal values, equal numbers)."""
        return self._numbers.get(value, lambda: next(self._serials))

    def rows(self, rule_set: RuleSet, tpmt: GeneEvaluation, nudt15: GeneEvaluation) -> RowsFragment:
        """The recommendation rows for two genes' phenotype facts (memoised per fact pair)."""
        one, two = tpmt.phenotype_fact, nudt15.phenotype_fact
        key = (rule_set.sha256, one["phenotype"], one["by"], two["phenotype"], two["by"])
        return self._rows.get(
            key,
            lambda: rows_fragment(
                rule_set,
                self.evaluator.combine(rule_set, tpmt, nudt15),
                self._monitored() if self._monitoring else None,
            ),
        )

    @staticmethod
    def _monitored() -> Callable[[Recommendation], Recommendation]:
        """What adds the label monitoring to a row (the bundled label data, verified once)."""
        from tpmt.comed import monitored
        from tpmt.safety_schema import bundled_safety_data

        return partial(monitored, data=bundled_safety_data().data)

    def decorated_rows(self, composition: Composition) -> tuple[Recommendation, ...]:
        """The composition's rows, each with the more severe rows the evidence allows."""
        advice, tpmt, nudt15 = composition.advice, composition.tpmt, composition.nudt15
        if not (tpmt.varies or nudt15.varies):
            return advice.rows
        return self._decorated_reports.get(
            (advice.serial, tpmt.varies and tpmt.serial, nudt15.varies and nudt15.serial),
            lambda: tuple(
                self._with_alternatives(composition, index) for index in range(len(advice.rows))
            ),
        )

    def slots(self, composition: Composition, index: int) -> tuple[Slot, ...]:
        """The more severe rows (at phenotype level) for row ``index`` of a composition.

        Only the row's own genes can change it (a row for TPMT alone is not changed by
        NUDT15's alternatives); memoised per row and those genes' phenotype choices.
        """
        place = composition.advice.places[index]
        row = composition.advice.rows[index]
        tpmt, nudt15, n = composition.tpmt, composition.nudt15, place.rule_set_index
        t_choices = place.for_tpmt and tpmt.choice_ids[n]
        n_choices = place.for_nudt15 and nudt15.choice_ids[n]
        if not (t_choices or n_choices):
            return ()
        choices = {
            Gene.TPMT: tpmt.choices[n] if t_choices else tpmt.choices[n][:1],
            Gene.NUDT15: nudt15.choices[n] if n_choices else nudt15.choices[n][:1],
        }

        def rows_for(one: Phenotype, two: Phenotype) -> Sequence[Recommendation]:
            return self.phenotype_rows(place.rule_set, place.drug, one, two)

        return self._plans.get(
            (place.row_id, t_choices, n_choices), lambda: plan(row, choices, rows_for)
        )

    def _with_alternatives(self, composition: Composition, index: int) -> Recommendation:
        """Row ``index`` with its alternatives (memoised per row and its genes' options)."""
        place = composition.advice.places[index]
        row = composition.advice.rows[index]
        tpmt, nudt15, n = composition.tpmt, composition.nudt15, place.rule_set_index
        t_varies = place.for_tpmt and tpmt.choice_ids[n]
        n_varies = place.for_nudt15 and nudt15.choice_ids[n]
        if not (t_varies or n_varies):
            return row
        options = {Gene.TPMT: tpmt.options[n], Gene.NUDT15: nudt15.options[n]}
        return self._decorated.get(
            (place.row_id, t_varies and tpmt.serial, n_varies and nudt15.serial),
            lambda: with_slots(row, self.slots(composition, index), options, self._alternative),
        )

    def _alternative(self, slot: Slot, options: dict[Gene, Options]) -> AdviceAlternative:
        """A slot's alternative, memoised per slot and the options behind it (one gene's
        options recur with every partner of that gene; both genes' only with one pair)."""
        key = (
            Identity(slot),
            *(Identity(options[gene][slot.combo[gene]]) for gene in slot.causing),
        )
        return self._alternatives.call(key, slot_alternative, slot, options)

    def phenotype_rows(
        self, rule_set: RuleSet, drug: Drug, tpmt: Phenotype, nudt15: Phenotype
    ) -> tuple[Recommendation, ...]:
        """The rows a pair of reported phenotypes gives for one drug."""
        one = self.evaluator.gene(rule_set, PhenotypeInput(Gene.TPMT, tpmt))
        two = self.evaluator.gene(rule_set, PhenotypeInput(Gene.NUDT15, nudt15))
        return self.rows(rule_set, one, two).rows[drug]

    def phenotype_of(self, rule_set: RuleSet, gene_input: GeneInput) -> Phenotype:
        """One gene's phenotype through the same memoised engine steps."""
        return self.evaluator.gene(rule_set, gene_input).phenotype

    def matchers(self, rule_sets: Sequence[RuleSet]) -> dict[Gene, AlleleMatcher]:
        """Allele matchers from the first selected rule set's definitions (compiled once)."""
        from tpmt.calling.caller import AlleleMatcher

        primary = rule_sets[0]
        return self._matchers.get(
            primary.sha256,
            lambda: FrozenDict({g: AlleleMatcher(d) for g, d in primary.definitions.items()}),
        )

    def variant_gene(
        self, gene: Gene, call: GeneCall | None, selection: Selection
    ) -> tuple[GeneOutcome, GeneFragment]:
        """One gene called from variant data (see tpmt.calling): its outcome and fragment."""
        from tpmt.variants import variant_outcome

        matcher = self.matchers(selection.rule_sets).get(gene)
        outcome = variant_outcome(gene, call, matcher)
        return outcome, self.gene_fragment(outcome, selection)

    def compose_called(
        self,
        genes: dict[Gene, tuple[GeneOutcome, GeneFragment]],
        selection: Selection,
        notes: Sequence[str] = (),
    ) -> Composition:
        """The composition of called genes; InputError when neither gene has anything usable."""
        outcomes = [outcome for outcome, _ in genes.values()]
        if all(isinstance(o.gene_input, NotTested) for o in outcomes):
            reasons = " ".join(w for o in outcomes for w in [*o.warnings, *o.limitations, *notes])
            seen = [f"{o.gene} {'/'.join(c.diplotype)}" for o in outcomes for c in o.candidates]
            if seen:
                reasons += (
                    " Unusable calls showed non-reference alleles: " + ", ".join(seen[:5]) + "."
                )
            raise InputError(f"nothing to interpret. {reasons}")
        tpmt, nudt15 = genes[Gene.TPMT][1], genes[Gene.NUDT15][1]
        return self._composition(selection, tpmt, nudt15, tuple(notes))

    def compose_variants(
        self,
        calls: dict[Gene, GeneCall | None],
        selection: Selection,
        notes: Sequence[str] = (),
    ) -> Composition:
        """What genes called from variant data are made into (see tpmt.calling)."""
        genes = {gene: self.variant_gene(gene, calls.get(gene), selection) for gene in Gene}
        return self.compose_called(genes, selection, notes)

    def interpret_variants(
        self,
        calls: dict[Gene, GeneCall | None],
        sample: str | None = None,
        drugs: Iterable[str] | None = None,
        guidelines: Iterable[str] | None = None,
        notes: Sequence[str] = (),
    ) -> Report:
        """A Report for genes called from variant data (see tpmt.calling)."""
        selection = self.selection(drugs, guidelines)
        try:
            composition = self.compose_variants(calls, selection, notes)
        except InputError as exc:
            raise InputError(f"sample {sample!r}: {exc}") from None
        return composition.report(sample)

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


def interpreter_for(guidelines_dir: Path | None) -> Interpreter:
    """The default interpreter, or (``--guidelines-dir``) one whose rule sets are all
    user-supplied: loaded from ``guidelines_dir``, unverified, labelled on every result."""
    if guidelines_dir is None:
        return default_interpreter()
    return Interpreter(guidelines_dir, origin="user")


def with_dose(report: Report, dose: DoseRequest, names: Mapping[str, str] | None = None) -> Report:
    """The report with its dosing steps in mg (bundled label dose data, verified on first use);
    ``names`` are the option or field names used in messages."""
    from tpmt.dose import CLI_NAMES, apply_dose
    from tpmt.dose_schema import bundled_dose_data

    return apply_dose(report, dose, bundled_dose_data(), names or CLI_NAMES)


def interpret(
    tpmt: str | None = None,
    nudt15: str | None = None,
    drugs: Iterable[str] | None = None,
    guidelines: Iterable[str] | None = None,
    sample: str | None = None,
    dose: DoseRequest | None = None,
    activity: ActivityReading | None = None,
    comed: Iterable[str] | str | None = None,
    monitoring: bool = True,
) -> Report:
    """TPMT and NUDT15 results (diplotypes or phenotypes) → an immutable Report (see the README).

    ``dose``: ``tpmt.dose.dose_request(...)``; ``activity``: ``tpmt.activity.parse_activity``;
    ``comed``: co-medication names (the labels' statements beside the advice); ``monitoring``
    False leaves the label monitoring out.
    """
    from tpmt.comed import FIELD_NAMES, apply_safety

    report = default_interpreter().interpret(
        tpmt, nudt15, drugs, guidelines, sample, dose=dose, activity=activity
    )
    return apply_safety(report, comed, monitoring, FIELD_NAMES)
