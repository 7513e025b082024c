"""The outbox in the state database: each notice numbered, rendered and kept once per identity.

Every change of a notice's state is made here: queued when built, `no_recipient` while the
directory has no address for it, `sending` before each try is made (committed first, so a crash
never hides a try), then `sent`, `failed` (5xx: refused; the next run tries it once more) or
`queued` again (4xx, a dropped line).
Delivery decides what to send and when; it records through these functions only.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Sequence
from pathlib import Path

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.exc import IntegrityError, OperationalError

from pilotzones import clock
from pilotzones.notices.directory import Directory, Recipient
from pilotzones.notices.kinds import STATES
from pilotzones.notices.notice import Notice, identity, message_id
from pilotzones.notices.render import render, templates_dir
from pilotzones.store import models as m
from pilotzones.store.home import Home
from pilotzones.store.session import session

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
        log.info("新排队通知%d份", len(new))
    return len(new)


def ids_of(home: Home, notices: Sequence[Notice]) -> list[int | None]:
    """The outbox id of each of these notices, in their order (None: not queued)."""
    if not notices:
        return []
    t = m.OutboxNotice
    cols = (t.year, t.stage, t.kind, t.about, t.recipient, t.ref)
    q = select(t.id, *cols).where(t.year.in_({n.year for n in notices}), t.kind.in_({n.kind for n in notices}))
    refs = {n.ref for n in notices}
    if "" not in refs:  # one rejected file's notice among a year's: look at those files' alone
        q = q.where(t.ref.in_(refs))
    with session(home.db_url) as s:
        known = {identity(*r[1:]): r[0] for r in s.execute(q)}
    return [known.get(n.identity) for n in notices]


def states(home: Home, ids: Collection[int]) -> dict[int, str]:
    """The state of each of these notices (by outbox id)."""
    t = m.OutboxNotice
    with session(home.db_url) as s:
        return {i: state for i, state in s.execute(select(t.id, t.state).where(t.id.in_(list(ids))))}


def _queue_once(home: Home, notices: list[Notice]) -> list[m.OutboxNotice]:
    prog = home.programme
    directory = Directory(prog, home.register)
    prefix = prog.programme.document_prefix or prog.programme.authority_short or prog.programme.id
    years = {n.year for n in notices}
    templates = templates_dir()
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
            content = render(n.kind, {**n.data, "doc_number": number}, templates)
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


def outbox_counts(
    home: Home, year: int | None = None, stage: str | None = None, only: Collection[int] | None = None
) -> dict[str, int]:
    """Notices per state (every state present, zero or not), for one year and stage or all; `only`:
    of these notices alone."""
    q = select(m.OutboxNotice.state, func.count()).group_by(m.OutboxNotice.state)
    if year is not None:
        q = q.where(m.OutboxNotice.year == year)
    if stage is not None:
        q = q.where(m.OutboxNotice.stage == stage)
    if only is not None:
        q = q.where(m.OutboxNotice.id.in_(list(only)))
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


# -- sending: what to send, and every mark of a try ------------------------------------------------


def pending(url: str, directory: Directory, only: Collection[int] | None = None) -> list[int]:
    """Ids to send now: every notice not sent yet that has an address, after giving waiting notices
    the addresses the directory now has; `only`: of these notices alone.

    A notice refused last time (`failed`, 5xx) is among them: the server or the address may
    have been put right since, and the contract has the next run send what could not be sent. The
    caller tries each id once per run, so a refusal that lasts costs one try a run, never a loop.
    """
    t = m.OutboxNotice
    with session(url) as s:
        waiting = select(t).where(t.state == "no_recipient")
        if only is not None:
            waiting = waiting.where(t.id.in_(list(only)))
        for row in s.scalars(waiting):
            if directory.recipient(row.recipient, row.email_hint) is not None:
                row.state, row.updated_at = "queued", clock.now()
        q = select(t.id).where(t.state.in_(("queued", "sending", "failed"))).order_by(t.id)
        if only is not None:
            q = q.where(t.id.in_(list(only)))
        return list(s.scalars(q))


def addressed(
    url: str, ids: list[int], directory: Directory
) -> list[tuple[m.OutboxNotice, Recipient, list[Recipient]]]:
    """These notices (in id order) with their addressee and copies as the directory has them now.

    A notice the directory has no address for is marked `no_recipient` instead, in the same
    transaction that reads them. The rows come back detached, to read only.
    """
    out: list[tuple[m.OutboxNotice, Recipient, list[Recipient]]] = []
    t = m.OutboxNotice
    with session(url) as s:
        for row in s.scalars(select(t).where(t.id.in_(ids)).order_by(t.id)):
            to = directory.recipient(row.recipient, row.email_hint)
            if to is None:
                row.state, row.updated_at = "no_recipient", clock.now()
                continue
            cc = [r for r in directory.copies(row.recipient, row.cc) if r.email.lower() != to.email.lower()]
            out.append((row, to, cc))
    return out


def mark_sending(url: str, row_id: int, to: str, cc: Sequence[str]) -> None:
    """One more try of this notice, to these addresses, on record before it is made."""
    _mark(url, row_id, "sending", attempt=True, to=to, cc=list(cc))


def mark_sent(url: str, row_id: int, answer: str) -> None:
    _mark(url, row_id, "sent", code=250, answer=answer, sent=True)


def mark_failed(url: str, row_id: int, code: int | None, answer: str) -> None:
    """Refused (5xx, a configuration error): not tried again in this run; the next run tries once more."""
    _mark(url, row_id, "failed", code=code, answer=answer)


def mark_queued(url: str, row_id: int, code: int | None, answer: str) -> None:
    """Not sent this time (4xx, no answer): the next try, or the next run, sends it."""
    _mark(url, row_id, "queued", code=code, answer=answer)


def _mark(
    url: str,
    row_id: int,
    state: str,
    *,
    attempt: bool = False,
    code: int | None = None,
    answer: str | None = None,
    to: str | None = None,
    cc: list[str] | None = None,
    sent: bool = False,
) -> None:
    """One notice's new state, committed on its own (one UPDATE, no read first)."""
    t = m.table(m.OutboxNotice)
    now = clock.now()
    values: dict = {"state": state, "updated_at": now}
    if attempt:
        values["attempts"] = t.c.attempts + 1
    if to is not None:
        values["to_addr"], values["cc_addrs"] = to, list(cc or [])
    if answer is not None:
        values["last_code"], values["last_answer"] = code, answer[:2000]
    if sent:
        values["sent_at"] = now
    with session(url) as s:
        s.execute(update(t).where(t.c.id == row_id).values(**values))


def mark_chunk_sending(url: str, tries: Iterable[tuple[int, str, Sequence[str]]]) -> None:
    """A chunk about to be written: each `sending`, one more try, to these addresses (one transaction).

    Only for a transport that can write a message again harmlessly (the `.eml` files): a chunk
    left `sending` by a crash is written again onto the same files.
    """
    t = m.table(m.OutboxNotice)
    statement = (
        update(t)
        .where(t.c.id == bindparam("b_id"))
        .values(
            state="sending",
            attempts=t.c.attempts + 1,
            to_addr=bindparam("b_to"),
            cc_addrs=bindparam("b_cc"),
            updated_at=clock.now(),
        )
    )
    with session(url) as s:
        s.execute(statement, [{"b_id": i, "b_to": to, "b_cc": list(cc)} for i, to, cc in tries])


def mark_chunk_sent(url: str, done: Sequence[tuple[int, str]], untried: Sequence[int] = ()) -> None:
    """A chunk's messages sent (with the transport's answer) in one transaction; `untried` ones lose
    the try `mark_chunk_sending` recorded for them."""
    t = m.table(m.OutboxNotice)
    now = clock.now()
    with session(url) as s:
        if done:
            statement = (
                update(t)
                .where(t.c.id == bindparam("b_id"))
                .values(state="sent", last_code=250, last_answer=bindparam("b_answer"), sent_at=now, updated_at=now)
            )
            s.execute(statement, [{"b_id": i, "b_answer": a[:2000]} for i, a in done])
        if untried:
            s.execute(update(t).where(t.c.id.in_(untried)).values(attempts=t.c.attempts - 1))
