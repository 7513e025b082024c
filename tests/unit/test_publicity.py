"""公示: the window's end to the second in programme time, objection states, the decision state."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from pilotzones.errors import ConfigError, StageError
from pilotzones.rules import programme as programme_mod
from pilotzones.rules.decisions import TRANSITIONS, DecisionState, can_move, move
from pilotzones.rules.programme import Publicity
from pilotzones.rules.publicity import (
    ObjectionState,
    cards_moved,
    check_pairs,
    check_value,
    closes,
    in_window,
    received_state,
    window_end,
)

TZ = ZoneInfo("Asia/Shanghai")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


@pytest.mark.parametrize(
    ("opened", "days", "working", "holidays", "end"),
    [
        # Tuesday 31 Dec 2024, five working days, New Year's Day off: Thu 2, Fri 3, Mon 6, Tue 7, Wed 8.
        ("2024-12-31 09:00:00", 5, True, [date(2025, 1, 1)], "2025-01-08 23:59:59"),
        # The same without the holiday: Wed 1 .. Tue 7.
        ("2024-12-31 09:00:00", 5, True, [], "2025-01-07 23:59:59"),
        # Calendar days count the weekend and the holiday.
        ("2024-12-31 09:00:00", 5, False, [date(2025, 1, 1)], "2025-01-05 23:59:59"),
        # Opened on a Friday: the weekend is skipped, the window runs to the next Friday.
        ("2024-01-05 17:30:00", 5, True, [], "2024-01-12 23:59:59"),
        # Opened on a Saturday or a Sunday: Monday is the first day.
        ("2024-01-06 10:00:00", 1, True, [], "2024-01-08 23:59:59"),
        ("2024-01-07 23:59:59", 1, True, [], "2024-01-08 23:59:59"),
        # Opened one second before midnight on a Thursday: the day of opening never counts.
        ("2024-01-04 23:59:59", 2, True, [], "2024-01-08 23:59:59"),
        # A holiday on a Monday after a weekend.
        ("2024-01-05 09:00:00", 1, True, [date(2024, 1, 8)], "2024-01-09 23:59:59"),
    ],
)
def test_window_end_in_programme_time(opened, days, working, holidays, end):
    assert window_end(at(opened), days, TZ, working=working, holidays=holidays) == at(end)


def test_window_end_is_programme_time_whatever_the_offset_given():
    """Opened at 2024-01-05 16:30 UTC = Saturday 00:30 in Shanghai: the weekend already began."""
    opened = datetime(2024, 1, 5, 16, 30, tzinfo=ZoneInfo("UTC"))
    assert window_end(opened, 1, TZ, working=True) == at("2024-01-08 23:59:59")


def test_the_last_second_is_in_the_window_and_the_next_is_not():
    opened = at("2024-01-05 17:30:00")
    end = window_end(opened, 5, TZ, working=True)
    assert in_window(end, opened, end)
    assert not in_window(end + timedelta(seconds=1), opened, end)
    assert not in_window(opened - timedelta(seconds=1), opened, end)
    assert received_state(end, opened, end) == ObjectionState.PENDING
    assert received_state(end + timedelta(seconds=1), opened, end) == ObjectionState.LATE
    assert received_state(end, None, None) == ObjectionState.LATE  # no window opened: not heard


def test_a_window_has_a_day_at_least():
    with pytest.raises(ValueError):
        window_end(at("2024-01-05 09:00:00"), 0, TZ, working=True)


def test_closes_follows_the_programme_table():
    opened = at("2024-12-31 09:00:00")
    assert closes(Publicity(), "evaluation", opened, TZ) is None  # the built-in default: off
    table = Publicity(publicity_days={"evaluation": 5}, holidays=(date(2025, 1, 1),))
    assert closes(table, "evaluation", opened, TZ) == at("2025-01-08 23:59:59")
    assert closes(table, "candidates", opened, TZ) is None
    calendar = Publicity(publicity_days={"evaluation": 5}, day_kind="calendar")
    assert closes(calendar, "evaluation", opened, TZ) == at("2025-01-05 23:59:59")


def test_the_builtin_programme_has_no_publicity():
    assert programme_mod.load().publicity.days("evaluation") == 0


def test_a_programme_file_names_known_stages_only(tmp_path):
    text = programme_mod.BUILTIN.read_text(encoding="utf-8")
    bad = tmp_path / "p.toml"
    bad.write_text(text + "\n[publicity]\npublicity_days = { evaluaton = 5 }\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"publicity\.publicity_days"):
        programme_mod.load(bad)
    good = tmp_path / "q.toml"
    good.write_text(
        text + '\n[publicity]\npublicity_days = { evaluation = 5 }\nday_kind = "working"\nholidays = [2025-01-01]\n',
        encoding="utf-8",
    )
    assert programme_mod.load(good).publicity.holidays == (date(2025, 1, 1),)


def test_objection_states():
    assert ObjectionState.UPHELD.answered and ObjectionState.DISMISSED.answered
    assert not ObjectionState.PENDING.answered and not ObjectionState.LATE.answered
    assert ObjectionState.LATE.cn == "逾期未受理"


def test_cards_moved():
    before = {"a": True, "b": True, "c": False}
    after = {"a": True, "b": False, "c": True}
    assert cards_moved(before, after) == ["b", "c"]
    assert cards_moved(before, before) == []


class _Row:
    def __init__(self, state: str) -> None:
        self.state = state


@pytest.mark.parametrize(
    ("start", "to", "allowed"),
    [
        (DecisionState.AWAITING_APPROVAL, DecisionState.IN_PUBLICITY, True),
        (DecisionState.IN_PUBLICITY, DecisionState.IN_PUBLICITY, True),  # rebuilt after an upheld objection
        (DecisionState.IN_PUBLICITY, DecisionState.PUBLISHED, True),
        (DecisionState.IN_PUBLICITY, DecisionState.DECLINED, True),
        (DecisionState.IN_PUBLICITY, DecisionState.AWAITING_APPROVAL, False),
        (DecisionState.DECLINED, DecisionState.IN_PUBLICITY, False),
        (DecisionState.PUBLISHED, DecisionState.IN_PUBLICITY, False),
        (DecisionState.NOT_RUN, DecisionState.IN_PUBLICITY, False),
    ],
)
def test_publicity_transitions(start, to, allowed):
    assert can_move(start.value if start != DecisionState.NOT_RUN else None, to) is allowed
    row = _Row(start.value)
    if allowed:
        move(row, to)
        assert row.state == to.value
    elif start != DecisionState.NOT_RUN:
        with pytest.raises(StageError):
            move(row, to)


def test_publicity_is_pending_not_settled():
    s = DecisionState.IN_PUBLICITY
    assert s.pending and not s.settled and s.cn == "公示中"
    assert set(TRANSITIONS) == set(DecisionState)


# -- the checks an objection's claimed value and an operator's correction pass -------------------

RUBRIC = programme_mod.load().rubric


@pytest.mark.parametrize(
    ("key", "value", "canonical", "error"),
    [
        ("1", "80", "80", None),  # item 1: assessed, weight 80
        ("1", " ８０ ", "80", None),  # full-width digits and blanks, as typed
        ("1", "79.50", "79.5", None),
        ("1", "80.5", None, "超出范围"),
        ("1", "-1", None, "超出范围"),
        ("1", "10.125", None, "小数位数过多"),
        ("1", "1e1", None, "不是数字"),
        ("1", "abc", None, "不是数字"),
        ("29.village_doctors", "12", "12", None),  # a count
        ("29.village_doctors", "1.5", None, "非负整数"),
        ("29.village_doctors", "-3", None, "非负整数"),
        ("99", "1", None, "不是本年度评价细则的报送项"),
    ],
)
def test_check_value(key, value, canonical, error):
    got, why = check_value(RUBRIC, key, value, 2)
    assert got == canonical
    assert (why is None) if error is None else (error in why)


def test_check_pairs_over_amended_values():
    values = {"29.village_doctors": "10", "29.village_doctors_licensed": "10"}
    assert check_pairs(RUBRIC, values) == []
    problems = check_pairs(RUBRIC, {**values, "29.village_doctors_licensed": "11"})
    assert len(problems) == 1 and "分子不能大于分母" in problems[0]


def test_the_candidate_selection_has_no_publicity_period(tmp_path):
    """A deliberate choice (README, Rules: Publicity): `publicity_days.candidates` above 0 is refused,
    naming the field, rather than ignored; 0 (off) is accepted."""
    text = programme_mod.BUILTIN.read_text(encoding="utf-8")
    bad = tmp_path / "p.toml"
    bad.write_text(text + "\n[publicity]\npublicity_days = { evaluation = 5, candidates = 5 }\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"publicity\.publicity_days.*candidates = 5.*no publicity period"):
        programme_mod.load(bad)
    off = tmp_path / "q.toml"
    off.write_text(text + "\n[publicity]\npublicity_days = { evaluation = 5, candidates = 0 }\n", encoding="utf-8")
    assert programme_mod.load(off).publicity.days("candidates") == 0
