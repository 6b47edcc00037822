"""Render the rule-set and allele listings (``tpmt guidelines``, ``tpmt alleles``)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from tpmt.errors import InputError
from tpmt.guidelines import GuidelineLibrary, RuleSet
from tpmt.parse import allele_sort_key, shown
from tpmt.report import guideline_info
from tpmt.vocab import Gene


def guidelines_data(library: GuidelineLibrary) -> list[dict[str, Any]]:
    """Every rule set's identity, aliases, provenance and notes."""
    aliases = library.aliases()
    out = []
    for rule_set_id in library.ids:
        rule_set = library.get(rule_set_id)
        entry = guideline_info(rule_set).model_dump(mode="json")
        entry["aliases"] = sorted(a for a, target in aliases.items() if target == rule_set_id)
        entry["default"] = rule_set_id in library.default_ids()
        entry["provenance"] = [p.model_dump(mode="json") for p in rule_set.manifest.provenance]
        entry["notes"] = list(rule_set.manifest.notes)
        out.append(entry)
    return out


def rule_data(library: GuidelineLibrary, rule_id: str) -> dict[str, Any]:
    """One recommendation row by its rule id ('cpic-2025:mercaptopurine.IM-IM'), as data.

    This is how the rule ids of compact records resolve to texts, dosing and references.
    """
    rule_set_id, _, local = rule_id.partition(":")
    drug_name, _, _ = local.partition(".")
    if rule_set_id not in library.ids:
        raise InputError(
            f"unknown rule id {shown(rule_id)}: no rule set {shown(rule_set_id)}; "
            f"accepted: <rule-set id>:<drug>.<row>, rule sets {', '.join(library.ids)}"
        )
    rule_set = library.get(rule_set_id)
    drug_rules = next((d for d in rule_set.drugs.values() if d.drug.value == drug_name), None)
    rule = None
    if drug_rules is not None:
        rule = next((r for r in drug_rules.rules if r.id == local), None)
    if drug_rules is None or rule is None:
        raise InputError(
            f"unknown rule id {shown(rule_id)} in {rule_set_id}; accepted: "
            "<rule-set id>:<drug>.<row>, e.g. cpic-2025:mercaptopurine.IM-IM"
        )
    advice = [drug_rules.advice[key] for key in rule.advice]
    return {
        "rule_id": rule_id,
        "guideline": guideline_info(rule_set).model_dump(mode="json"),
        "drug": drug_rules.drug.value,
        "when": {gene.value: phenotype.value for gene, phenotype in rule.when.items()},
        "context": {g.value: [p.value for p in ps] for g, ps in rule.context.items()},
        "source_id": rule.source_id,
        "classification": rule.classification.value if rule.classification else None,
        "text": " ".join(a.text for a in advice),
        "dosing": [
            step.model_dump(mode="json", exclude_defaults=True) for a in advice for step in a.dosing
        ],
        "implications": [line for a in advice for line in a.implications],
        "note": rule.note,
        "references": [r.model_dump(mode="json", exclude_none=True) for r in drug_rules.references],
    }


def render_rule(library: GuidelineLibrary, rule_id: str, as_json: bool) -> str:
    """One recommendation row by rule id, as JSON or text."""
    data = rule_data(library, rule_id)
    if as_json:
        return json.dumps(data, indent=2) + "\n"
    when = " + ".join(f"{gene} {phenotype}" for gene, phenotype in data["when"].items())
    lines = [
        f"{data['rule_id']}  ({data['guideline']['title']}, {data['guideline']['version']})",
        f"  {data['drug']} · {when} · {data['classification'] or 'not graded'}",
        *(f"  dosing: {json.dumps(step)}" for step in data["dosing"]),
        f"  {data['text']}",
        *(f"  implication: {line}" for line in data["implications"]),
        *([f"  note: {data['note']}"] if data["note"] else []),
        *(
            f"  reference: {r.get('title') or ''} {r.get('pmid') or r.get('doi') or r.get('url')}"
            for r in data["references"]
        ),
    ]
    return "\n".join(lines) + "\n"


def render_guidelines(library: GuidelineLibrary, as_json: bool) -> str:
    """The rule sets as JSON or text."""
    data = guidelines_data(library)
    if as_json:
        return json.dumps(data, indent=2) + "\n"
    lines = []
    for entry in data:
        flags = [f"alias {a}" for a in entry["aliases"]] + (["default"] if entry["default"] else [])
        flags += ["user-supplied, not verified"] if entry.get("origin") == "user" else []
        extra = f"  [{', '.join(flags)}]" if flags else ""
        citation = ", ".join(
            x
            for x in (
                f"PMID {entry['pmid']}" if entry["pmid"] else "",
                f"doi:{entry['doi']}" if entry["doi"] else "",
            )
            if x
        )
        lines += [
            f"{entry['id']}  {entry['source']}  {entry['date']}{extra}",
            f"  {entry['title']}",
            f"  {entry['version']}",
            f"  {citation}",
            f"  sha256 {entry['sha256']}",
        ]
        lines += [f"  data: {p['what']} — {p['source']}" for p in entry["provenance"]]
        lines += [f"  note: {note}" for note in entry["notes"]]
        lines.append("")
    return "\n".join(lines)


def alleles_data(gene: Gene, rule_sets: Sequence[RuleSet]) -> dict[str, Any]:
    """Allele → function per rule set (None where undefined or unassigned)."""
    names = sorted(
        {a for rs in rule_sets for a in [*rs.genes[gene].alleles, *rs.genes[gene].aliases]},
        key=allele_sort_key,
    )
    table: dict[str, dict[str, str]] = {}
    for name in names:
        table[name] = {}
        for rs in rule_sets:
            rules = rs.genes[gene]
            if name in rules.aliases:
                target = rules.aliases[name].allele
                table[name][rs.id] = f"= {target} ({rules.alleles[target]})"
            elif name in rules.alleles:
                function = rules.alleles[name]
                table[name][rs.id] = function.value if function else "no function assigned"
            else:
                table[name][rs.id] = "not defined"
    return {"gene": gene.value, "rule_sets": [rs.id for rs in rule_sets], "alleles": table}


def render_alleles(gene: Gene, rule_sets: Sequence[RuleSet], as_json: bool) -> str:
    """The allele table as JSON or aligned text."""
    data = alleles_data(gene, rule_sets)
    if as_json:
        return json.dumps(data, indent=2) + "\n"
    ids = data["rule_sets"]
    width = max(24, *(len(v) for row in data["alleles"].values() for v in row.values()))
    first = f"{gene.value} allele"
    column = max(13, len(first) + 2)
    lines = [f"{first:<{column}}" + "".join(f"{i:<{width + 2}}" for i in ids).rstrip()]
    for name, row in data["alleles"].items():
        lines.append(f"{name:<{column}}" + "".join(f"{row[i]:<{width + 2}}" for i in ids).rstrip())
    return "\n".join(lines) + "\n"
