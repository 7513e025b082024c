"""Disqualification (R8) and replacement (R9): pure functions over plain data."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Promotion:
    adcode: str
    replaces: str


@dataclass(frozen=True)
class Swaps:
    promoted: tuple[Promotion, ...]
    vacant: tuple[str, ...]  # disqualified zones whose seat stays empty


def disqualified(carded: Iterable[str], card_years: Mapping[str, set[int]], year: int, consecutive: int) -> set[str]:
    """Zones carded in `year` and in each of the `consecutive - 1` evaluations before it."""
    needed = {year - k for k in range(1, consecutive)}
    return {z for z in carded if needed <= card_years.get(z, set())}


def replace(disqualified_worst_first: Sequence[str], candidates_in_order: Sequence[str]) -> Swaps:
    """R9: the lower-ranked disqualified zone takes the best remaining candidate first."""
    pool = list(candidates_in_order)
    promoted: list[Promotion] = []
    vacant: list[str] = []
    for zone in disqualified_worst_first:
        if pool:
            promoted.append(Promotion(pool.pop(0), zone))
        else:
            vacant.append(zone)
    return Swaps(tuple(promoted), tuple(vacant))
