"""Column and key names close to a field tpmt reads ('co_med', 'weight'): refused, not ignored.

A misspelt field is otherwise dropped in silence (a row without its co-medication check or
mg figures); other unknown names are allowed (LIMS files carry extra columns).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

# normalised name → the field meant: the obvious words for a field that fuzzy matching misses
SYNONYMS = {
    "comedication": "comed",
    "comedications": "comed",
    "weight": "weight_kg",
    "height": "height_cm",
}
CUTOFF = 0.8  # difflib ratio of the normalised names
MIN_FUZZY = 4  # a shorter field ('id') is matched only when equal once normalised ('ID')


def normalised(name: str) -> str:
    """'Co-Med', 'co_med', 'co med' → 'comed'."""
    return name.lower().replace("-", "").replace(" ", "").replace("_", "")


def closest_field(name: str, fields: Iterable[str]) -> str | None:
    """The field of ``fields`` that ``name`` (not itself one of them) looks like a misspelling
    of, or None: equal once normalised, a synonym, or close by difflib."""
    key = normalised(name)
    by_key = {normalised(field): field for field in sorted(fields)}
    if key in by_key:
        return by_key[key]
    meant = SYNONYMS.get(key)
    if meant is not None and meant in by_key.values():
        return meant
    candidates = [k for k in by_key if len(k) >= MIN_FUZZY]
    found = difflib.get_close_matches(key, candidates, n=1, cutoff=CUTOFF)
    return by_key[found[0]] if found else None


def near_miss_message(kind: str, shown_name: str, field: str) -> str:
    """The refusal of a near-miss: ``kind`` 'column' or 'field', ``shown_name`` the name as
    quoted (cut short), ``field`` the field it looks like."""
    return (
        f"{kind} {shown_name} is not one tpmt reads; did you mean {field!r}? Rename or remove "
        "it (tpmt does not ignore a near-miss of a field it reads)"
    )
