"""A rectification case (限期整改): opened by a published yellow card, closed by the operator's
verdict on the zone's report or by the zone's disqualification. Pure: states, moves and dates.

The case's states and the moves between them are written once, as a stage's decision states are
(`pilotzones.rules.decisions`). Overdue is not a state: it is an open case whose deadline has passed,
so it follows from the clock and is never stored stale.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, tzinfo
from enum import StrEnum

from pilotzones.errors import StageError


class CaseState(StrEnum):
    OPEN = "open"  # the zone owes its rectification report
    REPORTED = "reported"  # an accepted report awaits the operator's verdict
    RETURNED = "returned"  # the operator sent the report back, with a reason: the zone owes another
    ACCEPTED = "accepted"  # closed: the operator accepted the rectification
    DISQUALIFIED = "disqualified"  # closed: the zone left the programme (R8) before it rectified

    @property
    def cn(self) -> str:
        return _CN[self]

    @property
    def closed(self) -> bool:
        return self in (CaseState.ACCEPTED, CaseState.DISQUALIFIED)

    @property
    def owing(self) -> bool:
        """Whether the zone owes a report (what the reminder and the overdue list are about)."""
        return self in (CaseState.OPEN, CaseState.RETURNED)


class Verdict(StrEnum):
    """The operator's verdict on a reported case."""

    ACCEPTED = CaseState.ACCEPTED.value
    RETURNED = CaseState.RETURNED.value


_CN = {
    CaseState.OPEN: "整改中",
    CaseState.REPORTED: "已报送整改报告，待审核",
    CaseState.RETURNED: "整改报告已退回，待重新报送",
    CaseState.ACCEPTED: "整改完成（已验收）",
    CaseState.DISQUALIFIED: "因取消资格而结案",
}

# A report accepted by intake reports the case (again, after a return or while one awaits the
# verdict: the latest report is the one judged); the operator accepts or returns a reported case;
# a disqualification closes whatever is not closed. Closed cases never move.
TRANSITIONS: dict[CaseState, frozenset[CaseState]] = {
    CaseState.OPEN: frozenset({CaseState.REPORTED, CaseState.DISQUALIFIED}),
    CaseState.REPORTED: frozenset({CaseState.REPORTED, CaseState.ACCEPTED, CaseState.RETURNED, CaseState.DISQUALIFIED}),
    CaseState.RETURNED: frozenset({CaseState.REPORTED, CaseState.DISQUALIFIED}),
    CaseState.ACCEPTED: frozenset(),
    CaseState.DISQUALIFIED: frozenset(),
}


def can_move(state: str, to: CaseState) -> bool:
    return to in TRANSITIONS[CaseState(state)]


def move(case, to: CaseState) -> None:
    """Set a case row's state, refusing a move the table above does not allow (in Chinese)."""
    if not can_move(case.state, to):
        raise StageError(f"整改事项 {case.id} 当前状态为“{CaseState(case.state).cn}”，不能变为“{to.cn}”")
    case.state = to.value


def add_months(d: date, months: int) -> date:
    """`d` plus whole months, on the last day of the month when it is shorter (8-31 + 1 -> 9-30)."""
    index = d.month - 1 + months
    year, month = d.year + index // 12, index % 12 + 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def deadline(card_date: date, months: int, tz: tzinfo) -> datetime:
    """The rectification deadline of a card given on `card_date`: the end of the day `months` later
    (deadlines are inclusive to the second), the date the yellow-card notice prints."""
    return datetime.combine(add_months(card_date, months), time(23, 59, 59), tzinfo=tz)


def overdue(state: str, due: datetime, at: datetime) -> bool:
    """An owed report not received by the deadline (a report received, late or not, is not overdue)."""
    return CaseState(state).owing and at > due


def deductions(effect: str, points: float, overdue: Iterable[str]) -> dict[str, float]:
    """The points taken off each zone's total for its overdue case, by the programme's effect:
    nothing with "none", `points` each with "deduction"."""
    if effect != "deduction":
        return {}
    return dict.fromkeys(overdue, points)


def deduction_flag(points: float) -> str:
    """The flag of a total a deduction lowered (the ranking, the result notice, the report)."""
    return f"整改逾期扣{points:g}分"


def late_report(received: datetime, due: datetime) -> bool:
    """A report received after its case's deadline: accepted for the case all the same, and recorded
    as late (status, the case's history, the overdue list), as a late evaluation file is."""
    return received > due


@dataclass(frozen=True)
class CaseView:
    """A case as the evaluation, the status and the reports show it."""

    id: int | None
    adcode: str
    card_year: int
    deadline: datetime
    state: CaseState
    overdue: bool
    late: bool = False  # a report of the case was received after the deadline

    def as_json(self) -> dict:
        return {
            "id": self.id,
            "adcode": self.adcode,
            "card_year": self.card_year,
            "deadline": self.deadline.isoformat(),
            "state": self.state.value,
            "state_cn": self.state.cn,
            "overdue": self.overdue,
            "late_report": self.late,
        }


def at_evaluation(
    year: int, cases: list[CaseView], carded: list[str], disqualified: list[str], new_deadline: datetime
) -> list[dict]:
    """What the December evaluation shows of rectification: each earlier case of a zone evaluated,
    with its state as it stands (and closed if the zone is disqualified now), and for each zone
    carded now the case its card opens (none when the card disqualifies it)."""
    out: list[dict] = []
    for c in cases:
        row = c.as_json()
        if c.adcode in disqualified and not c.state.closed:
            row["closes_as"] = CaseState.DISQUALIFIED.value
        out.append(row)
    for z in carded:
        if z in disqualified:
            continue
        out.append(
            {
                "id": None,
                "adcode": z,
                "card_year": year,
                "deadline": new_deadline.isoformat(),
                "state": "opens",
                "state_cn": "发布后立案整改",
                "overdue": False,
                "late_report": False,
            }
        )
    return out


def check_calendar(evaluation: date, months: int, reminder: datetime, overdue_at: datetime, tz: tzinfo) -> list[str]:
    """Problems with the reminder and overdue dates of a card given on `evaluation` (empty: none).

    The reminder must come before that card's deadline, the overdue list after it.
    """
    due = deadline(evaluation, months, tz)
    problems = []
    if not reminder < due:
        problems.append(f"calendar.rectification_reminder: {reminder:%m-%d} is not before the deadline {due:%m-%d}")
    if not overdue_at > due:
        problems.append(f"calendar.rectification_overdue: {overdue_at:%m-%d} is not after the deadline {due:%m-%d}")
    return problems
