"""A stage's proposal: stored once per (year, stage), replaced while unpublished, checked before publishing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import tzinfo
from typing import Literal, overload

from sqlalchemy import select
from sqlalchemy.orm import Session

from pilotzones import clock, stages
from pilotzones.errors import StageError
from pilotzones.rules.decisions import DecisionState, Verdict, move
from pilotzones.rules.proposal_models import Proposal
from pilotzones.store import ledger
from pilotzones.store import models as m

Stored = Literal["unchanged", "new", "replaced"]


def store(
    s: Session, *, year: int, stage: str, digest: str, proposal: Proposal, inputs: dict, flow_run_id: str | None
) -> tuple[m.Decision, Stored]:
    """Store the proposal as awaiting approval; a rerun with the same digest, or after publication, changes nothing."""
    d = ledger.decision(s, year, stage, lock=True)
    # A declined proposal is proposed again even on the same inputs: the operator asked for a new look.
    if d is not None and (
        d.state == DecisionState.PUBLISHED or (d.digest == digest and d.state != DecisionState.DECLINED)
    ):
        return d, "unchanged"
    if d is None:
        d = m.Decision(year=year, stage=stage, state=DecisionState.AWAITING_APPROVAL.value, digest=digest)
        s.add(d)
        outcome: Stored = "new"
    else:
        outcome = "replaced"  # new inputs, or a decline: the proposal is rebuilt and awaits approval again
        # Rebuilt in publicity (an objection upheld), it stays in publicity: the window is not reopened.
        stay = d.state == DecisionState.IN_PUBLICITY
        move(d, DecisionState.IN_PUBLICITY if stay else DecisionState.AWAITING_APPROVAL)
    d.digest, d.proposal, d.inputs, d.created_at, d.flow_run_id = (
        digest,
        proposal.stored(),
        inputs,
        clock.now(),
        flow_run_id,
    )
    s.flush()
    return d, outcome


def ensure_current(d: m.Decision, state: str, rerun: str, words: dict[str, str] | None = None) -> None:
    """Refuse to publish a proposal made before the state it read changed (a new file, an exception).

    The operator approves what the proposal shows; publishing it over newer inputs would ignore them,
    and rebuilding it silently would publish something nobody reviewed.
    """
    made_from = (d.inputs or {}).get("state")
    if made_from and made_from != state:
        raise StageError(
            f"{d.year}年度{stage_cn(d.stage, words)}方案已过时：提出方案后，其依据的情况有了变化"
            "（新报送的文件、期限例外、评价细则的新版本或整改事项的变化）。"
            f"请运行 `{rerun}` 重新提出方案，审阅后再批准。"
        )


def rerun_command(stage: str, year: int) -> str:
    return stages.get(stage).rerun_command(year)


def nothing_to_approve(stage: str, year: int, words: dict[str, str] | None = None) -> StageError:
    return StageError(f"{year}年度没有待审批的{stage_cn(stage, words)}方案：请先运行 `{rerun_command(stage, year)}`")


def to_publish(
    s: Session,
    stage: str,
    year: int,
    current_state: Callable[[], str],
    approval: dict | None = None,
    words: dict[str, str] | None = None,
) -> m.Decision:
    """The decision an approval publishes, locked (already published: returned as it is).

    Refused when there is none, when it was declined, or when the state it was built from has
    changed since. The approval (by, via, note, flow_run_id) is recorded in the same transaction
    as the publication, so a published decision always names its approver.
    """
    d = ledger.decision(s, year, stage, lock=True)
    if d is None:
        raise nothing_to_approve(stage, year, words)
    if d.state == DecisionState.DECLINED:
        raise declined_error(s, d, words=words)
    if d.state != DecisionState.PUBLISHED:
        ensure_current(d, current_state(), rerun_command(stage, year), words)
        record(s, d, Verdict.APPROVED, **_approval_fields(approval))
    return d


# -- approvals on the record ---------------------------------------------------------------------

VIAS = ("ui", "cli")
# The run log's "flow" of a refusal from the command line (no Prefect flow runs it).
DECLINE_FLOW = "pilotzones decline"


def _approval_fields(approval: dict | None) -> dict:
    a = dict(approval or {})
    if not a.get("by"):
        from pilotzones.store.deadlines import operator_name

        a["by"] = operator_name()
    a.setdefault("via", "cli")
    return {k: a.get(k) for k in ("by", "via", "note", "flow_run_id")}


def record(
    s: Session,
    d: m.Decision,
    verdict: str,
    *,
    by: str,
    via: str,
    note: str | None = None,
    flow_run_id: str | None = None,
) -> m.Approval:
    if via not in VIAS:
        raise ValueError(f"via {via!r} is not one of {', '.join(VIAS)}")
    row = m.Approval(
        stage=d.stage,
        year=d.year,
        decision_id=d.id,
        verdict=verdict,
        by=by[:64],
        at=clock.now(),
        via=via,
        note=(note or "").strip() or None,
        flow_run_id=flow_run_id or None,
    )
    s.add(row)
    s.flush()
    return row


def last_approval(s: Session, d: m.Decision) -> m.Approval | None:
    """The verdict on the decision as it stands: None while it awaits approval (a decline of an
    earlier proposal does not speak for the one proposed again)."""
    if not DecisionState(d.state).settled:
        return None
    return s.scalars(select(m.Approval).where(m.Approval.decision_id == d.id).order_by(m.Approval.id.desc())).first()


@overload
def approval_json(a: m.Approval, tz: tzinfo) -> dict: ...
@overload
def approval_json(a: None, tz: tzinfo) -> None: ...
@overload
def approval_json(a: m.Approval | None, tz: tzinfo) -> dict | None: ...
def approval_json(a: m.Approval | None, tz: tzinfo) -> dict | None:
    if a is None:
        return None
    return {
        "verdict": a.verdict,
        "by": a.by,
        "at": ledger.utc(a.at).astimezone(tz).isoformat(),
        "via": a.via,
        "note": a.note,
        "flow_run_id": a.flow_run_id,
    }


def stage_cn(stage: str, words: dict[str, str] | None = None) -> str:
    """The stage's name in the programme's `words` (`Info.words()`; default: the built-in's)."""
    return stages.cn(stage, words)


def declined_error(
    s: Session, d: m.Decision, tz: tzinfo | None = None, words: dict[str, str] | None = None
) -> StageError:
    a = last_approval(s, d)
    when = ledger.utc(a.at).astimezone(tz).isoformat(timespec="seconds") if a and tz else None
    who = f"已由{a.by}于{when or ledger.utc(a.at).isoformat(timespec='seconds')}拒绝" if a else "已被拒绝"
    return StageError(
        f"{d.year}年度{stage_cn(d.stage, words)}的方案{who}，不能批准；"
        f"请运行 `{rerun_command(d.stage, d.year)}` 重新提出方案后再审批。"
    )


def decline(
    s: Session,
    stage: str,
    year: int,
    *,
    by: str,
    via: str,
    note: str | None,
    flow_run_id: str | None = None,
    words: dict[str, str] | None = None,
) -> m.Approval:
    """Decline the proposal awaiting approval: it is not published, and a rerun proposes again."""
    d = ledger.decision(s, year, stage, lock=True)
    if d is None:
        raise nothing_to_approve(stage, year, words)
    if d.state == DecisionState.PUBLISHED:
        raise StageError(f"{year}年度{stage_cn(stage, words)}已发布，不能拒绝。")
    if d.state == DecisionState.DECLINED:
        raise declined_error(s, d, words=words)
    move(d, DecisionState.DECLINED)
    return record(s, d, Verdict.DECLINED, by=by, via=via, note=note, flow_run_id=flow_run_id)


def verdict_line(a: dict | None) -> str:
    """One line for logs and the run log: who, when, how, and the note."""
    if not a:
        return ""
    what = "批准" if a["verdict"] == Verdict.APPROVED else "拒绝"
    via = "Prefect 界面" if a["via"] == "ui" else "命令行"
    line = f"{a['by']}于{a['at']}通过{via}{what}"
    return line + (f"，意见：{a['note']}" if a.get("note") else "")


# -- the same, for callers holding a home rather than a session ----------------------------------


def published(home, stage: str, year: int) -> Proposal | None:
    """The published proposal of `stage` for `year`, read into the stage's model, or None."""
    from pilotzones.store.session import session

    with session(home.db_url) as s:
        d = ledger.decision(s, year, stage)
        if d is None or d.state != DecisionState.PUBLISHED:
            return None
        return stages.get(stage).proposal.from_stored(d.proposal, d.id)


def decline_stage(
    home, stage: str, year: int, *, by: str, via: str, note: str | None, flow_run_id: str | None = None
) -> dict:
    """Decline the stage's proposal of `year` on record; the approval as `status` shows it.

    A decline from the shell is also a line of the run log (flow `pilotzones decline`), so the
    stage's last run does not go on saying it awaits approval.
    """
    from pilotzones.store import runlog
    from pilotzones.store.session import session

    prog = home.programme
    with session(home.db_url) as s:
        declined = decline(
            s, stage, year, by=by, via=via, note=note, flow_run_id=flow_run_id, words=prog.programme.words()
        )
        a = approval_json(declined, prog.tz)
    if via == "cli":
        run = runlog.start(home, stage, year, DECLINE_FLOW)
        runlog.finish(home, run, DecisionState.DECLINED, f"拒绝：{verdict_line(a)}")
    return a


def verdict(home, stage: str, year: int) -> tuple[str | None, dict | None]:
    """The decision's state (None before any proposal) and the verdict on it, if any."""
    from pilotzones.store.session import session

    with session(home.db_url) as s:
        d = ledger.decision(s, year, stage)
        if d is None:
            return None, None
        return d.state, approval_json(last_approval(s, d), home.programme.tz)


def current(home, stage: str, year: int) -> dict | None:
    """What identifies the proposal as it stands: its state, digest, when and by which run it was made."""
    from pilotzones.store.session import session

    with session(home.db_url) as s:
        d = ledger.decision(s, year, stage)
        if d is None:
            return None
        return {
            "state": d.state,
            "digest": d.digest,
            "made": ledger.utc(d.created_at).isoformat(),
            "flow_run_id": d.flow_run_id,
        }
