"""Property: no detected no-function allele ever ends in a bare standard dose.

Over every published CPIC 2025 diplotype of each gene, genotyped on every subset of the AMP
Tier-1 positions (alone, as a small panel, and with every other position tested), no
recommendation of either default rule set may be a standard dose for a patient whose
genotypes show a no-function allele, unless a more severe alternative row is attached.
"""

from __future__ import annotations

import itertools

import pytest

from conftest import CONFORMANCE, read_tsv
from tpmt.calling.caller import AlleleMatcher, call_gene
from tpmt.calling.genotypes import REF, SiteGenotype, canonical
from tpmt.interpreter import Interpreter
from tpmt.models import Report
from tpmt.severity import dose_levels
from tpmt.vocab import Action, AlleleFunction, Gene

TIER1 = {Gene.TPMT: (18143724, 18138997, 18130687), Gene.NUDT15: (48045719,)}


def _genotypes(matcher: AlleleMatcher, pair: tuple[str, str], tested: set[int]) -> dict:
    refs = {site.position: site.ref for site in matcher.sites}
    out = {}
    for site in matcher.sites:
        if site.position not in tested:
            continue
        tokens = []
        for allele in pair:
            wanted = matcher.definitions.alleles[allele].get(str(site.position))
            tokens.append(
                canonical(site.position, refs[site.position], wanted[-1]) if wanted else REF
            )
        out[site.position] = SiteGenotype((tokens[0], tokens[1]), shown="/".join(tokens))
    return out


def _standard_only(dosing: list) -> bool:
    actions = {step.action for step in dosing}
    return Action.STANDARD_DOSE in actions and min(dose_levels(dosing)) >= 100


def _check(report: Report, context: str) -> None:
    for rec in report.recommendations:
        if _standard_only(rec.dosing):
            assert rec.alternatives, f"{context}: bare standard dose in {rec.rule_id}"


@pytest.mark.parametrize("gene", list(Gene))
def test_no_detected_no_function_allele_gets_a_bare_standard_dose(
    interpreter: Interpreter, gene: Gene
) -> None:
    rule_sets = interpreter.rule_sets(None)
    matchers = interpreter.matchers(rule_sets)
    matcher = matchers[gene]
    other = next(g for g in Gene if g is not gene)
    everything = {site.position for site in matcher.sites}
    other_call = call_gene(
        matchers[other],
        _genotypes(matchers[other], ("*1", "*1"), {s.position for s in matchers[other].sites}),
    )
    cpic = interpreter.library.get("cpic-2025")
    rows = read_tsv(CONFORMANCE / "cpic-2025" / f"{gene.value}_diplotypes.tsv")
    pairs = [tuple(row["diplotype"].split("/")) for row in rows]
    seen: dict[object, Report] = {}
    checked = 0
    for size in range(len(TIER1[gene]) + 1):
        for subset in itertools.combinations(TIER1[gene], size):
            missing = set(TIER1[gene]) - set(subset)
            for tested in (set(subset), everything - missing):
                for pair in pairs:
                    functions = [cpic.function_of(gene, a) for a in pair]
                    if AlleleFunction.NO not in functions:
                        continue
                    genotypes = _genotypes(matcher, pair, tested)  # type: ignore[arg-type]
                    if all(g.alleles == (REF, REF) for g in genotypes.values()):
                        continue  # nothing detected: covered by the minimum-panel tests
                    key = frozenset((p, g.alleles) for p, g in genotypes.items())
                    if key not in seen:
                        call = call_gene(matcher, genotypes)
                        calls = {gene: call, other: other_call}
                        seen[key] = interpreter.interpret_variants(calls)
                    _check(seen[key], f"{gene} {'/'.join(pair)} tested {sorted(tested)}")
                    checked += 1
    assert checked > (1000 if gene is Gene.TPMT else 100)
