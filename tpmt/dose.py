"""Doses in milligrams: the label dose data applied to the dosing steps the rule engine chose.

The engine decides the rows (phenotypes → recommendation, with each step's percentage,
frequency, condition and threshold); this module only does arithmetic on them with the
patient's weight/height and the standard dose of the indication (or the planned dose).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from tpmt.dose_schema import DoseData, Indication, LoadedDoseData, Strengths
from tpmt.errors import InputError
from tpmt.guideline_schema import DosingStep, Quantity, Range
from tpmt.models import (
    DoseContext,
    DoseDataInfo,
    DoseStatus,
    MgRange,
    Recommendation,
    Report,
    StandardDose,
    StepDose,
)
from tpmt.vocab import Action, Condition, Drug, Frequency

# accepted: above the first, at most the second. The lower bounds reject values that cannot be
# a person's weight in kg or height in cm (0.07 kg; 1.75 "cm", a height in metres), which would
# otherwise give a plausible-looking mg figure
WEIGHT_KG = (0.2, 400.0)
HEIGHT_CM = (30.0, 250.0)
PLANNED_MG = (0.0, 1000.0)
CLI_NAMES = {
    "weight_kg": "--weight-kg",
    "height_cm": "--height-cm",
    "indication": "--indication",
    "planned_dose_mg": "--planned-dose",
    "drug": "--drug",
}
FIELD_NAMES = {key: key for key in CLI_NAMES} | {"drug": "drugs"}
EPSILON = 1e-9
DOSES_PER_WEEK = {Frequency.DAILY: 7, Frequency.THRICE_WEEKLY: 3}


@dataclass(frozen=True)
class DoseRequest:
    """What the prescriber gave: weight (required), height, indication, planned mg/day."""

    weight_kg: float
    height_cm: float | None = None
    indication: str | None = None
    planned_dose_mg: float | None = None


def _number(value: object, name: str, limits: tuple[float, float], unit: str) -> float:
    """A plausible positive number, or InputError naming the option and the accepted range
    (never the value: it is patient data). Text must be ASCII digits with at most one
    decimal point ('70', '65.5', '.5'), spaces around allowed, not what float() also takes
    ('6_5', '1e2', 'inf', '+70', other scripts' digits); '-70' reads as out of range."""
    low, high = limits
    accepted = f"a number of {unit} above {low:g} and at most {high:g}"
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise InputError(f"{name} must be {accepted}")
    if isinstance(value, str):
        value = value.strip()
        digits = value.removeprefix("-").replace(".", "", 1)
        if not (digits.isascii() and digits.isdigit()):
            raise InputError(f"{name} is not a number; accepted: {accepted}")
    try:
        number = float(value)
    except OverflowError:  # an int too large for a float
        number = math.inf
    if not math.isfinite(number) or not low < number <= high:
        hint = " (a height in metres? give centimetres)" if unit == "cm" and 0 < number < 3 else ""
        raise InputError(f"{name} is out of range{hint}; accepted: {accepted}")
    return number


def dose_request(
    weight_kg: object = None,
    height_cm: object = None,
    indication: object = None,
    planned_dose_mg: object = None,
    names: Mapping[str, str] = CLI_NAMES,
) -> DoseRequest | None:
    """The checked dose inputs; None when none is given; InputError naming what is wrong."""
    given = [v for v in (weight_kg, height_cm, indication, planned_dose_mg) if v not in (None, "")]
    if not given:
        return None
    if weight_kg in (None, ""):
        raise InputError(
            f"a dose in mg needs {names['weight_kg']} (kg, above 0.2 and at most 400) together "
            f"with {names['indication']} or {names['planned_dose_mg']}"
        )
    if indication in (None, "") and planned_dose_mg in (None, ""):
        raise InputError(
            f"a dose in mg needs {names['indication']} (for the label's standard dose) or "
            f"{names['planned_dose_mg']} (mg/day) besides {names['weight_kg']}"
        )
    if indication not in (None, "") and not isinstance(indication, str):
        raise InputError(f"{names['indication']} must be a string")
    return DoseRequest(
        weight_kg=_number(weight_kg, names["weight_kg"], WEIGHT_KG, "kg"),
        height_cm=None
        if height_cm in (None, "")
        else _number(height_cm, names["height_cm"], HEIGHT_CM, "cm"),
        indication=str(indication).strip().lower() if indication not in (None, "") else None,
        planned_dose_mg=None
        if planned_dose_mg in (None, "")
        else _number(planned_dose_mg, names["planned_dose_mg"], PLANNED_MG, "mg/day"),
    )


def _mg(value: float) -> float:
    """Milligrams to one decimal, halves rounded up (deterministic, no float artefacts)."""
    return float(Decimal(repr(round(value, 6))).quantize(Decimal("0.1"), ROUND_HALF_UP))


def _n(value: float) -> str:
    return f"{value:g}"


def _span(low: float, high: float, unit: str = "") -> str:
    return f"{_n(low)}{unit}" if low == high else f"{_n(low)}–{_n(high)}{unit}"


def mosteller_bsa(height_cm: float, weight_kg: float) -> float:
    """Body-surface area in m2 by Mosteller (NEJM 1987;317:1098), to two decimals."""
    return round(math.sqrt(height_cm * weight_kg / 3600), 2)


@dataclass(frozen=True)
class Patient:
    """The numbers the arithmetic needs."""

    weight_kg: float
    bsa_m2: float | None
    condition: Condition | None
    standard: tuple[float, float]  # mg/day
    indication: str
    stated: tuple[tuple[float, float, str], ...] = ()  # the label's range in other units


def _indication(data: DoseData, request: DoseRequest, drugs: tuple[Drug, ...]) -> Indication | None:
    """The indication entry for the request among the report's drugs (None: planned dose
    without an indication)."""
    if request.indication is None:
        return None
    found = [i for i in data.indications if i.id == request.indication and i.drug in drugs]
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        both = ", ".join(i.drug.value for i in found)
        raise InputError(f"indication {request.indication!r} exists for {both}; choose one drug")
    accepted = "; ".join(
        f"{drug}: {', '.join(i.id for i in data.indications if i.drug is drug)}" for drug in drugs
    )
    shown = request.indication[:40]
    raise InputError(f"unknown indication {shown!r} for the drugs asked; accepted: {accepted}")


def _standard(
    indication: Indication | None, request: DoseRequest, bsa: float | None, names: Mapping[str, str]
) -> tuple[tuple[float, float], str]:
    """The standard mg/day range and how it was obtained."""
    if request.planned_dose_mg is not None:
        mg = _mg(request.planned_dose_mg)
        return (mg, mg), f"planned dose given ({names['planned_dose_mg']}), used as the standard"
    assert indication is not None
    if indication.dose is None:
        raise InputError(
            f"indication {indication.id!r} has no standard dose in the label data; give "
            f"{names['planned_dose_mg']} (mg/day)"
        )
    dose, weight = indication.dose, request.weight_kg
    if dose.unit == "mg/kg/day":
        size, by = weight, f"× {_n(weight)} kg"
    elif bsa is None:
        raise InputError(
            f"the standard dose of {indication.id!r} is in mg/m2/day: give {names['height_cm']}"
        )
    else:
        size, by = bsa, f"× {_n(bsa)} m2 (BSA)"
    low, high = _mg(dose.min * size), _mg(dose.max * size)
    return (low, high), f"{_span(dose.min, dose.max)} {dose.unit} {by} = {_span(low, high)} mg/day"


def _source(data: DoseData, indication: Indication | None, names: Mapping[str, str]) -> str:
    if indication is None or indication.dose is None:
        return f"input {names['planned_dose_mg']}"
    label = next(x for x in data.labels if x.id == indication.label)
    set_id = f"set id {label.set_id}" if label.set_id else "set id not recorded"
    revision = f"revision {label.revision}" if label.revision else "revision date not recorded"
    where = f"FDA label: {label.product}, {set_id}, {revision}, section {indication.section!r}"
    evidence = {
        "label": "read from the label",
        "secondary": "label text as copied by secondary sources, not re-read in the current label",
        "unverified": "UNVERIFIED",
    }[indication.evidence]
    return f"{where}; {evidence} ({'; '.join(indication.checked)}); data entry {indication.id}"


def _rounding(strengths: Strengths, low: float, high: float) -> tuple[MgRange | None, str]:
    """The range rounded inward to the tablet step, said in words; None (the steps either
    side named, with how far off they are) when no step lies within it."""
    step = strengths.step_mg
    flag = "UNVERIFIED: " if strengths.evidence == "unverified" else ""
    lo = math.ceil(low / step - EPSILON) * step
    hi = math.floor(high / step + EPSILON) * step
    suspension = ""
    if strengths.suspension_mg_per_ml:
        per_ml = strengths.suspension_mg_per_ml
        ml = _span(round(low / per_ml, 2), round(high / per_ml, 2), " mL")
        suspension = f"; or {ml} of the {_n(per_ml)} mg/mL oral suspension (not rounded)"
    if lo <= hi and hi > 0:
        text = (
            f"{flag}rounded inward to {_n(step)} mg steps ({strengths.how}) so it stays within "
            f"{_span(low, high, ' mg')}: {_span(max(lo, step), hi, ' mg')}{suspension}"
        )
        return MgRange(min=max(lo, step), max=hi), text
    below = math.floor(low / step + EPSILON) * step
    above = math.ceil(high / step - EPSILON) * step
    options = [f"{_n(above)} mg would be {(above - high) / high * 100:.0f}% above the top"]
    if below > 0:
        options.insert(0, f"{_n(below)} mg {(low - below) / low * 100:.0f}% below the bottom")
    text = (
        f"{flag}no {_n(step)} mg step ({strengths.how}) lies within {_span(low, high, ' mg')}; "
        f"no rounded tablet dose ({' and '.join(options)}){suspension}"
    )
    return None, text


def _threshold(
    limits: tuple[Quantity, ...], patient: Patient, names: Mapping[str, str]
) -> tuple[str, str]:
    """Whether the step's condition on the standard dose holds: applies, below, straddles or
    unknown, with the comparison in words."""
    verdicts: list[tuple[str, str]] = []
    low, high = patient.standard
    for q in limits:
        if q.unit == "mg/kg/day":
            size: float | None = patient.weight_kg
        else:
            size = patient.bsa_m2
        need = f"≥{_n(q.value)} {q.unit}"
        stated = next((s for s in patient.stated if s[2] == q.unit), None)
        if size is not None:
            need += f" (= {_n(_mg(q.value * size))} mg/day here)"
        if stated is not None:  # the label's own figures in the threshold's unit
            per = (stated[0], stated[1])
            shown = f"the label states the standard dose as {_span(*per)} {q.unit}"
        elif size is None:
            verdicts.append(("unknown", f"{need} cannot be checked without {names['height_cm']}"))
            continue
        else:
            per = (round(low / size, 2), round(high / size, 2))
            shown = f"the standard dose is {_span(*per)} {q.unit}"
        if per[0] >= q.value - EPSILON:
            verdicts.append(("applies", f"{shown}, at or above {need}"))
        elif per[1] < q.value - EPSILON:
            verdicts.append(("below", f"{shown}, below {need}"))
        else:
            verdicts.append(("straddles", f"{shown}, partly below {need}"))
    for kind in ("applies", "straddles", "unknown", "below"):
        chosen = [text for verdict, text in verdicts if verdict == kind]
        if chosen:
            others = [text for verdict, text in verdicts if verdict != kind]
            return kind, "; ".join(chosen + others)
    return "applies", ""


def _no_mg(step: DosingStep, status: DoseStatus, explanation: str) -> StepDose:
    """A step without a mg figure, and why."""
    return StepDose(
        condition=step.condition,
        action=step.action,
        status=status,
        percent_of_standard=step.percent_of_standard,
        frequency=step.frequency,
        mg_per_dose=None,
        doses_per_week=None,
        mg_per_week=None,
        rounded_mg_per_dose=None,
        rounding=None,
        explanation=explanation,
    )


def _computed(
    step: DosingStep, per_dose: tuple[float, float], how: str, strengths: Strengths
) -> StepDose:
    """A step with its mg per dose, doses and mg per week, and the tablet rounding."""
    times = DOSES_PER_WEEK[step.frequency or Frequency.DAILY]
    weekly = MgRange(min=_mg(per_dose[0] * times), max=_mg(per_dose[1] * times))
    rounded, rounding = _rounding(strengths, *per_dose)
    return StepDose(
        rounding_verified=strengths.evidence != "unverified",
        condition=step.condition,
        action=step.action,
        status="computed",
        percent_of_standard=step.percent_of_standard,
        frequency=step.frequency,
        mg_per_dose=MgRange(min=per_dose[0], max=per_dose[1]),
        doses_per_week=times,
        mg_per_week=weekly,
        rounded_mg_per_dose=rounded,
        rounding=rounding,
        explanation=f"{how} = {_span(weekly.min, weekly.max, ' mg')} a week",
    )


def _and_height(step: DosingStep, patient: Patient, names: Mapping[str, str]) -> str:
    """' and --height-cm' when a threshold in mg/m2 will need it once a planned dose is given."""
    per_m2 = any(q.unit != "mg/kg/day" for q in step.applies_if_standard_dose_at_least)
    return f" and {names['height_cm']}" if per_m2 and patient.bsa_m2 is None else ""


def _gate(step: DosingStep, patient: Patient, names: Mapping[str, str]) -> StepDose | None:
    """The step without a mg figure when its action, condition or threshold rules one out."""
    if step.condition is not Condition.ANY and step.condition is not patient.condition:
        if patient.condition is None:
            why = f"give {names['indication']} to say which applies"
            return _no_mg(step, "not_computed", f"for {step.condition} only; {why} (no mg figure)")
        why = f"{patient.indication} is {patient.condition}"
        return _no_mg(step, "not_applicable", f"for {step.condition} only; {why} (no mg figure)")
    if step.action is Action.CONSIDER_ALTERNATIVE:
        return _no_mg(
            step,
            "no_dose",
            "the guideline advises considering a non-thiopurine alternative; no mg figure is "
            "given for a drug it advises against",
        )
    if step.action not in (Action.STANDARD_DOSE, Action.REDUCE_DOSE):
        return _no_mg(step, "no_dose", "not a dosing instruction; no mg figure")
    if not (step.applies_if_standard_dose_at_least and step.action is Action.REDUCE_DOSE):
        return None
    verdict, why = _threshold(step.applies_if_standard_dose_at_least, patient, names)
    standard = _span(*patient.standard, " mg/day")
    if verdict == "below":
        return _no_mg(
            step,
            "no_reduction_needed",
            f"{why}: the guideline's reduction applies only at or above that standard dose, so a "
            f"reduction might not be necessary; no reduced dose computed (standard: {standard})",
        )
    if verdict == "straddles":
        return _no_mg(
            step,
            "not_computed",
            f"{why}: whether the reduction applies depends on the dose chosen within the "
            f"standard range; give {names['planned_dose_mg']} (mg/day)"
            + _and_height(step, patient, names),
        )
    if verdict == "unknown":
        return _no_mg(step, "not_computed", f"{why}; no mg figure")
    return None


def step_dose(
    step: DosingStep, patient: Patient, strengths: Strengths, names: Mapping[str, str]
) -> StepDose:
    """One dosing step in milligrams, or the reason there is no mg figure."""
    gated = _gate(step, patient, names)
    if gated is not None:
        return gated
    if step.percent_of_standard is None and step.starting_dose:
        return _absolute(step, patient, strengths, names)
    percent = step.percent_of_standard or Range(min=100, max=100)
    top = percent.min if percent.max is None else percent.max
    percent = Range(min=percent.min, max=top)
    low, high = patient.standard
    per_dose = (_mg(low * percent.min / 100), _mg(high * top / 100))
    how = f"{_span(percent.min, top, '%')} of {_span(low, high, ' mg/day')}"
    if percent.min != top and low != high:
        how += f" ({_n(percent.min)}% of the lowest, {_n(top)}% of the highest)"
    if step.frequency is Frequency.THRICE_WEEKLY:
        how += (
            f": one dose of {_span(*per_dose, ' mg')} on each of 3 days a week, not daily (the "
            "guideline's lower dose is that share of the standard daily dose, given thrice weekly)"
        )
    else:
        how += f": {_span(*per_dose, ' mg')} once a day"
        if step.frequency is None:
            how += " (the guideline gives no frequency; the standard daily regimen is assumed)"
    return _computed(step, per_dose, how, strengths)


def _absolute(
    step: DosingStep, patient: Patient, strengths: Strengths, names: Mapping[str, str]
) -> StepDose:
    """A step that gives an absolute starting dose (mg/kg/day or mg/m2/day) instead of a %."""
    for dose in step.starting_dose:
        size = patient.weight_kg if dose.unit == "mg/kg/day" else patient.bsa_m2
        if size is None:
            continue
        per_dose = (_mg(dose.min * size), _mg(dose.max * size))
        by = "kg" if dose.unit == "mg/kg/day" else "m2"
        how = (
            f"the guideline's starting dose {_span(dose.min, dose.max)} {dose.unit} × "
            f"{_n(size)} {by}: {_span(*per_dose, ' mg')} per dose"
        )
        return _computed(step, per_dose, how, strengths)
    return _no_mg(
        step,
        "not_computed",
        f"the guideline gives this dose in mg/m2/day: give {names['height_cm']}",
    )


def apply_dose(
    report: Report,
    request: DoseRequest,
    loaded: LoadedDoseData,
    names: Mapping[str, str] = CLI_NAMES,
) -> Report:
    """The report with a ``dose`` on each recommendation of the dose's drug (and on each of its
    more severe alternatives) and the context
    (inputs, standard dose, label data) on the report. InputError for what cannot be used."""
    data = loaded.data
    drugs = tuple(dict.fromkeys(rec.drug for rec in report.recommendations))
    indication = _indication(data, request, drugs)
    if indication is not None:
        drug = indication.drug
    elif len(drugs) == 1:
        drug = drugs[0]
    else:
        raise InputError(
            f"{names['planned_dose_mg']} without {names['indication']} needs exactly one drug "
            f"({names['drug']})"
        )
    bsa = None if request.height_cm is None else mosteller_bsa(request.height_cm, request.weight_kg)
    standard, basis = _standard(indication, request, bsa, names)
    condition = indication.condition if indication is not None else None
    stated: tuple[tuple[float, float, str], ...] = ()
    if indication is not None and indication.dose is not None and request.planned_dose_mg is None:
        stated = tuple((d.min, d.max, d.unit) for d in indication.dose_also)
    patient = Patient(
        request.weight_kg, bsa, condition, standard, indication.id if indication else "", stated
    )
    strengths = next(s for s in data.strengths if s.drug is drug)
    rows = tuple(
        _row_dose(rec, patient, strengths, names) if rec.drug is drug else rec
        for rec in report.recommendations
    )
    if request.planned_dose_mg is not None:  # the label's dose is not the one used
        source = f"input {names['planned_dose_mg']}"
    else:
        source = _source(data, indication, names)
    context = DoseContext(
        drug=drug,
        weight_kg=request.weight_kg,
        height_cm=request.height_cm,
        bsa_m2=bsa,
        bsa_formula=None if bsa is None else _formula(data),
        planned_dose_mg_per_day=request.planned_dose_mg,
        standard=StandardDose(
            mg_per_day=MgRange(min=standard[0], max=standard[1]),
            basis=basis,
            indication=indication.id if indication else None,
            indication_name=indication.name if indication else None,
            condition=condition,
            frequency=indication.frequency if indication else None,
            source=source,
        ),
        strengths=f"{'; '.join(strengths.forms)}; rounding step {_n(strengths.step_mg)} mg ("
        f"{strengths.how}){' UNVERIFIED' if strengths.evidence == 'unverified' else ''}: "
        f"{'; '.join(strengths.checked)}",
        data=DoseDataInfo(
            id=data.id, title=data.title, version=data.version, date=data.date, sha256=loaded.sha256
        ),
        notes=_notes(None if request.planned_dose_mg is not None else indication),
    )
    return report.model_copy(update={"recommendations": rows, "dose": context})


def _steps_dose(
    dosing: tuple[DosingStep, ...],
    patient: Patient,
    strengths: Strengths,
    names: Mapping[str, str],
) -> tuple[StepDose, ...]:
    return tuple(step_dose(step, patient, strengths, names) for step in dosing)


def _row_dose(
    rec: Recommendation, patient: Patient, strengths: Strengths, names: Mapping[str, str]
) -> Recommendation:
    """The row with a ``dose`` on it and on each of its more severe alternatives."""
    alternatives = tuple(
        alt.model_copy(update={"dose": _steps_dose(alt.dosing, patient, strengths, names)})
        for alt in rec.alternatives
    )
    return rec.model_copy(
        update={
            "dose": _steps_dose(rec.dosing, patient, strengths, names),
            "alternatives": alternatives,
        }
    )


def _formula(data: DoseData) -> str:
    formula = data.bsa_formula
    return f"{formula.name}: {formula.expression} ({formula.citation})"


def _notes(indication: Indication | None) -> tuple[str, ...]:
    notes = [
        "Starting doses only: adjust to blood counts and response; the mg figures follow the "
        "guideline's percentages and the standard dose shown, nothing else (no renal, hepatic "
        "or interacting-drug adjustment)."
    ]
    if indication is not None and indication.note:
        notes.append(indication.note)
    return tuple(notes)
