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
    """One row per zone, one float column per key (NaN where not submitted)."""
    v = values[values["key"].isin(keys)]
    num = pd.to_numeric(v["value"], errors="coerce")
    wide = (
        pd.DataFrame({"adcode": v["adcode"].to_numpy(), "key": v["key"].to_numpy(), "num": num.to_numpy()})
        .pivot_table(index="adcode", columns="key", values="num", aggfunc="last")
        .reindex(index=zones, columns=keys)
    )
    wide.columns.name = None
    return wide


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
    keys = [k for i in rubric.items for k in i.keys()]
    wide = _wide(values, zones, keys)
    had_file = np.array([z in submitted for z in zones])
    frames = []
    for cat in rubric.categories:
        for item in cat.items:
            units, missing = item.score(wide, scale)
            flag = np.where(missing & had_file & (not cat.bonus), NOT_FILLED, "")
            frames.append(
                pd.DataFrame(
                    {
                        "adcode": zones,
                        "item": item.id,
                        "category": cat.id,
                        "units": units,
                        "rule": item.rule,
                        "flag": flag,
                    }
                )
            )
    items = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(columns=["adcode", "item", "category", "units", "rule", "flag"])
    )
    bonus_ids = {c.id for c in rubric.categories if c.bonus}
    caps = {c.id: c.max * scale for c in rubric.categories if not c.bonus}
    by_cat = items.groupby(["adcode", "category"], sort=False)["units"].sum().unstack(fill_value=0)
    by_cat = by_cat.reindex(index=zones, fill_value=0)
    base = np.zeros(len(zones), dtype="int64")
    for cid, cap in caps.items():
        if cid in by_cat:
            base += np.minimum(by_cat[cid].to_numpy(), cap)
    raw_bonus = np.zeros(len(zones), dtype="int64")
    for cid in bonus_ids:
        if cid in by_cat:
            raw_bonus += by_cat[cid].to_numpy()
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
