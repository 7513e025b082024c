"""Item scores, bonus and totals (R3-R5): pure functions over a long frame of submitted values.

Points are computed in integer units of 10**-decimals (centi-points for 2 decimals) so that
totals, ties and the card line are exact; they become floats only for output.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pilotzones.rules.programme import Rubric

NOT_FILLED = "未填报"
NOT_ON_TIME = "未按时报送"


@dataclass(frozen=True)
class Scores:
    """Per item: adcode, item, category, units, rule, flag. Per zone: adcode, base, bonus, total, flags."""

    items: pd.DataFrame
    totals: pd.DataFrame
    scale: int


def _wide(values: pd.DataFrame, zones: list[str], keys: list[str]) -> pd.DataFrame:
    """One row per zone, one float column per key: a zone's last number for the key (NaN where it
    sent none). Filled in one numpy pass: a pivot table costs more than the scoring at national scale."""
    num = pd.to_numeric(values["value"], errors="coerce").to_numpy(dtype="float64")
    rows = pd.Index(zones).get_indexer(values["adcode"])
    cols = pd.Index(keys).get_indexer(values["key"])
    cell = np.flatnonzero((rows >= 0) & (cols >= 0) & ~np.isnan(num))
    # The last value of each (zone, key): first in reverse order.
    flat = (rows[cell] * len(keys) + cols[cell])[::-1]
    places, first = np.unique(flat, return_index=True)
    grid = np.full(len(zones) * len(keys), np.nan)
    grid[places] = num[cell][::-1][first]
    return pd.DataFrame(grid.reshape(len(zones), len(keys)), index=pd.Index(zones, name="adcode"), columns=keys)


def deduct(scores: Scores, points: Mapping[str, float], flag: Callable[[float], str]) -> Scores:
    """`scores` with `points` taken off the totals of the zones named (never below 0), each flagged
    `flag(points)`; base, bonus and the items stay as scored."""
    if not points:
        return scores
    totals = scores.totals.copy()
    off = totals["adcode"].map(lambda z: round(points.get(z, 0) * scores.scale)).astype("int64")
    totals["total"] = (totals["total"] - off).clip(lower=0)
    pairs = zip(totals["adcode"], totals["flags"], strict=True)
    totals["flags"] = [[*f, flag(points[z])] if z in points else list(f) for z, f in pairs]
    return Scores(items=scores.items, totals=totals, scale=scores.scale)


def score(values: pd.DataFrame, zones: list[str], submitted: set[str], rubric: Rubric, decimals: int) -> Scores:
    """Score every zone: `values` has columns adcode, key, value (str); `submitted` are zones with a file."""
    scale = 10**decimals
    keys = list(dict.fromkeys(k for i in rubric.items for k in i.keys()))
    wide = _wide(values, zones, keys)
    had_file = np.array([z in submitted for z in zones], dtype=bool)
    # Per item, in Annex order: its units and flag per zone, and the sum of units per category.
    units, item_flags, ids, cat_ids, rules = [], [], [], [], []
    by_cat: dict = {}
    for cat in rubric.categories:
        for item in cat.items:
            item_units, missing = item.score(wide, scale)
            units.append(np.asarray(item_units))
            item_flags.append(np.where(missing & had_file & (not cat.bonus), NOT_FILLED, ""))
            ids.append(item.id)
            cat_ids.append(cat.id)
            rules.append(item.rule)
            by_cat[cat.id] = by_cat.get(cat.id, 0) + units[-1]
    n = len(zones)
    items = pd.DataFrame(
        {
            "adcode": np.tile(np.array(zones, dtype=object), len(ids)),
            "item": np.repeat(np.array(ids, dtype="int64"), n),
            "category": np.repeat(np.array(cat_ids, dtype="int64"), n),
            "units": np.concatenate(units) if units else np.array([], dtype="int64"),
            "rule": np.repeat(np.array(rules, dtype=object), n),
            "flag": np.concatenate(item_flags) if item_flags else np.array([], dtype=object),
        }
    )
    base = np.zeros(n, dtype="int64")
    raw_bonus = np.zeros(n, dtype="int64")
    for cat in rubric.categories:
        if cat.id not in by_cat:
            continue
        if cat.bonus:
            raw_bonus += by_cat[cat.id]
        else:
            base += np.minimum(by_cat[cat.id], cat.max * scale)
    bonus = np.minimum(raw_bonus, rubric.bonus_cap * scale)
    flags = []
    unfilled = set(items.loc[items["flag"] == NOT_FILLED, "adcode"])
    for z, has in zip(zones, had_file, strict=True):
        f = [] if has else [NOT_ON_TIME]
        if z in unfilled:
            f.append(NOT_FILLED)
        flags.append(f)
    totals = pd.DataFrame({"adcode": zones, "base": base, "bonus": bonus, "total": base + bonus, "flags": flags})
    return Scores(items=items, totals=totals, scale=scale)
