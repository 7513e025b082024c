"""What a stage command refuses before it starts Prefect.

A refusal found inside a flow is logged by Prefect with its traceback, after a server start; found
here it is one clear line and exit 2. The flows check the same things again under the stage lock:
they stay the authority (a scheduled run has no command in front of it).
"""

from __future__ import annotations

from datetime import datetime

from pilotzones import clock, stages
from pilotzones.errors import ConfigError, StageError
from pilotzones.rules.decisions import DecisionState
from pilotzones.store import ledger, proposals
from pilotzones.store.home import Home
from pilotzones.store.locks import stage_lock
from pilotzones.store.session import session


def before_run(home: Home, stage: str, year: int, early_reason: str | None = None) -> None:
    """Refuse a run the stage would refuse: order of years, before its deadline, or another run in progress.

    A published year is only reported (and its unsent notices sent), whatever year was published
    after it: the flow looks at published first, and so does this, or a retrigger would be refused.
    """
    if ledger_published(home, stage, year) is None:
        stages.get(stage).module.check_can_run(home, year)
        check_time(home, stage, year, early_reason)
    with stage_lock(home.db_url, stage, year, home.programme.programme.words()):
        pass


def ledger_published(home: Home, stage: str, year: int) -> str | None:
    """The state of the stage's decision of `year` when it is published, else None."""
    with session(home.db_url) as s:
        d = ledger.decision(s, year, stage)
        return d.state if d is not None and d.state == DecisionState.PUBLISHED else None


def deadline_in_force(home: Home, stage: str, year: int) -> datetime:
    """The stage's deadline for `year` in programme time, moved by the latest extension in force:
    until then a file may still come that the stage must count."""
    st = stages.get(stage)
    deadline = home.programme.moment(st.deadline, year)
    with session(home.db_url) as s:
        for x in ledger.deadline_exceptions(s, year, stage):
            if x.kind == "extension" and x.until is not None:
                deadline = max(deadline, ledger.utc(x.until).astimezone(home.programme.tz))
    return deadline


def check_time(home: Home, stage: str, year: int, early_reason: str | None = None) -> dict | None:
    """Refuse (StageError) a run before the stage's deadline has passed in programme time.

    A drill may run it early with a reason: returned as what the run log and the proposal record
    (reason, who, when, the deadline). None when the deadline has passed.
    """
    tz = home.programme.tz
    deadline, now = deadline_in_force(home, stage, year), clock.now().astimezone(tz)
    if now > deadline:
        return None
    st = stages.get(stage)
    when = f"截止时间 {deadline.isoformat()}，现在 {now.isoformat()}"
    if early_reason is None:
        raise StageError(
            f"{year}年度{st.cn_in(home.programme.programme.words())}的报送截止时间未到（{when}）：截止之后才能运行，否则尚在期限内的报送将被当作未报送。"
            f"演练确需提前运行：{st.rerun_command(year)} --force-early --reason 原因"
        )
    if not early_reason.strip():
        raise ConfigError("--reason: 提前运行必须说明原因")
    from pilotzones.store.deadlines import operator_name

    return {
        "reason": early_reason.strip(),
        "by": operator_name(),
        "at": now.isoformat(),
        "deadline": deadline.isoformat(),
    }


def before_publish(home: Home, stage: str, year: int) -> None:
    """Refuse an approval with nothing to approve, of a declined proposal, or of one its inputs have moved past."""
    words = home.programme.programme.words()
    with session(home.db_url) as s:
        d = ledger.decision(s, year, stage)
        if d is None:
            raise proposals.nothing_to_approve(stage, year, words)
        if d.state == DecisionState.DECLINED:
            raise proposals.declined_error(s, d, home.programme.tz, words)
        if d.state == DecisionState.PUBLISHED:
            return
        from pilotzones.stages.publicity import refuse_final

        refuse_final(home, s, d)  # 公示: never publicized, a window still open, an objection unanswered
    proposals.ensure_current(
        d, stages.get(stage).module.inputs_digest(home, year), proposals.rerun_command(stage, year), words
    )
