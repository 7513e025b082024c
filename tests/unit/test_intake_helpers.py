"""Helpers (no tests here): submission files built the way counties and prefectures send them."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

import openpyxl

from pilotzones.rules.programme import Programme, load
from pilotzones.rules.register import Register, load_register

EVALUATION_COLUMNS = ["year", "adcode", "county", "key", "value", "evidence"]
NOMINATION_COLUMNS = ["year", "prefecture", "adcode", "county", "contact_email", "reason"]
REVIEW_COLUMNS = ["year", "adcode", "review_score"]
ENCODINGS = ("utf-8", "utf-8-sig", "gb18030")


def programme() -> Programme:
    return load()


def register() -> Register:
    return load_register("650000")


def pilots() -> frozenset[str]:
    return frozenset(programme().pilots.initial)


def evaluation_rows(adcode: str = "654025", county: str = "新源县", year: int = 2023) -> list[dict]:
    """A complete valid evaluation: half the weight on every assessed item, plausible counts."""
    pairs = [(str(i.id), f"{(i.weight or 0) / 2:g}") for i in programme().rubric.items if i.rule == "assessed"]
    pairs += [
        ("29.village_doctors", "120"),
        ("29.village_doctors_licensed", "30"),
        ("29.village_doctors.prev", "118"),
        ("29.village_doctors_licensed.prev", "20"),
        ("40.national", "1"),
        ("40.nhc", "0"),
        ("40.regional", "2"),
        ("40.prefecture", "3"),
        ("41", "1"),
        ("42", "12"),
    ]
    return [
        {
            "year": str(year),
            "adcode": adcode,
            "county": county,
            "key": k,
            "value": v,
            "evidence": "见佐证材料",
        }
        for k, v in pairs
    ]


def row_of(rows: Sequence[dict], key: str) -> int:
    """The file row number of `key` in a file written from `rows` (header = row 1)."""
    return next(n for n, r in enumerate(rows, start=2) if r["key"] == key)


def with_value(rows: list[dict], key: str, value: str, column: str = "value") -> list[dict]:
    return [dict(r, **{column: value}) if r["key"] == key else r for r in rows]


def csv_bytes(rows: Sequence[dict], columns: Sequence[str], encoding: str = "utf-8") -> bytes:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(columns), lineterminator="\r\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue().encode(encoding)


def xlsx_bytes(rows: Sequence[dict], columns: Sequence[str], numeric: bool = True) -> bytes:
    """An XLSX workbook; with `numeric`, number-like cells are stored as numbers, as Excel does."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(list(columns))
    for r in rows:
        sheet.append([_cell(r.get(c, ""), numeric) for c in columns])
    other = book.create_sheet("说明")
    other.append(["this sheet is not read"])
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def _cell(value: object, numeric: bool) -> object:
    text = str(value)
    if numeric:
        try:
            number = float(text)
        except ValueError:
            return text
        return int(number) if number.is_integer() and "." not in text else number
    return text
