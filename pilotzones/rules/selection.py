"""Candidate selection (R10) as plain functions: whether each nomination counts, and who is chosen."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pilotzones.rules.programme import Info
from pilotzones.rules.register import Register

LATE = "逾期推荐：收到时间晚于推荐截止时间"
OUTSIDE = "不是本区域的县级行政区划"
# In the programme's words ({prefecture}, {zone}: programme.Info.words()), filled in by `judge`.
WRONG_PREFECTURE = "不属于推荐的{prefecture}"
PILOT = "已是{zone}"
EXITED = "已退出{zone}，不得再次作为候补"
DUPLICATE = "重复推荐：以最早收到的推荐为准"
NO_REVIEW = "无评审得分"
NOT_SELECTED = "评审排名未进入候补名额"


@dataclass(frozen=True)
class Nomination:
    adcode: str
    county: str
    prefecture: str  # the nominating prefecture's code
    received_at: datetime
    submission_id: int
    row: int | None
    contact_email: str | None = None
    on_time: bool = True


@dataclass(frozen=True)
class Verdict:
    nomination: Nomination
    review_score: float | None
    reason: str | None  # None: eligible


def judge(
    nominations: list[Nomination],
    reviews: dict[str, float],
    register: Register,
    pilots: set[str],
    exited: set[str],
    words: dict[str, str] | None = None,
) -> list[Verdict]:
    """R10: one verdict per nomination, in receipt order; `reason` says why one does not count,
    in the programme's `words` (default: the built-in programme's)."""
    words = words or Info.default_words()
    out: list[Verdict] = []
    counted: set[str] = set()
    for n in sorted(nominations, key=lambda n: (n.received_at, n.submission_id, n.row or 0)):
        county = register.county(n.adcode)
        reason = None
        if not n.on_time:
            reason = LATE
        elif county is None:
            reason = OUTSIDE
        elif county.prefecture != n.prefecture:
            reason = WRONG_PREFECTURE
        elif n.adcode in exited:
            reason = EXITED
        elif n.adcode in pilots:
            reason = PILOT
        elif n.adcode in counted:
            reason = DUPLICATE
        elif n.adcode not in reviews:
            reason = NO_REVIEW
        if reason is None:
            counted.add(n.adcode)
        out.append(Verdict(n, reviews.get(n.adcode), reason and reason.format(**words)))
    return out


def select(verdicts: list[Verdict], slots: int) -> list[Verdict]:
    """Eligible nominees by review score (highest first), then earlier receipt; the first `slots`."""
    eligible = [v for v in verdicts if v.reason is None]
    eligible.sort(key=lambda v: (-(v.review_score or 0), v.nomination.received_at, v.nomination.submission_id))
    return eligible[:slots]
