"""Official notices (§5): built from a stage's decisions, rendered from `templates/`, kept in the
outbox table once per identity, and sent through SMTP (or written as `.eml` files).

    notices = evaluation_notices(home, year, proposal)
    queue(home, notices)            # idempotent by identity
    report = deliver(home)          # sends what is not sent yet, each at most once
    raise_if_unsent(report)         # a stage ends non-zero while anything is left
"""

from pilotzones.notices.build import (
    call_notices,
    candidate_notices,
    evaluation_notices,
    submission_rejected_notice,
)
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
    "outbox_counts",
    "queue",
    "raise_if_unsent",
    "submission_rejected_notice",
    "unsent",
]
