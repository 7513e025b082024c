"""The state database: every received file, every score, ranking, card and membership change.

Changes to this schema go through an Alembic migration in `migrations/versions/`.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


def table(model: type[Base]) -> Table:
    """The Table a model class is mapped to, for Core statements and bulk inserts."""
    return model.__table__  # type: ignore[return-value]  # SQLAlchemy types __table__ as FromClause


class Meta(Base):
    """Facts about the home: the programme id and the text of its programme file."""

    __tablename__ = "meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Submission(Base):
    """One received file, accepted or rejected; the raw bytes are in the home's archive."""

    __tablename__ = "submissions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # evaluation | nomination | review
    year: Mapped[int] = mapped_column(Integer)
    sender: Mapped[str | None] = mapped_column(String(12))  # county or prefecture adcode, if known
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    archive_path: Mapped[str] = mapped_column(String(255))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(16))  # accepted | rejected
    on_time: Mapped[bool]
    errors: Mapped[list] = mapped_column(JSON, default=list)

    __table_args__ = (Index("ix_submissions_kind_year", "kind", "year", "status"),)


class SubmissionValue(Base):
    """One row of an accepted file, normalized (key -> canonical value)."""

    __tablename__ = "submission_values"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Not a declared foreign key (migration 0009): PostgreSQL checked a national year's 136k rows one
    # by one. Values are written only in the transaction that records their submission.
    submission_id: Mapped[int] = mapped_column(Integer, index=True)
    adcode: Mapped[str] = mapped_column(String(6))
    key: Mapped[str] = mapped_column(String(64))
    value: Mapped[str] = mapped_column(String(64))
    evidence: Mapped[str | None] = mapped_column(Text)
    extra: Mapped[dict | None] = mapped_column(JSON)  # nomination rows: county, contact, reason


class Membership(Base):
    """A county's time as a pilot zone: joined for an evaluation year, left after one."""

    __tablename__ = "memberships"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    adcode: Mapped[str] = mapped_column(String(6), unique=True)
    # The seat a zone holds: a promoted county takes the seat of the zone it replaces.
    seat: Mapped[int] = mapped_column(Integer)
    joined_year: Mapped[int] = mapped_column(Integer)  # first evaluation year as a pilot
    join_reason: Mapped[str] = mapped_column(String(255))
    left_year: Mapped[int | None] = mapped_column(Integer)  # last evaluation year as a pilot
    leave_reason: Mapped[str | None] = mapped_column(String(255))
    joined_by: Mapped[int | None] = mapped_column(ForeignKey("decisions.id"))
    left_by: Mapped[int | None] = mapped_column(ForeignKey("decisions.id"))


class Decision(Base):
    """What one stage of one year decided; applied to the state only when published."""

    __tablename__ = "decisions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    stage: Mapped[str] = mapped_column(String(16))  # evaluation | candidates
    state: Mapped[str] = mapped_column(String(24))  # awaiting_approval | published | declined
    digest: Mapped[str] = mapped_column(String(64))
    proposal: Mapped[dict] = mapped_column(JSON)
    inputs: Mapped[dict] = mapped_column(JSON)  # submission ids, rules and programme it came from
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    flow_run_id: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (UniqueConstraint("year", "stage", name="uq_decisions_year_stage"),)


class ItemScore(Base):
    """One item's points for one zone, with the rule and the file that produced them."""

    __tablename__ = "item_scores"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.id"), index=True)
    adcode: Mapped[str] = mapped_column(String(6))
    item: Mapped[int] = mapped_column(Integer)
    points: Mapped[float] = mapped_column(Float)
    rule: Mapped[str] = mapped_column(String(32))
    flag: Mapped[str] = mapped_column(String(16), default="")
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"))


class Ranking(Base):
    __tablename__ = "rankings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.id"), index=True)
    adcode: Mapped[str] = mapped_column(String(6))
    base: Mapped[float] = mapped_column(Float)
    bonus: Mapped[float] = mapped_column(Float)
    total: Mapped[float] = mapped_column(Float)
    rank: Mapped[int] = mapped_column(Integer)
    yellow_card: Mapped[bool]
    flags: Mapped[list] = mapped_column(JSON, default=list)
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"))


class Card(Base):
    """A yellow card (亮黄牌), written when the evaluation that gave it is published."""

    __tablename__ = "cards"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    adcode: Mapped[str] = mapped_column(String(6))
    decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.id"))

    __table_args__ = (UniqueConstraint("year", "adcode", name="uq_cards_year_adcode"),)


class Candidate(Base):
    """A county on a published candidate list (候补), and the year it was promoted, if it was."""

    __tablename__ = "candidates"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    adcode: Mapped[str] = mapped_column(String(6))
    rank: Mapped[int] = mapped_column(Integer)
    review_score: Mapped[float] = mapped_column(Float)
    promoted_year: Mapped[int | None] = mapped_column(Integer)


class OutboxNotice(Base):
    """One official notice to one recipient: rendered once, numbered once, sent at most once.

    The identity (year, stage, kind, about, recipient, ref) is unique, so a rerun of a stage finds
    the notices it already queued instead of making new ones. Addresses are resolved from the
    programme's contact directory when the notice is sent, so a directory fixed later still reaches
    a notice kept as `no_recipient`.
    """

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    stage: Mapped[str] = mapped_column(String(24))
    kind: Mapped[str] = mapped_column(String(32))
    about: Mapped[str] = mapped_column(String(12))  # the county, prefecture or region it concerns
    recipient: Mapped[str] = mapped_column(String(12))  # adcode of the addressee in the directory
    ref: Mapped[str] = mapped_column(String(32), default="")  # e.g. the rejected submission's id
    cc: Mapped[list] = mapped_column(JSON, default=list)  # adcodes copied
    email_hint: Mapped[str | None] = mapped_column(String(255))  # an address supplied with the data
    doc_year: Mapped[int] = mapped_column(Integer)
    doc_seq: Mapped[int] = mapped_column(Integer)
    doc_number: Mapped[str] = mapped_column(String(64))
    message_id: Mapped[str] = mapped_column(String(128), unique=True)
    subject: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16))  # queued | sending | sent | failed | no_recipient
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_code: Mapped[int | None] = mapped_column(Integer)  # the server's last reply code
    last_answer: Mapped[str | None] = mapped_column(Text)  # the server's last reply, or the error
    to_addr: Mapped[str | None] = mapped_column(String(255))  # as last sent or tried
    cc_addrs: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("year", "stage", "kind", "about", "recipient", "ref", name="uq_outbox_identity"),
        # A document number is never given twice.
        UniqueConstraint("doc_year", "doc_seq", name="uq_outbox_doc_number"),
        Index("ix_outbox_year_state", "year", "state"),
    )


class DeadlineException(Base):
    """An operator's exception to a stage's deadline for one county (evaluation) or prefecture
    (nominations): an extension to `until`, or one named late file accepted (`submission_id`)."""

    __tablename__ = "deadline_exceptions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    stage: Mapped[str] = mapped_column(String(16))  # evaluation | candidates
    adcode: Mapped[str] = mapped_column(String(12))  # the county (evaluation) or prefecture (nominations)
    kind: Mapped[str] = mapped_column(String(16))  # extension | accept_late
    until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # extension
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"), unique=True)  # accept_late
    reason: Mapped[str] = mapped_column(Text)
    granted_by: Mapped[str] = mapped_column(String(64))
    granted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # A revoked exception stays on record but no longer counts (pilotzones revoke-exception).
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_by: Mapped[str | None] = mapped_column(String(64))
    revoke_reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_deadline_exceptions_year_stage", "year", "stage"),)


class StageRun(Base):
    """One run of a stage's flow as our own record: `status` reads it without asking Prefect.

    A run killed hard stays `running`; a later run of the stage writes a row of its own.
    """

    __tablename__ = "stage_runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    stage: Mapped[str] = mapped_column(String(24))  # evaluation | candidates | nomination_call | ...
    year: Mapped[int] = mapped_column(Integer)
    flow: Mapped[str] = mapped_column(String(64))  # the Prefect flow's name
    flow_run_id: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # running | awaiting_approval | published | done | failed | busy
    outcome: Mapped[str] = mapped_column(String(24))
    message: Mapped[str | None] = mapped_column(Text)
    counts: Mapped[dict] = mapped_column(JSON, default=dict)

    __table_args__ = (Index("ix_stage_runs_year_stage", "year", "stage"),)


class Approval(Base):
    """One operator's verdict on a stage's proposal: approved (published) or declined.

    A history, never updated: a declined proposal proposed again and then approved leaves both rows.
    """

    __tablename__ = "approvals"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    stage: Mapped[str] = mapped_column(String(16))  # evaluation | candidates
    year: Mapped[int] = mapped_column(Integer)
    decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.id"))
    verdict: Mapped[str] = mapped_column(String(16))  # approved | declined
    by: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    via: Mapped[str] = mapped_column(String(8))  # ui | cli
    note: Mapped[str | None] = mapped_column(Text)
    flow_run_id: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (Index("ix_approvals_year_stage", "year", "stage"),)


class RectificationCase(Base):
    """A rectification case (限期整改) a published yellow card opened (pilotzones.rules.rectification)."""

    __tablename__ = "rectification_cases"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    adcode: Mapped[str] = mapped_column(String(6))
    card_year: Mapped[int] = mapped_column(Integer)  # the evaluation year of the card
    decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.id"))
    deadline: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    state: Mapped[str] = mapped_column(String(16))  # open | reported | returned | accepted | disqualified
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (UniqueConstraint("card_year", "adcode", name="uq_rectification_cases_year_adcode"),)


class RectificationEvent(Base):
    """One move of a case: a report received, the operator's verdict, a disqualification. A history."""

    __tablename__ = "rectification_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("rectification_cases.id"), index=True)
    state: Mapped[str] = mapped_column(String(16))  # the state the case moved to
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    by: Mapped[str] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)  # the reason of a return, the verdict's note
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"))  # the report
    late: Mapped[bool] = mapped_column(Boolean, default=False)  # a report received after the deadline


class ExpertVisit(Base):
    """A visit of the expert guidance group to a pilot (四), as recorded by the operator."""

    __tablename__ = "expert_visits"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    adcode: Mapped[str] = mapped_column(String(6))
    visited_on: Mapped[date] = mapped_column(Date)  # the day, in programme time
    who: Mapped[str] = mapped_column(String(255))
    found: Mapped[str] = mapped_column(Text, default="")
    follow_up: Mapped[str] = mapped_column(Text, default="")
    case_id: Mapped[int | None] = mapped_column(ForeignKey("rectification_cases.id"))  # follow-up linked
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_by: Mapped[str] = mapped_column(String(64))

    __table_args__ = (
        UniqueConstraint("adcode", "visited_on", "who", name="uq_expert_visits_zone_day_who"),
        Index("ix_expert_visits_year", "year"),
    )


class ExchangeMeeting(Base):
    """An exchange meeting or field visit of the commission for pilots and candidate zones (五)."""

    __tablename__ = "exchange_meetings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    held_on: Mapped[date] = mapped_column(Date)  # the day, in programme time
    place: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(16))  # exchange | field_visit
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_by: Mapped[str] = mapped_column(String(64))

    __table_args__ = (UniqueConstraint("held_on", "place", "kind", name="uq_exchange_meetings_day_place_kind"),)


class MeetingAttendance(Base):
    """A zone (pilot or candidate) that attended a meeting."""

    __tablename__ = "meeting_attendance"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("exchange_meetings.id"), index=True)
    adcode: Mapped[str] = mapped_column(String(6))

    __table_args__ = (UniqueConstraint("meeting_id", "adcode", name="uq_meeting_attendance"),)


class PublicityWindow(Base):
    """公示: a stage's draft decision made public, from `opened_at` to `closes_at` (inclusive, to the
    second). One per decision; `drafts` counts the draft notices sent (1, then 2 after a rebuild that
    moved the card line, ...)."""

    __tablename__ = "publicity_windows"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.id"), unique=True)
    stage: Mapped[str] = mapped_column(String(16))
    year: Mapped[int] = mapped_column(Integer)
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    closes_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    days: Mapped[int] = mapped_column(Integer)
    day_kind: Mapped[str] = mapped_column(String(16))  # calendar | working
    opened_by: Mapped[str] = mapped_column(String(64))
    via: Mapped[str] = mapped_column(String(8))  # ui | cli
    drafts: Mapped[int] = mapped_column(Integer, default=1)
    # The zones carded in the last draft sent: a rebuild is compared with what the zones were told,
    # not with the proposal it replaced, so drafts a failed step never sent go out with the next run.
    cards: Mapped[list | None] = mapped_column(JSON)


class Objection(Base):
    """A zone's objection to its draft result, from an accepted `--kind objection` file; answered on
    the record (upheld with corrected values, or dismissed with a reason), or late and not heard."""

    __tablename__ = "objections"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), unique=True)
    stage: Mapped[str] = mapped_column(String(16))
    year: Mapped[int] = mapped_column(Integer)
    adcode: Mapped[str] = mapped_column(String(6))  # the zone objecting, or objected for
    sender: Mapped[str] = mapped_column(String(12))  # the zone, or its prefecture: the answer goes there
    items: Mapped[list] = mapped_column(JSON)  # [{key, value (claimed, or null), claim, evidence, row}]
    claim: Mapped[str] = mapped_column(Text)
    evidence: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    state: Mapped[str] = mapped_column(String(16))  # pending | upheld | dismissed | late
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by: Mapped[str | None] = mapped_column(String(64))
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_objections_year_stage", "year", "stage"),)


class Amendment(Base):
    """A value of a counted file corrected by an upheld objection. The file and its recorded values
    are never altered: the stage reads the file's values with its amendments over them."""

    __tablename__ = "amendments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    objection_id: Mapped[int] = mapped_column(ForeignKey("objections.id"))
    # Not a declared foreign key (migration 0009): PostgreSQL checked a national year's 136k rows one
    # by one. Values are written only in the transaction that records their submission.
    submission_id: Mapped[int] = mapped_column(Integer, index=True)
    adcode: Mapped[str] = mapped_column(String(6))
    key: Mapped[str] = mapped_column(String(64))
    old_value: Mapped[str | None] = mapped_column(String(64))
    new_value: Mapped[str] = mapped_column(String(64))
    by: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
