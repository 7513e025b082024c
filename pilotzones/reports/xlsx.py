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


def prefilled_form(
    path: Path, *, sheet: str, title: str, guide: str, header: list[str], rows: list[list[Any]], widths: list[int]
) -> Path:
    """A form a county fills in and sends back as it is (a rectification report, an objection): a
    title, a line saying what to fill, the header row intake reads (row 3), and the prefilled rows
    shaded, as text where they are text (a code keeps its leading zeros)."""
    wb = workbook(path)
    title_fmt = wb.add_format({"bold": True, "font_size": 14})
    head = wb.add_format({"bold": True, "bg_color": "#D9E1F2", "border": 1, "text_wrap": True})
    fixed = wb.add_format({"bg_color": "#EDEDED", "border": 1, "num_format": "@", "text_wrap": True})
    ws = wb.add_worksheet(sheet)
    ws.write_string(0, 0, title, title_fmt)
    ws.write_string(1, 0, guide)
    write_row(ws, FORM_HEADER_ROW, header, head)
    for n, values in enumerate(rows, start=FORM_HEADER_ROW + 1):
        write_row(ws, n, values, fixed)
    for col, width in enumerate(widths):
        ws.set_column(col, col, width)
    wb.close()
    return path


FORM_HEADER_ROW = 2  # the header row of a prefilled form (0-based: the third row)
# The columns every prefilled form starts with: who, which item, its maximum (read, or there for the clerk).
PREFILLED_COLUMNS = ["年度", "行政区划代码", "县（市、区）", "指标", "指标名称", "满分"]
