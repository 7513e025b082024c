"""What the notice builders need from the state database, gathered into plain facts.

The builders (`build`) then turn facts into notices without a session or a file: every read of the
database for a notice happens here, once per stage, before anything is built.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from pilotzones.notices.directory import Directory, valid_email
from pilotzones.rules import file_kinds
from pilotzones.rules.programme import Programme
from pilotzones.rules.proposal_models import CandidateSelection, EvaluationProposal
from pilotzones.rules.register import Register
from pilotzones.store import ledger
from pilotzones.store import models as m
from pilotzones.store.home import Home
from pilotzones.store.session import session
from pilotzones.store.versions import programme_for


@dataclass(frozen=True)
class Facts:
    """What every notice needs: the programme (rules, calendar, rubric, authority) and the register."""

    prog: Programme
    reg: Register

    @classmethod
    def of(cls, home: Home, year: int | None = None) -> Facts:
        """With `year`: the programme version in force for that year (its rubric)."""
        return cls(home.programme if year is None else programme_for(home, year), home.register)


@dataclass(frozen=True)
class CallFacts(Facts):
    """A call or reminder: who is concerned, who has already sent an on-time file, and the contact
    address a nomination gave for a target the directory does not know."""

    year: int = 0
    kind: str = ""
    targets: list[str] = field(default_factory=list)
    heard: set[str] = field(default_factory=set)
    email_hints: dict[str, str | None] = field(default_factory=dict)


@dataclass(frozen=True)
class RejectionFacts(Facts):
    """One rejected file: its sender, what it was, when it came, its errors, its deadline."""

    submission_id: int = 0
    sender: str | None = None
    year: int = 0
    kind: str = ""
    filename: str = ""
    received: datetime | None = None  # programme time
    errors: list[dict] = field(default_factory=list)
    deadline: datetime | None = None  # with the sender's extension, if any


@dataclass(frozen=True)
class CandidateFacts(Facts):
    year: int = 0
    proposal: CandidateSelection | None = None


@dataclass(frozen=True)
class EvaluationFacts(Facts):
    """The published evaluation and what its notices show beyond the proposal: each zone's item
    points, the counts behind each file's bonus, promoted counties' addresses, the approval."""

    year: int = 0
    proposal: EvaluationProposal | None = None
    points: dict[str, dict[int, tuple[float, str]]] = field(default_factory=dict)
    counts: dict[int, dict[str, str]] = field(default_factory=dict)
    email_hints: dict[str, str | None] = field(default_factory=dict)
    approval: dict | None = None


# -- calls and reminders -------------------------------------------------------------------------


def call_facts(home: Home, year: int, kind: str) -> CallFacts:
    base = Facts.of(home, year)
    reminder = kind.endswith("_reminder")
    with session(home.db_url) as s:
        if kind.startswith("nomination"):
            targets = list(base.reg.prefectures)
            heard = set(ledger.latest_on_time(s, "nomination", year)) if reminder else set()
        else:
            targets = ledger.pilots_for(s, year)
            heard = set(ledger.latest_on_time(s, "evaluation", year)) if reminder else set()
    directory = Directory(base.prog, base.reg)
    # A promoted county may not be in the directory yet: its nomination gave an address.
    hints = {a: nominee_email(home, a) for a in targets if a not in heard and not directory.recipient(a)}
    return CallFacts(base.prog, base.reg, year, kind, targets, heard, hints)


# -- rejected files ------------------------------------------------------------------------------


def rejection_facts(home: Home, submission_id: int) -> RejectionFacts:
    tz = home.programme.tz
    with session(home.db_url) as s:
        sub = s.get(m.Submission, submission_id)
        if sub is None:
            raise ValueError(f"no submission {submission_id}")
        if sub.status != "rejected":
            raise ValueError(f"submission {submission_id} was {sub.status}, not rejected")
        sender, year, kind, filename = sub.sender, sub.year, sub.kind, sub.filename
        received = ledger.utc(sub.received_at).astimezone(tz)
        errors = sorted(
            (dict(e) for e in sub.errors or []),
            key=lambda e: (e.get("row") is not None, e.get("row") or 0, str(e.get("key") or "")),
        )
    base = Facts.of(home, year)  # the version in force for the file's year
    moment = file_kinds.get(kind).deadline if kind in file_kinds.names() else None
    deadline = base.prog.moment(moment, year) if sender and moment else None
    if kind == file_kinds.RECTIFICATION.name and sender:
        from pilotzones.store import cases

        with session(home.db_url) as s:
            case = cases.case_of(s, sender, year)  # a report is due by its case's deadline
            deadline = None if case is None else ledger.utc(case.deadline).astimezone(tz)
    elif deadline is not None:
        with session(home.db_url) as s:
            extended = ledger.extended_deadline(s, kind, year, sender)
        if extended is not None and extended > deadline:
            deadline = extended.astimezone(tz)
    return RejectionFacts(base.prog, base.reg, submission_id, sender, year, kind, filename, received, errors, deadline)


# -- the decision stages -------------------------------------------------------------------------


def candidate_facts(home: Home, year: int, proposal: CandidateSelection | dict) -> CandidateFacts:
    base = Facts.of(home, year)
    # A proposal as stored (JSON) is read into its model here, the one place notices take it in.
    return CandidateFacts(base.prog, base.reg, year, CandidateSelection.model_validate(proposal))


def evaluation_facts(home: Home, year: int, proposal: EvaluationProposal | dict) -> EvaluationFacts:
    base = Facts.of(home, year)
    proposal = EvaluationProposal.model_validate(proposal)
    ranking = proposal.ranking
    points: dict[str, dict[int, tuple[float, str]]] = {}
    with session(home.db_url) as s:
        for x in ledger.item_scores(s, year):
            points.setdefault(x.adcode, {})[x.item] = (x.points, x.flag or "")
    keys = {k for i in base.prog.rubric.bonus_items for k in i.keys()}
    counts = _bonus_counts(home, [r.submission_id for r in ranking if r.submission_id], keys)
    # A county promoted in an earlier year's evaluation may not be in the directory yet: until it is, the
    # address its nomination gave is its address (as for the promoted counties of this year).
    directory = Directory(base.prog, base.reg)
    concerned = [r.adcode for r in ranking if not directory.recipient(r.adcode)]
    hints = {a: nominee_email(home, a) for a in [*concerned, *(p.adcode for p in proposal.promoted)]}
    approval = _approval(home, proposal.decision_id)
    return EvaluationFacts(base.prog, base.reg, year, proposal, points, counts, hints, approval)


def _bonus_counts(home: Home, submission_ids: list[int], keys: set[str]) -> dict[int, dict[str, str]]:
    """The counts behind the bonus (items 40-42) of each zone's file."""
    if not submission_ids:
        return {}
    with session(home.db_url) as s:
        rows = s.execute(
            select(m.SubmissionValue.submission_id, m.SubmissionValue.key, m.SubmissionValue.value)
            .where(m.SubmissionValue.submission_id.in_(submission_ids))
            .where(m.SubmissionValue.key.in_(sorted(keys)))
        ).all()
    out: dict[int, dict[str, str]] = {}
    for sid, key, value in rows:
        out.setdefault(sid, {})[key] = value
    return out


def nominee_email(home: Home, adcode: str) -> str | None:
    """The contact address given with the latest accepted nomination of `adcode`."""
    with session(home.db_url) as s:
        rows = s.execute(
            select(m.SubmissionValue.extra)
            .join(m.Submission, m.Submission.id == m.SubmissionValue.submission_id)
            .where(m.Submission.kind == "nomination", m.Submission.status == "accepted")
            .where(m.SubmissionValue.adcode == adcode)
            .order_by(m.Submission.received_at.desc(), m.Submission.id.desc())
        ).all()
    for (extra,) in rows:
        email = valid_email((extra or {}).get("contact_email"))
        if email:
            return email
    return None


def _approval(home: Home, decision_id: int | None) -> dict | None:
    """Who approved the published decision, when, how and with what note: the summary names them."""
    if decision_id is None:
        return None
    with session(home.db_url) as s:
        a = s.scalars(
            select(m.Approval)
            .where(m.Approval.decision_id == decision_id, m.Approval.verdict == "approved")
            .order_by(m.Approval.id.desc())
        ).first()
        if a is None:
            return None
        return {
            "by": a.by,
            "at": ledger.utc(a.at).astimezone(home.programme.tz),
            "via": "Prefect 界面" if a.via == "ui" else "命令行",
            "note": a.note,
        }
