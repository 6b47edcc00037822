"""Closed vocabularies: genes, drugs, phenotypes, allele functions and dosing terms."""

from __future__ import annotations

from enum import StrEnum


class Gene(StrEnum):
    """The two genes the thiopurine guidelines use."""

    TPMT = "TPMT"
    NUDT15 = "NUDT15"


class Drug(StrEnum):
    """The three thiopurines."""

    AZATHIOPRINE = "azathioprine"
    MERCAPTOPURINE = "mercaptopurine"
    THIOGUANINE = "thioguanine"


class Source(StrEnum):
    """Bodies that publish guidelines."""

    CPIC = "CPIC"
    DPWG = "DPWG"


class Phenotype(StrEnum):
    """CPIC standard metabolizer terms, plus "No Result" for a gene not tested."""

    NORMAL = "Normal Metabolizer"
    INTERMEDIATE = "Intermediate Metabolizer"
    POSSIBLE_INTERMEDIATE = "Possible Intermediate Metabolizer"
    POOR = "Poor Metabolizer"
    INDETERMINATE = "Indeterminate"
    NO_RESULT = "No Result"


class AlleleFunction(StrEnum):
    """CPIC clinical allele function terms.

    An allele a rule set assigns no function (or does not name) takes that rule set's declared
    ``unassigned_function`` (CPIC and DPWG: "Unknown function").
    """

    NORMAL = "Normal function"
    DECREASED = "Decreased function"
    NO = "No function"
    UNCERTAIN = "Uncertain function"
    UNKNOWN = "Unknown function"


class Classification(StrEnum):
    """Strength of a recommendation."""

    STRONG = "Strong"
    MODERATE = "Moderate"
    OPTIONAL = "Optional"


class Action(StrEnum):
    """What a dosing step asks the prescriber to do."""

    STANDARD_DOSE = "standard_dose"
    REDUCE_DOSE = "reduce_dose"
    CONSIDER_ALTERNATIVE = "consider_alternative"
    MEASURE_ACTIVITY = "measure_activity"
    MONITOR = "monitor"
    NO_GUIDANCE = "no_guidance"
    NO_ACTION = "no_action"  # nothing to change for this gene; another gene's advice governs


class Condition(StrEnum):
    """Clinical setting a dosing step applies to."""

    ANY = "any"
    MALIGNANCY = "malignancy"
    NONMALIGNANCY = "nonmalignancy"


class Frequency(StrEnum):
    """Dosing frequency."""

    DAILY = "daily"
    THRICE_WEEKLY = "thrice_weekly"


class InputType(StrEnum):
    """How a gene's result was given."""

    DIPLOTYPE = "diplotype"
    PHENOTYPE = "phenotype"
    NOT_TESTED = "not_tested"
    VARIANTS = "variants"
    ACTIVITY = "activity"  # TPMT: an erythrocyte activity alone (no genotype)
