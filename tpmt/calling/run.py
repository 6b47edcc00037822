"""Call every sample of a VCF or genotype table and interpret it (memoised per genotype)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from tpmt.calling.caller import GeneCall, call_gene
from tpmt.calling.genotypes import REF
from tpmt.calling.options import DEFAULT_OPTIONS, CallOptions
from tpmt.calling.table import looks_like_table, read_table
from tpmt.calling.vcf import SampleGenotypes, read_vcf
from tpmt.errors import InputError
from tpmt.interpreter import Interpreter
from tpmt.models import Report
from tpmt.vocab import Gene

SampleResult = tuple[str, Report | InputError]
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


def call_file(
    interpreter: Interpreter,
    path: Path,
    sample: str | None = None,
    drugs: Iterable[str] | None = None,
    guidelines: Iterable[str] | None = None,
    options: CallOptions = DEFAULT_OPTIONS,
) -> tuple[list[str], Iterator[SampleResult]]:
    """Sample names, and lazily each sample's Report (or the InputError that sample raised).

    File-level problems (unreadable file, GRCh37 input, unknown sample) raise InputError
    before any sample is produced.
    """
    drug_list = None if drugs is None else list(drugs)
    guideline_list = None if guidelines is None else list(guidelines)
    rule_sets = interpreter.rule_sets(guideline_list)
    matchers = interpreter.matchers(rule_sets)
    by_name = {gene.value: matcher for gene, matcher in matchers.items()}
    table = looks_like_table(path)
    reader = read_table if table else read_vcf
    names, genotypes = reader(path, by_name, sample, options)
    cache: dict[object, Report | InputError] = {}

    def results() -> Iterator[SampleResult]:
        for name, signature, per_gene in genotypes:
            result = cache.get(signature)
            if result is None:
                calls: dict[Gene, GeneCall | None] = {
                    gene: call_gene(matchers[gene], per_gene[gene.value]) for gene in Gene
                }
                notes = input_notes(per_gene, options, table)
                try:
                    result = interpreter.interpret_variants(
                        calls, None, drug_list, guideline_list, notes
                    )
                except InputError as exc:
                    result = exc
                cache[signature] = result
            if isinstance(result, Report):
                yield name, result.model_copy(update={"sample": name})
            else:
                yield name, InputError(str(result).replace("sample None", f"sample {name!r}"))

    return names, results()
