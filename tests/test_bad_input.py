"""Bad input: a clear InputError naming the bad value and what is accepted; never a guess."""

from __future__ import annotations

import time

import pytest

from tpmt.errors import (
    InputError,
    ParseError,
    UnknownAlleleError,
    UnknownDrugError,
    UnknownGuidelineError,
)
from tpmt.interpreter import Interpreter


@pytest.mark.parametrize(
    ("kwargs", "error", "fragments"),
    [
        ({"tpmt": "*1/*99"}, UnknownAlleleError, ["'*99'", "known: *1, *2, *3A"]),
        ({"nudt15": "*1/*30"}, UnknownAlleleError, ["'*30'", "known: *1"]),
        ({"nudt15": "*1/*3A"}, UnknownAlleleError, ["NUDT15", "'*3A'"]),  # a TPMT allele
        ({"tpmt": "NUDT15*1/*3"}, ParseError, ["NUDT15", "given for TPMT"]),
        ({"tpmt": "NUDT15 Poor Metabolizer"}, ParseError, ["NUDT15", "given for TPMT"]),
        ({"tpmt": "*1/*3A/*2"}, ParseError, ["two alleles"]),
        ({"tpmt": "*1*3A"}, ParseError, ["single allele", "*1/*3A"]),
        ({"tpmt": "*1/"}, ParseError, ["not a star allele"]),
        ({"tpmt": "*3A"}, ParseError, ["single allele"]),
        ({"tpmt": "ultrarapid"}, ParseError, ["'ultrarapid'", "Intermediate Metabolizer"]),
        ({"tpmt": ""}, ParseError, ["empty"]),
        ({"tpmt": "   "}, ParseError, ["empty"]),
        ({}, InputError, ["TPMT result, a NUDT15 result"]),
        (
            {"tpmt": "*1/*1", "drugs": ["warfarin"]},
            UnknownDrugError,
            ["'warfarin'", "azathioprine"],
        ),
        ({"tpmt": "*1/*1", "drugs": []}, UnknownDrugError, ["no drug"]),
        (
            {"tpmt": "*1/*1", "guidelines": ["cpic-2019"]},
            UnknownGuidelineError,
            ["'cpic-2019'", "cpic-2025"],
        ),
        ({"tpmt": "*1/*1", "guidelines": ["cpic", "cpic-2018"]}, InputError, ["one CPIC rule set"]),
        (
            {"tpmt": "*1/*45", "guidelines": ["cpic-2018"]},
            UnknownAlleleError,
            ["'*45'", "cpic-2018"],
        ),
    ],
)
def test_bad_input_names_the_value_and_the_accepted_ones(
    interpreter: Interpreter, kwargs: dict, error: type, fragments: list[str]
) -> None:
    with pytest.raises(error) as caught:
        interpreter.interpret(**kwargs)
    message = str(caught.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message


def test_a_megabyte_of_input_is_refused_quickly_without_echoing_it(
    interpreter: Interpreter,
) -> None:
    huge = "*1/*3A" * 200_000
    started = time.perf_counter()
    with pytest.raises(ParseError) as caught:
        interpreter.interpret(tpmt=huge)
    assert time.perf_counter() - started < 0.5  # generous bound; the real cost is microseconds
    assert len(str(caught.value)) < 300
    assert "1,200,000 characters" in str(caught.value)


def test_errors_are_not_cached_and_good_input_after_bad_still_works(
    interpreter: Interpreter,
) -> None:
    for _ in range(2):
        with pytest.raises(UnknownAlleleError):
            interpreter.interpret(tpmt="*1/*99")
    assert interpreter.interpret(tpmt="*1/*1").genes
