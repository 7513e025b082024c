"""Expert visits (四) and exchange meetings (五) against the programme's yearly numbers. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum


class MeetingKind(StrEnum):
    EXCHANGE = "exchange"
    FIELD_VISIT = "field_visit"

    @property
    def cn(self) -> str:
        return {MeetingKind.EXCHANGE: "经验交流会", MeetingKind.FIELD_VISIT: "现场观摩"}[self]


def shortfall(zones: Iterable[str], counts: Mapping[str, int], minimum: int) -> list[tuple[str, int]]:
    """(zone, visits so far) for each zone of `zones` below `minimum` visits, in the given order."""
    return [(z, counts.get(z, 0)) for z in zones if counts.get(z, 0) < minimum]


def per_zone(zones: Iterable[str], counts: Mapping[str, int], minimum: int) -> list[dict]:
    """Each zone's visits against the minimum, as status and the report show them."""
    return [
        {"adcode": z, "visits": counts.get(z, 0), "minimum": minimum, "short": max(0, minimum - counts.get(z, 0))}
        for z in zones
    ]
