"""A measured TPMT activity in words, for every output format (one sentence, no markup)."""

from __future__ import annotations

from tpmt.models import ActivityResult

_USE = {"activity": "the activity", "genotype": "the genotype", "both": "both (they agree)"}


def activity_summary(activity: ActivityResult) -> str:
    """'TPMT activity 12 U/mL RBC: low (x < 17) by ARUP Laboratories → Poor Metabolizer; ...'."""
    lab = f"{activity.lab} ({activity.test})" if activity.test else activity.lab
    head = (
        f"TPMT activity {activity.value:g} {activity.unit}: {activity.range} "
        f"({activity.range_bounds}) by {lab} → {activity.phenotype}"
    )
    if activity.genotype_phenotype is None:
        return f"{head}; no genotype given: the recommendations follow the activity"
    uses = set(activity.used.values())
    if len(uses) == 1:
        followed = _USE[next(iter(uses))]
    else:
        followed = ", ".join(f"{s}: {_USE[u]}" for s, u in activity.used.items())
    if activity.discordant:
        state = "DISCORDANT with the genotype: the recommendations follow the more severe"
    elif "activity" in uses:
        state = "the genotype gives no phenotype to compare: the recommendations follow"
    else:
        state = "concordant with the genotype: the recommendations follow"
    return f"{head}; {state}, {followed}"


def activity_cell(activity: ActivityResult | None) -> str:
    """A short cell for tables: '12 U/mL RBC low → Poor Metabolizer (discordant)'."""
    if activity is None:
        return ""
    flag = " (discordant)" if activity.discordant else ""
    return f"{activity.value:g} {activity.unit} {activity.range} → {activity.phenotype}{flag}"
