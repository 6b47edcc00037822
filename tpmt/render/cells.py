"""Cells of tabular output (TSV), safe to open in a spreadsheet.

Control characters (tab, CR, LF, ESC, NUL, ...) become spaces, so a value cannot split a row or
send terminal escapes. A cell that a spreadsheet would read as a formula -- one starting with
``=``, ``+``, ``-`` or ``@`` -- gets a leading apostrophe, as the OWASP guidance on CSV
injection advises; spreadsheets show the value as text and the apostrophe is easy to strip.
"""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@")
_CONTROLS = dict.fromkeys((*range(32), 127), " ")


def printable(text: str) -> str:
    """``text`` with control characters (terminal escapes, line breaks) as spaces."""
    return text if text.isprintable() else text.translate(_CONTROLS)


def tsv_cell(value: object) -> str:
    """``value`` as one TSV cell: no control characters, never a spreadsheet formula."""
    text = "" if value is None else f"{value:g}" if isinstance(value, float) else str(value)
    if not text.isprintable():
        text = text.translate(_CONTROLS)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text
