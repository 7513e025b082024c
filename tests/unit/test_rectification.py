"""Between evaluations (issue 14), the pure rules: a rectification case's states and moves, its
deadline and the reminder and overdue dates in programme time, and the yearly visit minimum."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from pilotzones.errors import StageError
from pilotzones.rules import programme
from pilotzones.rules.rectification import (
    TRANSITIONS,
    CaseState,
    CaseView,
    add_months,
    at_evaluation,
    can_move,
    deadline,
    move,
    overdue,
)
from pilotzones.rules.visits import per_zone, shortfall

SHANGHAI = ZoneInfo("Asia/Shanghai")
S = CaseState


@dataclass
class Row:
    id: int
    state: str


@pytest.mark.parametrize(
    ("start", "to", "allowed"),
    [
        (S.OPEN, S.REPORTED, True),  # an accepted report reports the case
        (S.OPEN, S.ACCEPTED, False),  # nothing to accept before a report
        (S.OPEN, S.RETURNED, False),  # nothing to return before a report
        (S.OPEN, S.DISQUALIFIED, True),  # a second card closes an open case
        (S.REPORTED, S.REPORTED, True),  # a later report replaces the one awaiting the verdict
        (S.REPORTED, S.ACCEPTED, True),
        (S.REPORTED, S.RETURNED, True),
        (S.RETURNED, S.REPORTED, True),  # the zone reports again after a return
        (S.RETURNED, S.ACCEPTED, False),  # a returned report cannot be accepted without a new one
        (S.ACCEPTED, S.REPORTED, False),  # a closed case takes no report
        (S.ACCEPTED, S.DISQUALIFIED, False),  # a rectified case stays rectified
        (S.DISQUALIFIED, S.REPORTED, False),
    ],
)
def test_case_moves(start, to, allowed):
    assert can_move(start.value, to) is allowed
    row = Row(7, start.value)
    if allowed:
        move(row, to)
        assert row.state == to.value
    else:
        with pytest.raises(StageError, match="整改事项 7"):
            move(row, to)


def test_closed_states_move_nowhere_and_only_open_or_returned_cases_owe_a_report():
    assert {s for s in S if not TRANSITIONS[s]} == {s for s in S if s.closed} == {S.ACCEPTED, S.DISQUALIFIED}
    assert {s for s in S if s.owing} == {S.OPEN, S.RETURNED}


@pytest.mark.parametrize(
    ("card", "months", "due"),
    [
        (date(2022, 12, 31), 6, date(2023, 6, 30)),  # June has 30 days: the last day of the month
        (date(2022, 12, 31), 3, date(2023, 3, 31)),
        (date(2023, 8, 31), 6, date(2024, 2, 29)),  # a leap year's February
        (date(2022, 12, 31), 12, date(2023, 12, 31)),
    ],
)
def test_the_deadline_is_the_end_of_the_day_months_after_the_card(card, months, due):
    assert add_months(card, months) == due
    d = deadline(card, months, SHANGHAI)
    assert (d.date(), d.hour, d.minute, d.second, d.tzinfo) == (due, 23, 59, 59, SHANGHAI)


def test_a_case_is_overdue_only_after_the_last_second_and_only_while_a_report_is_owed():
    due = deadline(date(2022, 12, 31), 6, SHANGHAI)
    last_second = datetime(2023, 6, 30, 23, 59, 59, tzinfo=SHANGHAI)
    next_second = datetime(2023, 6, 30, 16, 0, 0, tzinfo=ZoneInfo("UTC"))  # 07-01 00:00:00 in Shanghai
    assert not overdue("open", due, last_second)
    assert overdue("open", due, next_second)
    assert overdue("returned", due, next_second)
    assert not overdue("reported", due, next_second)  # the report came; the verdict is the operator's
    assert not overdue("accepted", due, next_second)


def test_the_built_in_calendar_reminds_a_month_before_the_deadline_and_lists_the_day_after():
    p = programme.load()
    card = p.moment("evaluation", 2022)
    due = deadline(card.date(), p.rules.rectification_months, p.tz)
    reminder, listed = p.moment("rectification_reminder", 2023), p.moment("rectification_overdue", 2023)
    assert (reminder.month, reminder.day, reminder.hour) == (5, 30, 9)
    assert reminder < due < listed
    assert (listed - due).total_seconds() == 9 * 3600 + 1
    assert p.moment("visit_check", 2023) == datetime(2023, 11, 1, 9, tzinfo=SHANGHAI)


def test_a_programme_without_rectification_dates_derives_them_from_its_months(tmp_path):
    text = programme.BUILTIN.read_text(encoding="utf-8")
    text = text.replace("rectification_months = 6", "rectification_months = 3")
    text = text.replace('rectification_reminder = "05-30 09:00:00"\n', "")
    text = text.replace('rectification_overdue = "07-01 09:00:00"\n', "")
    f = tmp_path / "p.toml"
    f.write_text(text, encoding="utf-8")
    p = programme.load(f)
    assert p.calendar_text("rectification_reminder") == "02-28 09:00:00"  # 03-31 less a month
    assert p.calendar_text("rectification_overdue") == "04-01 09:00:00"


def test_a_reminder_after_the_deadline_is_refused_naming_the_entry(tmp_path):
    text = programme.BUILTIN.read_text(encoding="utf-8").replace(
        'rectification_reminder = "05-30 09:00:00"', 'rectification_reminder = "07-15 09:00:00"'
    )
    f = tmp_path / "p.toml"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(Exception, match=r"calendar\.rectification_reminder"):
        programme.load(f)


def test_the_evaluation_shows_earlier_cases_and_the_cases_its_cards_open():
    due = deadline(date(2022, 12, 31), 6, SHANGHAI)
    at = datetime(2023, 12, 31, 9, tzinfo=SHANGHAI)
    earlier = [
        CaseView(1, "654002", 2022, due, S.ACCEPTED, False),
        CaseView(2, "653224", 2022, due, S.OPEN, overdue("open", due, at)),
    ]
    new_due = deadline(date(2023, 12, 31), 6, SHANGHAI)
    rows = at_evaluation(2023, earlier, ["653224", "654321"], ["653224"], new_due)
    by = {(r["adcode"], r["card_year"]): r for r in rows}
    assert by[("654002", 2022)]["state"] == "accepted" and "closes_as" not in by[("654002", 2022)]
    # Carded again and disqualified: the open, overdue case closes with the disqualification, none opens.
    assert by[("653224", 2022)]["overdue"] and by[("653224", 2022)]["closes_as"] == "disqualified"
    assert ("653224", 2023) not in by
    assert by[("654321", 2023)]["state"] == "opens" and by[("654321", 2023)]["deadline"].startswith("2024-06-30")


@pytest.mark.parametrize(
    ("counts", "short"),
    [
        ({}, [("a", 0), ("b", 0)]),  # no visit at all
        ({"a": 2, "b": 1}, [("b", 1)]),  # exactly the minimum is enough
        ({"a": 3, "b": 2, "c": 5}, []),  # a zone not in the year's list does not count
    ],
)
def test_visits_short_of_the_yearly_minimum(counts, short):
    assert shortfall(["a", "b"], counts, 2) == short
    assert [(z["adcode"], z["visits"]) for z in per_zone(["a", "b"], counts, 2) if z["short"]] == short


def test_the_built_in_guidance_names_every_pilot_and_marks_its_placeholders():
    p = programme.load()
    assert p.guidance.visits_per_year == 2 and p.guidance.meetings_per_year == 2
    for a in p.pilots.initial:
        group, leader = p.guidance.of(a)
        assert group is not None and leader is not None
        assert group.placeholder and leader.placeholder and "占位" in group.name + leader.name
    group, leader = p.guidance.of("652901")  # a promoted county falls to the default group
    assert group is not None and group.id == p.guidance.default_group


def test_a_zone_assigned_to_an_unknown_group_is_refused(tmp_path):
    text = programme.BUILTIN.read_text(encoding="utf-8").replace('group = "experts-2"', 'group = "experts-9"', 1)
    f = tmp_path / "p.toml"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(Exception, match="experts-9"):
        programme.load(f)


def test_a_report_after_the_last_second_is_late():
    from pilotzones.rules.rectification import late_report

    tz = ZoneInfo("Asia/Shanghai")
    due = datetime(2023, 6, 30, 23, 59, 59, tzinfo=tz)
    assert not late_report(due, due) and late_report(due + timedelta(seconds=1), due)


def test_an_overdue_deduction_is_the_programmes_choice(tmp_path):
    """Default none; "deduction" needs its points (and "none" refuses them), in the score's decimals."""
    from pilotzones.errors import ConfigError

    assert programme.load().rules.rectification_overdue_effect == "none"
    text = programme.BUILTIN.read_text(encoding="utf-8")
    for extra, says in (
        ('rectification_overdue_effect = "deduction"\n', "needs rectification_overdue_points"),
        ("rectification_overdue_points = 5\n", "only with"),
        ('rectification_overdue_effect = "deduction"\nrectification_overdue_points = 0.125\n', "decimals"),
    ):
        bad = tmp_path / "p.toml"
        bad.write_text(
            text.replace("rectification_months = 6\n", f"rectification_months = 6\n{extra}"), encoding="utf-8"
        )
        with pytest.raises(ConfigError, match=says):
            programme.load(bad)


def test_a_deduction_lowers_the_total_flags_it_and_never_goes_below_zero():
    import pandas as pd

    from pilotzones.rules import scoring
    from pilotzones.rules.rectification import deduction_flag, deductions

    assert deductions("none", 0, ["654025"]) == {}
    off = deductions("deduction", 10, ["654025", "653224"])
    totals = pd.DataFrame(
        {
            "adcode": ["654025", "653224", "654002"],
            "base": [80000, 500, 70000],
            "bonus": [0, 0, 0],
            "total": [80000, 500, 70000],
            "flags": [[], ["未按时报送"], []],
        }
    )
    out = scoring.deduct(scoring.Scores(pd.DataFrame(), totals, 100), off, deduction_flag).totals
    assert list(out["total"]) == [79000, 0, 70000] and list(out["base"]) == [80000, 500, 70000]
    assert list(out["flags"]) == [["整改逾期扣10分"], ["未按时报送", "整改逾期扣10分"], []]
