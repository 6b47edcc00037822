"""Doses in milligrams as words, for every renderer (text, HTML, TSV, FHIR)."""

from __future__ import annotations

from tpmt.models import DoseContext, MgRange, StepDose
from tpmt.vocab import Action, Condition, Frequency

HASH_SHOWN = 16  # as for rule sets in the text report


def mg(value: MgRange | None, unit: str = " mg") -> str:
    """'63–280 mg', '14 mg' or '' for no figure."""
    if value is None:
        return ""
    low, high = f"{value.min:g}", f"{value.max:g}"
    return f"{low}{unit}" if low == high else f"{low}–{high}{unit}"


def percent(step: StepDose) -> str:
    """'30–80% of the standard dose', or '' without a percentage."""
    p = step.percent_of_standard
    if p is None:
        return ""
    top = p.min if p.max is None else p.max
    share = f"{p.min:g}%" if p.min == top else f"{p.min:g}–{top:g}%"
    return f"{share} of the standard dose"


def step_summary(step: StepDose) -> str:
    """The mg figure with its frequency in a few words ('' when there is none)."""
    if step.mg_per_dose is None:
        return ""
    if step.frequency is Frequency.THRICE_WEEKLY:
        return f"{mg(step.mg_per_dose)} per dose, 3 days a week ({mg(step.mg_per_week)}/week)"
    return f"{mg(step.mg_per_dose)}/day"


def step_line(step: StepDose) -> str:
    """One step's dose in a line: condition, percentage, mg, rounding or the reason for none."""
    head = "" if step.condition is Condition.ANY else f"{step.condition.value}: "
    share = percent(step)
    if step.mg_per_dose is None:
        return f"{head}{share + ' — ' if share else ''}no mg figure: {step.explanation}"
    rounding = f"; tablets: {step.rounding}" if step.rounding else ""
    return f"{head}{share} → {step_summary(step)}. How: {step.explanation}{rounding}"


def _tablets(step: StepDose) -> str:
    """'tablets: 75–275 mg' or 'tablets: none within it', flagged and with the suspension."""
    rounding = step.rounding or ""
    flag = " (UNVERIFIED)" if step.rounding_verified is False else ""
    tablets = mg(step.rounded_mg_per_dose) if step.rounded_mg_per_dose else "none within it"
    suspension = rounding.partition("; or ")[2]
    return f"tablets{flag}: {tablets}" + (f"; or {suspension}" if suspension else "")


def _why_none(step: StepDose) -> str:
    """Why a step of an alternative has no mg figure, in a few words ('' for the other
    condition's step)."""
    head = "" if step.condition is Condition.ANY else f"{step.condition.value}: "
    if step.status == "not_applicable":
        return ""
    if step.status == "no_dose" and step.explanation.startswith("CONTRAINDICATED"):
        return step.explanation.partition(":")[0]
    if step.action is Action.CONSIDER_ALTERNATIVE:
        return f"{head}a non-thiopurine alternative is advised"
    if step.status == "no_dose":
        return "not a dosing instruction"
    if step.status == "no_reduction_needed":
        return f"{head}the standard dose is below the reduction's threshold"
    if step.status == "no_reduction_needed_excluding_comed":
        return (
            f"{head}the standard dose is below the reduction's threshold; the co-medication's "
            "label reduction is NOT applied"
        )
    why = step.explanation.removesuffix(" (no mg figure)").removesuffix("; no mg figure")
    return f"{head}{why}"


def _with_mg(step: StepDose) -> str:
    """A step of an alternative that has mg figures beside others: its mg, or why none."""
    head = "" if step.condition is Condition.ANY else f"{step.condition.value}: "
    if step.mg_per_dose is not None:
        excluded = ", NOT including the co-medication reduction"
        extra = excluded if step.status == "computed_excluding_comed" else ""
        return f"{head}{step_summary(step)} ({_tablets(step)}{extra})"
    if step.status == "not_applicable" or step.action is Action.CONSIDER_ALTERNATIVE:
        return ""  # the other condition's step; or advice against the drug, said in words
    return f"{head}no mg figure ({_why_none(step)})"


def alternative_dose(steps: tuple[StepDose, ...] | None) -> str:
    """A more severe alternative's dose: 'in mg: 21–35 mg/day (tablets: 25 mg)' or 'no mg
    figure (why)'; '' without dose inputs (``steps`` None)."""
    if not steps:
        return ""
    if any(step.mg_per_dose is not None for step in steps):
        return "in mg: " + "; ".join(part for part in map(_with_mg, steps) if part)
    reasons = [why for why in map(_why_none, steps) if why]
    if not reasons:
        reasons = ["its steps are for the other condition"]
    return f"no mg figure ({'; '.join(dict.fromkeys(reasons))})"


def context_lines(context: DoseContext) -> list[str]:
    """The inputs, the standard dose and its source, strengths and data identity."""
    standard = context.standard
    body = [f"weight {context.weight_kg:g} kg"]
    if context.height_cm is not None:
        body.append(f"height {context.height_cm:g} cm")
    if context.bsa_m2 is not None:
        body.append(f"BSA {context.bsa_m2:g} m2 ({context.bsa_formula})")
    if standard.indication_name:
        body.append(
            f"indication {standard.indication} ({standard.indication_name}, {standard.condition})"
        )
    lines = [
        "Patient: " + "; ".join(body),
        f"Standard dose used: {mg(standard.mg_per_day, ' mg/day')} — {standard.basis}"
        + (f", {standard.frequency}" if standard.frequency else ""),
        f"Source: {standard.source}",
        f"Strengths: {context.strengths}",
    ]
    lines += list(context.notes)
    data = context.data
    lines.append(
        f"Dose data: {data.id} · {data.title} · {data.version} ({data.date}) · "
        f"sha256 {data.sha256[:HASH_SHOWN]}"
    )
    return lines
