"""The candidate selection stage (R10), step by step: collect nominations and reviews, judge and
select them (`pilotzones.rules.selection`), propose, publish the list in force.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

from sqlalchemy import select as sql_select

from pilotzones import clock
from pilotzones.errors import StageError
from pilotzones.rules.decisions import DecisionState, move
from pilotzones.rules.proposal_models import CandidateSelection
from pilotzones.rules.selection import NOT_SELECTED, Nomination, judge, select
from pilotzones.store import deadlines, ledger, proposals
from pilotzones.store import models as m
from pilotzones.store.home import Home
from pilotzones.store.session import session

STAGE = "candidates"


def published_result(home: Home, year: int) -> CandidateSelection | None:
    result = proposals.published(home, STAGE, year)
    assert result is None or isinstance(result, CandidateSelection)
    return result


def check_can_run(home: Home, year: int) -> None:
    with session(home.db_url) as s:
        for d in ledger.decisions_of_stage(s, STAGE):
            if d.year > year and d.state == DecisionState.PUBLISHED:
                words = home.programme.programme.words()
                raise StageError(f"{d.year}年度{words['candidate']}遴选已经发布，{year}年度不能再运行")


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
        home.programme.programme.words(),
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
    words = home.programme.programme.words()
    with session(home.db_url) as s:
        d = proposals.to_publish(s, STAGE, year, lambda: inputs_digest(home, year), approval, words)
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
