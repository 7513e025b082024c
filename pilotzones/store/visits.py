"""Expert visits and exchange meetings in the state database; recording one twice records it once."""

from __future__ import annotations

from collections import Counter
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from pilotzones import clock
from pilotzones.errors import ConfigError
from pilotzones.rules.visits import MeetingKind
from pilotzones.store import models as m


def add_visit(
    s: Session,
    *,
    adcode: str,
    visited_on: date,
    who: str,
    found: str = "",
    follow_up: str = "",
    case_id: int | None = None,
    by: str,
) -> tuple[m.ExpertVisit, bool]:
    """Record a visit (the visit's year is its date's); (row, False) when it is already on record."""
    if not who.strip():
        raise ConfigError("--who 不能为空：请写明来访的专家（组）")
    if case_id is not None:
        case = s.get(m.RectificationCase, case_id)
        if case is None or case.adcode != adcode:
            raise ConfigError(f"--case {case_id}：不是 {adcode} 的整改事项")
    t = m.ExpertVisit
    have = s.scalars(select(t).where(t.adcode == adcode, t.visited_on == visited_on, t.who == who.strip())).first()
    if have is not None:
        return have, False
    row = t(
        year=visited_on.year,
        adcode=adcode,
        visited_on=visited_on,
        who=who.strip(),
        found=found.strip(),
        follow_up=follow_up.strip(),
        case_id=case_id,
        recorded_at=clock.now(),
        recorded_by=by,
    )
    s.add(row)
    s.flush()
    return row, True


def sheet_recorded(s: Session, submission: m.Submission, rows: list, context: object) -> None:
    """The file kind's hook: the visits of an accepted sheet, once each (a visit on record is kept)."""
    add_sheet(s, rows, by=f"#{submission.id}")


def add_sheet(s: Session, rows, *, by: str) -> int:
    """The visits of an accepted visit sheet (intake.visits rows); returns how many were new."""
    from datetime import date as day

    new = 0
    for r in rows:
        x = r["extra"]
        _, added = add_visit(
            s,
            adcode=r["adcode"],
            visited_on=day.fromisoformat(r["value"]),
            who=x["who"],
            found=x["found"],
            follow_up=x["follow_up"],
            case_id=x["case"],
            by=by,
        )
        new += added
    return new


def visits(s: Session, year: int) -> list[m.ExpertVisit]:
    t = m.ExpertVisit
    return list(s.scalars(select(t).where(t.year == year).order_by(t.visited_on, t.adcode, t.id)))


def counts(s: Session, year: int) -> Counter[str]:
    return Counter(v.adcode for v in visits(s, year))


def add_meeting(s: Session, *, held_on: date, place: str, kind: MeetingKind, by: str) -> tuple[m.ExchangeMeeting, bool]:
    """Record a meeting; (row, False) when the same day, place and kind are already on record."""
    if not place.strip():
        raise ConfigError("--place 不能为空")
    t = m.ExchangeMeeting
    have = s.scalars(select(t).where(t.held_on == held_on, t.place == place.strip(), t.kind == kind.value)).first()
    if have is not None:
        return have, False
    row = t(
        year=held_on.year,
        held_on=held_on,
        place=place.strip(),
        kind=kind.value,
        recorded_at=clock.now(),
        recorded_by=by,
    )
    s.add(row)
    s.flush()
    return row, True


def attend(s: Session, meeting_id: int, adcodes: list[str]) -> int:
    """Record who attended; returns how many were not on record yet."""
    if s.get(m.ExchangeMeeting, meeting_id) is None:
        raise ConfigError(f"--meeting {meeting_id}：没有这次会议")
    t = m.MeetingAttendance
    have = set(s.scalars(select(t.adcode).where(t.meeting_id == meeting_id)))
    new = [a for a in dict.fromkeys(adcodes) if a not in have]
    s.add_all(t(meeting_id=meeting_id, adcode=a) for a in new)
    return len(new)


def meetings(s: Session, year: int) -> list[tuple[m.ExchangeMeeting, list[str]]]:
    """The year's meetings, each with the zones that attended."""
    t = m.ExchangeMeeting
    rows = list(s.scalars(select(t).where(t.year == year).order_by(t.held_on, t.id)))
    who: dict[int, list[str]] = {}
    if rows:
        a = m.MeetingAttendance
        q = select(a.meeting_id, a.adcode).where(a.meeting_id.in_([r.id for r in rows])).order_by(a.adcode)
        for mid, adcode in s.execute(q):
            who.setdefault(mid, []).append(adcode)
    return [(r, who.get(r.id, [])) for r in rows]
