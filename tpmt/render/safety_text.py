"""Co-medication and monitoring as words, for every renderer (text, HTML, FHIR)."""

from __future__ import annotations

from collections.abc import Sequence

from tpmt.comed import NOT_VERIFIED
from tpmt.guideline_schema import Range
from tpmt.models import (
    ComedStatement,
    Monitoring,
    SafetyContext,
    SteadyState,
)
from tpmt.vocab import Condition

HASH_SHOWN = 16  # as for rule sets in the text report


def weeks(r: Range) -> str:
    """'2–4 weeks', '≥2 weeks' or '2 weeks'."""
    if r.max is None:
        return f"≥{r.min:g} weeks"
    return f"{r.min:g} weeks" if r.min == r.max else f"{r.min:g}–{r.max:g} weeks"


def comed_line(statement: ComedStatement) -> str:
    """The side-by-side advice with the data entry it came from."""
    return f"{statement.advice} [data {statement.data_id}]"


def banner(statement: ComedStatement) -> str:
    """The line a contraindication puts first under the drug's name."""
    flag = "" if statement.verified else f", {NOT_VERIFIED}"
    return (
        f"CONTRAINDICATED with {statement.comed} (FDA label{flag}): {statement.short}; no dose "
        "is given for the combination"
    )


def steady_state_line(steps: Sequence[SteadyState]) -> str:
    """'steady state after 2–4 weeks (guideline)', per condition when they differ."""
    if not steps:
        return "time to steady state: not given by this guideline row"
    parts = [
        ("" if s.condition is Condition.ANY else f"{s.condition.value}: ") + weeks(s.weeks)
        for s in steps
    ]
    return "steady state after " + "; ".join(dict.fromkeys(parts)) + " (guideline)"


def label_lines(monitoring: Monitoring) -> list[str]:
    """The drug's label schedules with their evidence and data entries (shown once per drug:
    they do not differ between its rows; the report's safety notes say how they apply)."""
    lines = [
        f"{m.tests}: {m.schedule}"
        + ("" if m.verified or NOT_VERIFIED in m.schedule else f" ({NOT_VERIFIED})")
        + f" [label; data {m.data_id}]"
        for m in monitoring.label
    ]
    return lines


def monitoring_summary(monitoring: Monitoring) -> str:
    """The monitoring in one line (the FHIR follow-up Task's description)."""
    shown = "; ".join(f"{m.tests}: {m.schedule}" for m in monitoring.label)
    flag = "" if all(m.verified for m in monitoring.label) else f" ({NOT_VERIFIED})"
    return f"Label monitoring{flag}: {shown}. {steady_state_line(monitoring.steady_state)}."


def context_lines(context: SafetyContext) -> list[str]:
    """What was given and checked, the notes, and the data's identity."""
    given = ", ".join(context.comed) if context.comed else "none given"
    data = context.data
    return [
        f"Co-medications given: {given}; tpmt checks: {', '.join(context.checked)}",
        *context.notes,
        f"Label safety data: {data.id} · {data.title} · {data.version} ({data.date}) · "
        f"sha256 {data.sha256[:HASH_SHOWN]}",
    ]
