"""R8 disqualification after consecutive cards and R9 replacement order."""

from __future__ import annotations

import pytest

from pilotzones.rules import sanctions


@pytest.mark.parametrize(
    ("history", "expected"),
    [
        ({"a": {2022}}, {"a"}),  # carded 2022 and now 2023: two in a row
        ({"a": {2021}}, set()),  # 2021 and 2023 are not consecutive
        ({}, set()),  # first card
        ({"a": {2022}, "b": {2022}}, {"a", "b"}),  # both carded twice running
    ],
)
def test_two_cards_running_disqualify(history, expected):
    """R8: a zone carded in Y and Y-1 is disqualified."""
    assert sanctions.disqualified(["a", "b"], history, 2023, 2) == expected


def test_three_consecutive_cards_when_the_programme_says_so():
    """The number of consecutive cards is programme data."""
    assert sanctions.disqualified(["a"], {"a": {2022}}, 2023, 3) == set()
    assert sanctions.disqualified(["a"], {"a": {2021, 2022}}, 2023, 3) == {"a"}


def test_lower_ranked_zone_is_replaced_first_and_the_rest_stay_vacant():
    """R9: the worse zone takes the best candidate; with none left the seat stays vacant."""
    swaps = sanctions.replace(["worst", "better"], ["c1"])
    assert swaps.promoted == (sanctions.Promotion("c1", "worst"),)
    assert swaps.vacant == ("better",)


def test_candidates_are_taken_in_rank_order():
    swaps = sanctions.replace(["x", "y"], ["c1", "c2", "c3"])
    assert [(p.adcode, p.replaces) for p in swaps.promoted] == [("c1", "x"), ("c2", "y")]
    assert swaps.vacant == ()
