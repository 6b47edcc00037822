"""How severe a row of dosing advice is: comparing rows and choosing the row a drug follows.

Severity is judged on the advice, not the phenotype label: per clinical condition, a row that
avoids the drug is most severe, then the lowest dose (percent of standard, with a thrice-weekly
frequency counted as 3/7 of daily); a row that gives no dose (measure activity, no guidance, no
action for this gene) counts as the standard dose.
"""

from __future__ import annotations

from collections.abc import Sequence

from tpmt.guideline_schema import DosingStep
from tpmt.models import Recommendation
from tpmt.vocab import Action, Condition, Frequency

STANDARD = 100.0
UNKNOWN_REDUCTION = 1.0  # a reduction without a stated percent counts as the deepest one
CONDITIONS = (Condition.MALIGNANCY, Condition.NONMALIGNANCY)


def _step_level(step: DosingStep) -> float | None:
    if step.action is Action.CONSIDER_ALTERNATIVE:
        return 0.0
    if step.action is Action.STANDARD_DOSE:
        return STANDARD
    if step.action is not Action.REDUCE_DOSE:
        return None
    percent = step.percent_of_standard
    level = float(percent.max if percent and percent.max is not None else UNKNOWN_REDUCTION)
    if percent is not None and percent.max is None:
        level = float(percent.min)
    if step.frequency is Frequency.THRICE_WEEKLY:
        level *= 3 / 7
    return level


def dose_levels(dosing: Sequence[DosingStep]) -> tuple[float, ...]:
    """The lowest dose a row allows in each condition (0 avoids the drug, 100 is standard)."""
    levels = []
    for condition in CONDITIONS:
        found = [
            level
            for step in dosing
            if step.condition in (condition, Condition.ANY)
            for level in [_step_level(step)]
            if level is not None
        ]
        levels.append(min(found) if found else STANDARD)
    return tuple(levels)


def more_severe(candidate: Sequence[DosingStep], reported: Sequence[DosingStep]) -> bool:
    """True when ``candidate`` avoids the drug or lowers the dose further in some condition."""
    return any(c < r for c, r in zip(dose_levels(candidate), dose_levels(reported), strict=True))


def governing(rows: Sequence[Recommendation]) -> Recommendation:
    """The row a drug's summary follows: the most severe of one rule set's rows for the drug."""
    return min(rows, key=_governing_key)


def _governing_key(rec: Recommendation) -> tuple[float, bool, tuple[float, ...]]:
    levels = dose_levels(rec.dosing)
    quiet = all(s.action in (Action.NO_ACTION, Action.STANDARD_DOSE) for s in rec.dosing)
    return min(levels), quiet, levels
