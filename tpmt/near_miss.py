"""Column and key names close to a field tpmt reads ('co_med', 'weight'): refused, not ignored.

A misspelt field is otherwise dropped in silence (a row without its co-medication check or
mg figures); other unknown names are allowed (LIMS files carry extra columns), and so is a
field's name with a suffix ('tpmt_activity_date', 'sample_no', 'tpmt1'): a different column.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

# normalised name → what was meant: the obvious words for a field that fuzzy matching misses
SYNONYMS = {
    "comedication": "'comed'",
    "comedications": "'comed'",
    "comedicationlist": "'comed'",
    "concomitantmedication": "'comed'",
    "concomitantmedications": "'comed'",
    "concomitantdrugs": "'comed'",
    "concomitantmeds": "'comed'",
    "currentmedications": "'comed'",
    "othermedications": "'comed'",
    "otherdrugs": "'comed'",
    "medication": "'drugs' (the thiopurine) or 'comed' (other drugs taken)",
    "medications": "'drugs' (the thiopurine) or 'comed' (other drugs taken)",
    "weight": "'weight_kg'",
    "height": "'height_cm'",
}
CUTOFF = 0.8  # difflib ratio of the normalised names
MIN_FUZZY = 4  # a shorter field ('id') is matched only when equal once normalised ('ID')
_NOT_LETTERS = re.compile(r"[^a-z0-9]")
_SEPARATED = re.compile(r"[^a-z0-9]+")


def normalised(name: str) -> str:
    """'Co-Med', 'co_med', 'co med', 'Co.Med' → 'comed'."""
    return _NOT_LETTERS.sub("", name.lower())


def _extends(name: str, fields: Iterable[str]) -> bool:
    """Whether ``name`` is a field's name with something after it ('sample_no', 'tpmt1')."""
    words = [w for w in _SEPARATED.split(name.lower()) if w]
    joined = normalised(name)
    for field in fields:
        field_words = [w for w in _SEPARATED.split(field.lower()) if w]
        if len(words) > len(field_words) and words[: len(field_words)] == field_words:
            return True
        key = normalised(field)
        if joined.startswith(key) and joined[len(key) :].isdigit():
            return True
    return False


def closest_field(name: str, fields: Iterable[str]) -> str | None:
    """What ``name`` (not itself one of ``fields``) looks like a misspelling of, quoted for a
    message ("'comed'"), or None: equal once normalised, a synonym, or close by difflib."""
    known = sorted(fields)
    key = normalised(name)
    by_key = {normalised(field): field for field in known}
    if key in by_key:
        return repr(by_key[key])
    meant = SYNONYMS.get(key)
    if meant is not None:
        return meant
    if _extends(name, known):
        return None
    candidates = [k for k in by_key if len(k) >= MIN_FUZZY]
    found = difflib.get_close_matches(key, candidates, n=1, cutoff=CUTOFF)
    return repr(by_key[found[0]]) if found else None


def near_miss_message(kind: str, shown_name: str, meant: str) -> str:
    """The refusal of a near-miss: ``kind`` 'column' or 'field', ``shown_name`` the name as
    quoted (cut short), ``meant`` what it looks like (quoted)."""
    return (
        f"{kind} {shown_name} is not one tpmt reads; did you mean {meant}? Rename or remove it "
        "(tpmt does not ignore a near-miss of a field it reads)"
    )
