"""Between evaluations (issue 14): the dated steps of rectification and visits, the operator's
acts on cases, visits and meetings. Plain functions; the flows (`flows/between.py`) and the command
line call them. Each queues its notices by identity, so a step run twice sends nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from pilotzones import clock
from pilotzones.rules.rectification import Verdict
from pilotzones.rules.visits import MeetingKind
from pilotzones.store import cases, visits
from pilotzones.store.home import Home
from pilotzones.store.session import session


@dataclass(frozen=True)
class Step:
    """A dated step between evaluations: the programme calendar entry it runs on and its notices."""

    name: str  # the notice kind it sends, and the run log's stage
    moment: str  # the programme's calendar entry
    cn: str


STEPS = {
    s.name: s
    for s in (
        Step("rectification_reminder", "rectification_reminder", "整改报告提醒"),
        Step("rectification_overdue", "rectification_overdue", "整改逾期名单"),
        Step("visit_shortfall", "visit_check", "专家调研与交流会议次数检查"),
    )
}


def notices_of(home: Home, step: str, year: int, at: datetime | None = None) -> list:
    """The notices a dated step sends for `year`, as things stand at `at` (default now)."""
    from pilotzones import notices

    at = at or clock.now()
    if step == "visit_shortfall":
        return notices.visit_check_notices(home, year, at)
    return notices.rectification_notices(home, year, step, at)


def run_step(home: Home, step: str, year: int, at: datetime | None = None) -> int:
    """Queue the step's notices not queued yet; returns how many were new."""
    from pilotzones.notices import queue

    return queue(home, notices_of(home, step, year, at))


def judge_case(home: Home, case_id: int, verdict: Verdict, *, by: str, reason: str | None) -> dict:
    """The operator accepts a reported case or returns it with a reason."""
    with session(home.db_url) as s:
        c = cases.judge(s, case_id, verdict, by=by, reason=reason)
        return cases.view(c, clock.now(), home.programme.tz).as_json()


def add_visit(
    home: Home,
    *,
    adcode: str,
    visited_on: date,
    who: str,
    found: str,
    follow_up: str,
    case_id: int | None,
    by: str,
) -> tuple[dict, bool]:
    _known_county(home, adcode)
    with session(home.db_url) as s:
        row, new = visits.add_visit(
            s,
            adcode=adcode,
            visited_on=visited_on,
            who=who,
            found=found,
            follow_up=follow_up,
            case_id=case_id,
            by=by,
        )
        return {"id": row.id, "year": row.year, "adcode": row.adcode}, new


def add_meeting(home: Home, *, held_on: date, place: str, kind: MeetingKind, by: str) -> tuple[int, bool, int]:
    """Record a meeting and queue its invitations: (meeting id, new, invitations newly queued)."""
    from pilotzones.notices import meeting_invitation_notices, queue

    with session(home.db_url) as s:
        row, new = visits.add_meeting(s, held_on=held_on, place=place, kind=kind, by=by)
        mid = row.id
    return mid, new, queue(home, meeting_invitation_notices(home, mid))


def attend(home: Home, meeting_id: int, adcodes: list[str]) -> int:
    for a in adcodes:
        _known_county(home, a)
    with session(home.db_url) as s:
        return visits.attend(s, meeting_id, adcodes)


def _known_county(home: Home, adcode: str) -> None:
    from pilotzones.errors import ConfigError

    if home.register.county(adcode) is None:
        raise ConfigError(f"{adcode}：不是本方案所辖的县级行政区划代码")


def year_json(home: Home, year: int, at: datetime | None = None) -> dict[str, dict]:
    """`status --json`'s `rectification`, `visits` and `meetings` of `year` (the yearly report's too)."""
    from pilotzones.reports.between import year_between

    return year_between(home, year, at or clock.now())
