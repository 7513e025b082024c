"""Ranking (R6) and yellow cards (R7): pure functions over a totals frame."""

from __future__ import annotations

import numpy as np
import pandas as pd


def rank(totals: pd.DataFrame) -> pd.DataFrame:
    """Rank by total then base, both descending; zones equal in both share a rank (1, 2, 2, 4).

    Returns the frame sorted best first with a `rank` column; zones tied on both keep adcode order.
    """
    ordered = totals.sort_values(["total", "base", "adcode"], ascending=[False, False, True], kind="stable")
    ordered = ordered.reset_index(drop=True)
    total = ordered["total"].to_numpy()
    base = ordered["base"].to_numpy()
    same_as_prev = np.r_[False, (total[1:] == total[:-1]) & (base[1:] == base[:-1])]
    position = np.arange(1, len(ordered) + 1)
    # A tied zone takes the rank of the first zone of its tie group.
    group_start = np.where(same_as_prev, 0, position)
    ordered["rank"] = np.maximum.accumulate(group_start) if len(ordered) else []
    return ordered


def below_counts(ranks: pd.Series) -> np.ndarray:
    """For each zone, how many zones rank strictly below it."""
    r = ranks.to_numpy()
    sorted_r = np.sort(r)
    return len(r) - np.searchsorted(sorted_r, r, side="right")


def yellow_cards(ranked: pd.DataFrame, cards_per_year: int) -> pd.Series:
    """R7: carded when fewer than `cards_per_year` zones rank strictly below (ties at the line too)."""
    return pd.Series(below_counts(ranked["rank"]) < cards_per_year, index=ranked.index)
