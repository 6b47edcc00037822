"""A composition's Report as JSON, the serialisation of its fields memoised: the same bytes as
``Report.model_dump_json()`` (the tests compare them), without re-serialising what repeats."""

from __future__ import annotations

from pydantic_core import to_json

from tpmt.cache import Memo
from tpmt.compose import Composition
from tpmt.models import Report

MEMO_SIZE = 256  # whole serialised reports (~30 KB each)
_NAMES = tuple(Report.model_fields)
_AT = _NAMES.index("sample")


_OMITTED_IF_NONE = frozenset(
    {"dose", "safety"}
)  # optional sections, absent (as in model_dump_json)


def _fields(report: Report, names: tuple[str, ...]) -> str:
    return ",".join(
        f'"{name}":{to_json(value).decode()}'
        for name in names
        if (value := getattr(report, name)) is not None or name not in _OMITTED_IF_NONE
    )


class ReportJson:
    """Compact JSON of Reports, each field serialised once per distinct composition."""

    def __init__(self, size: int = MEMO_SIZE) -> None:
        self._parts: Memo[tuple[object, ...], tuple[str, str]] = Memo("report JSON", size)

    def line(self, result: Composition, sample: str | None) -> str:
        """The Report of ``result`` named ``sample``, as one line of JSON (no newline)."""
        key = (result.advice.serial, result.tpmt.key, result.nudt15.key, result.warnings)
        head, tail = self._parts.get(key, lambda: self._split(result))
        return f"{head}{to_json(sample).decode()}{tail}"

    @staticmethod
    def _split(result: Composition) -> tuple[str, str]:
        """The serialised fields before the sample, and after it."""
        report = result.report(None)
        head = "{" + _fields(report, _NAMES[:_AT]) + ',"sample":'
        tail = "," + _fields(report, _NAMES[_AT + 1 :]) + "}"
        return head, tail
