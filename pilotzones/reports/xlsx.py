"""What every workbook we write shares: XlsxWriter with no string ever taken for a formula."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import xlsxwriter

# Text a county sent (names, reasons, evidence) may start with = + - @; Excel and WPS would run
# it as a formula (CSV/DDE injection). Every string is written as a string, never parsed.
_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False, "in_memory": True}


def workbook(path: Path) -> xlsxwriter.Workbook:
    path.parent.mkdir(parents=True, exist_ok=True)
    return xlsxwriter.Workbook(str(path), _OPTIONS)


def write_row(ws: Any, row: int, values: list[Any], fmt: Any = None, col: int = 0) -> None:
    """Write one row: numbers as numbers, None as blank, everything else as text."""
    for j, v in enumerate(values):
        if v is None:
            ws.write_blank(row, col + j, None, fmt)
        elif isinstance(v, bool):
            ws.write_string(row, col + j, "是" if v else "", fmt)
        elif isinstance(v, int | float):
            ws.write_number(row, col + j, v, fmt)
        else:
            ws.write_string(row, col + j, str(v), fmt)
