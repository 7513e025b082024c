"""Intake of submitted files: read, validate (Great Expectations), and report errors by row and key.

Importing this package is cheap: pandas and Great Expectations load only when a check runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from pilotzones.errors import shown
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
    omitted: int = 0  # the closing line of a capped list (`capped`): how many errors it stands for

    def __str__(self) -> str:
        where = f"第{self.row}行" if self.row is not None else "全文件"
        key = f" [{shown(self.key)}]" if self.key else ""
        return f"{where}{key} {shown(self.message)}（依据{in_words(self.rule)}）"

    def as_json(self) -> dict:
        """The error as the Submission row keeps it."""
        out = {"row": self.row, "key": self.key, "rule": self.rule, "message": self.message}
        return out | {"omitted": self.omitted} if self.omitted else out


def capped(errors: list[RowError], limit: int) -> list[RowError]:
    """The first `limit` errors and, when there are more, one whole-file error counting the rest.

    What `submit` prints, the database keeps and the rejection notice lists: a file of a million
    bad rows is told about its first errors and how many more there are, not a million lines.
    """
    if len(errors) <= limit:
        return errors
    rest = len(errors) - limit
    message = (
        f"本文件共有{len(errors)}处错误，仅列出前{limit}处，其余{rest}处未逐一列出（方案限额 limits.listed_errors）："
        "请对照所列问题检查全文件，全部更正后重新报送。"
    )
    return [*errors[:limit], RowError(None, None, "§3", message, omitted=rest)]


def error_count(errors: list) -> int:
    """How many errors a capped list stands for (RowErrors or their stored dicts)."""
    return sum((e.get("omitted") if isinstance(e, dict) else e.omitted) or 1 for e in errors)


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


__all__ = ["RowError", "canonical_number", "capped", "error_count", "year_text"]
