"""R10: each reason a nomination does not count, ties on review score, the slots."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pilotzones.rules import selection as c
from pilotzones.rules.programme import Info
from pilotzones.rules.register import load_register

WORDS = Info.default_words()

REG = load_register("650000")
T0 = datetime(2023, 9, 20, tzinfo=UTC)


def nom(adcode: str, prefecture: str, minutes: int = 0, sub: int = 1, on_time: bool = True) -> c.Nomination:
    return c.Nomination(adcode, "", prefecture, T0 + timedelta(minutes=minutes), sub, None, None, on_time)


def reason_of(n: c.Nomination, reviews=None, pilots=(), exited=()) -> str | None:
    reviews = {n.adcode: 80.0} if reviews is None else reviews
    return c.judge([n], reviews, REG, set(pilots), set(exited))[0].reason


@pytest.mark.parametrize(
    ("n", "kwargs", "reason"),
    [
        (nom("652901", "652900"), {}, None),  # 阿克苏市 by 阿克苏地区, reviewed: counts
        (nom("652901", "652900", on_time=False), {}, c.LATE),  # received after 30 Sep
        (nom("110101", "652900"), {}, c.OUTSIDE),  # 北京 东城区 is not in the region
        (nom("652901", "653100"), {}, c.WRONG_PREFECTURE.format(**WORDS)),  # 阿克苏市 nominated by 喀什地区
        (nom("654025", "654000"), {"pilots": {"654025"}}, c.PILOT.format(**WORDS)),  # 新源县 is already a pilot
        (nom("653224", "653200"), {"exited": {"653224"}}, c.EXITED.format(**WORDS)),  # 洛浦县 left: never again
        (nom("652901", "652900"), {"reviews": {}}, c.NO_REVIEW),  # the panel gave no score
    ],
)
def test_each_reason_a_nomination_does_not_count(n, kwargs, reason):
    assert reason_of(n, **kwargs) == reason


def test_county_nominated_twice_counts_once_the_earliest():
    a = nom("652901", "652900", minutes=5, sub=2)
    b = nom("652901", "652900", minutes=1, sub=1)
    v = c.judge([a, b], {"652901": 90.0}, REG, set(), set())
    assert [(x.nomination.submission_id, x.reason) for x in v] == [(1, None), (2, c.DUPLICATE)]


def test_ties_on_review_score_go_to_the_earlier_receipt():
    noms = [
        nom("652901", "652900", 3, 1),
        nom("652902", "652900", 1, 2),
        nom("652922", "652900", 2, 3),
        nom("652924", "652900", 0, 4),
    ]
    reviews = {"652901": 90.0, "652902": 90.0, "652922": 95.0, "652924": 70.0}
    chosen = c.select(c.judge(noms, reviews, REG, set(), set()), 3)
    assert [v.nomination.adcode for v in chosen] == ["652922", "652902", "652901"]


def test_fewer_eligible_than_slots_selects_them_all():
    chosen = c.select(c.judge([nom("652901", "652900")], {"652901": 60.0}, REG, set(), set()), 3)
    assert [v.nomination.adcode for v in chosen] == ["652901"]
