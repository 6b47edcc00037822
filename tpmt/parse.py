"""Turn what users type into normalised gene inputs: a diplotype, a phenotype, or not tested."""

from __future__ import annotations

import re
from dataclasses import dataclass

from tpmt.errors import ParseError, UnknownGeneError
from tpmt.vocab import AlleleFunction, Gene, Phenotype

MAX_INPUT_LENGTH = 200
_ALLELE = re.compile(r"^\*?([0-9]{1,3})([A-Za-z]?)$")
_GENE_PREFIX = re.compile(r"^(TPMT|NUDT15)\s*(?=\*|\s|$)", re.IGNORECASE)
_PHENOTYPE_WORDS = {
    "normal metabolizer": Phenotype.NORMAL,
    "normal": Phenotype.NORMAL,
    "nm": Phenotype.NORMAL,
    "extensive metabolizer": Phenotype.NORMAL,
    "em": Phenotype.NORMAL,
    "intermediate metabolizer": Phenotype.INTERMEDIATE,
    "intermediate": Phenotype.INTERMEDIATE,
    "im": Phenotype.INTERMEDIATE,
    "possible intermediate metabolizer": Phenotype.POSSIBLE_INTERMEDIATE,
    "possible intermediate": Phenotype.POSSIBLE_INTERMEDIATE,
    "possible im": Phenotype.POSSIBLE_INTERMEDIATE,
    "pim": Phenotype.POSSIBLE_INTERMEDIATE,
    "poor metabolizer": Phenotype.POOR,
    "poor": Phenotype.POOR,
    "pm": Phenotype.POOR,
    "indeterminate": Phenotype.INDETERMINATE,
}
_NOT_TESTED_WORDS = {"no result", "not tested", "untested"}
ACCEPTED_FORMS = (
    "a diplotype such as '*1/*3A' or 'TPMT*1/*3A', or a phenotype such as "
    "'Intermediate Metabolizer', 'IM', 'PIM', 'poor metaboliser', 'Indeterminate'"
)


@dataclass(frozen=True)
class DiplotypeInput:
    """Two allele names in canonical order, as written (aliases not yet applied)."""

    gene: Gene
    alleles: tuple[str, str]

    @property
    def key(self) -> tuple[str, ...]:
        return ("diplotype", *self.alleles)

    @property
    def text(self) -> str:
        return "/".join(self.alleles)


@dataclass(frozen=True)
class PhenotypeInput:
    """A reported phenotype."""

    gene: Gene
    phenotype: Phenotype

    @property
    def key(self) -> tuple[str, ...]:
        return ("phenotype", self.phenotype.value)


@dataclass(frozen=True)
class NotTested:
    """A gene with no result."""

    gene: Gene

    @property
    def key(self) -> tuple[str, ...]:
        return ("not_tested",)


@dataclass(frozen=True)
class FunctionsInput:
    """Two allele functions: a hypothesis such as "this unknown-function allele has no function"."""

    gene: Gene
    functions: tuple[AlleleFunction, AlleleFunction]

    @property
    def key(self) -> tuple[str, ...]:
        return ("functions", *self.functions)


GeneInput = DiplotypeInput | PhenotypeInput | NotTested | FunctionsInput


def shown(value: str, limit: int = 40) -> str:
    """A value cut short enough to quote in a one-line message."""
    return repr(value if len(value) <= limit else value[:limit] + "...")


def parse_gene(name: str) -> Gene:
    """'tpmt' → Gene.TPMT; anything else is an UnknownGeneError."""
    key = name.strip().upper()
    if key in Gene.__members__:
        return Gene[key]
    raise UnknownGeneError(f"unknown gene {shown(name)}; accepted: TPMT, NUDT15")


def allele_sort_key(name: str) -> tuple[int, str]:
    """Numeric order of star alleles: *1 < *2 < *3A < *3B < *10."""
    match = _ALLELE.match(name)
    return (int(match.group(1)), match.group(2)) if match else (10**6, name)


def _strip_gene(text: str, gene: Gene) -> str:
    """Remove a leading gene symbol; refuse the other gene's symbol."""
    match = _GENE_PREFIX.match(text)
    if not match:
        return text
    if match.group(1).upper() != gene.value:
        raise ParseError(f"{shown(text)} names {match.group(1).upper()}, but was given for {gene}")
    return text[match.end() :].strip()


def _parse_allele(text: str, gene: Gene, whole: str) -> str:
    """'tpmt*3a' → '*3A'."""
    token = _strip_gene(text.strip(), gene).replace(" ", "")
    match = _ALLELE.match(token)
    if not match:
        raise ParseError(
            f"{shown(whole)} is not a valid {gene} diplotype: allele {shown(token)} is not a "
            "star allele such as *1 or *3A"
        )
    return f"*{int(match.group(1))}{match.group(2).upper()}"


def parse_gene_input(text: str | None, gene: Gene) -> GeneInput:
    """Parse one gene's result; None or blank means the gene was not tested."""
    if text is None:
        return NotTested(gene)
    if len(text) > MAX_INPUT_LENGTH:
        raise ParseError(
            f"{gene} input is {len(text):,} characters long; at most {MAX_INPUT_LENGTH} "
            f"are accepted ({ACCEPTED_FORMS})"
        )
    stripped = " ".join(text.split())
    if not stripped:
        raise ParseError(f"{gene} input is empty; give {ACCEPTED_FORMS}, or leave the option out")
    if "/" in stripped:
        parts = stripped.split("/")
        if len(parts) != 2:
            raise ParseError(
                f"{shown(text)} is not a valid {gene} diplotype: expected two alleles separated "
                "by one '/', such as *1/*3A"
            )
        alleles = sorted((_parse_allele(p, gene, text) for p in parts), key=allele_sort_key)
        return DiplotypeInput(gene, (alleles[0], alleles[1]))
    return _parse_phenotype(stripped, gene, text)


def _parse_phenotype(stripped: str, gene: Gene, original: str) -> GeneInput:
    """CPIC terms, abbreviations, '-iser' spellings and gene-prefixed forms."""
    words = stripped.lower().replace("metaboliser", "metabolizer").replace("-", " ")
    other = next((g for g in Gene if g is not gene and g.value.lower() in words.split()), None)
    if other is not None:
        raise ParseError(f"{shown(original)} names {other}, but was given for {gene}")
    words = " ".join(w for w in words.split() if w != gene.value.lower())
    if words in _NOT_TESTED_WORDS:
        return NotTested(gene)
    if words in _PHENOTYPE_WORDS:
        return PhenotypeInput(gene, _PHENOTYPE_WORDS[words])
    bare = _strip_gene(stripped, gene).replace(" ", "")  # 'TPMT*3A': the symbol is no word
    if _ALLELE.match(bare) or bare.startswith("*") or _ALLELE.match(words.replace(" ", "")):
        raise ParseError(
            f"{shown(original)} is a single allele; give a {gene} diplotype such as *1/*3A"
        )
    raise ParseError(f"cannot read {gene} result {shown(original)}; give {ACCEPTED_FORMS}")
