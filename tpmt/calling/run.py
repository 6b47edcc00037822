"""Call every sample of a VCF or genotype table and compose its result (memoised per genotype)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import partial
from pathlib import Path

from tpmt.cache import Memo
from tpmt.calling.caller import call_gene
from tpmt.calling.genotypes import REF, SiteGenotype
from tpmt.calling.options import DEFAULT_OPTIONS, CallOptions
from tpmt.calling.table import looks_like_table, read_table
from tpmt.calling.vcf import SampleGenotypes, read_vcf
from tpmt.compose import Composition, GeneFragment
from tpmt.errors import InputError
from tpmt.interpreter import Interpreter
from tpmt.models import Report
from tpmt.outcome import GeneOutcome
from tpmt.vocab import Gene

SampleResult = tuple[str, Report | InputError]
SampleComposition = tuple[str, Composition | InputError]
MEMO_SIZE = 8_192  # genotype patterns per gene, and per sample
VARIANT_ONLY = (
    "the input carries no reference calls for this sample (a variant-only VCF?): positions "
    "absent from it are reported as not tested. If absent positions are known to be reference, "
    "run again with --assume-reference."
)
ASSUMED = (
    "--assume-reference: positions absent from the input were taken as reference for this "
    "report (listed per gene under evidence.assumed_reference); they were not tested."
)


def input_notes(genotypes: SampleGenotypes, options: CallOptions, table: bool) -> tuple[str, ...]:
    """Report-level notes: a variant-only VCF, and the assume-reference statement."""
    sites = [g for per_gene in genotypes.values() for g in per_gene.values()]
    notes = []
    if options.assume_reference and any(g.assumed for g in sites):
        notes.append(ASSUMED)
    has_reference_call = any(g.alleles == (REF, REF) and not g.assumed for g in sites)
    if not has_reference_call and not options.assume_reference and not table:
        notes.append(VARIANT_ONLY)
    return tuple(notes)


def call_samples(
    interpreter: Interpreter,
    path: Path,
    sample: str | None = None,
    drugs: Iterable[str] | None = None,
    guidelines: Iterable[str] | None = None,
    options: CallOptions = DEFAULT_OPTIONS,
) -> tuple[list[str], Iterator[SampleComposition]]:
    """Sample names, and lazily each sample's Composition (or the InputError it raised).

    Samples are streamed: each is composed from memos keyed by its genotype pattern (whole
    sample, then per gene), so a population costs one call per distinct pattern. File-level
    problems (unreadable file, GRCh37 input, unknown sample) raise InputError at once.
    """
    selection = interpreter.selection(drugs, guidelines)
    matchers = interpreter.matchers(selection.rule_sets)
    by_name = {gene.value: matcher for gene, matcher in matchers.items()}
    table = looks_like_table(path)
    reader = read_table if table else read_vcf
    names, genotypes = reader(path, by_name, sample, options)
    samples: Memo[object, Composition | InputError] = Memo("sample patterns", MEMO_SIZE)
    genes: Memo[tuple[object, ...], tuple[GeneOutcome, GeneFragment]] = Memo(
        "gene patterns", MEMO_SIZE
    )

    def call(gene: Gene, sites: dict[int, SiteGenotype]) -> tuple[GeneOutcome, GeneFragment]:
        return interpreter.variant_gene(gene, call_gene(matchers[gene], sites), selection)

    def compose(per_gene: SampleGenotypes) -> Composition | InputError:
        called = {}
        for gene in Gene:
            sites = per_gene[gene.value]
            called[gene] = genes.get((gene, tuple(sites.items())), partial(call, gene, sites))
        try:
            return interpreter.compose_called(
                called, selection, input_notes(per_gene, options, table)
            )
        except InputError as exc:
            return exc

    def results() -> Iterator[SampleComposition]:
        for name, signature, per_gene in genotypes:
            result = samples.get(signature, partial(compose, per_gene))
            if isinstance(result, InputError):
                yield name, InputError(f"sample {name!r}: {result}")
            else:
                yield name, result

    return names, results()


def call_file(
    interpreter: Interpreter,
    path: Path,
    sample: str | None = None,
    drugs: Iterable[str] | None = None,
    guidelines: Iterable[str] | None = None,
    options: CallOptions = DEFAULT_OPTIONS,
) -> tuple[list[str], Iterator[SampleResult]]:
    """Sample names, and lazily each sample's Report (or the InputError that sample raised)."""
    names, compositions = call_samples(interpreter, path, sample, drugs, guidelines, options)

    def reports() -> Iterator[SampleResult]:
        for name, result in compositions:
            yield name, result if isinstance(result, InputError) else result.report(name)

    return names, reports()
