"""Match genotypes at the defining positions to named alleles and enumerate diplotypes."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from functools import cached_property

from tpmt.calling.genotypes import REF, SiteGenotype, canonical
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
    """The outcome of calling one gene for one sample, with its evidence."""

    gene: str
    genotypes: tuple[tuple[Site, SiteGenotype], ...]
    diplotype: Diplotype | None
    phase_alternatives: tuple[Diplotype, ...] = ()
    missing_alternatives: tuple[Diplotype, ...] = ()
    novel: tuple[tuple[Site, str], ...] = ()
    warnings: tuple[str, ...] = field(default=())

    @cached_property
    def uncalled(self) -> tuple[Site, ...]:
        return tuple(site for site, g in self.genotypes if not g.called)

    @property
    def no_data(self) -> bool:
        return len(self.uncalled) == len(self.genotypes)


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


def call_gene(matcher: AlleleMatcher, genotypes: dict[int, SiteGenotype]) -> GeneCall:
    """Call a diplotype; never fills a missing or unexpected allele with the reference."""
    gene = matcher.definitions.gene.value
    evidence = tuple(
        (site, genotypes.get(site.position, SiteGenotype((None, None)))) for site in matcher.sites
    )
    site_genotypes = {site.position: g for site, g in evidence}
    novel = tuple(
        (site, token)
        for site, g in evidence
        for token in dict.fromkeys(g.alleles)
        if token is not None and token != REF and token not in site.tokens
    )
    if novel:
        shown = ", ".join(
            f"{s.position} ({s.rsid or 'no rsID'}) {t.split(':', 1)[1]}" for s, t in novel
        )
        return GeneCall(
            gene,
            evidence,
            None,
            novel=novel,
            warnings=(
                f"{gene}: unexpected allele at a defining position ({shown}); it matches no named "
                "allele, so no diplotype is called.",
            ),
        )
    if all(not g.called for g in site_genotypes.values()):
        return GeneCall(
            gene,
            evidence,
            None,
            warnings=(
                f"{gene}: none of the {len(evidence)} defining positions was called; "
                "the gene is reported as not tested.",
            ),
        )
    if len(_blocks(site_genotypes)) > MAX_PHASE_BLOCKS:
        return GeneCall(
            gene,
            evidence,
            None,
            warnings=(
                f"{gene}: more than {MAX_PHASE_BLOCKS} unphased heterozygous defining positions; "
                "too many haplotype combinations to call.",
            ),
        )
    strict: set[Diplotype] = set()
    loose: set[Diplotype] = set()
    for first, second in _haplotype_pairs(site_genotypes):
        for missing_is_ref, target in ((True, strict), (False, loose)):
            for a, b in itertools.product(
                matcher.matches(first, missing_is_ref), matcher.matches(second, missing_is_ref)
            ):
                target.add(tuple(sorted((a, b), key=allele_sort_key)))  # type: ignore[arg-type]
    if not loose:
        return GeneCall(
            gene,
            evidence,
            None,
            warnings=(
                f"{gene}: the genotypes fit no pair of named alleles (a novel combination); "
                "no diplotype is called.",
            ),
        )
    primary = matcher.best(strict or loose)
    order = matcher.order
    return GeneCall(
        gene,
        evidence,
        primary,
        phase_alternatives=tuple(sorted(strict - {primary}, key=order)),
        missing_alternatives=tuple(sorted(loose - strict - {primary}, key=order)),
    )
