"""Check evaluation submissions (one county's monitoring data for a year) against §3 and R1-R3, R11.

One path for one file or thousands: a single file is a batch of one. Files are read into column
lists; files with the same columns are built into one frame, prepared once and validated by one
Great Expectations run against the batch variant of the suite (`batch.py`), and the failures are
split back by file. Each file gets exactly the errors it would get alone. A file the combined run
cannot stand for (a header without rows, a column named like the batch's own, a suite with checks
that only mean something per file) is validated on its own against the suite as written.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pilotzones.intake import RowError, batch, canonical_number, gx, year_text
from pilotzones.intake.failures import ordered, row_errors
from pilotzones.intake.read import ROW, FileUnreadable, read_columns, table_frame
from pilotzones.intake.suites import load_suite
from pilotzones.rules.programme import Programme
from pilotzones.rules.register import Register, normalize_adcode, normalize_text


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


@dataclass(frozen=True)
class _Intake:
    """What every file of one intake is checked against."""

    year: int
    programme: Programme
    register: Register
    pilots: frozenset[str]
    suite: dict[str, Any]


Columns = dict[str, list]


def check_evaluations(
    files: list[tuple[bytes, str]],
    *,
    year: int,
    programme: Programme,
    register: Register,
    pilots: frozenset[str],
    suites_dir: Path | None = None,
) -> list[EvaluationCheck]:
    """Check each (data, filename): one result per file, in order, each listing every error.

    An unreadable file does not raise: its result has no county and one whole-file error, the one
    `submit` records for it.
    """
    results: list[EvaluationCheck | None] = [None] * len(files)
    read: list[tuple[int, Columns]] = []
    for i, (data, filename) in enumerate(files):
        try:
            read.append((i, read_columns(data, filename, programme.limits)))
        except FileUnreadable as exc:
            results[i] = EvaluationCheck(None, None, errors=[RowError(None, None, "§3", str(exc))])
    suite = load_suite("evaluation", programme, suites_dir)
    for i, check in _check_read(read, _Intake(year, programme, register, pilots, suite)).items():
        results[i] = check
    return [r for r in results if r is not None]


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
    """Check one evaluation file (a batch of one); raise FileUnreadable if it is no table."""
    suite = load_suite("evaluation", programme, suites_dir)
    read = [(0, read_columns(data, filename, programme.limits))]
    return _check_read(read, _Intake(year, programme, register, pilots, suite))[0]


def _check_read(read: list[tuple[int, Columns]], intake: _Intake) -> dict[int, EvaluationCheck]:
    batch_suite = batch.batch_variant(intake.suite)
    original = batch.rewritten(intake.suite, batch_suite) if batch_suite is not None else {}
    groups: dict[tuple[str, ...], list[tuple[int, Columns]]] = {}
    alone: list[list[tuple[int, Columns]]] = []
    for i, columns in read:
        if batch_suite is None or not columns[ROW] or any(c.startswith(batch.OURS) for c in columns):
            # Rare: the row-count check, our helper names or the suite itself only make sense per file.
            alone.append([(i, columns)])
        else:
            # Files with the same columns share every table-level outcome and every skipped check.
            groups.setdefault(tuple(sorted(columns)), []).append((i, columns))
    out: dict[int, EvaluationCheck] = {}
    for members in groups.values():
        assert batch_suite is not None
        out.update(_check_group(members, intake, batch_suite, original))
    for members in alone:
        out.update(_check_group(members, intake, None, {}))
    return out


def _check_group(
    members: list[tuple[int, Columns]],
    intake: _Intake,
    batch_suite: dict[str, Any] | None,
    original: dict[str, dict[str, Any]],
) -> dict[int, EvaluationCheck]:
    """Check files with the same columns in one GX run (against `batch_suite`, or the suite for one file)."""
    programme, register = intake.programme, intake.register
    frame, files = _combine(members)
    frame = prepare(frame, programme, files)
    counties = _file_counties(frame, files)
    shared = {"years": [str(intake.year)], "score_decimals": programme.rules.score_decimals}
    # What GX is given for each file alone: the shared values and the file's own county.
    own = {i: dict(shared, adcodes=[counties[i]] if i in counties else []) for i, _ in members}
    positions = [i for i, _ in members]
    if batch_suite is None:
        (only,) = positions
        by_file = {only: gx.validate(frame, intake.suite, own[only])}
    else:
        batch.batch_columns(frame, batch_suite, files, counties)
        failures = gx.validate(frame, batch_suite, shared)
        by_file = batch.split(failures, files, positions, original, own)
    suspects = _county_suspects(frame, files, counties, register, intake.pilots)
    values, evidence = _values(frame, files)
    out: dict[int, EvaluationCheck] = {}
    for i in positions:
        adcode = counties.get(i)
        official = register.name(adcode) if adcode and register.county(adcode) else None
        context = _context(adcode, official, intake.year, programme)
        found = row_errors(by_file[i], frame, context) if by_file[i] else []
        if i in suspects:
            rows = frame[files == i]
            found += [(len(by_file[i]), e) for e in _county_errors(rows, adcode, register, intake.pilots, programme)]
        out[i] = EvaluationCheck(adcode, official, values.get(i, {}), evidence.get(i, {}), ordered(found))
    return out


def _combine(members: list[tuple[int, Columns]]) -> tuple[pd.DataFrame, np.ndarray]:
    """One frame of all members' rows, in file then row order, and each row's position in the batch.

    Built once from the files' column lists (as `read_table` builds one file's frame), in the
    first file's column order, as concatenating the files' frames would give.
    """
    names = list(members[0][1])
    joined = {name: [v for _, columns in members for v in columns[name]] for name in names}
    files = np.repeat([i for i, _ in members], [len(columns[ROW]) for _, columns in members]).astype("int64")
    return table_frame(joined), files


def prepare(frame: pd.DataFrame, programme: Programme, files: np.ndarray) -> pd.DataFrame:
    """Add the helper columns the suite checks, each within its file (`files`: the file of each row).

    Helpers of an absent column are left out.
    """
    frame = frame.reset_index(drop=True)
    kinds = programme.rubric.key_kinds()
    if "key" in frame:
        keys = map_distinct(frame["key"], _key)
        frame["key"] = keys.where(keys != "", None)
        # The first row of each key within its file.
        frame["first_row"] = frame.groupby([files, "key"])[ROW].transform("min")
    if "value" in frame:
        number = map_distinct(frame["value"], canonical_number)
        frame["number"] = number
        frame["value_num"] = pd.to_numeric(number, errors="coerce").astype("float64")
        frame["value_decimals"] = map_distinct(number, _decimals).astype("float64")
    if "key" in frame and "value" in frame:
        _split_by_kind(frame, kinds)
        _pair_limits(frame, files, programme.rubric.pairs())
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


def _pair_limits(frame: pd.DataFrame, files: np.ndarray, pairs: dict[str, str]) -> None:
    # Each numerator row is checked against the first submitted value of its denominator key in its file.
    pair_key = map_distinct(frame["key"], lambda k: pairs.get(k) if isinstance(k, str) else None)
    frame["pair_key"] = pair_key
    named = frame["key"].notna().to_numpy()
    keys, counts = frame["key"].to_numpy(dtype=object), frame["count"].to_numpy(dtype="float64")
    first = pd.DataFrame({"file": files[named], "key": keys[named], "count": counts[named]})
    first = first.drop_duplicates(["file", "key"])
    known = pd.MultiIndex.from_arrays([first["file"].to_numpy(), first["key"].to_numpy(dtype=object)])
    wanted = pd.MultiIndex.from_arrays([files, pair_key.to_numpy(dtype=object)])
    at = known.get_indexer(wanted)
    counts = first["count"].to_numpy(dtype="float64")
    frame["pair_limit"] = np.where(at >= 0, counts[np.maximum(at, 0)], np.nan)


def _file_counties(frame: pd.DataFrame, files: np.ndarray) -> dict[int, str]:
    """Each file's county: its first well-formed adcode in row order (files without one are left out)."""
    if "adcode6" not in frame:
        return {}
    first = frame["adcode6"].groupby(files, sort=False).first().dropna()
    return {int(i): str(a) for i, a in first.items()}


def _context(adcode: str | None, official: str | None, year: int, programme: Programme) -> dict[str, Any]:
    """What a file's error messages are filled from, beside the failing row."""
    return {
        "expected_year": year,
        "score_decimals": programme.rules.score_decimals,
        "file_county": f"{adcode}{f'（{official}）' if official else ''}" if adcode else "",
    }


def _county_suspects(
    frame: pd.DataFrame, files: np.ndarray, counties: dict[int, str], register: Register, pilots: frozenset[str]
) -> set[int]:
    """Files that may have a county error (unknown, not a pilot, a name that does not fit).

    The errors themselves come from `_county_errors`; this screen only spares the thousands of
    clean files of a batch a pass through it each.
    """
    suspects = {i for i, a in counties.items() if register.county(a) is None or a not in pilots}
    if "county" not in frame or not counties:
        return suspects
    file_of = pd.Series(files, index=frame.index)
    own = frame[frame["adcode6"].notna() & (frame["adcode6"] == file_of.map(counties))]
    at = own.index.to_numpy()
    columns = {"file": files[at], "adcode6": own["adcode6"].to_numpy(), "county": own["county"].to_numpy()}
    pairs = pd.DataFrame(columns).drop_duplicates()
    names = {n: normalize_text(n) for n in pairs["county"].unique()}
    for i, adcode, name in pairs.itertuples(index=False, name=None):
        if not register.names_match(adcode, names[name]):
            suspects.add(int(i))
    return suspects


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


def _values(frame: pd.DataFrame, files: np.ndarray) -> tuple[dict[int, dict[str, str]], dict[int, dict[str, str]]]:
    """Per file, the first value and evidence of each key that has a number."""
    values: dict[int, dict[str, str]] = {}
    evidence: dict[int, dict[str, str]] = {}
    if "key" not in frame or "number" not in frame:
        return values, evidence
    named = (frame["key"].notna() & frame["number"].notna()).to_numpy()
    kept = pd.DataFrame(
        {"file": files[named], "key": frame["key"].to_numpy()[named], "number": frame["number"].to_numpy()[named]}
    )
    if "evidence" in frame:
        kept["evidence"] = frame["evidence"].to_numpy()[named]
    kept = kept.drop_duplicates(["file", "key"])
    notes: Iterable[Any] = kept["evidence"].tolist() if "evidence" in kept else [""] * len(kept)
    columns = (kept["file"].tolist(), kept["key"].tolist(), kept["number"].tolist(), notes)
    for i, key, number, note in zip(*columns, strict=True):
        values.setdefault(int(i), {})[key] = number
        evidence.setdefault(int(i), {})[key] = str(note)
    return values, evidence
