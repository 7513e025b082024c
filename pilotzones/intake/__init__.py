"""Intake of submitted files: read, validate (Great Expectations), and report errors by row and key.

Importing this package is cheap: pandas and Great Expectations load only when a check runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from pilotzones.rules.clauses import in_words
from pilotzones.rules.register import normalize_text

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")


@dataclass(frozen=True)
class RowError:
    """One thing wrong with a submitted file, located by file row (header = 1) and key or column."""

    row: int | None  # None for a whole-file error
    key: str | None  # submission key, column name or adcode; None if not applicable
    rule: str  # contract reference: "R3", "R11", "§3", ...
    message: str  # Chinese: what is wrong and what is expected; the location is added by __str__

    def __str__(self) -> str:
        where = f"第{self.row}行" if self.row is not None else "全文件"
        key = f" [{self.key}]" if self.key else ""
        return f"{where}{key} {self.message}（依据{in_words(self.rule)}）"


def canonical_number(value: object) -> str | None:
    """Return a plain decimal number as canonical text ("12.50" -> "12.5", "３" -> "3"), else None."""
    text = normalize_text(value)
    # Exponents, thousands separators and words are refused: a form asks for plain numbers.
    if not _NUMBER.fullmatch(text):
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    if number == 0:
        return "0"
    return format(number.normalize(), "f")


def year_text(value: object) -> str:
    """Return a year cell as text, full-width digits folded and Excel's "2023.0" read as "2023"."""
    return re.sub(r"\.0+$", "", normalize_text(value))


__all__ = ["RowError", "canonical_number", "year_text"]
