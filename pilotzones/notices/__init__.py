"""Official notices (§5): built from a stage's decisions, rendered from `templates/`, kept in the
outbox table once per identity, and sent through SMTP (or written as `.eml` files).

    notices = evaluation_notices(home, year, proposal)
    queue(home, notices)            # idempotent by identity
    report = deliver(home)          # sends what is not sent yet, each at most once
    raise_if_unsent(report)         # a stage ends non-zero while anything is left

The modules: `load` reads the facts a stage's notices need from the database; `build` turns facts
into notices (pure); `outbox` makes every change to the outbox table; `delivery` sends it through
a transport. The functions below join `load` and `build` for a stage.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pilotzones.notices import build, load
from pilotzones.notices.delivery import (
    DeliveryReport,
    DeliverySettings,
    NoticesUnsent,
    RetryPolicy,
    deliver,
    raise_if_unsent,
)
from pilotzones.notices.kinds import CALL_KINDS, KINDS, STATES
from pilotzones.notices.notice import Notice
from pilotzones.notices.outbox import outbox_counts, queue, unsent

if TYPE_CHECKING:
    from datetime import datetime

    from pilotzones.store.home import Home


def call_notices(home: Home, year: int, kind: str) -> list[Notice]:
    """A call to everyone concerned, or a reminder to those who still owe their file."""
    build.check_call_kind(kind)
    return build.call_notices(load.call_facts(home, year, kind))


def submission_rejected_notice(home: Home, submission_id: int) -> Notice | None:
    """The rejection of one file to its sender; None when the file names no sender."""
    return build.submission_rejected_notice(load.rejection_facts(home, submission_id))


def candidate_notices(home: Home, year: int, proposal: dict) -> list[Notice]:
    """The candidate selection's notices: rejected nominations, the candidate list."""
    return build.candidate_notices(load.candidate_facts(home, year, proposal))


def evaluation_notices(home: Home, year: int, proposal: dict) -> list[Notice]:
    """The evaluation's notices: results, cards, disqualifications, promotions, summary."""
    return build.evaluation_notices(load.evaluation_facts(home, year, proposal))


def rectification_notices(home: Home, year: int, kind: str, at: datetime) -> list[Notice]:
    """rectification_reminder to each zone owing the report of a case due in `year`, or
    rectification_overdue to the commission listing the overdue ones, as the cases stand at `at`."""
    from pilotzones.notices import between, between_facts

    facts = between_facts.rectification_facts(home, year, at)
    builders = {
        "rectification_reminder": between.rectification_reminders,
        "rectification_overdue": between.rectification_overdue,
    }
    return builders[kind](facts)


def visit_shortfall_notices(home: Home, year: int, at: datetime) -> list[Notice]:
    """visit_shortfall to the expert group (its leader copied) of each pilot short of its visits."""
    from pilotzones.notices import between, between_facts

    return between.visit_shortfalls(between_facts.visit_facts(home, year, at))


def visit_check_notices(home: Home, year: int, at: datetime) -> list[Notice]:
    """The visit check of `year`: each visit shortfall, and meeting_shortfall to the commission when
    fewer meetings than the programme's yearly count were held."""
    from pilotzones.notices import between, between_facts

    meetings = between.meeting_shortfall(between_facts.meeting_count_facts(home, year, at))
    return visit_shortfall_notices(home, year, at) + meetings


def meeting_invitation_notices(home: Home, meeting_id: int) -> list[Notice]:
    """meeting_invitation to every pilot and candidate zone of the meeting's year."""
    from pilotzones.notices import between, between_facts

    return between.meeting_invitations(between_facts.meeting_facts(home, meeting_id))


__all__ = [
    "CALL_KINDS",
    "KINDS",
    "STATES",
    "DeliveryReport",
    "DeliverySettings",
    "Notice",
    "NoticesUnsent",
    "RetryPolicy",
    "call_notices",
    "candidate_notices",
    "deliver",
    "evaluation_notices",
    "meeting_invitation_notices",
    "outbox_counts",
    "queue",
    "raise_if_unsent",
    "rectification_notices",
    "submission_rejected_notice",
    "unsent",
    "visit_check_notices",
    "visit_shortfall_notices",
]
