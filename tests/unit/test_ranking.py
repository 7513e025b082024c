"""R6 ranking and R7 yellow cards, including ties at the card line."""

from __future__ import annotations

import pandas as pd
import pytest

from pilotzones.rules import ranking


def ranked(rows: list[tuple[str, int, int]], cards: int = 2) -> pd.DataFrame:
    totals = pd.DataFrame(rows, columns=["adcode", "total", "base"])
    r = ranking.rank(totals)
    r["yellow_card"] = ranking.yellow_cards(r, cards)
    return r.set_index("adcode")


def test_equal_total_and_base_share_a_rank():
    """R6: 1, 2, 2, 4."""
    r = ranked([("a", 900, 850), ("b", 800, 780), ("c", 800, 780), ("d", 700, 700)])
    assert list(r["rank"]) == [1, 2, 2, 4]


def test_equal_total_is_broken_by_base():
    """R6: on equal totals the higher base ranks first."""
    r = ranked([("a", 800, 700), ("b", 800, 790)])
    assert r.loc["b", "rank"] == 1 and r.loc["a", "rank"] == 2


@pytest.mark.parametrize(
    ("totals", "carded"),
    [
        ([900, 800, 700, 600, 500, 400], {"e", "f"}),  # plain bottom two
        ([900, 800, 700, 600, 500, 500], {"e", "f"}),  # tie in last place: still two
        ([900, 800, 700, 500, 500, 400], {"d", "e", "f"}),  # tie at the cut line: both carded
        ([900, 800, 500, 500, 500, 500], {"c", "d", "e", "f"}),  # four tied last: all carded
        ([500, 500, 500, 500, 500, 500], set("abcdef")),  # everyone tied: nobody ranks below anyone
        ([900, 800], {"a", "b"}),  # two zones: fewer than two rank below either
    ],
)
def test_yellow_cards_go_to_the_bottom_two_with_ties(totals, carded):
    """R7: carded when fewer than two zones rank strictly below."""
    names = "abcdef"
    r = ranked([(names[i], t, t) for i, t in enumerate(totals)])
    assert set(r.index[r["yellow_card"]]) == carded


def test_card_count_comes_from_the_programme():
    """R7 with one card a year: only the last zone."""
    r = ranked([("a", 3, 3), ("b", 2, 2), ("c", 1, 1)], cards=1)
    assert set(r.index[r["yellow_card"]]) == {"c"}
