"""公示 of the December evaluation, step by step: publicize a proposal (draft notices, the window),
answer an objection (an upheld one amends the counted file and rebuilds the proposal; zones the
rebuild moved across the card line get a new draft), and what final approval waits for.

Plain functions, like the stage's other steps; the command line and the flow call them.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pilotzones import clock
from pilotzones.errors import ConfigError, StageError
from pilotzones.rules import publicity as rule
from pilotzones.rules.decisions import DecisionState, move
from pilotzones.rules.proposal_models import EvaluationProposal
from pilotzones.rules.publicity import ObjectionState
from pilotzones.stages import evaluation as ev
from pilotzones.store import ledger, objections, proposals
from pilotzones.store import models as m
from pilotzones.store.home import Home
from pilotzones.store.locks import stage_lock
from pilotzones.store.session import session
from pilotzones.store.versions import programme_for

STAGE = ev.STAGE


def _t(home: Home, moment: datetime) -> str:
    return ledger.utc(moment).astimezone(home.programme.tz).isoformat()


def publicize(home: Home, year: int, *, by: str, via: str = "cli", at: datetime | None = None) -> dict:
    """Move the proposal awaiting approval into publicity: the window opens at `at` (default now) and
    every zone gets its draft, the commission the draft summary. Again on a proposal in publicity:
    nothing new (the drafts already queued are not queued twice)."""
    from pilotzones.notices import queue
    from pilotzones.notices.load import evaluation_facts
    from pilotzones.notices.publicity import draft_notices

    prog = home.programme
    days = prog.publicity.days(STAGE)
    if not days:
        raise StageError(
            f"本方案未设监测评价公示期（[publicity] publicity_days.{STAGE} 为0）："
            f"请直接审批（pilotzones approve --year {year} --stage {STAGE}）"
        )
    opened = at or clock.now()
    closes = rule.closes(prog.publicity, STAGE, opened, prog.tz)
    assert closes is not None
    current = ev.inputs_digest(home, year)
    with stage_lock(home.db_url, STAGE, year, home.programme.programme.words()):
        with session(home.db_url) as s:
            d = ledger.decision(s, year, STAGE, lock=True)
            if d is None:
                raise StageError(f"{year}年度没有监测评价方案可以公示：请先运行 {proposals.rerun_command(STAGE, year)}")
            state = DecisionState(d.state)
            new = state == DecisionState.AWAITING_APPROVAL
            if new:
                proposals.ensure_current(d, current, proposals.rerun_command(STAGE, year), prog.programme.words())
                move(d, DecisionState.IN_PUBLICITY)
                w = objections.open_window(
                    s,
                    d,
                    opened_at=opened,
                    closes_at=closes,
                    days=days,
                    day_kind=prog.publicity.day_kind,
                    by=by,
                    via=via,
                    cards=[r.adcode for r in EvaluationProposal.from_stored(d.proposal, d.id).ranking if r.yellow_card],
                )
            elif state == DecisionState.IN_PUBLICITY:
                found = objections.window(s, STAGE, year)
                assert found is not None
                w = found
            else:
                raise StageError(f"{year}年度监测评价{state.cn}，不能公示")
            proposal = EvaluationProposal.from_stored(d.proposal, d.id)
            opened_at, closes_at, drafts = ledger.utc(w.opened_at), ledger.utc(w.closes_at), w.drafts
        queued = 0
        # Queued by identity: again on a proposal in publicity with its first drafts (a crash between
        # the two), nothing new; drafts of later revisions went out with the rebuilds that made them.
        if new or drafts == 1:
            facts = evaluation_facts(home, year, proposal)
            queued = queue(home, draft_notices(facts, opened=opened_at, closes=closes_at, revision=drafts))
    return {
        "year": year,
        "state": DecisionState.IN_PUBLICITY,
        "new": new,
        "opened_at": _t(home, opened_at),
        "closes_at": _t(home, closes_at),
        "notices_new": queued,
        "proposal": proposal,
    }


def refuse_final(home: Home, s, d, now: datetime | None = None) -> None:
    """Refuse (StageError) the final approval of `d` while publicity holds it: a programme with a
    publicity period and a proposal never publicized, a window still open, an objection unanswered."""
    state = DecisionState(d.state)
    year = d.year
    if state == DecisionState.AWAITING_APPROVAL and home.programme.publicity.days(d.stage) > 0:
        raise StageError(
            f"{year}年度监测评价须先公示（本方案公示期{home.programme.publicity.days(d.stage)}天）："
            f"pilotzones evaluation run --year {year} --publicize"
        )
    if state != DecisionState.IN_PUBLICITY:
        return
    w = objections.window(s, d.stage, year)
    assert w is not None
    now = now or clock.now()
    closes = ledger.utc(w.closes_at)
    if rule.is_open(now, closes):
        tz = home.programme.tz
        raise StageError(
            f"{year}年度监测评价公示期未满（截至{closes.astimezone(tz).isoformat()}，现在{now.astimezone(tz).isoformat()}）："
            "公示期满后才能审批"
        )
    waiting = objections.pending(s, d.stage, year)
    if waiting:
        ids = "、".join(str(o.id) for o in waiting)
        raise StageError(
            f"{year}年度监测评价尚有{len(waiting)}件异议未答复（编号{ids}）：请先答复"
            "（pilotzones objection answer --id N --uphold|--dismiss --reason 理由）"
        )


def check_final(home: Home, year: int, stage: str = STAGE) -> None:
    """`refuse_final` of the stage's decision of `year`, outside a publication (a form's answer)."""
    with session(home.db_url) as s:
        d = ledger.decision(s, year, stage)
        if d is not None:
            refuse_final(home, s, d)


def _parse_values(values: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for v in values:
        key, sep, value = v.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--value {v!r}: 应为 指标=数值（如 --value 2=18）")
        out[key.strip()] = value.strip()
    return out


def answer(
    home: Home,
    objection_id: int,
    *,
    uphold: bool,
    reason: str,
    by: str,
    values: list[str] | None = None,
    at: datetime | None = None,
) -> dict:
    """Answer an objection on the record. Upheld: its corrected values (given, or else those it
    claimed) pass the checks a submitted value passes and are recorded as amendments of the counted
    file; the proposal is rebuilt, and the zones whose card the rebuild moved get a new draft.
    Dismissed: the reason is recorded. Either way the objector gets the answer."""
    from pilotzones.notices import queue
    from pilotzones.notices.publicity import answer_notice

    reason = (reason or "").strip()
    if not uphold and not reason:
        raise ConfigError("--reason: 驳回异议必须说明理由")
    now = (at or clock.now()).astimezone(UTC)
    given = _parse_values(values or [])
    with stage_lock(home.db_url, STAGE, _year_of(home, objection_id), home.programme.programme.words()):
        with session(home.db_url) as s:
            o = objections.get(s, objection_id)
            assert o is not None
            year = o.year
            if o.state == ObjectionState.LATE:
                raise StageError(f"异议{objection_id}逾期提出，已登记，不予受理，无需答复")
            if o.state != ObjectionState.PENDING:
                when = _t(home, o.answered_at or now)
                raise StageError(f"异议{objection_id}已于{when}答复（{ObjectionState(o.state).cn}）")
            d = ledger.decision(s, year, o.stage, lock=True)
            if d is None or d.state != DecisionState.IN_PUBLICITY:
                raise StageError(f"{year}年度监测评价不在公示期，异议{objection_id}不能答复")
            before = EvaluationProposal.from_stored(d.proposal, d.id)
            if uphold:
                _amend(home, s, o, before, given, by, now)
            o.state = (ObjectionState.UPHELD if uphold else ObjectionState.DISMISSED).value
            o.answer, o.answered_by, o.answered_at = reason or None, by[:64], now
        # The answer is on the record: the objector is told before anything else can fail.
        queue(home, [answer_notice(home, objection_id)])
        moved: list[str] = []
        if uphold:
            try:
                moved = rebuild(home, year, before, now)
            except Exception as exc:
                raise StageError(
                    f"异议{objection_id}的答复已记录（答复通知已排队），但重新计算评价结果失败（{exc}）："
                    f"请运行 {proposals.rerun_command(STAGE, year)}，黄牌线调整后的公示稿随之发出"
                ) from exc
    return {"id": objection_id, "year": year, "state": "upheld" if uphold else "dismissed", "moved": moved}


def _year_of(home: Home, objection_id: int) -> int:
    with session(home.db_url) as s:
        o = objections.get(s, objection_id)
        if o is None:
            raise StageError(f"没有编号为{objection_id}的异议")
        return o.year


def _amend(home: Home, s, o, proposal: EvaluationProposal, given: dict[str, str], by: str, now: datetime) -> None:
    """Record the corrected values as amendments over the file the proposal counted for the zone."""
    claimed = {i["key"]: i["value"] for i in o.items if i.get("value") is not None}
    corrections = given or claimed
    if not corrections:
        raise ConfigError("异议成立须给出更正值：--value 指标=数值（异议材料未主张数值）")
    row = next((r for r in proposal.ranking if r.adcode == o.adcode), None)
    if row is None or row.submission_id is None:
        raise StageError(f"{o.adcode}在本年度没有计入评价的数据文件，无法按异议更正数值")
    prog = programme_for(home, o.year)
    values = objections.file_values(s, row.submission_id)
    for a in objections.amendments(s, [row.submission_id]):
        values[a.key] = a.new_value
    checked: dict[str, str] = {}
    for key, value in corrections.items():
        canonical, error = rule.check_value(prog.rubric, key, value, prog.rules.score_decimals)
        if error:
            raise ConfigError(f"更正值不通过校验：{error}")
        assert canonical is not None
        checked[key] = canonical
    problems = rule.check_pairs(prog.rubric, {**values, **checked})
    if problems:
        raise ConfigError("更正值不通过校验：" + "；".join(problems))
    for key, value in checked.items():
        s.add(
            m.Amendment(
                objection_id=o.id,
                submission_id=row.submission_id,
                adcode=o.adcode,
                key=key,
                old_value=values.get(key),
                new_value=value,
                by=by[:64],
                at=now,
            )
        )
    s.flush()


def rebuild(home: Home, year: int, before: EvaluationProposal, now: datetime | None = None) -> list[str]:
    """The stage's steps again over the amended values; the proposal stays in publicity. The zones
    whose card moved (sent their next draft by `propose`, as every rebuild in publicity is)."""
    collected = ev.collect(home, year)
    scores = ev.score(home, collected)
    ranked = ev.rank_and_card(home, scores)
    swaps = ev.disqualify_and_replace(home, year, ranked)
    proposal = ev.build_proposal(home, collected, scores, ranked, swaps)
    if before.forced_early is not None:
        proposal = proposal.model_copy(update={"forced_early": before.forced_early})
    return list(ev.propose(home, collected, scores, proposal, None, now)["moved"])


def send_new_drafts(home: Home, year: int, now: datetime | None = None) -> list[str]:
    """The next draft to the zones whose provisional card in the stored proposal differs from the
    last draft they were sent, and to the commission; the zones (none: nothing sent).

    The one path of every rebuild in publicity (an upheld objection, a new file, an exception), run
    again by every run of the stage, so drafts a failed step left unsent go out with the next run.
    The notices are queued (by identity: the revision) before the window records them as sent, so a
    crash between the two sends nothing twice. The window starts again only when the programme says so.
    """
    from pilotzones.notices import queue
    from pilotzones.notices.load import evaluation_facts
    from pilotzones.notices.publicity import draft_notices

    prog = home.programme
    with session(home.db_url) as s:
        d = ledger.decision(s, year, STAGE)
        w = objections.window(s, STAGE, year)
        if d is None or w is None or d.state != DecisionState.IN_PUBLICITY:
            return []
        proposal = EvaluationProposal.from_stored(d.proposal, d.id)
        carded = sorted(r.adcode for r in proposal.ranking if r.yellow_card)
        if w.cards is None:  # a window opened before its card line was kept: taken as what it shows
            w.cards = carded
            return []
        moved = rule.cards_moved(dict.fromkeys(w.cards, True), dict.fromkeys(carded, True))
        if not moved:
            return []
        revision, opened, closes_at = w.drafts + 1, ledger.utc(w.opened_at), ledger.utc(w.closes_at)
        if prog.publicity.reopen_on_upheld:
            again = rule.closes(prog.publicity, STAGE, now or clock.now(), prog.tz)
            assert again is not None
            closes_at = again.astimezone(UTC)
        upheld = [
            {"id": o.id, "adcode": o.adcode, "county": home.register.name(o.adcode)}
            for o in objections.of_stage(s, STAGE, year)
            if o.state == ObjectionState.UPHELD
        ]
    facts = evaluation_facts(home, year, proposal)
    queue(home, draft_notices(facts, opened=opened, closes=closes_at, revision=revision, only=moved, upheld=upheld))
    with session(home.db_url) as s:
        w = objections.window(s, STAGE, year, lock=True)
        assert w is not None
        if w.drafts < revision:
            w.drafts, w.cards, w.closes_at = revision, carded, closes_at
    return moved
