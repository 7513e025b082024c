"""Who has sent what for a stage: every file received per expected sender, and who has nothing yet.

The file that counts is the one R11 picks (`ledger.latest_on_time`), the same fact the reminders
and the stage read, so the tracker, the reminder and the ranking never disagree about a sender.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import tzinfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from pilotzones.store import ledger
from pilotzones.store import models as m

# How a sender stands: a file counts; only rejected files; only late files; nothing received.
COUNTED, REJECTED_ONLY, LATE_ONLY, NOTHING = "counted", "rejected_only", "late_only", "nothing"


def tracker(s: Session, kind: str, year: int, expected: list[str], name: Callable[[str], str], tz: tzinfo) -> dict:
    """Every file of `kind` for `year` by sender (the `expected` ones first, in order), and who is missing.

    `name` names any sender, the unexpected ones too (a county not a pilot sending its data).

    Each file: id, filename, received_at (programme time), status (accepted / rejected), errors
    (how many), on_time (at receipt), late (not counted for lateness), counts (the one R11 takes).
    """
    lw = ledger.leeway(s, kind, year)
    counting = {a: sub.id for a, sub in ledger.latest_on_time(s, kind, year).items()}
    subs = s.scalars(
        select(m.Submission)
        .where(m.Submission.kind == kind, m.Submission.year == year)
        .order_by(m.Submission.received_at, m.Submission.id)
    )
    files: dict[str | None, list[dict]] = {}
    for sub in subs:
        accepted = sub.status == "accepted"
        files.setdefault(sub.sender, []).append(
            {
                "id": sub.id,
                "filename": sub.filename,
                "received_at": ledger.utc(sub.received_at).astimezone(tz).isoformat(),
                "status": sub.status,
                "errors": len(sub.errors or []),
                "on_time": bool(sub.on_time),
                "late": accepted and not lw.counts(sub),
                "counts": counting.get(sub.sender or "") == sub.id,
            }
        )
    senders = list(expected) + sorted(a for a in files if a is not None and a not in expected)
    rows = []
    for a in senders:
        own = files.get(a, [])
        rows.append(
            {
                "adcode": a,
                "name": name(a),
                "expected": a in expected,
                "state": _state(own, a in counting),
                "counting": counting.get(a),
                "files": own,
            }
        )
    return {
        "expected": len(expected),
        "counted": sum(1 for a in expected if a in counting),
        "missing": [a for a in expected if a not in counting],
        "senders": rows,
        "unknown_sender": files.get(None, []),
    }


def _state(files: list[dict], counted: bool) -> str:
    if counted:
        return COUNTED
    if any(f["status"] == "accepted" for f in files):
        return LATE_ONLY
    return REJECTED_ONLY if files else NOTHING
