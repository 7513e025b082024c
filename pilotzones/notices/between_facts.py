"""What the notices between evaluations need from the state database (issue 14), gathered into
plain facts; `notices.between` builds the notices from them without a session."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from pilotzones.notices.load import Facts, nominee_email
from pilotzones.rules.rectification import CaseState
from pilotzones.store import cases, ledger, visits
from pilotzones.store.home import Home
from pilotzones.store.session import session


@dataclass(frozen=True)
class RectificationFacts(Facts):
    """The cases due in `year`, as they stand at `at` (programme time)."""

    year: int = 0
    at: datetime | None = None
    cases: list[dict] = field(default_factory=list)


@dataclass(frozen=True)
class VisitFacts(Facts):
    year: int = 0
    at: datetime | None = None
    zones: list[str] = field(default_factory=list)  # the year's pilots
    visits: dict[str, list[dict]] = field(default_factory=dict)  # zone -> its visits of the year


@dataclass(frozen=True)
class MeetingFacts(Facts):
    year: int = 0
    meeting: dict = field(default_factory=dict)
    pilots: list[str] = field(default_factory=list)
    candidates: list[str] = field(default_factory=list)
    email_hints: dict[str, str | None] = field(default_factory=dict)


@dataclass(frozen=True)
class MeetingCountFacts(Facts):
    """The meetings recorded for `year` against the programme's yearly count, as they stand at `at`."""

    year: int = 0
    at: datetime | None = None
    meetings: list[dict] = field(default_factory=list)  # held_on, place, kind


def meeting_count_facts(home: Home, year: int, at: datetime) -> MeetingCountFacts:
    base = Facts.of(home)
    with session(home.db_url) as s:
        held = [{"held_on": mt.held_on, "place": mt.place, "kind": mt.kind} for mt, _ in visits.meetings(s, year)]
    return MeetingCountFacts(base.prog, base.reg, year, at.astimezone(base.prog.tz), held)


def rectification_facts(home: Home, year: int, at: datetime) -> RectificationFacts:
    base = Facts.of(home)
    tz = base.prog.tz
    rows = []
    with session(home.db_url) as s:
        due = cases.due_in(s, year, tz)
        history = cases.events(s, [c.id for c in due])
        for c in due:
            v = cases.view(c, at, tz, late=any(e.late for e in history.get(c.id, [])))
            returned = [e for e in history.get(c.id, []) if e.state == CaseState.RETURNED.value]
            rows.append(
                {
                    "id": c.id,
                    "adcode": c.adcode,
                    "card_year": c.card_year,
                    "deadline": v.deadline,
                    "state": v.state,
                    "overdue": v.overdue,
                    "late": v.late,
                    "return_reason": returned[-1].note if returned else None,
                }
            )
    return RectificationFacts(base.prog, base.reg, year, at.astimezone(tz), rows)


def visit_facts(home: Home, year: int, at: datetime) -> VisitFacts:
    base = Facts.of(home)
    with session(home.db_url) as s:
        zones = ledger.pilots_for(s, year)
        by_zone: dict[str, list[dict]] = {}
        for v in visits.visits(s, year):
            by_zone.setdefault(v.adcode, []).append(
                {"visited_on": v.visited_on, "who": v.who, "found": v.found, "follow_up": v.follow_up}
            )
    return VisitFacts(base.prog, base.reg, year, at.astimezone(base.prog.tz), zones, by_zone)


def meeting_facts(home: Home, meeting_id: int) -> MeetingFacts:
    from pilotzones.store import models as m

    base = Facts.of(home)
    with session(home.db_url) as s:
        row = s.get(m.ExchangeMeeting, meeting_id)
        if row is None:
            raise ValueError(f"no meeting {meeting_id}")
        recorded_on = ledger.utc(row.recorded_at).astimezone(base.prog.tz).date()
        meeting = {
            "id": row.id,
            "held_on": row.held_on,
            "place": row.place,
            "kind": row.kind,
            "recorded_on": recorded_on,
        }
        year = row.year
        pilots = ledger.pilots_for(s, year)
        candidates = [c["adcode"] for c in ledger.candidates_in_force(s, year) if c["adcode"] not in pilots]
    hints = {a: nominee_email(home, a) for a in candidates}
    return MeetingFacts(base.prog, base.reg, year, meeting, pilots, candidates, hints)
