"""Per-sample genotypes at allele-defining positions, in a canonical allele representation."""

from __future__ import annotations

from dataclasses import dataclass

REF = "ref"


def canonical(position: int, ref: str, allele: str) -> str:
    """A representation-independent key for one allele: ``ref`` or ``pos:REF>ALT`` trimmed.

    Common trailing then leading bases are trimmed (keeping one anchor base for indels), so
    ``48037782 AGGAGTC>AGGAGTCGGAGTC`` and the left-normalised ``48037782 A>AGGAGTC`` agree.
    """
    if allele == ref:
        return REF
    while len(ref) > 1 and len(allele) > 1 and ref[-1] == allele[-1]:
        ref, allele = ref[:-1], allele[:-1]
    while len(ref) > 1 and len(allele) > 1 and ref[0] == allele[0]:
        ref, allele, position = ref[1:], allele[1:], position + 1
    return f"{position}:{ref}>{allele}"


def token_position(token: str) -> int | None:
    """The position a canonical token sits on (None for the reference token)."""
    return None if token == REF else int(token.split(":", 1)[0])


@dataclass(frozen=True)
class SiteGenotype:
    """The two alleles seen at one defining position (None = not called).

    ``reason`` says why a position is not called (no-call, failed quality, non-diploid,
    conflicting rows, absent); ``seen`` keeps the alleles of a call that failed quality, so a
    non-reference allele there is never silently dropped; ``assumed`` marks a position absent
    from the input that the user asked to take as reference.
    """

    alleles: tuple[str | None, str | None]
    phased: bool = False
    phase_set: str | None = None
    shown: str = "./."  # as written in the input, for the evidence table
    reason: str | None = None
    seen: tuple[str | None, str | None] | None = None
    assumed: bool = False

    @property
    def called(self) -> bool:
        return self.alleles[0] is not None and self.alleles[1] is not None

    @property
    def heterozygous(self) -> bool:
        return self.called and self.alleles[0] != self.alleles[1]


MISSING = SiteGenotype((None, None), reason="no-call")
ABSENT = SiteGenotype((None, None), shown="absent", reason="absent from the input")
ASSUMED_REFERENCE = SiteGenotype(
    (REF, REF), shown="assumed reference", reason="absent; assumed reference", assumed=True
)


def uncalled(shown: str, reason: str, seen: SiteGenotype | None = None) -> SiteGenotype:
    """A position that is not called, with the reason (and what a failed call showed)."""
    return SiteGenotype(
        (None, None), shown=shown, reason=reason, seen=seen.alleles if seen is not None else None
    )


def merge(first: SiteGenotype, second: SiteGenotype) -> SiteGenotype:
    """Combine two rows for one position (a split multi-allelic site) into one genotype."""
    if not (first.called and second.called):
        # a no-call or failed call in any row for the position leaves it uncalled
        return first if not first.called else second
    merged: list[str | None] = []
    for a, b in zip(first.alleles, second.alleles, strict=True):
        if a != REF and b != REF and a != b:
            return uncalled("conflicting rows", "conflicting rows for one position")
        merged.append(b if a == REF else a)
    shown = f"{first.shown}+{second.shown}"
    return SiteGenotype(
        (merged[0], merged[1]),
        first.phased and second.phased,
        first.phase_set or second.phase_set,
        shown,
    )
