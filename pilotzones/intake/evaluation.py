"""Check an evaluation submission (one county's monitoring data for a year) against §3 and R1-R3, R11."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pilotzones.intake import RowError, canonical_number, gx, year_text
from pilotzones.intake.failures import ordered, row_errors
from pilotzones.intake.read import ROW, read_table
from pilotzones.intake.suites import load_suite
from pilotzones.programme import Programme
from pilotzones.register import Register, normalize_adcode, normalize_text


@dataclass
class EvaluationCheck:
    adcode: str | None  # the county the file is about, if it could be told
    county: str | None  # its official name
    values: dict[str, str] = field(default_factory=dict)  # key -> canonical decimal string
    evidence: dict[str, str] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return not self.errors


def check_evaluation(
    data: bytes,
    filename: str,
    *,
    year: int,
    programme: Programme,
    register: Register,
    pilots: frozenset[str],
    suites_dir: Path | None = None,
) -> EvaluationCheck:
    """Read and check one evaluation file; list every error; raise FileUnreadable if it is no table."""
    frame = prepare(read_table(data, filename), programme)
    adcode = file_adcode(frame)
    official = register.name(adcode) if adcode and register.county(adcode) else None
    parameters = {
        "years": [str(year)],
        "adcodes": [adcode] if adcode else [],
        "score_decimals": programme.rules.score_decimals,
    }
    context = {
        "expected_year": year,
        "score_decimals": programme.rules.score_decimals,
        "file_county": f"{adcode}{f'（{official}）' if official else ''}" if adcode else "",
    }
    failures = gx.validate(frame, load_suite("evaluation", programme, suites_dir), parameters)
    found = row_errors(failures, frame, context)
    found += [(len(failures), e) for e in _county_errors(frame, adcode, register, pilots, programme)]
    values, evidence = _values(frame)
    return EvaluationCheck(adcode, official, values, evidence, ordered(found))


def prepare(frame: pd.DataFrame, programme: Programme) -> pd.DataFrame:
    """Add the helper columns the suite checks; helpers of an absent column are left out."""
    frame = frame.reset_index(drop=True)
    kinds = programme.rubric.key_kinds()
    if "key" in frame:
        keys = map_distinct(frame["key"], _key)
        frame["key"] = keys.where(keys != "", None)
        frame["first_row"] = frame.groupby("key")[ROW].transform("min")
    if "value" in frame:
        number = map_distinct(frame["value"], canonical_number)
        frame["number"] = number
        frame["value_num"] = pd.to_numeric(number, errors="coerce").astype("float64")
        frame["value_decimals"] = map_distinct(number, _decimals).astype("float64")
    if "key" in frame and "value" in frame:
        _split_by_kind(frame, kinds)
        _pair_limits(frame, programme.rubric.pairs())
    if "year" in frame:
        frame["year_text"] = map_distinct(frame["year"], year_text)
    if "adcode" in frame:
        frame["adcode6"] = map_distinct(frame["adcode"], normalize_adcode)
    return frame


def map_distinct(values: pd.Series, fn: Callable[[Any], Any]) -> pd.Series:
    """`values.map(fn)`, calling `fn` once per distinct value rather than once per row.

    A batch of thousands of files repeats the same keys, years and codes in every file; the
    distinct values are mapped by `Series.map` itself, so the result has the dtype it would have.
    """
    codes, _ = pd.factorize(values, use_na_sentinel=False)
    _, first = np.unique(codes, return_index=True)  # codes number values by first appearance
    mapped = values.iloc[first].map(fn)
    return mapped.take(codes).set_axis(values.index).rename(values.name)


def _key(value: object) -> str:
    text = normalize_text(value)
    # An item number typed into a numeric spreadsheet cell comes back as "12.0".
    return re.sub(r"^(\d+)\.0+$", r"\1", text)


def _decimals(number: object) -> float:
    if not isinstance(number, str):
        return np.nan
    return float(len(number.partition(".")[2]))


def _split_by_kind(frame: pd.DataFrame, kinds: dict[str, tuple[str, int | None]]) -> None:
    kind = map_distinct(frame["key"], lambda k: kinds.get(k, (None, None))[0] if isinstance(k, str) else None)
    points, counts = kind == "points", kind == "count"
    weight = map_distinct(frame["key"], lambda k: kinds.get(k, (None, None))[1] if isinstance(k, str) else None)
    frame["max_allowed"] = pd.to_numeric(weight.where(points), errors="coerce").astype("float64")
    frame["score"] = frame["value_num"].where(points)
    frame["decimals"] = frame["value_decimals"].where(points)
    frame["count"] = frame["value_num"].where(counts)
    frame["count_decimals"] = frame["value_decimals"].where(counts)


def _pair_limits(frame: pd.DataFrame, pairs: dict[str, str]) -> None:
    # Each numerator row is checked against the first submitted value of its denominator key.
    first = frame.dropna(subset=["key"]).drop_duplicates("key").set_index("key")["count"]
    pair_key = map_distinct(frame["key"], lambda k: pairs.get(k) if isinstance(k, str) else None)
    frame["pair_key"] = pair_key
    limit = map_distinct(pair_key, lambda k: first.get(k, np.nan) if isinstance(k, str) else np.nan)
    frame["pair_limit"] = limit.astype("float64")


def file_adcode(frame: pd.DataFrame) -> str | None:
    """Tell the county a file is about: its first well-formed adcode in row order."""
    if "adcode6" not in frame:
        return None
    codes = frame["adcode6"].dropna()
    return str(codes.iloc[0]) if len(codes) else None


def _county_errors(
    frame: pd.DataFrame, adcode: str | None, register: Register, pilots: frozenset[str], programme: Programme
) -> list[RowError]:
    """The checks GX cannot express: register membership, pilot status, county name against code."""
    if adcode is None:
        return []
    rows = frame[frame["adcode6"] == adcode]
    first = int(rows[ROW].iloc[0])
    county = register.county(adcode)
    if county is None:
        region = register.region_name
        return [RowError(first, "adcode", "R1", f"代码{adcode}不是{region}的县级行政区划。")]
    errors: list[RowError] = []
    if adcode not in pilots:
        zone = programme.programme.zone_name
        message = f"{county.name}（{adcode}）不是本年度的{zone}，不在评价范围内。"
        errors.append(RowError(first, "adcode", "R2", message))
    if "county" in frame:
        errors += _name_errors(rows, adcode, county.name, register)
    return errors


def _name_errors(rows: pd.DataFrame, adcode: str, official: str, register: Register) -> list[RowError]:
    # One error per distinct wrong name, at its first row: a name typed wrong is usually wrong throughout.
    errors = []
    names = rows["county"].map(normalize_text)
    for name, group in rows.groupby(names, sort=False):
        if register.names_match(adcode, str(name)):
            continue
        shown = f"“{name}”" if name else "（空）"
        more = f"（共{len(group)}行）" if len(group) > 1 else ""
        message = f"县名{shown}与代码{adcode}不符：应为“{official}”或其通用简称{more}。"
        errors.append(RowError(int(group[ROW].iloc[0]), "county", "§3", message))
    return errors


def _values(frame: pd.DataFrame) -> tuple[dict[str, str], dict[str, str]]:
    """Collect the first value and evidence of each key that has a number."""
    values: dict[str, str] = {}
    evidence: dict[str, str] = {}
    if "key" not in frame or "number" not in frame:
        return values, evidence
    has_evidence = "evidence" in frame
    for record in frame.dropna(subset=["key", "number"]).to_dict("records"):
        key = record["key"]
        if key in values:
            continue
        values[key] = record["number"]
        evidence[key] = str(record["evidence"]) if has_evidence else ""
    return values, evidence
