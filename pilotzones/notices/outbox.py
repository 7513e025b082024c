"""The outbox in the state database: each notice numbered, rendered and kept once per identity."""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, OperationalError

from pilotzones import clock
from pilotzones.db import models as m
from pilotzones.db.session import session
from pilotzones.home import Home
from pilotzones.notices.directory import Directory
from pilotzones.notices.kinds import STATES
from pilotzones.notices.notice import Notice, identity, message_id
from pilotzones.notices.render import render

log = logging.getLogger(__name__)

_QUEUE_TRIES = 3


def doc_number(prefix: str, year: int, seq: int) -> str:
    """新卫基层函〔2023〕7号"""
    return f"{prefix}〔{year}〕{seq}号"


def queue(home: Home, notices: list[Notice]) -> int:
    """Number, render and keep each notice not already in the outbox; return how many were new.

    A notice whose identity is already queued or sent is left as it is (not renumbered, not
    re-rendered), so a stage run again queues nothing twice.
    """
    for attempt in range(_QUEUE_TRIES):
        try:
            new = _queue_once(home, notices)
            break
        except (IntegrityError, OperationalError):
            # Another process numbered or queued at the same moment (on SQLite the loser of
            # that race may see a busy snapshot instead of a unique violation): look again.
            if attempt == _QUEUE_TRIES - 1:
                raise
    for row in new:
        write_printable(home, row)
    if new:
        log.info("queued %d notices", len(new))
    return len(new)


def _queue_once(home: Home, notices: list[Notice]) -> list[m.OutboxNotice]:
    prog = home.programme
    directory = Directory(prog, home.register)
    prefix = prog.programme.document_prefix or prog.programme.authority_short or prog.programme.id
    years = {n.year for n in notices}
    new: list[m.OutboxNotice] = []
    with session(home.db_url) as s:
        t = m.OutboxNotice
        cols = (t.year, t.stage, t.kind, t.about, t.recipient, t.ref)
        known = {identity(*r) for r in s.execute(select(*cols).where(t.year.in_(years)))}
        next_seq: dict[int, int] = {}
        now = clock.now()
        for n in notices:
            ident = n.identity
            if ident in known:
                continue
            known.add(ident)
            doc_year = n.issued.year
            if doc_year not in next_seq:
                last = s.scalar(select(func.max(m.OutboxNotice.doc_seq)).where(m.OutboxNotice.doc_year == doc_year))
                next_seq[doc_year] = (last or 0) + 1
            seq = next_seq[doc_year]
            next_seq[doc_year] += 1
            number = doc_number(prefix, doc_year, seq)
            content = render(n.kind, {**n.data, "doc_number": number})
            row = m.OutboxNotice(
                year=n.year,
                stage=n.stage,
                kind=n.kind,
                about=n.about,
                recipient=n.recipient,
                ref=n.ref,
                cc=list(n.cc),
                email_hint=n.email_hint,
                doc_year=doc_year,
                doc_seq=seq,
                doc_number=number,
                message_id=message_id(prog.programme.id, ident),
                subject=content.subject,
                text=content.text,
                html=content.html,
                state="queued" if directory.recipient(n.recipient, n.email_hint) else "no_recipient",
                attempts=0,
                cc_addrs=[],
                created_at=now,
                updated_at=now,
            )
            s.add(row)
            new.append(row)
        s.flush()
    return new


def printable_path(home: Home, row: m.OutboxNotice) -> Path:
    ref = f"-{row.ref}" if row.ref else ""
    name = f"{row.doc_year}-{row.doc_seq:04d}-{row.kind}-{row.about}-{row.recipient}{ref}.html"
    return home.reports / "notices" / str(row.year) / name


def write_printable(home: Home, row: m.OutboxNotice) -> Path:
    """Keep the printable HTML copy of a notice in the home (once; it never changes)."""
    path = printable_path(home, row)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".part")
        tmp.write_text(row.html, encoding="utf-8")
        tmp.replace(path)
    return path


def outbox_counts(home: Home, year: int | None = None, stage: str | None = None) -> dict[str, int]:
    """Notices per state (every state present, zero or not), for one year and stage or all."""
    q = select(m.OutboxNotice.state, func.count()).group_by(m.OutboxNotice.state)
    if year is not None:
        q = q.where(m.OutboxNotice.year == year)
    if stage is not None:
        q = q.where(m.OutboxNotice.stage == stage)
    counts = dict.fromkeys(STATES, 0)
    with session(home.db_url) as s:
        for state, n in s.execute(q):
            counts[state] = int(n)
    return counts


def unsent(home: Home, year: int | None = None, stage: str | None = None) -> list[dict]:
    """The notices not sent yet, with why: for `status` and for a stage's failure message."""
    q = select(m.OutboxNotice).where(m.OutboxNotice.state != "sent").order_by(m.OutboxNotice.id)
    if year is not None:
        q = q.where(m.OutboxNotice.year == year)
    if stage is not None:
        q = q.where(m.OutboxNotice.stage == stage)
    with session(home.db_url) as s:
        return [
            {
                "year": r.year,
                "stage": r.stage,
                "kind": r.kind,
                "about": r.about,
                "recipient": r.recipient,
                "doc_number": r.doc_number,
                "state": r.state,
                "attempts": r.attempts,
                "last_answer": r.last_answer,
            }
            for r in s.scalars(q)
        ]
