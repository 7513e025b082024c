"""Check many evaluation files at once: one Great Expectations run over all of them, same errors per file.

Validating thousands of 48-row frames one by one costs GX's fixed overhead thousands of times; here the
files are read one by one into column lists, built into one frame with a file index, prepared once and validated
once against a batch variant of the evaluation suite. The two per-file expectations are rewritten so
they mean the same on the combined frame:

- a uniqueness check on a column (``key_unique``) becomes uniqueness of (file, value);
- the one-county check (``adcode6`` in the file's own county, a ``$PARAMETER``) becomes equality of
  ``adcode6`` with a per-row column holding the file's county.

Failures are split back by file and turned into errors with each file's own message context, so every
file gets exactly the errors `check_evaluation` would give it. Files the combined run cannot stand for
(a header without rows, helper column names of ours, a suite with checks that only mean something per
file) are checked one by one with `check_evaluation`.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pilotzones.gcpause import no_cyclic_gc
from pilotzones.intake import RowError, gx
from pilotzones.intake.evaluation import (
    EvaluationCheck,
    _county_errors,
    check_evaluation,
    prepare,
)
from pilotzones.intake.failures import ordered, row_errors
from pilotzones.intake.read import ROW, FileUnreadable, read_columns, table_frame
from pilotzones.intake.suites import load_suite
from pilotzones.programme import Programme
from pilotzones.register import Register, normalize_text

FILE = "_batch_file"  # position of the row's file in the batch
ADCODE = "_batch_adcode"  # the county of the row's file (see `_NO_COUNTY`)
UNIQUE = "_batch_unique_"  # prefix of a (file, value) column standing in for a per-file uniqueness check
_OURS = (FILE, ADCODE, UNIQUE)
_NO_COUNTY = "\x00"  # a file with no well-formed adcode: no cell can equal it, as no value is in an empty set
_SEP = "\x1f"

# Expectations that judge each row on its own: their result over the combined frame, split by file, is
# their result per file. Anything else (means, counts, ordering) would mix files and is not batched.
_ROW_WISE = {
    "expect_column_values_to_not_be_null",
    "expect_column_values_to_be_null",
    "expect_column_values_to_be_in_set",
    "expect_column_values_to_not_be_in_set",
    "expect_column_values_to_be_between",
    "expect_column_values_to_match_regex",
    "expect_column_values_to_not_match_regex",
    "expect_column_values_to_match_regex_list",
    "expect_column_values_to_not_match_regex_list",
    "expect_column_values_to_match_strftime_format",
    "expect_column_values_to_be_dateutil_parseable",
    "expect_column_values_to_be_json_parseable",
    "expect_column_value_lengths_to_be_between",
    "expect_column_value_lengths_to_equal",
    "expect_column_pair_values_a_to_be_greater_than_b",
    "expect_column_pair_values_to_be_equal",
    "expect_column_pair_values_to_be_in_set",
    "expect_select_column_values_to_be_unique_within_record",
    "expect_multicolumn_sum_to_equal",
}
_BATCH_WIDE_PARAMETERS = {"years", "score_decimals"}  # the same for every file of a batch
_FILE_PARAMETER = "adcodes"  # per file: [its own county]


def check_evaluation_batch(
    files: list[tuple[bytes, str]],
    *,
    year: int,
    programme: Programme,
    register: Register,
    pilots: frozenset[str],
    suites_dir: Path | None = None,
) -> list[EvaluationCheck]:
    """Check each (data, filename) as `check_evaluation` would, one result per file, in order.

    An unreadable file does not raise: its result has no county and one whole-file error, the one
    `submit` records for it.
    """
    with no_cyclic_gc():
        return _check_batch(files, year, programme, register, pilots, suites_dir)


def _check_batch(
    files: list[tuple[bytes, str]],
    year: int,
    programme: Programme,
    register: Register,
    pilots: frozenset[str],
    suites_dir: Path | None,
) -> list[EvaluationCheck]:
    suite = load_suite("evaluation", programme, suites_dir)
    batch_suite = batch_variant(suite)
    original = _rewritten(suite, batch_suite) if batch_suite is not None else {}
    one_by_one = {"year": year, "programme": programme, "register": register, "pilots": pilots}
    results: list[EvaluationCheck | None] = [None] * len(files)
    groups: dict[tuple[str, ...], list[tuple[int, dict[str, list]]]] = {}
    for i, (data, filename) in enumerate(files):
        try:
            columns = read_columns(data, filename)
        except FileUnreadable as exc:
            results[i] = EvaluationCheck(None, None, errors=[RowError(None, None, "§3", str(exc))])
            continue
        if batch_suite is None or not columns[ROW] or any(c.startswith(_OURS) for c in columns):
            # Rare: the row-count check, our helper names or the suite itself only make sense per file.
            results[i] = check_evaluation(data, filename, **one_by_one, suites_dir=suites_dir)
            continue
        # Files with the same columns share every table-level outcome and every skipped check.
        groups.setdefault(tuple(sorted(columns)), []).append((i, columns))
    for members in groups.values():
        for i, check in _check_group(members, batch_suite, original, year, programme, register, pilots).items():
            results[i] = check
    return [r for r in results if r is not None]


def batch_variant(suite: dict[str, Any]) -> dict[str, Any] | None:
    """The suite rewritten for a combined frame, or None when some check cannot be batched."""
    out = []
    for expectation in suite["expectations"]:
        rewritten = _batch_expectation(expectation)
        if rewritten is None:
            return None
        out.append(rewritten)
    return dict(suite, expectations=out)


def _batch_expectation(expectation: dict[str, Any]) -> dict[str, Any] | None:
    kind, kwargs = expectation["type"], expectation["kwargs"]
    parameters = _parameters(kwargs)
    if "mostly" in kwargs:
        return None  # a share of each file's rows is not a share of the batch's rows
    if kind == "expect_column_values_to_be_unique" and set(kwargs) == {"column"}:
        return dict(expectation, kwargs=dict(kwargs, column=UNIQUE + kwargs["column"]))
    one_county = {"column": kwargs.get("column"), "value_set": {"$PARAMETER": _FILE_PARAMETER}}
    if kind == "expect_column_values_to_be_in_set" and kwargs == one_county:
        pair = {"column_A": kwargs["column"], "column_B": ADCODE, "ignore_row_if": "either_value_is_missing"}
        return dict(expectation, type="expect_column_pair_values_to_be_equal", kwargs=pair)
    if not parameters <= _BATCH_WIDE_PARAMETERS:
        return None
    if kind in _ROW_WISE or kind == "expect_column_to_exist":
        return expectation
    if kind == "expect_table_columns_to_match_set" and not kwargs.get("exact_match", True):
        return expectation  # our helper columns are extra columns, which a non-exact match allows
    if kind == "expect_table_row_count_to_be_between" and kwargs.get("max_value") is None:
        # Every batched file has a row, so the combined frame passes exactly when each file does.
        return expectation if (kwargs.get("min_value") or 0) <= 1 else None
    return None


def _rewritten(suite: dict[str, Any], batch_suite: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The original arguments of each rewritten check, by its meta."""
    pairs = zip(suite["expectations"], batch_suite["expectations"], strict=True)
    return {_meta_key(a.get("meta")): a["kwargs"] for a, b in pairs if a is not b}


def _meta_key(meta: dict[str, Any] | None) -> str:
    # GX hands each result its expectation's meta: it identifies the check a failure comes from.
    return json.dumps(meta or {}, sort_keys=True, ensure_ascii=False)


def _parameters(kwargs: dict[str, Any]) -> set[str]:
    return {v["$PARAMETER"] for v in kwargs.values() if isinstance(v, dict) and "$PARAMETER" in v}


def _check_group(
    members: list[tuple[int, dict[str, list]]],
    suite: dict[str, Any],
    original: dict[str, dict[str, Any]],
    year: int,
    programme: Programme,
    register: Register,
    pilots: frozenset[str],
) -> dict[int, EvaluationCheck]:
    """Check files with the same columns together; returns their results by batch position."""
    frame = prepare(_combine(members), programme)
    _per_file_helpers(frame, suite)
    counties = _file_counties(frame)
    shared = {"years": [str(year)], "score_decimals": programme.rules.score_decimals}
    failures = gx.validate(frame, suite, shared)
    # What `check_evaluation` passes GX for each file alone: the shared values and the file's county.
    own = {i: dict(shared, adcodes=[counties[i]] if i in counties else []) for i, _ in members}
    by_file = _split(failures, frame, [i for i, _ in members], original, own)
    suspects = _county_suspects(frame, counties, register, pilots)
    values, evidence = _values(frame)
    out: dict[int, EvaluationCheck] = {}
    for i, _ in members:
        adcode = counties.get(i)
        official = register.name(adcode) if adcode and register.county(adcode) else None
        found = row_errors(by_file[i], frame, _context(adcode, official, year, programme)) if by_file[i] else []
        if i in suspects:
            rows = frame[frame[FILE] == i]
            found += [(len(by_file[i]), e) for e in _county_errors(rows, adcode, register, pilots, programme)]
        out[i] = EvaluationCheck(adcode, official, values.get(i, {}), evidence.get(i, {}), ordered(found))
    return out


def _combine(members: list[tuple[int, dict[str, list]]]) -> pd.DataFrame:
    """One frame of all members' rows, in file then row order, with each row's batch position.

    Built once from the files' column lists (as `read_table` builds one file's frame), in the
    first file's column order, as concatenating the files' frames would give.
    """
    names = list(members[0][1])
    joined = {name: [v for _, columns in members for v in columns[name]] for name in names}
    frame = table_frame(joined)
    frame[FILE] = np.repeat([i for i, _ in members], [len(columns[ROW]) for _, columns in members])
    return frame


def _per_file_helpers(frame: pd.DataFrame, suite: dict[str, Any]) -> None:
    """Redo `prepare`'s per-file helpers file by file, and add the batch suite's own columns."""
    if "key" in frame:
        # The first row of each key within its file (prepare computed it over the whole batch).
        frame["first_row"] = frame.groupby([FILE, "key"])[ROW].transform("min")
        if "pair_key" in frame:
            frame["pair_limit"] = _pair_limits(frame)
    for expectation in suite["expectations"]:
        column = expectation["kwargs"].get("column", "")
        if column.startswith(UNIQUE) and column[len(UNIQUE) :] in frame:
            frame[column] = _file_values(frame, column[len(UNIQUE) :])
    if "adcode6" in frame:
        first = frame.groupby(FILE)["adcode6"].first()  # first well-formed code of each file, as file_adcode
        frame[ADCODE] = frame[FILE].map(first).fillna(_NO_COUNTY)


def _pair_limits(frame: pd.DataFrame) -> np.ndarray:
    # Each numerator row is checked against the first submitted value of its denominator key in its file.
    first = frame.dropna(subset=["key"]).drop_duplicates([FILE, "key"])
    known = pd.MultiIndex.from_arrays([first[FILE].to_numpy(), first["key"].to_numpy(dtype=object)])
    wanted = pd.MultiIndex.from_arrays([frame[FILE].to_numpy(), frame["pair_key"].to_numpy(dtype=object)])
    at = known.get_indexer(wanted)
    counts = first["count"].to_numpy(dtype="float64")
    return np.where(at >= 0, counts[np.maximum(at, 0)], np.nan)


def _file_values(frame: pd.DataFrame, column: str) -> pd.Series:
    """(file, value) as one text per row; missing where the value is missing, as GX then skips the row."""
    values = frame[column]
    joined = frame[FILE].astype(str) + _SEP + values.astype(str)
    return joined.where(values.notna(), None).astype(object)


def _file_counties(frame: pd.DataFrame) -> dict[int, str]:
    """Each file's county: its first well-formed adcode in row order (files without one are left out)."""
    if "adcode6" not in frame:
        return {}
    first = frame.groupby(FILE, sort=False)["adcode6"].first().dropna()
    return {int(i): str(a) for i, a in first.items()}


def _split(
    failures: list[gx.Failure],
    frame: pd.DataFrame,
    files: list[int],
    original: dict[str, dict[str, Any]],
    parameters: dict[int, dict[str, Any]],
) -> dict[int, list[gx.Failure]]:
    """Each file's own failures, in suite order; a table-level failure is every file's.

    A rewritten check reports the arguments of the check it stands for (`original`, by check name),
    with the file's own parameters, as GX reports them for a file validated alone.
    """
    positions = frame[FILE].to_numpy()
    by_file: dict[int, list[gx.Failure]] = {i: [] for i in files}
    for failure in failures:
        template = original.get(_meta_key(failure.meta))
        if failure.indices is None:
            owners: dict[int, list[int] | None] = dict.fromkeys(files)
        else:
            indices = np.asarray(failure.indices, dtype="int64")
            owned = positions[indices]
            owners = {int(i): [int(x) for x in indices[owned == i]] for i in dict.fromkeys(owned.tolist())}
        for i, mine in owners.items():
            kwargs = failure.kwargs if template is None else _resolved(template, failure.kwargs, parameters[i])
            by_file[i].append(dataclasses.replace(failure, indices=mine, kwargs=kwargs))
    return by_file


def _resolved(template: dict[str, Any], reported: dict[str, Any], parameters: dict[str, Any]) -> dict[str, Any]:
    kwargs = {k: v for k, v in reported.items() if k == "batch_id"}
    for name, value in template.items():
        is_parameter = isinstance(value, dict) and "$PARAMETER" in value
        kwargs[name] = parameters.get(value["$PARAMETER"]) if is_parameter else value
    return kwargs


def _county_suspects(
    frame: pd.DataFrame, counties: dict[int, str], register: Register, pilots: frozenset[str]
) -> set[int]:
    """Files that may have a county error (unknown, not a pilot, a name that does not fit).

    The errors themselves come from `check_evaluation`'s own code; this screen only spares the
    thousands of clean files a pass through it each.
    """
    suspects = {i for i, a in counties.items() if register.county(a) is None or a not in pilots}
    if "county" not in frame or not counties:
        return suspects
    own = frame[frame["adcode6"].notna() & (frame["adcode6"] == frame[FILE].map(counties))]
    pairs = own[[FILE, "adcode6", "county"]].drop_duplicates()
    names = {n: normalize_text(n) for n in pairs["county"].unique()}
    for i, adcode, name in pairs.itertuples(index=False, name=None):
        if not register.names_match(adcode, names[name]):
            suspects.add(int(i))
    return suspects


def _values(frame: pd.DataFrame) -> tuple[dict[int, dict[str, str]], dict[int, dict[str, str]]]:
    """Per file, the first value and evidence of each key that has a number (as check_evaluation keeps)."""
    values: dict[int, dict[str, str]] = {}
    evidence: dict[int, dict[str, str]] = {}
    if "key" not in frame or "number" not in frame:
        return values, evidence
    kept = frame.dropna(subset=["key", "number"]).drop_duplicates([FILE, "key"])
    notes: Iterable[Any] = kept["evidence"].tolist() if "evidence" in kept else [""] * len(kept)
    columns = (kept[FILE].tolist(), kept["key"].tolist(), kept["number"].tolist(), notes)
    for i, key, number, note in zip(*columns, strict=True):
        values.setdefault(int(i), {})[key] = number
        evidence.setdefault(int(i), {})[key] = str(note)
    return values, evidence


def _context(adcode: str | None, official: str | None, year: int, programme: Programme) -> dict[str, Any]:
    """The message context `check_evaluation` fills a file's errors from."""
    return {
        "expected_year": year,
        "score_decimals": programme.rules.score_decimals,
        "file_county": f"{adcode}{f'（{official}）' if official else ''}" if adcode else "",
    }


__all__ = ["batch_variant", "check_evaluation_batch"]
