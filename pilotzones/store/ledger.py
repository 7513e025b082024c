"""Reading and writing the state: submissions, memberships, cards, candidates, decisions."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Row, and_, or_, select
from sqlalchemy.orm import Session, load_only

from pilotzones import stages
from pilotzones.rules.decisions import DecisionState
from pilotzones.store import models as m
from pilotzones.store.bulk_insert import driver_connection

if TYPE_CHECKING:  # pandas only where a frame is built: `status` never loads it (0.3 s)
    import pandas as pd


def pilots_for(s: Session, year: int) -> list[str]:
    """R2: zones that are pilots in the evaluation of `year` (before that year's swaps), by seat."""
    rows = s.execute(
        select(m.Membership.adcode)
        .where(m.Membership.joined_year <= year)
        .where(or_(m.Membership.left_year.is_(None), m.Membership.left_year >= year))
        .order_by(m.Membership.seat, m.Membership.joined_year)
    )
    return [r[0] for r in rows]


def pilots_after(s: Session, year: int) -> list[str]:
    """Pilot zones after the published decisions of `year` (those joining for year + 1 included)."""
    return pilots_for(s, year + 1)


def exited(s: Session) -> set[str]:
    return set(s.scalars(select(m.Membership.adcode).where(m.Membership.left_year.is_not(None))))


def record_submission(s: Session, *, values: Iterable[dict] = (), **fields) -> m.Submission:
    sub = m.Submission(**fields)
    s.add(sub)
    s.flush()
    rows = [dict(v, submission_id=sub.id) for v in values]
    if rows:
        s.execute(m.table(m.SubmissionValue).insert(), rows)
    return sub


# Deadline exceptions: the submission kind a stage reads, and back.
STAGE_KIND = {s.name: s.submission_kind for s in stages.all_stages()}
KIND_STAGE = {v: k for k, v in STAGE_KIND.items()}


def deadline_exceptions(
    s: Session, year: int, stage: str | None = None, *, revoked: bool = False
) -> list[m.DeadlineException]:
    """The exceptions in force for `year` (one stage, or all), in the order they were granted;
    with `revoked`, the revoked ones too."""
    q = select(m.DeadlineException).where(m.DeadlineException.year == year)
    if stage is not None:
        q = q.where(m.DeadlineException.stage == stage)
    if not revoked:
        q = q.where(m.DeadlineException.revoked_at.is_(None))
    return list(s.scalars(q.order_by(m.DeadlineException.granted_at, m.DeadlineException.id)))


@dataclass
class Leeway:
    """The deadline exceptions of one stage and year, as the judgement of lateness needs them.

    A file counts when it was on time at receipt, or an extension of its sender covers its
    receipt, or it was accepted late by name. Extensions only ever move a deadline later.
    """

    extensions: dict[str, datetime] = field(default_factory=dict)  # sender -> extended deadline (UTC)
    extension_ids: dict[str, list[int]] = field(default_factory=dict)  # sender -> its extensions
    accepted: dict[int, int] = field(default_factory=dict)  # submission id -> exception id
    ids: list[int] = field(default_factory=list)

    def extended(self, sub: m.Submission) -> bool:
        until = self.extensions.get(sub.sender or "")
        return until is not None and utc(sub.received_at) <= until

    def counts(self, sub: m.Submission) -> bool:
        return bool(sub.on_time) or sub.id in self.accepted or self.extended(sub)


def leeway(s: Session, kind: str, year: int) -> Leeway:
    """The exceptions that apply to submissions of `kind` for `year` (none for review sheets)."""
    out = Leeway()
    stage = KIND_STAGE.get(kind)
    if stage is None:
        return out
    for x in deadline_exceptions(s, year, stage):
        out.ids.append(x.id)
        if x.kind == "extension" and x.until is not None:
            until = utc(x.until)
            if x.adcode not in out.extensions or until > out.extensions[x.adcode]:
                out.extensions[x.adcode] = until
            out.extension_ids.setdefault(x.adcode, []).append(x.id)
        elif x.kind == "accept_late" and x.submission_id is not None:
            out.accepted[x.submission_id] = x.id
    return out


def extended_deadline(s: Session, kind: str, year: int, sender: str | None) -> datetime | None:
    """The latest extension granted to `sender` for submissions of `kind` in `year` (UTC), if any."""
    if not sender:
        return None
    return leeway(s, kind, year).extensions.get(sender)


def _judged():
    """Only what judging a file's lateness reads: a national year's error lists are not parsed for it."""
    sub = m.Submission
    return load_only(sub.id, sub.kind, sub.year, sub.sender, sub.received_at, sub.on_time, sub.status)


def latest_on_time(s: Session, kind: str, year: int) -> dict[str, m.Submission]:
    """R11: per sender, the latest accepted submission received by the deadline (or counted by an exception)."""
    lw = leeway(s, kind, year)
    subs = s.scalars(
        select(m.Submission)
        .options(_judged())
        .where(and_(m.Submission.kind == kind, m.Submission.year == year))
        .where(m.Submission.status == "accepted")
        .order_by(m.Submission.received_at, m.Submission.id)
    )
    latest: dict[str, m.Submission] = {}
    for sub in subs:
        if sub.sender and lw.counts(sub):
            latest[sub.sender] = sub
    return latest


def late_senders(s: Session, kind: str, year: int) -> set[str]:
    """Senders of a file received after their deadline that no exception made count."""
    lw = leeway(s, kind, year)
    subs = s.scalars(
        select(m.Submission)
        .options(_judged())
        .where(m.Submission.kind == kind, m.Submission.year == year, m.Submission.on_time.is_(False))
    )
    return {sub.sender for sub in subs if sub.sender and not lw.counts(sub)}


def file_counts(s: Session, kind: str, year: int) -> dict[str, int]:
    """Files of `kind` for `year`, for a stage's log: read, accepted, rejected, late, by_exception."""
    lw = leeway(s, kind, year)
    out = {"read": 0, "accepted": 0, "rejected": 0, "late": 0, "by_exception": 0}
    subs = select(m.Submission).options(_judged()).where(m.Submission.kind == kind, m.Submission.year == year)
    for sub in s.scalars(subs):
        out["read"] += 1
        if sub.status != "accepted":
            out["rejected"] += 1
            continue
        out["accepted"] += 1
        if not sub.on_time and not lw.counts(sub):
            out["late"] += 1
        elif not sub.on_time:
            out["by_exception"] += 1
    return out


def values_frame(s: Session, submission_ids: Iterable[int]) -> pd.DataFrame:
    import pandas as pd

    ids = sorted({int(i) for i in submission_ids})
    cols = ["submission_id", "adcode", "key", "value"]
    if not ids:
        return pd.DataFrame(columns=cols)
    t = m.table(m.SubmissionValue)
    query = select(t.c.submission_id, t.c.adcode, t.c.key, t.c.value)
    rows: list = []
    # Chunked so statement sizes stay bounded at national scale (2,844 files, 136k values).
    for i in range(0, len(ids), 1000):
        rows += _plain_rows(s, query.where(t.c.submission_id.in_(ids[i : i + 1000])))
    return pd.DataFrame(rows, columns=cols)


def _plain_rows(s: Session, statement) -> list[tuple]:
    """The rows of a query of integer and text columns whose only parameters are integers, as tuples
    straight from the driver: SQLAlchemy's Row objects cost as much as the query at this size."""
    conn = s.connection()
    sql = str(statement.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    cursor = driver_connection(conn).cursor()
    try:
        cursor.execute(sql)
        return cursor.fetchall()
    finally:
        cursor.close()


def card_years(s: Session, adcodes: Iterable[str]) -> dict[str, set[int]]:
    wanted = set(adcodes)
    out: dict[str, set[int]] = {}
    for adcode, year in s.execute(select(m.Card.adcode, m.Card.year)):
        if adcode in wanted:
            out.setdefault(adcode, set()).add(year)
    return out


def candidates_in_force(s: Session, year: int) -> list[dict]:
    """R9: the most recent published selection up to `year`, less those already promoted."""
    latest = s.scalars(
        select(m.Decision)
        .where(
            m.Decision.stage == "candidates", m.Decision.state == DecisionState.PUBLISHED.value, m.Decision.year <= year
        )
        .where(m.Decision.id.in_(select(m.Candidate.decision_id)))
        .order_by(m.Decision.year.desc())
        .limit(1)
    ).first()
    if latest is None:
        return []
    rows = s.scalars(
        select(m.Candidate)
        .where(m.Candidate.decision_id == latest.id, m.Candidate.promoted_year.is_(None))
        .order_by(m.Candidate.rank, m.Candidate.id)
    )
    return [{"adcode": c.adcode, "rank": c.rank, "review_score": c.review_score, "year": c.year} for c in rows]


def decision(s: Session, year: int, stage: str, *, lock: bool = False) -> m.Decision | None:
    q = select(m.Decision).where(m.Decision.year == year, m.Decision.stage == stage)
    if lock:
        q = q.with_for_update()
    return s.scalars(q).first()


def decisions_of_stage(s: Session, stage: str) -> list[m.Decision]:
    return list(s.scalars(select(m.Decision).where(m.Decision.stage == stage).order_by(m.Decision.year)))


def take_seat(s: Session, *, adcode: str, replaces: str, year: int, decision_id: int, reason: str) -> None:
    """A promoted county takes the seat of the zone it replaces, first evaluated in `year` + 1."""
    old = s.scalars(select(m.Membership).where(m.Membership.adcode == replaces)).one()
    s.add(m.Membership(adcode=adcode, seat=old.seat, joined_year=year + 1, join_reason=reason, joined_by=decision_id))


def leave(s: Session, *, adcode: str, year: int, decision_id: int, reason: str) -> None:
    row = s.scalars(select(m.Membership).where(m.Membership.adcode == adcode)).one()
    row.left_year, row.leave_reason, row.left_by = year, reason, decision_id


def mark_promoted(s: Session, adcode: str, year: int) -> None:
    for c in s.scalars(select(m.Candidate).where(m.Candidate.adcode == adcode, m.Candidate.promoted_year.is_(None))):
        c.promoted_year = year


def utc(dt: datetime) -> datetime:
    """SQLite gives back naive datetimes; they were stored in UTC."""
    from datetime import UTC

    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def item_scores(
    s: Session, year: int, adcodes: Collection[str] | None = None
) -> list[Row[tuple[str, int, float, str | None]]]:
    """(adcode, item, points, flag) of every item scored by the evaluation of `year` (of `adcodes` only).

    Plain rows, not ItemScore objects: at national scale there are over a hundred thousand, and
    loading each into the session costs far more than reading its four columns.
    """
    t = m.table(m.ItemScore)
    d = decision(s, year, stages.EVALUATION.name)
    if d is None:
        return []
    query = select(t.c.adcode, t.c.item, t.c.points, t.c.flag).where(t.c.decision_id == d.id)
    if adcodes is not None:
        query = query.where(t.c.adcode.in_(list(adcodes)))
    return list(s.execute(query))
