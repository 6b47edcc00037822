"""tpmt: thiopurine dosing from TPMT and NUDT15 results, through versioned CPIC/DPWG rule sets.

    >>> from tpmt import interpret
    >>> report = interpret(tpmt="*3A/*1", nudt15="*1/*3", drugs=["mercaptopurine"])
    >>> report.genes["TPMT"].diplotype, report.genes["TPMT"].phenotype["CPIC"].value
    ('*1/*3A', 'Intermediate Metabolizer')
    >>> [a.diplotype for a in report.genes["TPMT"].alternatives]
    ['*3B/*3C']
    >>> report.recommendations[0].dosing[0].percent_of_standard
    Range(min=20, max=50)

Nothing is loaded at import; the guideline data are read on the first call.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "GuidelineError",
    "InputError",
    "Interpreter",
    "Report",
    "TpmtError",
    "__version__",
    "interpret",
    "interpret_many",
]

if TYPE_CHECKING:
    from tpmt.batch import interpret_many
    from tpmt.errors import GuidelineError, InputError, TpmtError
    from tpmt.interpreter import Interpreter, interpret
    from tpmt.models import Report

_LAZY = {
    "GuidelineError": "tpmt.errors",
    "InputError": "tpmt.errors",
    "TpmtError": "tpmt.errors",
    "Interpreter": "tpmt.interpreter",
    "interpret": "tpmt.interpreter",
    "Report": "tpmt.models",
    "interpret_many": "tpmt.batch",
}


def __getattr__(name: str) -> Any:
    """Import public names on first use so that ``import tpmt`` stays cheap."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'tpmt' has no attribute {name!r}")
