"""Render the rule-set and allele listings (``tpmt guidelines``, ``tpmt alleles``)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from tpmt.guidelines import GuidelineLibrary, RuleSet
from tpmt.parse import allele_sort_key
from tpmt.report import guideline_info
from tpmt.vocab import Gene


def guidelines_data(library: GuidelineLibrary) -> list[dict[str, Any]]:
    """Every rule set's identity, aliases, provenance and notes."""
    aliases = library.aliases()
    out = []
    for rule_set_id in library.manifests:
        rule_set = library.get(rule_set_id)
        entry = guideline_info(rule_set).model_dump(mode="json")
        entry["aliases"] = sorted(a for a, target in aliases.items() if target == rule_set_id)
        entry["default"] = rule_set_id in library.default_ids()
        entry["provenance"] = [p.model_dump(mode="json") for p in rule_set.manifest.provenance]
        entry["notes"] = list(rule_set.manifest.notes)
        out.append(entry)
    return out


def render_guidelines(library: GuidelineLibrary, as_json: bool) -> str:
    """The rule sets as JSON or text."""
    data = guidelines_data(library)
    if as_json:
        return json.dumps(data, indent=2) + "\n"
    lines = []
    for entry in data:
        flags = [f"alias {a}" for a in entry["aliases"]] + (["default"] if entry["default"] else [])
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
    lines = [f"{gene.value} allele  " + "".join(f"{i:<{width + 2}}" for i in ids)]
    for name, row in data["alleles"].items():
        lines.append(f"{name:<13}" + "".join(f"{row[i]:<{width + 2}}" for i in ids).rstrip())
    return "\n".join(lines) + "\n"
