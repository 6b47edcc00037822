"""Match genotypes at the defining positions to named alleles and enumerate diplotypes."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from functools import cached_property

from tpmt.calling.genotypes import ABSENT, REF, SiteGenotype, canonical, uncalled
from tpmt.guideline_schema import AlleleDefinitions
from tpmt.parse import allele_sort_key

MAX_PHASE_BLOCKS = 12  # 2**11 haplotype assignments; more heterozygous sites are not called
MAX_LISTED = 20  # alternatives listed in a report (all are used to judge confidence)
Diplotype = tuple[str, str]


@dataclass(frozen=True)
class Site:
    """A defining position with its rsID, reference and the canonical tokens it defines."""

    position: int
    rsid: str | None
    ref: str
    tokens: frozenset[str]


class AlleleMatcher:
    """Compiled definitions of one gene: positions, per-allele requirements, scores."""

    def __init__(self, definitions: AlleleDefinitions) -> None:
        self.definitions = definitions
        self.sites = [
            Site(
                p.position,
                p.rsid,
                p.ref,
                frozenset(canonical(p.position, p.ref, a) for a in p.alts),
            )
            for p in sorted(definitions.positions, key=lambda p: p.position)
        ]
        refs = {p.position: p.ref for p in definitions.positions}
        self.requirements: dict[str, dict[int, frozenset[str]]] = {}
        for name, spec in definitions.alleles.items():
            self.requirements[name] = {
                int(pos): frozenset(canonical(int(pos), refs[int(pos)], a) for a in allowed)
                for pos, allowed in spec.items()
            }
        total = len(self.sites)
        self.score = {n: (len(r) or total) for n, r in self.requirements.items()}
        self.by_token = {t: s.position for s in self.sites for t in s.tokens}

    def matches(self, haplotype: dict[int, str | None], missing_is_ref: bool) -> list[str]:
        """Named alleles consistent with a haplotype (None = not called at that position)."""
        found = []
        for name, required in self.requirements.items():
            for site in self.sites:
                token = haplotype[site.position]
                if token is None:
                    if not missing_is_ref:
                        continue
                    token = REF
                if token not in required.get(site.position, (REF,)):
                    break
            else:
                found.append(name)
        return found

    def order(self, pair: Diplotype) -> tuple[int, list[tuple[int, str]]]:
        """Sort key: most specific first, then allele number."""
        return -(self.score[pair[0]] + self.score[pair[1]]), [allele_sort_key(a) for a in pair]

    def best(self, candidates: set[Diplotype]) -> Diplotype:
        """The conventional report among candidates: most specific (PharmCAT-style) score."""
        return max(
            sorted(candidates, key=lambda d: [allele_sort_key(a) for a in d]),
            key=lambda d: self.score[d[0]] + self.score[d[1]],
        )


@dataclass(frozen=True)
class GeneCall:
    """The outcome of calling one gene for one sample, with its evidence.

    ``diplotype`` is the conventional call from the positions tested (a detected allele is
    never dropped because another position is untested); ``presumptive`` marks a call that
    rests on untested or assumed-reference positions. Other diplotypes the evidence leaves
    possible are listed per basis: unknown phase, untested positions, a failed-quality call
    that showed a non-reference allele, or a novel allele of unknown function.
    """

    gene: str
    genotypes: tuple[tuple[Site, SiteGenotype], ...]
    diplotype: Diplotype | None
    phase_alternatives: tuple[Diplotype, ...] = ()
    untested_alternatives: tuple[Diplotype, ...] = ()
    low_quality_alternatives: tuple[Diplotype, ...] = ()
    novel_alternatives: tuple[Diplotype, ...] = ()
    novel: tuple[tuple[Site, str], ...] = ()
    warnings: tuple[str, ...] = field(default=())

    @cached_property
    def uncalled(self) -> tuple[Site, ...]:
        return tuple(site for site, g in self.genotypes if not g.called)

    @cached_property
    def assumed(self) -> tuple[Site, ...]:
        return tuple(site for site, g in self.genotypes if g.assumed)

    @property
    def no_data(self) -> bool:
        return all(not g.called or g.assumed for _, g in self.genotypes)

    @property
    def presumptive(self) -> bool:
        return self.diplotype is not None and bool(self.uncalled or self.assumed)


def _blocks(genotypes: dict[int, SiteGenotype]) -> list[list[int]]:
    """Heterozygous positions grouped by phase: one block per phase set, one per unphased site."""
    blocks: dict[str, list[int]] = {}
    loose: list[list[int]] = []
    for position, g in sorted(genotypes.items()):
        if not g.heterozygous:
            continue
        if g.phased:
            blocks.setdefault(g.phase_set or "phased", []).append(position)
        else:
            loose.append([position])
    return [*blocks.values(), *loose]


def _haplotype_pairs(genotypes: dict[int, SiteGenotype]):  # type: ignore[no-untyped-def]
    """Every split of the genotypes into two haplotypes that phase information allows."""
    blocks = _blocks(genotypes)
    base = {p: g.alleles[0] for p, g in genotypes.items()}
    other = {p: g.alleles[1] for p, g in genotypes.items()}
    for flips in itertools.product((False, True), repeat=max(len(blocks) - 1, 0)):
        first, second = dict(base), dict(other)
        for block, flip in zip(blocks[1:], flips, strict=True):
            if flip:
                for position in block:
                    first[position], second[position] = second[position], first[position]
        yield first, second


def _candidates(
    matcher: AlleleMatcher, genotypes: dict[int, SiteGenotype]
) -> tuple[set[Diplotype], set[Diplotype]]:
    """Diplotypes with untested positions as reference (strict) and as anything (loose)."""
    strict: set[Diplotype] = set()
    loose: set[Diplotype] = set()
    for first, second in _haplotype_pairs(genotypes):
        for missing_is_ref, target in ((True, strict), (False, loose)):
            for a, b in itertools.product(
                matcher.matches(first, missing_is_ref), matcher.matches(second, missing_is_ref)
            ):
                target.add(tuple(sorted((a, b), key=allele_sort_key)))  # type: ignore[arg-type]
    return strict, loose


def _shown_novel(novel: tuple[tuple[Site, str], ...]) -> str:
    return ", ".join(f"{s.position} ({s.rsid or 'no rsID'}) {t.split(':', 1)[1]}" for s, t in novel)


def call_gene(matcher: AlleleMatcher, genotypes: dict[int, SiteGenotype]) -> GeneCall:
    """Call a diplotype from the positions tested; never fills an untested or unexpected allele.

    A position missing from ``genotypes`` is untested (the reader decides whether an absent
    position is assumed reference). A novel allele makes its position uninterpretable: the gene
    is then called from the other positions and the result is Indeterminate downstream.
    """
    gene = matcher.definitions.gene.value
    evidence = tuple((site, genotypes.get(site.position, ABSENT)) for site in matcher.sites)
    novel = tuple(
        (site, token)
        for site, g in evidence
        if g.called
        for token in dict.fromkeys(g.alleles)
        if token is not None and token != REF and token not in site.tokens
    )
    warnings: list[str] = []
    if novel:
        novel_positions = {site.position for site, _ in novel}
        evidence = tuple(
            (site, uncalled(g.shown, "novel allele") if site.position in novel_positions else g)
            for site, g in evidence
        )
        warnings.append(
            f"{gene}: unexpected allele at a defining position ({_shown_novel(novel)}); it "
            "matches no named allele and its function is unknown, so no diplotype is called."
        )
    site_genotypes = {site.position: g for site, g in evidence}
    failed = {
        site.position: g.seen
        for site, g in evidence
        if g.seen is not None and any(a not in (None, REF) for a in g.seen)
    }
    low_quality = _low_quality(matcher, site_genotypes, failed)
    if all(not g.called for g in site_genotypes.values()):
        warnings.append(
            f"{gene}: none of the {len(evidence)} defining positions gave a usable call; "
            + (
                "with the unexpected allele the gene is Indeterminate."
                if novel
                else "the gene is reported as not tested."
            )
        )
        return GeneCall(
            gene,
            evidence,
            None,
            low_quality_alternatives=tuple(low_quality),
            novel=novel,
            warnings=tuple(warnings),
        )
    if len(_blocks(site_genotypes)) > MAX_PHASE_BLOCKS:
        warnings.append(
            f"{gene}: more than {MAX_PHASE_BLOCKS} unphased heterozygous defining positions; "
            "too many haplotype combinations to call."
        )
        return GeneCall(gene, evidence, None, novel=novel, warnings=tuple(warnings))
    strict, loose = _candidates(matcher, site_genotypes)
    if not loose:
        warnings.append(
            f"{gene}: the genotypes fit no pair of named alleles (a novel combination); "
            "no diplotype is called."
        )
        return GeneCall(gene, evidence, None, novel=novel, warnings=tuple(warnings))
    primary = matcher.best(strict or loose)
    order = matcher.order
    phase = tuple(sorted(strict - {primary}, key=order))
    untested = tuple(sorted(loose - strict - {primary}, key=order))
    if novel:
        return GeneCall(
            gene,
            evidence,
            None,
            novel_alternatives=tuple(sorted(loose, key=order)),
            low_quality_alternatives=tuple(d for d in low_quality if d not in loose),
            novel=novel,
            warnings=tuple(warnings),
        )
    # what a failed call would show is labelled as such, even where untested positions allow it
    seen_as_low = tuple(d for d in low_quality if d != primary and d not in phase)
    return GeneCall(
        gene,
        evidence,
        primary,
        phase_alternatives=phase,
        untested_alternatives=tuple(d for d in untested if d not in seen_as_low),
        low_quality_alternatives=seen_as_low,
        warnings=tuple(warnings),
    )


def _low_quality(
    matcher: AlleleMatcher,
    genotypes: dict[int, SiteGenotype],
    failed: dict[int, tuple[str | None, str | None]],
) -> list[Diplotype]:
    """The diplotypes the failed-quality calls would give if they were right."""
    if not failed:
        return []
    trial = dict(genotypes)
    for position, seen in failed.items():
        trial[position] = SiteGenotype(seen)
    if len(_blocks(trial)) > MAX_PHASE_BLOCKS:
        return []
    strict, loose = _candidates(matcher, trial)
    return sorted(strict or loose, key=matcher.order)
