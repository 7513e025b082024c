"""The yearly report's card-line margins: exact, and ties at the line flagged."""

from __future__ import annotations

import pytest

from pilotzones.reports.yearly import fmt, margins
from pilotzones.rules.proposal_models import RankedZone


def _zones(*rows: tuple[str, float, int, bool]) -> list[RankedZone]:
    return [
        RankedZone(adcode=a, county=a, base=t, bonus=0, total=t, rank=r, yellow_card=c, flags=[], below=0)
        for a, t, r, c in rows
    ]


def test_safe_zones_count_points_above_the_best_carded_and_carded_ones_below_the_lowest_safe():
    m = margins(_zones(("a", 900.5, 1, False), ("b", 700.25, 2, False), ("c", 700.2, 3, True), ("d", 10, 4, True)))
    assert (m["a"].gap, m["b"].gap) == (200.3, 0.05)  # exact hundredths, no float residue
    assert (m["c"].gap, m["d"].gap) == (0.05, 690.25)
    assert not any(x.tie for x in m.values())


@pytest.mark.parametrize(
    ("rows", "tied"),
    [
        # Three zones share the card line's rank: all carded (R7), each flagged as tied at the line.
        ((("a", 900, 1, False), ("b", 500, 2, True), ("c", 500, 2, True), ("d", 500, 2, True)), {"b", "c", "d"}),
        # Same total across the line (split by base): a gap of 0 on both sides.
        ((("a", 900, 1, False), ("b", 500, 2, False), ("c", 500, 3, True), ("d", 1, 4, True)), {"b", "c"}),
    ],
)
def test_ties_at_the_card_line_are_flagged(rows, tied):
    assert {a for a, x in margins(_zones(*rows)).items() if x.tie} == tied


def test_every_zone_carded_has_no_reference():
    m = margins(_zones(("a", 1, 1, True), ("b", 1, 1, True)))
    assert m["a"].gap is None and m["a"].tie


@pytest.mark.parametrize(("value", "text"), [(812.5, "812.5"), (850.0, "850"), (0.25, "0.25"), (0.1 + 0.2, "0.3")])
def test_numbers_are_printed_in_the_programme_decimals(value, text):
    assert fmt(value, 2) == text
