"""Candidate selection (R10): eligibility of each nomination, ranking, and the list in force.

The pure part (`judge`, `select`) works on plain data; the stage steps below it load and store.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select as sql_select

from pilotzones import clock, deadlines, ledger, proposals
from pilotzones.db import models as m
from pilotzones.db.session import session
from pilotzones.decisions import DecisionState, move
from pilotzones.errors import StageError
from pilotzones.home import Home
from pilotzones.proposal_models import CandidateSelection
from pilotzones.register import Register

STAGE = "candidates"

LATE = "逾期推荐：收到时间晚于推荐截止时间"
OUTSIDE = "不是本区域的县级行政区划"
WRONG_PREFECTURE = "不属于推荐的地（州、市）"
PILOT = "已是试验区"
EXITED = "已退出试验区，不得再次作为候补"
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
) -> list[Verdict]:
    """R10: one verdict per nomination, in receipt order; `reason` says why one does not count."""
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
        out.append(Verdict(n, reviews.get(n.adcode), reason))
    return out


def select(verdicts: list[Verdict], slots: int) -> list[Verdict]:
    """Eligible nominees by review score (highest first), then earlier receipt; the first `slots`."""
    eligible = [v for v in verdicts if v.reason is None]
    eligible.sort(key=lambda v: (-(v.review_score or 0), v.nomination.received_at, v.nomination.submission_id))
    return eligible[:slots]


# -- the stage's steps ---------------------------------------------------------------------------


def published_result(home: Home, year: int) -> CandidateSelection | None:
    with session(home.db_url) as s:
        d = ledger.decision(s, year, STAGE)
        if d is None or d.state != DecisionState.PUBLISHED:
            return None
        return CandidateSelection.from_stored(d.proposal, d.id)


def check_can_run(home: Home, year: int) -> None:
    with session(home.db_url) as s:
        for d in ledger.decisions_of_stage(s, STAGE):
            if d.year > year and d.state == DecisionState.PUBLISHED:
                raise StageError(f"the {d.year} candidate selection is already published; {year} can no longer be run")


def inputs_digest(home: Home, year: int) -> str:
    """A digest of everything the stage reads from the state for `year`."""
    return state_of(collect(home, year))


def state_of(collected: dict) -> str:
    return hashlib.sha256(json.dumps(collected, sort_keys=True).encode()).hexdigest()


def collect(home: Home, year: int) -> dict:
    """Every structurally valid nomination of `year` and the review scores in force.

    A nomination file is on time when received by the deadline, or covered by a deadline exception
    granted for its prefecture (an extension, or the file accepted late by name).
    """
    prog = home.programme
    with session(home.db_url) as s:
        leeway = ledger.leeway(s, "nomination", year)
        subs = s.scalars(
            sql_select(m.Submission)
            .where(m.Submission.kind.in_(("nomination", "review")), m.Submission.year == year)
            .where(m.Submission.status == "accepted")
            .order_by(m.Submission.received_at, m.Submission.id)
        ).all()
        ids = [x.id for x in subs]
        values = (
            s.scalars(sql_select(m.SubmissionValue).where(m.SubmissionValue.submission_id.in_(ids))).all()
            if ids
            else []
        )
        by_sub: dict[int, list[m.SubmissionValue]] = {}
        for v in values:
            by_sub.setdefault(v.submission_id, []).append(v)
        nominations: list[dict] = []
        reviews: dict[str, dict] = {}
        for sub in subs:
            for v in by_sub.get(sub.id, []):
                if sub.kind == "nomination":
                    extra = v.extra or {}
                    nominations.append(
                        {
                            "adcode": v.adcode,
                            "county": extra.get("county") or "",
                            "prefecture": sub.sender or "",
                            "received_at": ledger.utc(sub.received_at).isoformat(),
                            "submission_id": sub.id,
                            "row": extra.get("row"),
                            "contact_email": extra.get("contact_email"),
                            "on_time": leeway.counts(sub),
                        }
                    )
                else:
                    # A later review sheet replaces an earlier one for the same counties.
                    reviews[v.adcode] = {"score": float(v.value), "submission_id": sub.id}
        pilots = set(ledger.pilots_for(s, year))
        gone = ledger.exited(s)
        counted = [x for x in subs if x.kind == "nomination" and leeway.counts(x)]
        exceptions = deadlines.applied(s, year, STAGE, prog.tz, counted, prog.moment("nomination_deadline", year))
        files = ledger.file_counts(s, "nomination", year)
    return {
        "year": year,
        "nominations": nominations,
        "reviews": reviews,
        "pilots": sorted(pilots),
        "exited": sorted(gone),
        "exceptions": exceptions,
        "files": files,
    }


def _nomination(d: dict) -> Nomination:
    return Nomination(**dict(d, received_at=datetime.fromisoformat(d["received_at"])))


def decide(home: Home, collected: dict) -> CandidateSelection:
    """Judge every nomination and select the candidates; the proposal as stored and shown."""
    reg = home.register
    reviews = {a: r["score"] for a, r in collected["reviews"].items()}
    verdicts = judge(
        [_nomination(n) for n in collected["nominations"]],
        reviews,
        reg,
        set(collected["pilots"]),
        set(collected["exited"]),
    )
    chosen = select(verdicts, home.programme.rules.candidate_slots)
    chosen_ids = {id(v) for v in chosen}
    nominated = {v.nomination.adcode for v in verdicts}
    rejected = []
    for v in verdicts:
        if id(v) in chosen_ids:
            continue
        reason = v.reason or NOT_SELECTED
        rejected.append(
            {
                "adcode": v.nomination.adcode,
                "reason": reason,
                "prefecture": v.nomination.prefecture,
                "submission_id": v.nomination.submission_id,
                "row": v.nomination.row,
            }
        )
    return CandidateSelection(
        year=collected["year"],
        selected=[
            {
                "adcode": v.nomination.adcode,
                "county": reg.name(v.nomination.adcode),
                "rank": i,
                "review_score": v.review_score,
                "prefecture": v.nomination.prefecture,
                "contact_email": v.nomination.contact_email,
                "submission_id": v.nomination.submission_id,
            }
            for i, v in enumerate(chosen, start=1)
        ],
        rejected=rejected,
        unmatched_reviews=sorted(a for a in collected["reviews"] if a not in nominated),
        nominations=len(verdicts),
        exceptions=collected.get("exceptions", []),
    )


def propose(
    home: Home, year: int, proposal: CandidateSelection, flow_run_id: str | None, state: str | None = None
) -> dict:
    """Store the selection as awaiting approval; `state` is the digest of the inputs it was made from."""
    digest = proposal.digest(state)
    with session(home.db_url) as s:
        inputs = {
            "submissions": sorted(
                {x.submission_id for x in proposal.selected} | {x.submission_id for x in proposal.rejected}
            ),
            "state": state,
        }
        d, stored = proposals.store(
            s, year=year, stage=STAGE, digest=digest, proposal=proposal, inputs=inputs, flow_run_id=flow_run_id
        )
        return {"decision_id": d.id, "state": d.state, "changed": stored != "unchanged"}


def publish(home: Home, year: int, approval: dict | None = None) -> dict:
    """The selection becomes the list in force; an empty one leaves the previous list in force."""
    with session(home.db_url) as s:
        d = proposals.to_publish(s, STAGE, year, lambda: inputs_digest(home, year), approval)
        if d.state == DecisionState.PUBLISHED:
            return {"decision_id": d.id, "state": d.state, "applied": False}
        for c in CandidateSelection.from_stored(d.proposal, d.id).selected:
            s.add(
                m.Candidate(
                    decision_id=d.id,
                    year=year,
                    adcode=c.adcode,
                    rank=c.rank,
                    review_score=c.review_score,
                )
            )
        move(d, DecisionState.PUBLISHED)
        d.published_at = clock.now()
        return {"decision_id": d.id, "state": d.state, "applied": True}
