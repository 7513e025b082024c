"""Rectification cases in the state database: opened by a published card, moved by reports, the
operator's verdicts and disqualifications, each move kept as an event (pilotzones.rules.rectification)."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from pilotzones import clock
from pilotzones.errors import ConfigError
from pilotzones.rules.rectification import CaseState, CaseView, Verdict, deadline, late_report, move, overdue
from pilotzones.store import ledger
from pilotzones.store import models as m

SYSTEM = "pilotzones"  # who moved a case that no operator moved (a report's intake, a disqualification)


def open_for_cards(
    s: Session, *, year: int, decision_id: int, carded: list[str], card_date, months: int, tz: tzinfo
) -> list[m.RectificationCase]:
    """One open case per zone carded in `year` (and not disqualified by the card); none twice."""
    # In UTC: SQLite keeps no offset, and the ledger reads a naive time back as UTC.
    due = deadline(card_date, months, tz).astimezone(UTC)
    have = set(s.scalars(select(m.RectificationCase.adcode).where(m.RectificationCase.card_year == year)))
    now = clock.now()
    out = []
    for z in carded:
        if z in have:
            continue
        c = m.RectificationCase(
            adcode=z, card_year=year, decision_id=decision_id, deadline=due, state=CaseState.OPEN.value, opened_at=now
        )
        s.add(c)
        s.flush()
        s.add(m.RectificationEvent(case_id=c.id, state=c.state, at=now, by=SYSTEM, note=f"{year}年度亮黄牌，立案整改"))
        out.append(c)
    return out


def close_disqualified(s: Session, zones: list[str], year: int) -> int:
    """A disqualification closes every case of the zone not closed yet; returns how many."""
    n = 0
    now = clock.now()
    for c in s.scalars(select(m.RectificationCase).where(m.RectificationCase.adcode.in_(zones))):
        if CaseState(c.state).closed:
            continue
        move(c, CaseState.DISQUALIFIED)
        c.closed_at = now
        s.add(m.RectificationEvent(case_id=c.id, state=c.state, at=now, by=SYSTEM, note=f"{year}年度取消资格，结案"))
        n += 1
    return n


def case_of(s: Session, adcode: str, card_year: int) -> m.RectificationCase | None:
    return s.scalars(
        select(m.RectificationCase).where(
            m.RectificationCase.adcode == adcode, m.RectificationCase.card_year == card_year
        )
    ).first()


def report_recorded(s: Session, submission: m.Submission, rows: list, context: object) -> int | None:
    """The file kind's hook: an accepted report moves its case; returns the case's id (None: no case)."""
    c = report_received(s, submission)
    return None if c is None else c.id


def report_received(s: Session, submission: m.Submission) -> m.RectificationCase | None:
    """An accepted rectification report reports its case (the latest report is the one judged); one
    received after the deadline is recorded as late, and still reports the case."""
    c = case_of(s, submission.sender or "", submission.year)
    if c is None or CaseState(c.state).closed:
        return None
    move(c, CaseState.REPORTED)
    late = late_report(ledger.utc(submission.received_at), ledger.utc(c.deadline))
    note = "收到整改报告（逾期报送：整改期限后收到）" if late else "收到整改报告"
    s.add(
        m.RectificationEvent(
            case_id=c.id, state=c.state, at=clock.now(), by=SYSTEM, note=note, submission_id=submission.id, late=late
        )
    )
    return c


def judge(s: Session, case_id: int, verdict: Verdict, *, by: str, reason: str | None) -> m.RectificationCase:
    """The operator's verdict on a reported case: accepted (closed) or returned with a reason."""
    c = s.get(m.RectificationCase, case_id)
    if c is None:
        raise ConfigError(f"--case {case_id}：没有这个整改事项")
    if verdict == Verdict.RETURNED and not (reason or "").strip():
        raise ConfigError("退回整改报告须以 --reason 说明理由")
    if CaseState(c.state) != CaseState.REPORTED:
        raise ConfigError(f"整改事项 {case_id} 当前状态为“{CaseState(c.state).cn}”：只有已报送整改报告的事项可以审核")
    move(c, CaseState(verdict.value))
    now = clock.now()
    if verdict == Verdict.ACCEPTED:
        c.closed_at = now
    s.add(m.RectificationEvent(case_id=c.id, state=c.state, at=now, by=by, note=reason))
    return c


def view(c: m.RectificationCase, at: datetime, tz: tzinfo, late: bool = False) -> CaseView:
    """`late`: a report of the case was received after the deadline (`late_reported`)."""
    due = ledger.utc(c.deadline).astimezone(tz)
    return CaseView(c.id, c.adcode, c.card_year, due, CaseState(c.state), overdue(c.state, due, at), late)


def late_reported(s: Session, case_ids: list[int]) -> set[int]:
    """The cases of `case_ids` a report of which was received after the deadline."""
    if not case_ids:
        return set()
    q = select(m.RectificationEvent.case_id).where(
        m.RectificationEvent.case_id.in_(case_ids), m.RectificationEvent.late.is_(True)
    )
    return set(s.scalars(q))


def cases(
    s: Session, *, card_years: list[int] | None = None, adcodes: list[str] | None = None
) -> list[m.RectificationCase]:
    q = select(m.RectificationCase).order_by(m.RectificationCase.card_year, m.RectificationCase.adcode)
    if card_years is not None:
        q = q.where(m.RectificationCase.card_year.in_(card_years))
    if adcodes is not None:
        q = q.where(m.RectificationCase.adcode.in_(adcodes))
    return list(s.scalars(q))


def states(s: Session, adcodes: list[str]) -> list[tuple[int, str]]:
    """(case id, state) of every case of these zones: what an evaluation proposal shows of them."""
    return [(c.id, c.state) for c in cases(s, adcodes=adcodes)]


def due_in(s: Session, year: int, tz: tzinfo) -> list[m.RectificationCase]:
    """Cases whose deadline falls in `year` (programme time): what that year's reminder and overdue
    list are about."""
    return [c for c in cases(s) if ledger.utc(c.deadline).astimezone(tz).year == year]


def events(s: Session, case_ids: list[int]) -> dict[int, list[m.RectificationEvent]]:
    out: dict[int, list[m.RectificationEvent]] = {}
    if not case_ids:
        return out
    q = select(m.RectificationEvent).where(m.RectificationEvent.case_id.in_(case_ids)).order_by(m.RectificationEvent.id)
    for e in s.scalars(q):
        out.setdefault(e.case_id, []).append(e)
    return out


def year_json(s: Session, year: int, tz: tzinfo, at: datetime) -> dict:
    """`status --json`'s `rectification`: the cases opened by `year`'s cards or due in `year`, each
    with its state, deadline, whether it is overdue now, and its history."""
    rows = {c.id: c for c in cases(s, card_years=[year])}
    rows.update({c.id: c for c in due_in(s, year, tz)})
    ordered = sorted(rows.values(), key=lambda c: (c.card_year, c.adcode))
    history = events(s, [c.id for c in ordered])
    out = []
    for c in ordered:
        row = view(c, at, tz, late=any(e.late for e in history.get(c.id, []))).as_json()
        row["events"] = [
            {
                "state": e.state,
                "at": ledger.utc(e.at).astimezone(tz).isoformat(),
                "by": e.by,
                "note": e.note,
                "submission_id": e.submission_id,
                "late": bool(e.late),
            }
            for e in history.get(c.id, [])
        ]
        out.append(row)
    return {
        "cases": out,
        "open": sum(1 for r in out if not CaseState(r["state"]).closed),
        "overdue": sum(1 for r in out if r["overdue"]),
        "late_reports": sum(1 for r in out if r["late_report"]),
    }


def on_evaluation_published(
    s: Session, prog, *, year: int, decision_id: int, carded: list[str], disqualified: list[str]
) -> None:
    """What a published evaluation does to rectification: a disqualification closes the zone's case,
    every other card opens one, due `rules.rectification_months` after the card's date."""
    close_disqualified(s, disqualified, year)
    open_for_cards(
        s,
        year=year,
        decision_id=decision_id,
        carded=[z for z in carded if z not in disqualified],
        card_date=prog.moment("evaluation", year).date(),
        months=prog.rules.rectification_months,
        tz=prog.tz,
    )


def overdue_at_evaluation(s: Session, prog, year: int, zones: list[str]) -> list[str]:
    """The zones of `zones` whose case due in `year` (programme time) is overdue at the evaluation of
    `year`: what a programme's overdue effect applies to, once, in that evaluation."""
    at = prog.moment("evaluation", year)
    return sorted(
        c.adcode
        for c in cases(s, adcodes=zones)
        if ledger.utc(c.deadline).astimezone(prog.tz).year == year and view(c, at, prog.tz).overdue
    )


def at_evaluation(
    s: Session, prog, year: int, carded: list[str], disqualified: list[str], zones: list[str]
) -> list[dict]:
    """The rectification rows of `year`'s evaluation proposal (rules.rectification.at_evaluation)."""
    from pilotzones.rules.rectification import at_evaluation as rows

    at = prog.moment("evaluation", year)
    before = [c for c in cases(s, adcodes=zones) if c.card_year < year]
    late = late_reported(s, [c.id for c in before])
    earlier = [view(c, at, prog.tz, late=c.id in late) for c in before]
    due = deadline(at.date(), prog.rules.rectification_months, prog.tz)
    return rows(year, earlier, carded, disqualified, due)
