"""A programme is data: the built-in Annex 1 rubric, and other programmes from files."""

from __future__ import annotations

from pathlib import Path

import pytest

from pilotzones import programme
from pilotzones.errors import ConfigError

P = programme.load()


def test_annex_1_is_transcribed_exactly():
    """Nine scored categories with items 1-39 make 1000 points; bonus items 40-42 capped at 100."""
    r = P.rubric
    assert [c.max for c in r.scored] == [150, 200, 100, 100, 100, 100, 80, 50, 120]
    assert [i.id for c in r.scored for i in c.items] == list(range(1, 40))
    assert r.base_max == 1000
    assert [i.id for i in r.bonus_items] == [40, 41, 42]
    assert r.bonus_cap == 100
    assert r.item(1).name == "党委政府主导" and r.item(1).weight == 80
    assert r.item(29).weight == 20 and r.item(29).rule == "share_growth"
    assert r.item(39).weight == 40


def test_six_pilots_of_the_notice():
    assert P.pilots.initial == ("654025", "654002", "654321", "650521", "652926", "653224")
    assert (P.rules.candidate_slots, P.rules.cards_per_year, P.rules.consecutive_cards_to_disqualify) == (
        3,
        2,
        2,
    )


def test_deadlines_are_local_time():
    d = P.moment("evaluation_deadline", 2023)
    assert d.isoformat() == "2023-12-20T23:59:59+08:00"


def _write(tmp_path: Path, text: str) -> Path:
    f = tmp_path / "p.toml"
    f.write_text(text, encoding="utf-8")
    return f


def test_broken_programme_file_names_file_and_field(tmp_path):
    """A category whose weights do not add up is refused with the field named."""
    text = programme.BUILTIN.read_text(encoding="utf-8").replace("weight = 80", "weight = 81", 1)
    with pytest.raises(ConfigError) as exc:
        programme.load(_write(tmp_path, text))
    assert "p.toml" in str(exc.value) and "rubric.categories.0" in str(exc.value)


def test_not_toml_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="not a valid TOML"):
        programme.load(_write(tmp_path, "[programme\n"))
