"""Spreadsheets the platform writes (list exports, feedback sheets, reports, the warnings file, audit exports) quote
text that came from people — a declarant's words, a department's raw cell, a name — and must never run it.

A text cell that starts like a formula (= + - @, or a tab or carriage return that Excel skips before one) is what
CSV/formula injection rides on: in a CSV it is written with a leading apostrophe, which Excel and WPS show as plain
text; in an xlsx every string is stored as a string (xlsxwriter would otherwise turn "=…" into a formula and
"http…" into a link)."""

from __future__ import annotations

from typing import Any

FORMULA_LEAD = ("=", "+", "-", "@", "\t", "\r")

# xlsxwriter.Workbook options: strings stay strings.
XLSX_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}


def csv_text(value: Any) -> Any:
    """A CSV cell that a spreadsheet will show and never evaluate; numbers and other values pass unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_LEAD):
        return "'" + value
    return value


def xlsx_options(**extra: Any) -> dict[str, Any]:
    """xlsxwriter.Workbook options with XLSX_OPTIONS, plus `extra` (constant_memory, in_memory…)."""
    return {**extra, **XLSX_OPTIONS}
