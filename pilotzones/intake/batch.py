"""One Great Expectations run for many evaluation files: the suite rewritten for a combined frame.

Validating thousands of 48-row frames one by one costs GX's fixed overhead thousands of times; so
intake (`evaluation.check_evaluations`) builds one frame of files with the same columns and validates
it once against a batch variant of the evaluation suite. The two per-file expectations are rewritten
so they mean the same on the combined frame:

- a uniqueness check on a column (``key_unique``) becomes uniqueness of (file, value);
- the one-county check (``adcode6`` in the file's own county, a ``$PARAMETER``) becomes equality of
  ``adcode6`` with a per-row column holding the file's county.

`split` hands each file the failures it would get validated alone, with the arguments of the check
each rewritten one stands for. A suite with checks that only mean something per file has no batch
variant (`batch_variant` returns None).
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import numpy as np
import pandas as pd

from pilotzones.intake import gx

ADCODE = "_batch_adcode"  # the county of the row's file (see `_NO_COUNTY`)
UNIQUE = "_batch_unique_"  # prefix of a (file, value) column standing in for a per-file uniqueness check
OURS = (ADCODE, UNIQUE)  # a file with a column named so is checked on its own
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


def rewritten(suite: dict[str, Any], batch_suite: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The original arguments of each rewritten check, by its meta."""
    pairs = zip(suite["expectations"], batch_suite["expectations"], strict=True)
    return {_meta_key(a.get("meta")): a["kwargs"] for a, b in pairs if a is not b}


def _meta_key(meta: dict[str, Any] | None) -> str:
    # GX hands each result its expectation's meta: it identifies the check a failure comes from.
    return json.dumps(meta or {}, sort_keys=True, ensure_ascii=False)


def _parameters(kwargs: dict[str, Any]) -> set[str]:
    return {v["$PARAMETER"] for v in kwargs.values() if isinstance(v, dict) and "$PARAMETER" in v}


def batch_columns(frame: pd.DataFrame, suite: dict[str, Any], files: np.ndarray, counties: dict[int, str]) -> None:
    """Add the columns the batch suite reads: (file, value) texts, and each row's file county."""
    for expectation in suite["expectations"]:
        column = expectation["kwargs"].get("column", "")
        if column.startswith(UNIQUE) and column[len(UNIQUE) :] in frame:
            frame[column] = _file_values(frame, files, column[len(UNIQUE) :])
    if "adcode6" in frame:
        frame[ADCODE] = pd.Series(files, index=frame.index).map(counties).fillna(_NO_COUNTY)


def _file_values(frame: pd.DataFrame, files: np.ndarray, column: str) -> pd.Series:
    """(file, value) as one text per row; missing where the value is missing, as GX then skips the row."""
    values = frame[column]
    joined = pd.Series(files, index=frame.index).astype(str) + _SEP + values.astype(str)
    return joined.where(values.notna(), None).astype(object)


def split(
    failures: list[gx.Failure],
    positions: np.ndarray,
    files: list[int],
    original: dict[str, dict[str, Any]],
    parameters: dict[int, dict[str, Any]],
) -> dict[int, list[gx.Failure]]:
    """Each file's own failures, in suite order; a table-level failure is every file's.

    A rewritten check reports the arguments of the check it stands for (`original`, by check name),
    with the file's own parameters, as GX reports them for a file validated alone.
    """
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


__all__ = ["batch_columns", "batch_variant", "rewritten", "split"]
