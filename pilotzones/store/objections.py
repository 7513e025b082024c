"""公示 on the record: a stage's publicity window, the objections received, their answers, and the
amendments an upheld objection makes to a counted file (over its values, never in them)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from pilotzones.rules.publicity import ObjectionState
from pilotzones.store import ledger
from pilotzones.store import models as m

if TYPE_CHECKING:
    import pandas as pd


def window(s: Session, stage: str, year: int, lock: bool = False) -> m.PublicityWindow | None:
    """The publicity window of the stage's decision of `year`, if it was ever publicized."""
    d = ledger.decision(s, year, stage)
    if d is None:
        return None
    q = select(m.PublicityWindow).where(m.PublicityWindow.decision_id == d.id)
    return s.scalars(q.with_for_update() if lock else q).first()


def open_window(
    s: Session,
    d: m.Decision,
    *,
    opened_at: datetime,
    closes_at: datetime,
    days: int,
    day_kind: str,
    by: str,
    via: str,
    cards: list[str],
) -> m.PublicityWindow:
    """The decision's window, opened now, with the zones its first draft cards. A proposal declined in
    publicity and proposed again opens it again: the same row, its drafts counted on (the new drafts
    are new notices)."""
    row = s.scalars(select(m.PublicityWindow).where(m.PublicityWindow.decision_id == d.id)).first()
    if row is None:
        row = m.PublicityWindow(decision_id=d.id, stage=d.stage, year=d.year, drafts=1)
        s.add(row)
    else:
        row.drafts += 1
    # In UTC: SQLite keeps no offset, and the ledger reads a naive time back as UTC.
    row.opened_at, row.closes_at = opened_at.astimezone(UTC), closes_at.astimezone(UTC)
    row.days, row.day_kind, row.opened_by, row.via = days, day_kind, by[:64], via
    row.cards = sorted(cards)
    s.flush()
    return row


def record(
    s: Session,
    *,
    submission_id: int,
    stage: str,
    year: int,
    adcode: str,
    sender: str | None,
    items: list[dict],
    received_at: datetime,
    state: ObjectionState,
) -> m.Objection:
    claims = [i["claim"] for i in items if i.get("claim")]
    evidence = [i["evidence"] for i in items if i.get("evidence")]
    row = m.Objection(
        submission_id=submission_id,
        stage=stage,
        year=year,
        adcode=adcode,
        sender=sender or adcode,
        items=items,
        claim="；".join(dict.fromkeys(claims)),
        evidence="；".join(dict.fromkeys(evidence)) or None,
        received_at=received_at.astimezone(UTC),
        state=state.value,
    )
    s.add(row)
    s.flush()
    return row


def of_stage(s: Session, stage: str, year: int) -> list[m.Objection]:
    return list(
        s.scalars(
            select(m.Objection).where(m.Objection.stage == stage, m.Objection.year == year).order_by(m.Objection.id)
        )
    )


def get(s: Session, objection_id: int) -> m.Objection | None:
    return s.scalars(select(m.Objection).where(m.Objection.id == objection_id).with_for_update()).first()


def pending(s: Session, stage: str, year: int) -> list[m.Objection]:
    return [o for o in of_stage(s, stage, year) if o.state == ObjectionState.PENDING]


def amendments(s: Session, submission_ids: Iterable[int]) -> list[m.Amendment]:
    ids = sorted({int(i) for i in submission_ids})
    if not ids:
        return []
    return list(s.scalars(select(m.Amendment).where(m.Amendment.submission_id.in_(ids)).order_by(m.Amendment.id)))


def amendments_of(s: Session, objection_id: int) -> list[m.Amendment]:
    return list(s.scalars(select(m.Amendment).where(m.Amendment.objection_id == objection_id).order_by(m.Amendment.id)))


def amended(s: Session, frame: pd.DataFrame, files: Iterable[int]) -> pd.DataFrame:
    """The counted files' values with their amendments over them (the latest amendment of a key wins)."""
    import pandas as pd

    rows = amendments(s, files)
    if not rows:
        return frame
    latest = {(a.submission_id, a.key): a for a in rows}
    keep = frame
    if len(frame):
        pairs = list(zip(frame["submission_id"].astype(int), frame["key"], strict=True))
        keep = frame[[p not in latest for p in pairs]]
    extra = pd.DataFrame(
        [(a.submission_id, a.adcode, a.key, a.new_value) for a in latest.values()],
        columns=["submission_id", "adcode", "key", "value"],
    )
    return pd.concat([keep, extra], ignore_index=True)


def amendment_ids(s: Session, files: Iterable[int]) -> list[int]:
    return [a.id for a in amendments(s, files)]


def file_values(s: Session, submission_id: int) -> dict[str, str]:
    """A recorded file's values as received, key -> value."""
    rows = s.execute(
        select(m.SubmissionValue.key, m.SubmissionValue.value).where(m.SubmissionValue.submission_id == submission_id)
    )
    return dict(rows.tuples().all())


def as_json(s: Session, stage: str, year: int, tz: tzinfo) -> dict | None:
    """The stage's publicity as `status --json`, the proposal and the reports show it; None without one."""
    w = window(s, stage, year)
    objections = of_stage(s, stage, year)
    if w is None and not objections:
        return None

    def t(x: datetime | None) -> str | None:
        return None if x is None else ledger.utc(x).astimezone(tz).isoformat()

    out_window = None
    if w is not None:
        out_window = {
            "opened_at": t(w.opened_at),
            "closes_at": t(w.closes_at),
            "days": w.days,
            "day_kind": w.day_kind,
            "opened_by": w.opened_by,
            "via": w.via,
            "drafts": w.drafts,
        }
    return {
        "window": out_window,
        "objections": [
            {
                "id": o.id,
                "submission_id": o.submission_id,
                "adcode": o.adcode,
                "sender": o.sender,
                "received_at": t(o.received_at),
                "state": o.state,
                "items": o.items,
                "claim": o.claim,
                "evidence": o.evidence,
                "answer": o.answer,
                "answered_by": o.answered_by,
                "answered_at": t(o.answered_at),
                "amendments": [
                    {"submission_id": a.submission_id, "key": a.key, "old_value": a.old_value, "new_value": a.new_value}
                    for a in amendments_of(s, o.id)
                ],
            }
            for o in objections
        ],
    }
