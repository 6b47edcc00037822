"""How variant calls are read: quality thresholds and the assume-reference switch."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_MIN_GQ = 20
DEFAULT_MIN_DP = 10


@dataclass(frozen=True)
class CallOptions:
    """Quality gates (a value equal to the threshold passes) and absent-position handling.

    ``assume_reference`` takes positions absent from the input as reference for that run
    (never no-calls or filtered sites, and never a gene with nothing read on its chromosome).
    """

    min_gq: int = DEFAULT_MIN_GQ
    min_dp: int = DEFAULT_MIN_DP
    assume_reference: bool = False


DEFAULT_OPTIONS = CallOptions()
