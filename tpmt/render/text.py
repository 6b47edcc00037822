"""Render a Report as plain terminal text."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence

from tpmt.comed import contraindications
from tpmt.guideline_schema import DosingStep, Range, Reference
from tpmt.models import AdviceAlternative, AlternativeCause, GeneResult, Recommendation, Report
from tpmt.render.activity import activity_summary
from tpmt.render.cells import printable
from tpmt.render.dose_text import alternative_dose, context_lines, step_line
from tpmt.render.safety_text import banner, comed_line, label_lines
from tpmt.render.safety_text import context_lines as safety_context
from tpmt.vocab import Action, Condition, Gene, Phenotype

WIDTH = 100
SHORT = {
    Phenotype.NORMAL: "NM",
    Phenotype.INTERMEDIATE: "IM",
    Phenotype.POSSIBLE_INTERMEDIATE: "PIM",
    Phenotype.POOR: "PM",
    Phenotype.INDETERMINATE: "Indeterminate",
    Phenotype.NO_RESULT: "No Result",
}


def _num(value: float) -> str:
    return f"{value:g}"


def _range(r: Range, unit: str = "") -> str:
    if r.max is None:
        return f"≥{_num(r.min)}{unit}"
    if r.max == r.min:
        return f"{_num(r.min)}{unit}"
    return f"{_num(r.min)}–{_num(r.max)}{unit}"


def describe_step(step: DosingStep) -> str:
    """One dosing step in a line of words and numbers."""
    parts: list[str] = []
    if step.action is Action.STANDARD_DOSE:
        parts.append("standard dose")
    elif step.action is Action.REDUCE_DOSE:
        if step.percent_of_standard is not None:
            parts.append(f"{_range(step.percent_of_standard, '%')} of the standard dose")
        else:
            parts.append("reduced dose")
    else:
        parts.append(
            {
                Action.CONSIDER_ALTERNATIVE: "consider a non-thiopurine alternative",
                Action.MEASURE_ACTIVITY: "consider measuring erythrocyte TPMT activity",
                Action.MONITOR: "monitor closely for toxicity",
                Action.NO_GUIDANCE: "no dosing guidance",
                Action.NO_ACTION: "no action for this gene",
            }[step.action]
        )
    if step.applies_if_standard_dose_at_least:
        limits = " or ".join(
            f"≥{_num(q.value)} {q.unit}" for q in step.applies_if_standard_dose_at_least
        )
        parts.append(f"if the standard dose is {limits}")
    if step.starting_dose:
        doses = " or ".join(
            f"{_range(Range(min=d.min, max=d.max))} {d.unit}" for d in step.starting_dose
        )
        parts.append(f"e.g. {doses}")
    if step.frequency is not None:
        parts.append(step.frequency.value.replace("_", " "))
    if step.steady_state_weeks is not None:
        parts.append(f"steady state after {_range(step.steady_state_weeks)} weeks")
    line = ", ".join(parts)
    if step.condition is not Condition.ANY:
        line = f"{step.condition.value}: {line}"
    return line + (f" ({step.note})" if step.note else "")


def _wrap(text: str, indent: str, hang: int = 0) -> list[str]:
    later = indent + " " * hang
    return textwrap.wrap(
        text, WIDTH, initial_indent=indent, subsequent_indent=later, break_on_hyphens=False
    ) or [indent]


MAX_POSITIONS = 10  # untested positions named in text (all are in the JSON evidence)
MAX_EXAMPLES = 4  # diplotypes named per phenotype for untested positions


def gene_heading(result: GeneResult) -> str:
    """What a gene line starts with: the call, the reported input, or why there is none."""
    if result.diplotype:
        return result.diplotype + (" (presumptive)" if result.presumptive else "")
    if result.input:
        return result.input
    if all(p is Phenotype.NO_RESULT for p in result.phenotype.values()):
        return "not tested"
    return "no diplotype called"


def untested_summary(result: GeneResult) -> list[str]:
    """Untested-position alternatives grouped by the phenotype they would give."""
    groups: dict[str, list[str]] = {}
    for alt in result.alternatives:
        if alt.basis != "untested":
            continue
        label = ", ".join(f"{s} {p}" for s, p in alt.phenotype.items())
        if any(p != result.phenotype[s] for s, p in alt.phenotype.items()):
            groups.setdefault(label, []).append(alt.diplotype)
    return [
        f"{label} ({', '.join(d[:MAX_EXAMPLES])}{', ...' if len(d) > MAX_EXAMPLES else ''})"
        for label, d in groups.items()
    ]


def _gene_lines(gene: Gene, result: GeneResult) -> list[str]:
    lines = [f"  {gene.value:<7} {gene_heading(result)}"]
    if result.alleles:
        functions = "; ".join(
            f"{a.name} " + " / ".join(f"{s}: {f}" for s, f in a.function.items())
            for a in result.alleles
        )
        lines += _wrap(functions, " " * 10)
    phenotypes = " · ".join(f"{source} {phen}" for source, phen in result.phenotype.items())
    lines.append(" " * 10 + phenotypes)
    if result.activity is not None:
        lines += _wrap(activity_summary(result.activity), " " * 10, 2)
        lines += _wrap(result.activity.caveat, " " * 10, 2)
    for alt in result.alternatives:
        if alt.basis == "untested":
            continue
        alt_ph = ", ".join(f"{s} {p}" for s, p in alt.phenotype.items())
        basis = alt.basis.replace("_", " ") + (f": {alt.assumption}" if alt.assumption else "")
        lines += _wrap(f"alternative ({basis}): {alt.diplotype} → {alt_ph}", " " * 10, 2)
    untested = untested_summary(result)
    if untested:
        lines += _wrap("untested positions also allow: " + "; ".join(untested), " " * 10, 2)
    if result.evidence is not None:
        evidence = result.evidence
        called = sum(site.called for site in evidence.sites)
        panel = ", ".join(
            f"{a} {'tested' if ok else 'NOT TESTED'}" for a, ok in evidence.minimum_panel.items()
        )
        lines += _wrap(
            f"evidence: {called}/{len(evidence.sites)} defining positions tested; "
            f"minimum panel: {panel}",
            " " * 10,
            2,
        )
        if evidence.uncalled:
            more = len(evidence.uncalled) - MAX_POSITIONS
            shown = ", ".join(evidence.uncalled[:MAX_POSITIONS])
            lines += _wrap(
                "not tested: " + shown + (f" and {more} more" if more > 0 else ""), " " * 10, 2
            )
        if evidence.novel:
            lines += _wrap("novel: " + ", ".join(evidence.novel), " " * 10, 2)
    for limitation in result.limitations:
        lines += _wrap("limitation: " + limitation, " " * 10, 2)
    for warning in result.warnings:
        lines += _wrap("! " + warning, " " * 10, 2)
    return lines


def causes_text(because: Sequence[AlternativeCause], more: int) -> str:
    """'TPMT *3B/*3C (phase)': the diplotypes behind an alternative, grouped by gene and basis."""
    groups: dict[tuple[str, str], list[str]] = {}
    for cause in because:
        label = cause.diplotype + (f" [{cause.assumption}]" if cause.assumption else "")
        groups.setdefault((cause.gene.value, cause.basis), []).append(label)
    parts = []
    for (gene, basis), labels in groups.items():
        if basis == "untested":
            extra = more + max(len(labels) - 2, 0)
            shown = ", ".join(labels[:2]) + (f" or {extra} more" if extra else "")
            parts.append(f"{gene} {shown} (untested positions)")
        else:
            parts.append(f"{gene} {', '.join(labels)} ({basis.replace('_', ' ')})")
    return "; ".join(parts)


def outcome_text(
    lookup: Mapping[Gene, Phenotype], dosing: Sequence[DosingStep], rule_id: str
) -> str:
    """'TPMT PM + NUDT15 IM: <dosing> (rule ...)': what an alternative row advises."""
    phenotypes = " + ".join(f"{g} {SHORT[p]}" for g, p in lookup.items())
    return f"{phenotypes}: {'; '.join(describe_step(step) for step in dosing)} (rule {rule_id})"


def alternative_line(alt: AdviceAlternative) -> str:
    """'if *3B/*3C (TPMT Poor Metabolizer): ...' for a more severe alternative row, with its
    dose in mg when dose inputs were given."""
    line = (
        f"if {causes_text(alt.because, alt.more)} → "
        f"{outcome_text(alt.lookup, alt.dosing, alt.rule_id)}"
    )
    dose = alternative_dose(alt.dose)
    return f"{line}; {dose}" if dose else line


def _recommendation_lines(rec: Recommendation) -> list[str]:
    lookup = " + ".join(f"{g} {SHORT[p]}" for g, p in rec.lookup.items())
    strength = rec.classification.value if rec.classification else "not graded"
    genes = "/".join(g.value for g in rec.genes)
    header = f"{rec.source.value} ({rec.guideline}) · {genes} · {strength} · {lookup} · "
    # 'rule' and its id stay on one line (textwrap breaks at ASCII spaces only)
    lines = [
        line.replace("\u00a0", " ") for line in _wrap(header + f"rule\u00a0{rec.rule_id}", "  ", 4)
    ]
    for statement in rec.comed or ():
        lines += _wrap("! Co-medication: " + comed_line(statement), "    ", 2)
    for step in rec.dosing:
        lines += _wrap("- " + describe_step(step), "    ", 2)
    lines += _wrap(rec.text, "    ")
    for implication in rec.implications:
        lines += _wrap("Implication: " + implication, "    ", 2)
    for warning in rec.warnings:
        lines += _wrap("! " + warning, "    ", 2)
    for dose in rec.dose or ():
        lines += _wrap("Dose: " + step_line(dose), "    ", 6)
    if rec.alternatives:
        lines.append("    More severe advice the evidence leaves possible:")
        for alt in rec.alternatives:
            lines += _wrap("! " + alternative_line(alt), "    ", 2)
    return lines


def _reference(ref: Reference) -> str:
    ids = [f"PMID {ref.pmid}" if ref.pmid else "", f"doi:{ref.doi}" if ref.doi else ""]
    label = ", ".join(i for i in ids if i) or (ref.url or "")
    return f"{label} — {ref.title}" if ref.title else label


def render_report(report: Report, explain: bool = False) -> str:
    """The report as terminal text; ``explain`` adds the rule trace."""
    lines = [f"tpmt {report.tool_version} · thiopurine dosing from TPMT and NUDT15", ""]
    if report.sample is not None:
        lines[1:1] = [f"Sample {printable(report.sample)}"]
    lines.append("Genes")
    for gene, result in report.genes.items():
        lines += _gene_lines(gene, result)
    current = None
    for index, rec in enumerate(report.recommendations):
        if rec.drug != current:
            current = rec.drug
            lines += ["", rec.drug.value.capitalize()]
            for statement in contraindications(rec):
                lines += _wrap("  ! " + banner(statement), "", 4)
            if report.dose is not None and report.dose.drug is rec.drug:
                lines.append("  Dose in mg")
                lines += [w for line in context_lines(report.dose) for w in _wrap(line, "    ", 2)]
        lines += _recommendation_lines(rec)
        following = report.recommendations[index + 1 : index + 2]
        if rec.monitoring is not None and (not following or following[0].drug is not rec.drug):
            lines.append("  Monitoring (US label, for every row above)")
            lines += [
                w for line in label_lines(rec.monitoring) for w in _wrap("- " + line, "    ", 2)
            ]
    lines += ["", "References"]
    seen: list[str] = []
    for rec in report.recommendations:
        for ref in rec.references:
            text = _reference(ref)
            if text not in seen:
                seen.append(text)
    lines += [line for text in seen for line in _wrap(text, "  ")]
    lines += ["", "Rule sets"]
    for info in report.guidelines:
        lines += _wrap(
            f"{info.id} · {info.title} · {info.version} ({info.date}) · sha256 {info.sha256[:16]}",
            "  ",
        )
    if report.safety is not None:
        lines += ["", "Co-medication and monitoring (US labels)"]
        lines += [w for line in safety_context(report.safety) for w in _wrap(line, "  ", 2)]
    for warning in report.warnings:
        lines += _wrap("! " + warning, "")
    if explain:
        lines += ["", "Rule trace (facts → rule → derived)"]
        for step in report.trace:
            facts = "; ".join(_fact(f) for f in step.fact)
            derived = _fact(step.derived) if step.derived else "advice selected"
            lines += _wrap(f"{step.stage:<14} {step.rule_id}: {facts} ⇒ {derived}", "  ")
    lines += [
        "",
        "Decision support only: check every result against the cited guidelines and the "
        "clinical context.",
    ]
    return "\n".join(lines) + "\n"


def _fact(fact: Mapping[str, object]) -> str:
    shown = {
        k: list(v) if isinstance(v, tuple) else v for k, v in fact.items() if k not in ("t", "by")
    }
    return f"{fact.get('t')}(" + ", ".join(f"{k}={v}" for k, v in shown.items()) + ")"
