"""Check a prefecture's nomination file: its structure only; eligibility is judged per nomination later."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pilotzones.intake import RowError, gx, year_text
from pilotzones.intake.failures import ordered, row_errors
from pilotzones.intake.read import ROW, read_table
from pilotzones.intake.suites import load_suite
from pilotzones.rules.programme import Programme
from pilotzones.rules.register import Register, normalize_adcode, normalize_text


@dataclass
class NominationCheck:
    prefecture: str | None  # the nominating prefecture's code, if it could be told
    rows: list[dict] = field(default_factory=list)  # adcode, county, contact_email, reason, row
    errors: list[RowError] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return not self.errors


def check_nomination(
    data: bytes,
    filename: str,
    *,
    year: int,
    programme: Programme,
    register: Register,
    suites_dir: Path | None = None,
) -> NominationCheck:
    """Read and check one nomination file; list every structural error; raise FileUnreadable."""
    frame = prepare(read_table(data, filename, programme.limits), register)
    prefecture = _file_prefecture(frame)
    parameters = {"years": [str(year)], "prefectures": [prefecture] if prefecture else []}
    context = {
        "expected_year": year,
        "file_prefecture": f"{register.name(prefecture)}（{prefecture}）" if prefecture else "",
    }
    failures = gx.validate(frame, load_suite("nomination", programme, suites_dir), parameters)
    found = row_errors(failures, frame, context) + [(len(failures), e) for e in _name_errors(frame, register)]
    return NominationCheck(prefecture, _rows(frame), ordered(found))


def _name_errors(frame: pd.DataFrame, register: Register) -> list[RowError]:
    """A nominee's county name must be its code's official name or a short form, as in evaluation
    files. A code the register does not know is judged when the stage runs (not a county)."""
    if "adcode6" not in frame or "county" not in frame:
        return []
    errors = []
    for adcode, county, row in frame[["adcode6", "county", ROW]].itertuples(index=False, name=None):
        name = normalize_text(county)
        if not isinstance(adcode, str) or register.county(adcode) is None or register.names_match(adcode, name):
            continue
        shown = f"“{name}”" if name else "（空）"
        message = f"县名{shown}与代码{adcode}不符：应为“{register.name(adcode)}”或其通用简称。"
        errors.append(RowError(int(row), "county", "§3", message))
    return errors


def prepare(frame: pd.DataFrame, register: Register) -> pd.DataFrame:
    """Add the helper columns the nomination suite checks."""
    frame = frame.reset_index(drop=True)
    if "year" in frame:
        frame["year_text"] = frame["year"].map(year_text)
    if "adcode" in frame:
        frame["adcode6"] = frame["adcode"].map(normalize_adcode)
    if "prefecture" in frame:
        frame["prefecture_code"] = frame["prefecture"].map(register.prefecture_code)
    if "contact_email" in frame:
        frame["email"] = frame["contact_email"].map(normalize_text)
    return frame


def _file_prefecture(frame: pd.DataFrame) -> str | None:
    # The first prefecture that can be told is the sender; any other one in the file is an error.
    if "prefecture_code" not in frame:
        return None
    codes = frame["prefecture_code"].dropna()
    return str(codes.iloc[0]) if len(codes) else None


def _rows(frame: pd.DataFrame) -> list[dict]:
    rows = []
    for record in frame.to_dict("records"):
        adcode = record.get("adcode6")
        rows.append(
            {
                "adcode": adcode if isinstance(adcode, str) else normalize_text(record.get("adcode", "")),
                "county": normalize_text(record.get("county", "")),
                "contact_email": record.get("email", ""),
                "reason": record.get("reason", ""),
                "row": int(record[ROW]),
            }
        )
    return rows
