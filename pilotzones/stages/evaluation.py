"""The evaluation stage, step by step, as plain functions (the Prefect tasks wrap these).

collect -> score -> rank and card -> disqualify and replace -> propose (awaiting approval) -> publish.
Nothing changes the pilots, cards or candidates until `publish`, which applies a proposal once.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd
from sqlalchemy import delete

from pilotzones import clock
from pilotzones.errors import StageError
from pilotzones.rules import ranking, sanctions, scoring
from pilotzones.rules.decisions import DecisionState, move
from pilotzones.rules.proposal_models import EvaluationProposal
from pilotzones.store import cases, deadlines, ledger, objections, proposals
from pilotzones.store import models as m
from pilotzones.store.bulk_insert import insert_rows
from pilotzones.store.home import Home
from pilotzones.store.session import session
from pilotzones.store.versions import from_year_of, programme_for

STAGE = "evaluation"


@dataclass
class Collected:
    year: int
    zones: list[str]
    files: dict[str, int]  # zone -> the submission that counts
    values: pd.DataFrame = field(repr=False)
    late: list[str] = field(default_factory=list)
    # The deadline exceptions applied and the file counts, kept as one JSON text: a pickled dict whose
    # keys repeat attribute names ("late", "year") pickles differently after a reload, which would
    # change the cache key of the next step and defeat retry-from-failure.
    trace: str = "{}"
    state: str = ""  # inputs_digest when collected: approval refuses a proposal the state has moved past

    @property
    def exceptions(self) -> list[dict]:
        """Deadline exceptions of the stage, each with the files that count only because of it."""
        return json.loads(self.trace).get("exceptions", [])

    @property
    def counts(self) -> dict:
        """Files read, accepted, rejected, late, by_exception; zones, counted, missing."""
        return json.loads(self.trace).get("counts", {})


def published_result(home: Home, year: int) -> EvaluationProposal | None:
    """The proposal of a published evaluation of `year`, or None."""
    result = proposals.published(home, STAGE, year)
    assert result is None or isinstance(result, EvaluationProposal)
    return result


def check_can_run(home: Home, year: int) -> None:
    """Refuse a run that would rewrite history or skip an approval."""
    start = home.programme.programme.start_year
    if year < start:
        raise StageError(f"本方案自{start}年度起实施（首个监测评价年度为{start}年），{year}年度不能运行监测评价")
    with session(home.db_url) as s:
        for d in ledger.decisions_of_stage(s, STAGE):
            if d.year < year and DecisionState(d.state).pending:
                raise StageError(
                    f"{d.year}年度监测评价方案待审批，请先审批"
                    f"（pilotzones approve --year {d.year} --stage evaluation，或 decline）"
                )
            if d.year > year and d.state == DecisionState.PUBLISHED:
                raise StageError(f"{d.year}年度监测评价已经发布，{year}年度不能再运行")


def inputs_digest(home: Home, year: int) -> str:
    """A digest of everything the stage reads from the state for `year`."""
    with session(home.db_url) as s:
        return _state_digest(s, year, version=_version_mark(home, year))


def _version_mark(home: Home, year: int) -> str | None:
    """The rubric version in force for `year` when it is a later version (None for the base), so a
    version added after a proposal was made makes that proposal out of date."""
    if from_year_of(home, year) == home.programme.programme.start_year:
        return None
    rubric = programme_for(home, year).rubric.model_dump_json()
    return f"{from_year_of(home, year)}:{hashlib.sha256(rubric.encode()).hexdigest()}"


def _state_digest(
    s,
    year: int,
    zones: list[str] | None = None,
    files: dict[str, int] | None = None,
    version: str | None = None,
) -> str:
    """`zones` and `files` (every sender's latest on-time file), when the caller has just read them."""
    zones = ledger.pilots_for(s, year) if zones is None else zones
    if files is None:
        files = {z: sub.id for z, sub in ledger.latest_on_time(s, STAGE, year).items()}
    # An exception granted changes the state the stage read, whether or not it changes a file.
    granted = [x.id for x in ledger.deadline_exceptions(s, year, STAGE)]
    state = [zones, files, ledger.card_years(s, zones), ledger.candidates_in_force(s, year), granted]
    if version is not None:  # absent for the base version: digests made before versions existed stand
        state.append(version)
    # The rectification cases the proposal shows (issue 14): a verdict given before approval makes the
    # proposal out of date. Absent while there are none, so digests made before cases existed stand.
    rectification = cases.states(s, zones)
    if rectification:
        state.append(rectification)
    amended = objections.amendment_ids(s, files.values())
    if amended:  # an upheld objection's correction (公示): absent without one, so earlier digests stand
        state.append(["amendments", amended])
    return hashlib.sha256(json.dumps(state, sort_keys=True, default=sorted).encode()).hexdigest()


def collect(home: Home, year: int) -> Collected:
    """The zones evaluated in `year` (R2) and, per zone, the latest accepted on-time file (R11).

    On time means by the deadline, or covered by a deadline exception granted for that zone.
    """
    prog = home.programme
    with session(home.db_url) as s:
        zones = ledger.pilots_for(s, year)
        latest = ledger.latest_on_time(s, STAGE, year)
        files = {z: latest[z].id for z in zones if z in latest}
        # The counted files' values as received, with the corrections of upheld objections over them.
        values = objections.amended(s, ledger.values_frame(s, files.values()), files.values())
        late = sorted(ledger.late_senders(s, STAGE, year) & (set(zones) - set(files)))
        counted = [latest[z] for z in zones if z in latest]
        exceptions = deadlines.applied(s, year, STAGE, prog.tz, counted, prog.moment("evaluation_deadline", year))
        counts = ledger.file_counts(s, STAGE, year)
        state = _state_digest(s, year, zones, {z: sub.id for z, sub in latest.items()}, _version_mark(home, year))
    counts.update(zones=len(zones), counted=len(files), missing=len(zones) - len(files))
    trace = json.dumps({"exceptions": exceptions, "counts": counts}, sort_keys=True, ensure_ascii=False)
    return Collected(year, zones, files, values, late, trace, state)


def score(home: Home, collected: Collected) -> scoring.Scores:
    """Score the year; a programme whose overdue rectification cases cost points takes them off the
    totals of the zones whose case is overdue at this evaluation (its deadline in this year)."""
    from pilotzones.rules import rectification

    prog = programme_for(home, collected.year)  # the rubric in force for the year evaluated
    scores = scoring.score(
        collected.values, collected.zones, set(collected.files), prog.rubric, prog.rules.score_decimals
    )
    rules = home.programme.rules
    if rules.rectification_overdue_effect == "none":
        return scores
    with session(home.db_url) as s:
        overdue = cases.overdue_at_evaluation(s, home.programme, collected.year, collected.zones)
    off = rectification.deductions(rules.rectification_overdue_effect, rules.rectification_overdue_points, overdue)
    return scoring.deduct(scores, off, rectification.deduction_flag)


def rank_and_card(home: Home, scores: scoring.Scores) -> pd.DataFrame:
    ranked = ranking.rank(scores.totals)
    ranked["yellow_card"] = ranking.yellow_cards(ranked, home.programme.rules.cards_per_year)
    return ranked


def disqualify_and_replace(home: Home, year: int, ranked: pd.DataFrame) -> dict:
    """R8 and R9 over the card history and the candidate list in force."""
    carded = list(ranked.loc[ranked["yellow_card"], "adcode"])
    with session(home.db_url) as s:
        history = ledger.card_years(s, carded)
        pool = ledger.candidates_in_force(s, year)
    rules = home.programme.rules
    out = sanctions.disqualified(carded, history, year, rules.consecutive_cards_to_disqualify)
    # ranked is best first: walk it backwards so the lower-ranked zone is replaced first.
    worst_first = [z for z in reversed(list(ranked["adcode"])) if z in out]
    swaps = sanctions.replace(worst_first, [c["adcode"] for c in pool])
    with session(home.db_url) as s:
        # Each carded zone's rectification case as it stands, and the cases this card opens.
        rectification = cases.at_evaluation(s, home.programme, year, carded, worst_first, list(ranked["adcode"]))
    return {
        "rectification": rectification,
        "disqualified": worst_first,
        "promoted": [{"adcode": p.adcode, "replaces": p.replaces} for p in swaps.promoted],
        "vacant": list(swaps.vacant),
        "candidates_in_force": pool,
        "card_history": {z: sorted(y) for z, y in history.items()},
    }


def _units(v: int, scale: int) -> float:
    return round(v / scale, 6)


def build_proposal(
    home: Home, collected: Collected, scores: scoring.Scores, ranked: pd.DataFrame, swaps: dict
) -> EvaluationProposal:
    reg = home.register
    scale = scores.scale
    n = len(ranked)
    below = ranking.below_counts(ranked["rank"])
    rows = []
    for i, r in enumerate(ranked.itertuples(index=False)):
        rows.append(
            {
                "adcode": r.adcode,
                "county": reg.name(r.adcode),
                "base": _units(r.base, scale),
                "bonus": _units(r.bonus, scale),
                "total": _units(r.total, scale),
                "rank": int(r.rank),
                "yellow_card": bool(r.yellow_card),
                "flags": list(r.flags),
                "below": int(below[i]),
                "submission_id": collected.files.get(r.adcode),
            }
        )
    return EvaluationProposal(
        year=collected.year,
        evaluated=n,
        ranking=rows,
        disqualified=swaps["disqualified"],
        promoted=[dict(p, county=reg.name(p["adcode"])) for p in swaps["promoted"]],
        vacant=swaps["vacant"],
        vacant_seats=len(swaps["vacant"]),
        late=collected.late,
        exceptions=collected.exceptions,
        candidates_in_force=swaps["candidates_in_force"],
        card_history=swaps["card_history"],
        rectification=swaps.get("rectification", []),
    )


def propose(
    home: Home,
    collected: Collected,
    scores: scoring.Scores,
    proposal: EvaluationProposal,
    flow_run_id: str | None,
    now: datetime | None = None,
) -> dict:
    """Store the proposal as awaiting approval; a rerun on the same inputs changes nothing.

    In publicity (公示) the proposal stays there, and the zones whose provisional card differs from
    their last draft get the next one (`moved`): whatever rebuilt it (an upheld objection, a new
    file, an exception), and on a rerun that changed nothing when a failed step left them unsent.
    `now`: the moment of what rebuilt it (default now), from which a reopened window runs.
    """
    from pilotzones.stages.publicity import send_new_drafts

    year = collected.year
    inputs = {"files": collected.files, "programme": home.programme.programme.id, "state": collected.state}
    digest = proposal.digest(inputs)
    with session(home.db_url) as s:
        d, stored = proposals.store(
            s, year=year, stage=STAGE, digest=digest, proposal=proposal, inputs=inputs, flow_run_id=flow_run_id
        )
        if stored == "replaced":
            s.execute(delete(m.ItemScore).where(m.ItemScore.decision_id == d.id))
            s.execute(delete(m.Ranking).where(m.Ranking.decision_id == d.id))
        if stored != "unchanged":
            _store_scores(s, d.id, collected, scores, proposal)
        out = {"decision_id": d.id, "state": d.state, "changed": stored != "unchanged", "moved": []}
    if out["state"] == DecisionState.IN_PUBLICITY:
        out["moved"] = send_new_drafts(home, year, now)
    return out


def _store_scores(
    s, decision_id: int, collected: Collected, scores: scoring.Scores, proposal: EvaluationProposal
) -> None:
    items = scores.items
    sub = items["adcode"].map(collected.files)
    rows = (
        (decision_id, a, int(i), _units(int(u), scores.scale), r, f, None if pd.isna(si) else int(si))
        for a, i, u, r, f, si in zip(
            items["adcode"], items["item"], items["units"], items["rule"], items["flag"], sub, strict=True
        )
    )
    columns = ("decision_id", "adcode", "item", "points", "rule", "flag", "submission_id")
    insert_rows(s, m.table(m.ItemScore), columns, rows)
    ranked = ("adcode", "base", "bonus", "total", "rank", "yellow_card", "flags", "submission_id")
    insert_rows(
        s,
        m.table(m.Ranking),
        ("decision_id", *ranked),
        ((decision_id, *(getattr(r, k) for k in ranked)) for r in proposal.ranking),
    )


def publish(home: Home, year: int, approval: dict | None = None) -> dict:
    """Apply an awaiting proposal once: cards, exits, promotions. Publishing twice applies nothing."""
    from pilotzones.stages.publicity import refuse_final

    version = _version_mark(home, year)
    words = home.programme.programme.words()
    with session(home.db_url) as s:
        held = ledger.decision(s, year, STAGE, lock=True)
        if held is not None:
            refuse_final(home, s, held)  # 公示: a window still open or an objection unanswered
        d = proposals.to_publish(s, STAGE, year, lambda: _state_digest(s, year, version=version), approval, words)
        if d.state == DecisionState.PUBLISHED:
            return {"decision_id": d.id, "state": d.state, "applied": False}
        heard = objections.as_json(s, STAGE, year, home.programme.tz)
        if heard is not None:  # the published decision keeps its publicity: window, objections, answers
            d.proposal = {**d.proposal, "publicity": heard}
        p = EvaluationProposal.from_stored(d.proposal, d.id)
        withdrawal = home.programme.programme.withdrawal
        for r in p.ranking:
            if r.yellow_card:
                s.add(m.Card(year=year, adcode=r.adcode, decision_id=d.id))
        for z in p.disqualified:
            ledger.leave(s, adcode=z, year=year, decision_id=d.id, reason=f"{year}年连续亮黄牌，{withdrawal}")
        for pr in p.promoted:
            ledger.take_seat(
                s,
                adcode=pr.adcode,
                replaces=pr.replaces,
                year=year,
                decision_id=d.id,
                reason=f"{year}年替补{pr.replaces}",
            )
            ledger.mark_promoted(s, pr.adcode, year)
        carded = [r.adcode for r in p.ranking if r.yellow_card]
        cases.on_evaluation_published(
            s, home.programme, year=year, decision_id=d.id, carded=carded, disqualified=list(p.disqualified)
        )
        move(d, DecisionState.PUBLISHED)
        d.published_at = clock.now()
        return {"decision_id": d.id, "state": d.state, "applied": True}
