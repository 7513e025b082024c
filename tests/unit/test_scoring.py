"""R3-R5: item scores, the 以上 boundary of item 29, bonus and its cap, totals."""

from __future__ import annotations

import pandas as pd
import pytest

from pilotzones.rules import programme, scoring

P = programme.load()
Z = "654025"


def run(values: dict[str, str], submitted: bool = True) -> scoring.Scores:
    frame = pd.DataFrame({"adcode": [Z] * len(values), "key": list(values), "value": list(values.values())})
    return scoring.score(frame, [Z], {Z} if submitted else set(), P.rubric, P.rules.score_decimals)


def points(s: scoring.Scores, item: int) -> float:
    row = s.items[(s.items["adcode"] == Z) & (s.items["item"] == item)]
    return int(row["units"].iloc[0]) / s.scale


def total(s: scoring.Scores, col: str) -> float:
    return int(s.totals[col].iloc[0]) / s.scale


def doctors(lic: int, doc: int, lic_prev: int, doc_prev: int) -> dict[str, str]:
    return {
        "29.village_doctors_licensed": str(lic),
        "29.village_doctors": str(doc),
        "29.village_doctors_licensed.prev": str(lic_prev),
        "29.village_doctors.prev": str(doc_prev),
    }


@pytest.mark.parametrize(
    ("lic", "doc", "lic_prev", "doc_prev", "expected"),
    [
        (56, 160, 35, 120, 20),  # 35/120 -> 56/160 is exactly +20%: 以上 includes the bound
        (55, 160, 35, 120, 0),  # a hair under +20%
        (57, 160, 35, 120, 20),  # over +20%
        (6, 10, 5, 10, 20),  # 50% -> 60%, exactly 1.2x in another shape
        (0, 160, 0, 120, 0),  # share(Y) must be > 0, even though 0 >= 1.2 x 0
        (10, 100, 0, 100, 20),  # from no licensed doctors to some: growth from zero
        (10, 100, 5, 0, 20),  # no village doctors last year: previous share is 0
        (0, 0, 5, 100, 0),  # no village doctors this year: share is 0
        (30, 100, 30, 100, 0),  # flat share earns nothing
    ],
)
def test_item_29_growth_rule(lic, doc, lic_prev, doc_prev, expected):
    """Item 29 earns its 20 points only when the licensed share grows by 20% or more."""
    assert points(run(doctors(lic, doc, lic_prev, doc_prev)), 29) == expected


def test_item_29_missing_inputs_score_zero_and_flag():
    """Without all four counts item 29 scores 0 and is flagged 未填报."""
    s = run({"29.village_doctors": "100"})
    assert points(s, 29) == 0
    assert scoring.NOT_FILLED in s.items.loc[s.items["item"] == 29, "flag"].iloc[0]


@pytest.mark.parametrize(
    ("count", "expected"),
    [(0, 0), (9, 0), (10, 30), (19, 30), (20, 100), (35, 100)],  # tier edges 9/10/19/20
)
def test_item_42_tiers(count, expected):
    """Item 42: 10-19 added posts earn 30, 20 or more earn 100."""
    assert points(run({"42": str(count)}), 42) == expected


@pytest.mark.parametrize(
    ("values", "bonus"),
    [
        ({"40.national": "1", "40.nhc": "1", "40.regional": "1", "40.prefecture": "1"}, 43),  # 20+10+8+5
        ({"41": "2"}, 60),  # 30 per promoted result
        ({"40.national": "3", "41": "2"}, 100),  # 60 + 60 = 120, capped at 100
        ({"42": "20", "40.prefecture": "1"}, 100),  # 105 capped
        ({"40.prefecture": "19"}, 95),  # under the cap stays as is
    ],
)
def test_bonus_and_cap(values, bonus):
    """R4: bonus is the sum of items 40-42, at most 100."""
    assert total(run(values), "bonus") == bonus


def test_assessed_points_are_the_submitted_value_with_decimals():
    """R3: the submitted value is the points awarded; halves and quarters add exactly."""
    s = run({"1": "79.5", "2": "0.25", "3": "10"})
    assert (points(s, 1), points(s, 2), points(s, 3)) == (79.5, 0.25, 10)
    assert total(s, "base") == 89.75
    assert total(s, "total") == 89.75


def test_missing_assessed_item_scores_zero_and_is_flagged():
    """R3: a missing assessed item scores 0 and is flagged 未填报."""
    s = run({"1": "80"})
    assert points(s, 2) == 0
    assert s.items.loc[s.items["item"] == 2, "flag"].iloc[0] == scoring.NOT_FILLED
    assert scoring.NOT_FILLED in s.totals["flags"].iloc[0]


def test_full_marks_make_1000_plus_capped_bonus():
    """R5: base is at most 1000; total is base + bonus."""
    values = {str(i.id): str(i.weight) for i in P.rubric.items if i.rule == "assessed"}
    values.update(doctors(60, 100, 10, 100))
    values.update({"42": "25"})
    s = run(values)
    assert (total(s, "base"), total(s, "bonus"), total(s, "total")) == (1000, 100, 1100)
    assert s.totals["flags"].iloc[0] == []


def test_zone_without_a_file_ranks_with_zero_and_is_flagged_late():
    """R7: a zone with no valid on-time file scores 0 and is flagged 未按时报送."""
    s = run({}, submitted=False)
    assert total(s, "total") == 0
    assert s.totals["flags"].iloc[0] == [scoring.NOT_ON_TIME]
