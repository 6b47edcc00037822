"""Co-medication and monitoring: the labels' statements added beside the genotype advice.

The rule engine decides the genotype advice; this module only attaches what the US labels say
about the drug with a co-medication (allopurinol, febuxostat) and about monitoring, each with
its source and evidence. It never multiplies a label reduction into the genotype reduction: both
are stated and the prescriber decides. A contraindication overrides any dose: the drug's mg
figures (when dose inputs were given), those of its more severe alternatives too, are
withdrawn and the reason is given instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from functools import partial

from tpmt.errors import InputError
from tpmt.frozen import FrozenDict
from tpmt.models import (
    ComedStatement,
    LabelMonitoring,
    Monitoring,
    Recommendation,
    Report,
    SafetyContext,
    SafetyDataInfo,
    SteadyState,
    StepDose,
)
from tpmt.safety_schema import Interaction, LoadedSafetyData, MonitoringEntry, SafetyData
from tpmt.vocab import Drug

CLI_NAMES = {"comed": "--comed"}
FIELD_NAMES = {"comed": "comed"}
MAX_COMEDS = 10
NOT_VERIFIED = "not verified against the current label"
NOT_CHECKED = (
    "Co-medications not listed are not checked: tpmt saying nothing about a drug is never a "
    "statement that it does not interact."
)
ORDER = {"contraindicated": 0, "reduce_dose": 1, "not_established": 2}
EVIDENCE = {
    "label": "read in the current label",
    "secondary": f"label text as copied by secondary sources, {NOT_VERIFIED}",
    "unverified": f"UNVERIFIED: no label text confirms it, {NOT_VERIFIED}",
}


def accepted_names(data: SafetyData) -> str:
    """'allopurinol (also zyloprim, aloprim), febuxostat (also uloric)'."""
    return ", ".join(
        c.id + (f" (also {', '.join(c.aliases)})" if c.aliases else "") for c in data.comedications
    )


def comed_request(
    values: Iterable[object] | str | None,
    data: SafetyData,
    names: Mapping[str, str] = CLI_NAMES,
) -> tuple[str, ...] | None:
    """The co-medications given, as canonical names in the data's order (comma lists and
    repeats accepted; case and spaces ignored); None when none is given. InputError names an
    unknown one by its position (never its value) and lists the accepted names."""
    if values is None:
        return None
    items = [values] if isinstance(values, str) else list(values)
    given: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise InputError(f"{names['comed']} must hold co-medication names (strings)")
        given += [part.strip().lower() for part in item.replace(";", ",").split(",")]
    given = [g for g in given if g]
    if not given:
        return None
    if len(given) > MAX_COMEDS:
        raise InputError(f"{names['comed']} takes at most {MAX_COMEDS} co-medications")
    lookup = {n: c.id for c in data.comedications for n in (c.id, *c.aliases)}
    for place, name in enumerate(given, start=1):
        if name not in lookup:
            raise InputError(
                f"co-medication {place} of {len(given)} in {names['comed']} is not one tpmt "
                f"checks; accepted: {accepted_names(data)}. {NOT_CHECKED}"
            )
    chosen = {lookup[name] for name in given}
    return tuple(c.id for c in data.comedications if c.id in chosen)


def _source(data: SafetyData, entry: Interaction | MonitoringEntry) -> str:
    label = next(x for x in data.labels if x.id == entry.label)
    set_id = f"set id {label.set_id}" if label.set_id else "set id not recorded"
    revision = f"revision {label.revision}" if label.revision else "revision date not recorded"
    section = f"section {entry.section!r}" if entry.section else "section not recorded"
    return (
        f"FDA label: {label.product}, {set_id}, {revision}, {section}; "
        f"{EVIDENCE[entry.evidence]} ({'; '.join(entry.checked)}); data entry {entry.id}"
    )


def genotype_words(rec: Recommendation) -> str:
    """The row's dosing steps in words, named by guideline: 'CPIC cpic-2025: 30–80% ...'."""
    from tpmt.render.text import describe_step

    steps = "; ".join(describe_step(step) for step in rec.dosing)
    return f"{rec.source.value} {rec.guideline}: {steps}"


def _advice(entry: Interaction, rec: Recommendation, shown: str) -> str:
    """Both pieces of advice side by side, never combined into one number."""
    label = "FDA label" + ("" if entry.evidence == "label" else f", {NOT_VERIFIED}")
    if entry.effect == "contraindicated":
        return (
            f"CONTRAINDICATED with {entry.comed} ({label}): {entry.short}. This overrides the "
            f"genotype advice (genotype: {shown}); no dose is given for the combination"
        )
    if entry.effect == "reduce_dose":
        return (
            f"genotype: {shown}; {entry.comed}: {entry.short} ({label}). tpmt does not combine "
            "them — the prescriber decides; a combined reduction may be needed"
        )
    return (
        f"{entry.comed}: {entry.short} ({label}); the genotype advice stands on its own "
        f"(genotype: {shown}). This is not a statement that {entry.comed} and {rec.drug.value} "
        "do not interact"
    )


def comed_statements(
    rec: Recommendation, comeds: tuple[str, ...], data: SafetyData
) -> tuple[ComedStatement, ...]:
    """The labels' statements for this row's drug with each co-medication given."""
    shown = genotype_words(rec)
    entries = [i for c in comeds for i in data.interactions if i.drug is rec.drug and i.comed == c]
    entries.sort(key=lambda i: ORDER[i.effect])
    return tuple(
        ComedStatement(
            comed=entry.comed,
            effect=entry.effect,
            short=entry.short,
            statement=entry.statement,
            genotype=shown,
            advice=_advice(entry, rec, shown),
            verified=entry.evidence == "label",
            source=_source(data, entry),
            data_id=entry.id,
        )
        for entry in entries
    )


def monitoring(rec: Recommendation, data: SafetyData) -> Monitoring:
    """The label's monitoring for the row's drug and the row's time to steady state (the
    sources are named once per report, in ``safety_context``)."""
    label = tuple(
        LabelMonitoring(
            tests=m.tests, schedule=m.schedule, verified=m.evidence == "label", data_id=m.id
        )
        for m in data.monitoring
        if m.drug is rec.drug
    )
    steady = tuple(
        SteadyState(condition=step.condition, weeks=step.steady_state_weeks)
        for step in rec.dosing
        if step.steady_state_weeks is not None
    )
    return Monitoring(label=label, steady_state=steady)


def contraindications(rec: Recommendation) -> list[ComedStatement]:
    """The row's co-medication statements that are contraindications."""
    return [s for s in rec.comed or () if s.effect == "contraindicated"]


WITHDRAWN = frozenset(  # the steps a dose is for (withdrawn for a contraindication)
    {"computed", "no_reduction_needed", "not_computed"}
)


def _withdrawn(dose: StepDose, statements: tuple[ComedStatement, ...]) -> StepDose:
    """A step's dose without mg figures because a co-medication is contraindicated (a step for
    the other condition, or one advising against the drug, is left as it is)."""
    if dose.status not in WITHDRAWN:
        return dose
    named = ", ".join(s.comed for s in statements)
    return dose.model_copy(
        update={
            "status": "no_dose",
            "mg_per_dose": None,
            "doses_per_week": None,
            "mg_per_week": None,
            "rounded_mg_per_dose": None,
            "rounding": None,
            "rounding_verified": None,
            "explanation": f"CONTRAINDICATED with {named} (FDA label, {NOT_VERIFIED}): no "
            "mg figure is given for a contraindicated combination",
        }
    )


EXCLUDING = {
    "computed": "computed_excluding_comed",
    "no_reduction_needed": "no_reduction_needed_excluding_comed",
}


def _excluding(dose: StepDose, statements: tuple[ComedStatement, ...]) -> StepDose:
    """A step with a dose (or the standard one) marked as not including the co-medications'
    label reductions."""
    status = EXCLUDING.get(dose.status)
    if status is None:
        return dose
    named = "; ".join(f"{s.comed}: {s.short}" for s in statements)
    return dose.model_copy(
        update={
            "status": status,
            "explanation": f"{dose.explanation}. NOT included: the co-medication reduction "
            f"({named}; FDA label, {NOT_VERIFIED})",
        }
    )


def monitored(rec: Recommendation, data: SafetyData) -> Recommendation:
    """The row with its drug's label monitoring and its time to steady state."""
    return rec.model_copy(update={"monitoring": monitoring(rec, data)})


MONITORING_NOTE = (
    "The label monitoring schedules apply to every patient on the drug, whatever the genotype. "
    "After a dose change, check blood counts again once steady state is reached (the time each "
    "guideline row gives, where it gives one)."
)


def safety_context(
    comeds: tuple[str, ...],
    loaded: LoadedSafetyData,
    with_dose: bool = False,
    monitored_drugs: Iterable[Drug] = (),
) -> SafetyContext:
    """What was checked and the label data behind the rows' co-medication statements and
    monitoring (the monitoring entries' sources, for ``monitored_drugs``)."""
    data = loaded.data
    drugs = set(monitored_drugs)
    notes = [NOT_CHECKED] if comeds else []
    if comeds and with_dose:
        notes.append(
            "The mg figures are the genotype-based doses only: they include no co-medication "
            "reduction (see each drug's co-medication advice)."
        )
    if drugs:
        notes.append(MONITORING_NOTE)
    notes.append(
        "Every label statement here was taken from copies of the label text; it is "
        f"{NOT_VERIFIED} unless it says it was read there."
    )
    return SafetyContext(
        comed=comeds,
        checked=tuple(c.id for c in data.comedications),
        notes=tuple(notes),
        sources={m.id: _source(data, m) for m in data.monitoring if m.drug in drugs},
        data=SafetyDataInfo(
            id=f"{data.id}/safety",
            title=data.title,
            version=data.version,
            date=data.date,
            sha256=loaded.sha256,
        ),
    )


def drug_monitoring(rows: Iterable[Recommendation]) -> dict[Drug, Monitoring]:
    """Each drug whose rows carry the label monitoring, with it (the same on all of the drug's
    rows), in report order."""
    found: dict[Drug, Monitoring] = {}
    for rec in rows:
        if rec.monitoring is not None and rec.drug not in found:
            found[rec.drug] = rec.monitoring
    return found


def _with_comeds(rec: Recommendation, comeds: tuple[str, ...], data: SafetyData) -> Recommendation:
    statements = comed_statements(rec, comeds, data)
    against = tuple(s for s in statements if s.effect == "contraindicated")
    reducing = tuple(s for s in statements if s.effect == "reduce_dose")
    if against:
        mark: Callable[[StepDose], StepDose] | None = partial(_withdrawn, statements=against)
    elif reducing:
        mark = partial(_excluding, statements=reducing)
    else:
        mark = None
    update: dict[str, object] = {"comed": statements}
    if mark is not None and rec.dose:
        update["dose"] = tuple(map(mark, rec.dose))
    if mark is not None and any(alt.dose for alt in rec.alternatives):
        update["alternatives"] = tuple(
            alt.model_copy(update={"dose": tuple(map(mark, alt.dose))}) if alt.dose else alt
            for alt in rec.alternatives
        )
    return rec.model_copy(update=update)


def with_safety(report: Report, comeds: tuple[str, ...] | None, loaded: LoadedSafetyData) -> Report:
    """The report with the labels' co-medication statements (``comeds``) on each
    recommendation, and what was checked on the report; unchanged when none is given. (The
    monitoring is on every row already: the Interpreter adds it.)"""
    if not comeds:
        return report
    data = loaded.data
    rows = tuple(_with_comeds(rec, comeds, data) for rec in report.recommendations)
    context = safety_context(comeds, loaded, report.dose is not None, drug_monitoring(rows))
    update: dict[str, object] = {"recommendations": rows, "safety": context}
    if report.dose is not None:
        against = sorted(
            {s.comed for r in rows if r.drug is report.dose.drug for s in contraindications(r)}
        )
        if against:
            warning = (
                f"{report.dose.drug.value} is CONTRAINDICATED with {', '.join(against)} (FDA "
                f"label, {NOT_VERIFIED}): no dose is given; the standard dose shown is the "
                "label's dose without the co-medication, not a dose for this patient."
            )
            dose_notes = (warning, *report.dose.notes)
            update["dose"] = report.dose.model_copy(update={"notes": dose_notes})
    return report.model_copy(update=update)


def without_monitoring(report: Report) -> Report:
    """The report without the label monitoring (``--no-monitoring``; co-medications kept)."""
    if not any(rec.monitoring is not None for rec in report.recommendations):
        return report
    rows = tuple(rec.model_copy(update={"monitoring": None}) for rec in report.recommendations)
    safety = report.safety
    if safety is not None and safety.comed:
        notes = tuple(n for n in safety.notes if n != MONITORING_NOTE)
        safety = safety.model_copy(update={"notes": notes, "sources": FrozenDict()})
    else:
        safety = None
    return report.model_copy(update={"recommendations": rows, "safety": safety})


def apply_safety(
    report: Report,
    comed: Iterable[object] | str | None,
    watch: bool = True,
    names: Mapping[str, str] = CLI_NAMES,
) -> Report:
    """``with_safety`` with the bundled data (verified on first use) and unchecked names;
    ``watch`` False drops the label monitoring."""
    if not watch:
        report = without_monitoring(report)
    if comed is None:
        return report
    from tpmt.safety_schema import bundled_safety_data

    loaded = bundled_safety_data()
    return with_safety(report, comed_request(comed, loaded.data, names), loaded)
