"""The one exception tree of tpmt: user mistakes, bad guideline data, and bugs.

TpmtError                 root; the CLI catches only this
├── InputError            bad user input (exit 3)
│   ├── UnknownAlleleError     an allele no selected rule set knows
│   ├── UnknownGeneError       a gene other than TPMT / NUDT15
│   ├── UnknownDrugError       a drug the rule sets do not cover
│   ├── UnknownGuidelineError  a rule-set id or alias that does not exist
│   └── ParseError             text that is not a diplotype or phenotype
├── GuidelineError        guideline data that fails validation (exit 4)
├── OutputError           an output that could not be written (exit 5)
└── EngineError           the rule engine misbehaved: a bug (exit 1)
"""

from __future__ import annotations


class TpmtError(Exception):
    """Base of every error tpmt raises on purpose."""

    exit_code = 1


class InputError(TpmtError):
    """The caller gave input tpmt cannot accept."""

    exit_code = 3


class UnknownAlleleError(InputError):
    """An allele name that no selected rule set defines."""


class UnknownGeneError(InputError):
    """A gene name other than TPMT or NUDT15."""


class UnknownDrugError(InputError):
    """A drug name the rule sets do not cover."""


class UnknownGuidelineError(InputError):
    """A rule-set id or alias that does not exist."""


class ParseError(InputError):
    """Text that is neither a diplotype nor a phenotype."""


class GuidelineError(TpmtError):
    """Guideline data on disk is missing, malformed or inconsistent."""

    exit_code = 4


class OutputError(TpmtError):
    """An output file or stream could not be written (full disk, missing folder, ...)."""

    exit_code = 5


class EngineError(TpmtError):
    """The rule engine failed or returned something impossible (a bug)."""

    exit_code = 1
