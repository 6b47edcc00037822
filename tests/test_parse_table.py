"""Table-driven tests of tpmt/parse.py: every accepted spelling, with its meaning written out.

Phenotype meanings follow the CPIC standardised terms (Caudle et al., Genet Med 2017;19:215-223,
PMID 27441996): "extensive metabolizer" (EM) is the old name of the Normal Metabolizer; the
ultrarapid and rapid terms do not apply to TPMT or NUDT15, so they are refused, not guessed.
"Possible Intermediate Metabolizer" and "Indeterminate" are the terms of the CPIC thiopurine
guideline (Relling et al., Clin Pharmacol Ther 2019;105:1095-1105, PMID 30447069).

Expected outputs are written as short strings ("phenotype Normal Metabolizer", "diplotype
*1/*3A", "not tested") so that a change of meaning anywhere (the parser's word table or the
vocabulary's enum values) shows up as a failing row.
"""

from __future__ import annotations

import pytest

from tpmt import parse
from tpmt.errors import InputError, ParseError, UnknownGeneError
from tpmt.parse import (
    DiplotypeInput,
    GeneInput,
    NotTested,
    PhenotypeInput,
    allele_sort_key,
    parse_gene,
    parse_gene_input,
)
from tpmt.vocab import Gene, Phenotype

TPMT, NUDT15 = Gene.TPMT, Gene.NUDT15


def meaning(result: GeneInput, gene: Gene) -> str:
    """The parse result as a short string; also checks the gene it carries."""
    assert result.gene is gene
    if isinstance(result, DiplotypeInput):
        assert result.text == "/".join(result.alleles)
        assert result.key == ("diplotype", *result.alleles)
        return f"diplotype {result.text}"
    if isinstance(result, PhenotypeInput):
        assert result.key == ("phenotype", str(result.phenotype))
        return f"phenotype {result.phenotype}"
    assert isinstance(result, NotTested)
    assert result.key == ("not_tested",)
    return "not tested"


NM = "phenotype Normal Metabolizer"
IM = "phenotype Intermediate Metabolizer"
PIM = "phenotype Possible Intermediate Metabolizer"
PM = "phenotype Poor Metabolizer"
IND = "phenotype Indeterminate"
NOT_TESTED = "not tested"

PHENOTYPE_ROWS: list[tuple[str, Gene, str]] = [
    # CPIC terms, full and short, with the old "extensive" name of Normal
    ("Normal Metabolizer", TPMT, NM),
    ("normal metabolizer", TPMT, NM),
    ("Normal", TPMT, NM),
    ("normal", TPMT, NM),
    ("NM", TPMT, NM),
    ("nm", TPMT, NM),
    ("Extensive Metabolizer", TPMT, NM),
    ("extensive metabolizer", TPMT, NM),
    ("EM", TPMT, NM),
    ("em", NUDT15, NM),
    ("Intermediate Metabolizer", TPMT, IM),
    ("intermediate metabolizer", NUDT15, IM),
    ("Intermediate", TPMT, IM),
    ("intermediate", TPMT, IM),
    ("IM", TPMT, IM),
    ("im", NUDT15, IM),
    ("Possible Intermediate Metabolizer", TPMT, PIM),
    ("possible intermediate metabolizer", NUDT15, PIM),
    ("Possible Intermediate", TPMT, PIM),
    ("possible intermediate", TPMT, PIM),
    ("Possible IM", TPMT, PIM),
    ("possible im", TPMT, PIM),
    ("PIM", TPMT, PIM),
    ("pim", NUDT15, PIM),
    ("Poor Metabolizer", TPMT, PM),
    ("poor metabolizer", NUDT15, PM),
    ("Poor", TPMT, PM),
    ("poor", TPMT, PM),
    ("PM", TPMT, PM),
    ("pm", NUDT15, PM),
    ("Indeterminate", TPMT, IND),
    ("indeterminate", NUDT15, IND),
    ("INDETERMINATE", TPMT, IND),
    # British spelling, hyphens, case and whitespace
    ("Poor Metaboliser", TPMT, PM),
    ("intermediate metaboliser", TPMT, IM),
    ("Possible-Intermediate-Metaboliser", TPMT, PIM),
    ("possible-IM", TPMT, PIM),
    ("Normal-Metabolizer", NUDT15, NM),
    ("POOR METABOLIZER", TPMT, PM),
    ("  pOoR   mEtAbOlIzEr  ", TPMT, PM),
    ("\tIM\n", TPMT, IM),
    ("Poor\u00a0Metabolizer", TPMT, PM),  # no-break space counts as whitespace
    ("poor - metabolizer", TPMT, PM),
    # the gene's own symbol may lead (or trail) the phenotype
    ("TPMT Poor Metabolizer", TPMT, PM),
    ("tpmt PM", TPMT, PM),
    ("TPMT-IM", TPMT, IM),
    ("NUDT15 Intermediate Metabolizer", NUDT15, IM),
    ("nudt15 nm", NUDT15, NM),
    ("Poor Metabolizer TPMT", TPMT, PM),
    # a gene with no result
    ("No Result", TPMT, NOT_TESTED),
    ("no result", NUDT15, NOT_TESTED),
    ("Not Tested", TPMT, NOT_TESTED),
    ("not-tested", TPMT, NOT_TESTED),
    ("untested", TPMT, NOT_TESTED),
    ("UNTESTED", NUDT15, NOT_TESTED),
    ("TPMT not tested", TPMT, NOT_TESTED),
]

DIPLOTYPE_ROWS: list[tuple[str, Gene, str]] = [
    ("*1/*3A", TPMT, "diplotype *1/*3A"),
    ("*3A/*1", TPMT, "diplotype *1/*3A"),  # canonical order: lower allele number first
    ("*1/*1", TPMT, "diplotype *1/*1"),
    ("*3A/*3A", TPMT, "diplotype *3A/*3A"),
    ("*3C/*3B", TPMT, "diplotype *3B/*3C"),  # same number: suffix order
    ("*3B/*3A", TPMT, "diplotype *3A/*3B"),
    ("*10/*2", TPMT, "diplotype *2/*10"),  # numeric order, not text order ("*10" < "*2")
    ("*2/*10", TPMT, "diplotype *2/*10"),
    ("*3A/*24", TPMT, "diplotype *3A/*24"),
    ("*100/*99", TPMT, "diplotype *99/*100"),  # three digits accepted (rule sets judge names)
    ("*3/*1", NUDT15, "diplotype *1/*3"),
    ("*2/*3", NUDT15, "diplotype *2/*3"),
    # gene prefixes, spaces, case
    ("TPMT*1/*3A", TPMT, "diplotype *1/*3A"),
    ("TPMT*3A/TPMT*1", TPMT, "diplotype *1/*3A"),
    ("tpmt*3a/*1", TPMT, "diplotype *1/*3A"),
    ("TPMT *1/*3A", TPMT, "diplotype *1/*3A"),
    ("TPMT 1/3A", TPMT, "diplotype *1/*3A"),
    ("NUDT15*1/*3", NUDT15, "diplotype *1/*3"),
    ("nudt15 *3/nudt15 *1", NUDT15, "diplotype *1/*3"),
    ("*1 / *3A", TPMT, "diplotype *1/*3A"),
    ("  *1/*3A  ", TPMT, "diplotype *1/*3A"),
    ("*1\t/\t*3A", TPMT, "diplotype *1/*3A"),
    ("* 3 A/* 1", TPMT, "diplotype *1/*3A"),  # spaces inside an allele are dropped
    ("*1/*3\tA", TPMT, "diplotype *1/*3A"),  # any whitespace, not only spaces
    ("*1/*3\u00a0A", TPMT, "diplotype *1/*3A"),
    ("*3a/*1", TPMT, "diplotype *1/*3A"),
    ("*3c/*3b", TPMT, "diplotype *3B/*3C"),
    # the star and leading zeros are optional
    ("1/3A", TPMT, "diplotype *1/*3A"),
    ("3A/1", TPMT, "diplotype *1/*3A"),
    ("*01/*03A", TPMT, "diplotype *1/*3A"),
    ("*001/*3", NUDT15, "diplotype *1/*3"),
]


@pytest.mark.parametrize(
    ("text", "gene", "expected"),
    PHENOTYPE_ROWS + DIPLOTYPE_ROWS,
    ids=[repr(row[0]) for row in PHENOTYPE_ROWS + DIPLOTYPE_ROWS],
)
def test_accepted_input_means_what_the_table_says(text: str, gene: Gene, expected: str) -> None:
    assert meaning(parse_gene_input(text, gene), gene) == expected


def test_none_means_not_tested() -> None:
    assert meaning(parse_gene_input(None, TPMT), TPMT) == NOT_TESTED
    assert meaning(parse_gene_input(None, NUDT15), NUDT15) == NOT_TESTED


def test_every_word_the_parser_knows_is_in_the_table() -> None:
    """A spelling added to the parser without a row here fails this test."""
    tested = {" ".join(t.lower().replace("-", " ").split()) for t, _, _ in PHENOTYPE_ROWS}
    assert set(parse._PHENOTYPE_WORDS) <= tested
    assert set(parse._NOT_TESTED_WORDS) <= tested
    assert len(parse._PHENOTYPE_WORDS) == 16
    assert len(parse._NOT_TESTED_WORDS) == 3


REJECTED_ROWS: list[tuple[str, Gene, type[InputError], list[str]]] = [
    # blank
    ("", TPMT, ParseError, ["TPMT input is empty", "or leave the option out"]),
    ("   ", TPMT, ParseError, ["TPMT input is empty"]),
    ("\t\n", NUDT15, ParseError, ["NUDT15 input is empty"]),
    # terms CPIC does not use for TPMT/NUDT15, or that are not phenotypes at all
    ("UM", TPMT, ParseError, ["cannot read TPMT result 'UM'", "'Intermediate Metabolizer'"]),
    ("Ultrarapid Metabolizer", TPMT, ParseError, ["cannot read TPMT result"]),
    ("RM", TPMT, ParseError, ["cannot read TPMT result 'RM'"]),
    ("Rapid Metabolizer", NUDT15, ParseError, ["cannot read NUDT15 result"]),
    ("extensive", TPMT, ParseError, ["cannot read TPMT result 'extensive'"]),
    ("metabolizer", TPMT, ParseError, ["cannot read TPMT result"]),
    ("possible", TPMT, ParseError, ["cannot read TPMT result"]),
    ("likely intermediate metabolizer", TPMT, ParseError, ["cannot read TPMT result"]),
    ("possible poor metabolizer", TPMT, ParseError, ["cannot read TPMT result"]),
    ("poor metabolizer.", TPMT, ParseError, ["cannot read TPMT result"]),
    ("deficient", TPMT, ParseError, ["cannot read TPMT result"]),
    ("positive", TPMT, ParseError, ["cannot read TPMT result"]),
    ("N/A", TPMT, ParseError, ["allele 'N' is not a star allele"]),
    ("TPMT", TPMT, ParseError, ["cannot read TPMT result 'TPMT'"]),
    ("NUDT15", NUDT15, ParseError, ["cannot read NUDT15 result"]),
    # single alleles
    ("*3A", TPMT, ParseError, ["'*3A' is a single allele", "TPMT diplotype such as *1/*3A"]),
    ("3A", TPMT, ParseError, ["is a single allele"]),
    ("TPMT*3A", TPMT, ParseError, ["is a single allele"]),
    ("TPMT *3A", TPMT, ParseError, ["is a single allele"]),
    ("*1*3A", TPMT, ParseError, ["is a single allele"]),
    ("*3", NUDT15, ParseError, ["'*3' is a single allele", "NUDT15 diplotype"]),
    ("3A TPMT", TPMT, ParseError, ["is a single allele"]),
    ("*3A TPMT", TPMT, ParseError, ["is a single allele"]),
    # the other gene's name
    ("NUDT15*1/*3", TPMT, ParseError, ["names NUDT15, but was given for TPMT"]),
    ("*1/NUDT15*3", TPMT, ParseError, ["names NUDT15, but was given for TPMT"]),
    ("TPMT*1/*3A", NUDT15, ParseError, ["names TPMT, but was given for NUDT15"]),
    ("NUDT15 Poor Metabolizer", TPMT, ParseError, ["names NUDT15, but was given for TPMT"]),
    ("tpmt im", NUDT15, ParseError, ["names TPMT, but was given for NUDT15"]),
    ("TPMT-PM", NUDT15, ParseError, ["names TPMT, but was given for NUDT15"]),
    ("NUDT15*3", TPMT, ParseError, ["names NUDT15, but was given for TPMT"]),
    # diplotype shape
    ("*1/*3A/*2", TPMT, ParseError, ["expected two alleles separated by one '/'"]),
    ("*1//*3A", TPMT, ParseError, ["expected two alleles separated by one '/'"]),
    ("/", TPMT, ParseError, ["allele '' is not a star allele"]),
    ("*1/", TPMT, ParseError, ["allele '' is not a star allele such as *1 or *3A"]),
    ("/*3A", TPMT, ParseError, ["allele '' is not a star allele"]),
    ("*1/*1000", TPMT, ParseError, ["allele '*1000' is not a star allele"]),  # 4 digits
    ("*1/*3AB", TPMT, ParseError, ["allele '*3AB' is not a star allele"]),
    ("*1/*3-A", TPMT, ParseError, ["allele '*3-A' is not a star allele"]),
    ("*1/**3A", TPMT, ParseError, ["allele '**3A' is not a star allele"]),
    ("*1/*A", TPMT, ParseError, ["allele '*A' is not a star allele"]),
    ("*1/*3A.1", TPMT, ParseError, ["allele '*3A.1' is not a star allele"]),
    ("TPMT3A/*1", TPMT, ParseError, ["allele 'TPMT3A' is not a star allele"]),
    ("*1/*٣", TPMT, ParseError, ["is not a star allele"]),  # Arabic-Indic digit three
    ("\u22171/\u22173A", TPMT, ParseError, ["is not a star allele"]),  # asterisk operator
    # variant notations are not accepted as results (they go through `tpmt call`)
    ("rs1142345", TPMT, ParseError, ["cannot read TPMT result 'rs1142345'"]),
    ("rs1800460/rs1142345", TPMT, ParseError, ["allele 'rs1800460' is not a star allele"]),
    ("c.719A>G", TPMT, ParseError, ["cannot read TPMT result 'c.719A>G'"]),
    ("NM_000367.5:c.460G>A", TPMT, ParseError, ["cannot read TPMT result"]),
    ("c.415C>T/c.415C>T", NUDT15, ParseError, ["allele 'c.415C>T' is not a star allele"]),
    # length: the limit is 200 characters as given, before whitespace is collapsed
    (" " * 195 + "*1/*3A", TPMT, ParseError, ["TPMT input is 201 characters long; at most 200"]),
    ("x" * 1_000, TPMT, ParseError, ["1,000 characters long; at most 200 are accepted"]),
]


@pytest.mark.parametrize(
    ("text", "gene", "error", "fragments"),
    REJECTED_ROWS,
    ids=[repr(row[0][:30]) for row in REJECTED_ROWS],
)
def test_rejected_input_raises_the_error_the_table_says(
    text: str, gene: Gene, error: type[InputError], fragments: list[str]
) -> None:
    with pytest.raises(InputError) as caught:
        parse_gene_input(text, gene)
    assert type(caught.value) is error
    message = str(caught.value)
    assert "\n" not in message and len(message) < 400
    for fragment in fragments:
        assert fragment in message


def test_two_hundred_characters_are_still_accepted() -> None:
    text = " " * 194 + "*3A/*1"
    assert len(text) == 200
    assert meaning(parse_gene_input(text, TPMT), TPMT) == "diplotype *1/*3A"


def test_a_long_bad_value_is_quoted_cut_short() -> None:
    with pytest.raises(ParseError) as caught:
        parse_gene_input("q" * 150, TPMT)
    assert str(caught.value) == (
        "cannot read TPMT result '" + "q" * 40 + "...'; give a diplotype such as '*1/*3A' or "
        "'TPMT*1/*3A', or a phenotype such as 'Intermediate Metabolizer', 'IM', 'PIM', "
        "'poor metaboliser', 'Indeterminate'"
    )


@pytest.mark.parametrize(
    ("name", "expected"),
    [("TPMT", "TPMT"), ("tpmt", "TPMT"), (" Nudt15 ", "NUDT15"), ("NUDT15", "NUDT15")],
)
def test_gene_names(name: str, expected: str) -> None:
    assert parse_gene(name).value == expected


@pytest.mark.parametrize("name", ["CYP2D6", "TPMT1", "NUDT", "", "ITPA"])
def test_unknown_gene_names(name: str) -> None:
    with pytest.raises(UnknownGeneError) as caught:
        parse_gene(name)
    assert str(caught.value) == f"unknown gene {name!r}; accepted: TPMT, NUDT15"


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (["*10", "*2", "*1"], ["*1", "*2", "*10"]),
        (["*3C", "*3A", "*3B", "*3"], ["*3", "*3A", "*3B", "*3C"]),
        (["*41", "*4", "*40"], ["*4", "*40", "*41"]),
        (["rs123", "*2"], ["*2", "rs123"]),  # names that are not star alleles sort last
    ],
)
def test_allele_sort_order(names: list[str], expected: list[str]) -> None:
    assert sorted(names, key=allele_sort_key) == expected


def test_the_phenotype_vocabulary_is_the_cpic_wording() -> None:
    """The enum values are what reports print; they must be CPIC's terms, letter for letter."""
    assert [p.value for p in Phenotype] == [
        "Normal Metabolizer",
        "Intermediate Metabolizer",
        "Possible Intermediate Metabolizer",
        "Poor Metabolizer",
        "Indeterminate",
        "No Result",
    ]
    assert [g.value for g in Gene] == ["TPMT", "NUDT15"]
