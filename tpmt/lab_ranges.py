"""A laboratory's TPMT activity reference ranges (TOML or JSON), validated; a value's range.

tpmt ships no ranges of its own: each lab's ranges depend on its assay and unit, so the user
gives their lab's file (``--lab-ranges``). Every bound states whether it is inclusive; ranges
may not overlap, and a value between two ranges (e.g. 23.95 where a lab reports 17.0-23.9 and
24.0-44.0 to one decimal) falls in none and is refused, never rounded into one.
"""

from __future__ import annotations

import json
import math
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from tpmt.errors import InputError
from tpmt.textfile import read_text

MAX_FILE_BYTES = 1 << 16
# the phenotypes a range may give: CPIC's TPMT terms that an activity measures (no TPMT
# phenotype above Normal exists in CPIC, so a lab's "high" range is mapped to Normal Metabolizer)
RangePhenotype = Literal["Normal Metabolizer", "Intermediate Metabolizer", "Poor Metabolizer"]


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LabRange(_Closed):
    """One named range of activity values and the TPMT phenotype it stands for."""

    name: str = Field(min_length=1, max_length=40, description="e.g. low, intermediate, normal")
    phenotype: RangePhenotype
    min: float | None = Field(default=None, description="lower bound (absent: no lower bound)")
    min_inclusive: bool | None = Field(default=None, description="required with min")
    max: float | None = Field(default=None, description="upper bound (absent: no upper bound)")
    max_inclusive: bool | None = Field(default=None, description="required with max")
    note: str | None = Field(default=None, max_length=400, description="shown with the result")

    @model_validator(mode="after")
    def _bounds_stated(self) -> LabRange:
        for side in ("min", "max"):
            bound, inclusive = getattr(self, side), getattr(self, f"{side}_inclusive")
            if bound is not None and not math.isfinite(bound):
                raise ValueError(f"range {self.name!r}: {side} must be a finite number")
            if (bound is None) != (inclusive is None):
                raise ValueError(
                    f"range {self.name!r}: give {side} and {side}_inclusive together "
                    "(state whether the bound itself belongs to the range)"
                )
        if self.min is None and self.max is None:
            raise ValueError(f"range {self.name!r} has neither min nor max")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"range {self.name!r}: min is above max")
        return self

    def contains(self, value: float) -> bool:
        """Whether ``value`` lies in this range, bounds as stated."""
        if self.min is not None:
            if value < self.min or (value == self.min and not self.min_inclusive):
                return False
        if self.max is None or value < self.max:
            return True
        return value == self.max and bool(self.max_inclusive)

    def shown(self) -> str:
        """The range in words and symbols, e.g. 'intermediate: 17.0 ≤ x ≤ 23.9'."""
        low = "" if self.min is None else f"{self.min:g} {'≤' if self.min_inclusive else '<'} "
        high = "" if self.max is None else f" {'≤' if self.max_inclusive else '<'} {self.max:g}"
        return f"{self.name}: {low}x{high}"


class LabRanges(_Closed):
    """A laboratory's TPMT activity reference ranges for one assay and unit."""

    lab: str = Field(min_length=1, max_length=120, description="the laboratory the ranges are from")
    test: str | None = Field(default=None, max_length=200, description="the lab's test name/code")
    assay: str | None = Field(default=None, max_length=200, description="method, e.g. LC-MS/MS")
    unit: str = Field(min_length=1, max_length=40, description="e.g. U/mL RBC")
    source: str = Field(min_length=1, max_length=400, description="where the ranges come from")
    ranges: tuple[LabRange, ...] = Field(min_length=1, max_length=12)

    @model_validator(mode="after")
    def _no_overlap(self) -> LabRanges:
        names = [r.name for r in self.ranges]
        if len(set(names)) != len(names):
            raise ValueError("range names must be unique")
        for n, one in enumerate(self.ranges):
            for two in self.ranges[n + 1 :]:
                if _overlap(one, two):
                    raise ValueError(f"ranges {one.name!r} and {two.name!r} overlap")
        return self

    def label(self) -> str:
        """The lab and test, e.g. 'ARUP Laboratories (test 0092066)'."""
        return f"{self.lab} ({self.test})" if self.test else self.lab

    def matches_unit(self, unit: str) -> bool:
        """Whether ``unit`` is this file's unit (case and spacing aside)."""
        return _unit_key(unit) == _unit_key(self.unit)

    def classify(self, value: float) -> LabRange:
        """The range holding ``value``; InputError naming the ranges when none does."""
        for candidate in self.ranges:
            if candidate.contains(value):
                return candidate
        listed = "; ".join(r.shown() for r in self.ranges)
        raise InputError(
            f"the TPMT activity is in none of the lab ranges of {self.label()} ({listed}, in "
            f"{self.unit}); check the value and the lab ranges file"
        )


def _unit_key(unit: str) -> str:
    return " ".join(unit.split()).casefold()


def _overlap(one: LabRange, two: LabRange) -> bool:
    """Whether two ranges share a value (touching at a bound both include counts)."""
    lo_first = (one.min, one.min_inclusive) if one.min is not None else (-math.inf, False)
    lo_second = (two.min, two.min_inclusive) if two.min is not None else (-math.inf, False)
    start = max(lo_first, lo_second, key=lambda b: (b[0], not b[1]))
    hi_first = (one.max, one.max_inclusive) if one.max is not None else (math.inf, False)
    hi_second = (two.max, two.max_inclusive) if two.max is not None else (math.inf, False)
    end = min(hi_first, hi_second, key=lambda b: (b[0], b[1]))
    if start[0] != end[0]:
        return start[0] < end[0]
    return bool(start[1]) and bool(end[1])


def parse_lab_ranges(text: str, name: str, kind: Literal["toml", "json"]) -> LabRanges:
    """Lab ranges from the text of a TOML or JSON file; InputError naming the problem."""
    try:
        data = tomllib.loads(text) if kind == "toml" else json.loads(text)
    except (tomllib.TOMLDecodeError, ValueError) as exc:
        raise InputError(f"lab ranges {name}: not valid {kind.upper()} ({exc})") from None
    try:
        return LabRanges.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        if len(errors) > 1:  # a bad range also empties the list: name the range's problem only
            errors = [e for e in errors if e["type"] != "too_short"] or errors
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'file'}: "
            + err["msg"].removeprefix("Value error, ")
            for err in errors[:5]
        )
        raise InputError(f"lab ranges {name}: {problems}") from None


def load_lab_ranges(path: Path) -> LabRanges:
    """Lab ranges from a .toml or .json file."""
    suffix = path.suffix.lower()
    if suffix not in (".toml", ".json"):
        raise InputError(f"lab ranges {path.name!r}: give a .toml or .json file")
    text = read_text(path, "lab ranges", MAX_FILE_BYTES)
    kind: Literal["toml", "json"] = "toml" if suffix == ".toml" else "json"
    return parse_lab_ranges(text, repr(path.name), kind)
