"""The generic decision-stage flow: the run log, the stage lock, approval, publication and notices.

A stage's flow file gives a `StageFlow`: its registry entry, its flow names, its tasks and the
steps that are its own (`decide`: collect to propose) and its artifacts. Everything else, from
refusing a busy stage to pausing for the UI's approval, runs here the same for every stage.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pilotzones.flows import approval
from pilotzones.tasks import notices as n
from pilotzones.tasks.stage import StageTasks, stage_tasks
from prefect import get_run_logger
from prefect.runtime import flow_run
from prefect.states import Cancelled, Completed, State

from pilotzones.errors import shown
from pilotzones.gcpause import freeze_once, paused
from pilotzones.rules.decisions import DecisionState
from pilotzones.rules.proposal_models import Proposal
from pilotzones.stages import Stage, prechecks
from pilotzones.store import proposals, runlog
from pilotzones.store.deadlines import operator_name
from pilotzones.store.home import Home
from pilotzones.store.locks import StageBusy, stage_lock

# The run log's line for a run that found its stage published (status shows it to operators).
ALREADY_PUBLISHED = "此前已发布，本次未再执行任何变更"


@dataclass(frozen=True)
class StageFlow:
    """What one decision stage's flows are made of."""

    stage: Stage
    run_flow: str  # the Prefect flow's name, from the registry, e.g. evaluation-stage
    publish_flow: str  # e.g. publish-evaluation
    # Its own steps, collect to propose: (home, year, counts, forced_early) -> {"proposal": Proposal, ...};
    # forced_early (or None) is what a run before the deadline records in the proposal.
    decide: Callable[[str, int, dict, dict | None], dict]
    # Shows the stage's proposal on the run's page: (year, proposal, state, approval or None, words).
    artifacts: Callable[[int, Any, str, dict | None, dict[str, str]], None]
    tasks: StageTasks

    @classmethod
    def of(cls, stage: Stage, decide, artifacts) -> StageFlow:
        return cls(stage, stage.flow_name("run"), stage.flow_name("publish"), decide, artifacts, stage_tasks(stage))


def run_id() -> str | None:
    return str(flow_run.get_id() or "") or None


def run_name(prefix: str) -> Callable[[], str]:
    """A flow run's name by stage and year (`evaluation-2025`): what an operator looks for in the UI."""

    def name() -> str:
        params = flow_run.parameters or {}
        year = params.get("year") or Home(Path(params["home"])).programme.this_year()
        return f"{prefix}-{year}"

    return name


def cli_approval() -> dict:
    """An approval given on the command line (`run --approve`, `approve`), by the operator at the shell."""
    return {"by": operator_name(), "via": "cli", "note": None, "flow_run_id": run_id()}


def _busy(exc: StageBusy) -> State:
    """A refusal, not a failure: the run ends Cancelled, named Busy, with one line and no traceback.

    The exception is the state's data, so a caller of the flow still gets StageBusy raised.
    """
    get_run_logger().warning("同一阶段、同一年度的另一运行正在进行，本运行不执行：%s", exc)
    return Cancelled(name="Busy", message=str(exc), data=exc)


def run_to_approval(
    sf: StageFlow, home: str, year: int, approve: bool, wait: bool, early_reason: str | None = None
) -> dict | State:
    """Run the stage under its lock; with `wait`, pause for the UI's approval and publish on it.
    Before the stage's deadline only with `early_reason` (a drill), which is recorded.

    The result leaves the flow with the proposal as JSON, as it is stored.
    """
    return as_json(_run_to_approval(sf, home, year, approve, wait, early_reason))


def _run_to_approval(
    sf: StageFlow, home: str, year: int, approve: bool, wait: bool, early_reason: str | None = None
) -> dict | State:
    freeze_once()
    stage = sf.stage.name
    try:
        with runlog.recorded(home, stage, year, sf.run_flow, run_id()) as rec:
            with stage_lock(Home(Path(home)).db_url, stage, year, words_of(home)):
                result = _run(sf, home, year, approve, rec.counts, early_reason)
            rec.outcome = result["state"]
            if result["state"] == DecisionState.PUBLISHED and not result["applied"]:
                rec.message = ALREADY_PUBLISHED
            if DecisionState(result["state"]).pending and wait:  # awaiting approval, or in publicity
                return _await(sf, home, year, rec, result)
    except StageBusy as exc:
        return _busy(exc)
    return result


@paused
def _run(sf: StageFlow, home: str, year: int, approve: bool, counts: dict, early_reason: str | None = None) -> dict:
    """Run the stage's steps for `year`; publish only with `approve`. `counts` gathers the run's figures."""
    stage = sf.stage.name
    done = sf.tasks.check_stage(home, year)
    if done is not None:
        get_run_logger().info("%s年度%s此前已发布，本次不再执行任何变更", year, sf.stage.cn_in(words_of(home)))
        counts.update(notify(stage, home, year, done))
        return {"year": year, "state": DecisionState.PUBLISHED, "applied": False, "proposal": done}
    # Here and not only in the command: a deployment run started by hand has no command in front of it.
    forced = prechecks.check_time(Home(Path(home)), stage, year, early_reason)
    if forced is not None:
        get_run_logger().warning(
            "截止时间 %s 之前提前运行（%s，%s）：%s", forced["deadline"], forced["by"], forced["at"], forced["reason"]
        )
        counts["forced_early"] = forced
    stored = sf.decide(home, year, counts, forced)
    proposal, state = stored["proposal"], stored["state"]
    applied, given, now = False, None, approve and state != DecisionState.PUBLISHED
    if now:
        applied = sf.tasks.publish(home, year, cli_approval())["applied"]
        state = DecisionState.PUBLISHED
        given = approval_of(stage, home, year)
    sf.artifacts(year, proposal, state, given, words_of(home))
    if now:
        if applied:
            write_reports(stage, home, year)
        counts.update(notify(stage, home, year, proposal))
    # 公示: the zones a rebuild in publicity moved across the card line get their next draft now,
    # from a deployment's run as from the command line.
    moved = list(stored.get("moved") or [])
    if moved:
        from pilotzones.notices.kinds import PUBLICITY

        get_run_logger().info("公示中重新计算，黄牌线调整涉及%s：发送更新后的公示稿", "、".join(moved))
        n.deliver_notices(home, year, PUBLICITY)
    return {"year": year, "state": state, "applied": applied, "proposal": proposal, "approval": given, "moved": moved}


def _await(sf: StageFlow, home: str, year: int, rec: runlog.Run, result: dict) -> dict | State:
    log = get_run_logger()
    h = Home(Path(home))
    stage, artifacts = sf.stage.name, sf.artifacts
    what = f"{year}年度{sf.stage.cn_in(h.programme.programme.words())}"
    # One proposal, one waiting run: a run that found the proposal already made (it did not make
    # it: the decision names another flow run) leaves the form to a run already paused on it. A run
    # that made a new proposal pauses; runs paused on the old one see it replaced and end.
    mine = proposals.current(h, stage, year) or {}
    other = None
    if mine.get("flow_run_id") != run_id():
        other = next(
            (r for r in runlog.waiting_runs(home, stage, year, exclude=run_id()) if approval.is_paused(r)), None
        )
    if other is not None:
        log.info("%s的方案已在另一运行（%s）中等待审批，本运行不再暂停，到此结束。", what, other)
        rec.message = f"方案已在运行 {other} 中等待审批；本运行未暂停"
        return result
    rec.mark(
        DecisionState(result["state"]),
        "已暂停：在 Prefect 界面恢复（Resume）本运行审批，或 pilotzones approve/decline",
    )

    def settled() -> str | None:
        nonlocal mine
        now = proposals.current(h, stage, year) or {}
        if now.get("state") and DecisionState(now["state"]).settled:
            return now["state"]
        if now.get("state") == DecisionState.IN_PUBLICITY:
            # 公示 (from a shell, or rebuilt by an upheld objection): the same run waits on through it.
            mine = now
            return None
        if (now.get("digest"), now.get("made")) != (mine.get("digest"), mine.get("made")):
            return "replaced"
        return None

    made = hashlib.sha256(f"{mine.get('digest')}:{mine.get('made')}".encode()).hexdigest()[:16]
    for turn in itertools.count(1):
        waited = approval.wait_for_approval(stage, year, settled, made, what)
        if waited.answer is None or waited.answer.decision == "decline":
            break
        # 公示 asked for, or an approval the publicity period still holds: answered, and the run
        # pauses again, under a pause key of its own (a retried run reuses only the answers it got).
        held = _publicize_or_hold(sf, h, year, rec, result, waited.answer)
        if held is None:
            break
        made = hashlib.sha256(f"{made}:{turn}:{held}".encode()).hexdigest()[:16]
    rec.message = None
    if waited.timed_out:
        log.warning("%s在等待期限内未获审批；可稍后用 pilotzones approve 批准。", what)
        rec.message = "等待审批超时；方案仍待审批"
        return result
    if waited.elsewhere == "replaced":
        by = (proposals.current(h, stage, year) or {}).get("flow_run_id")
        log.info("%s的方案已由另一运行（%s）重新提出，本运行等待的方案作废，到此结束。", what, by)
        rec.message = f"方案已由运行 {by} 重新提出；本运行不再等待"
        return Completed(name="Superseded", message=rec.message, data=result)
    if waited.elsewhere is not None:
        _, given = proposals.verdict(h, stage, year)
        line = proposals.verdict_line(given)
        done = "发布" if waited.elsewhere == DecisionState.PUBLISHED else "拒绝"
        log.info("%s已在别处%s（%s），本运行不再等待，到此结束。", what, done, line)
        rec.outcome, rec.message = waited.elsewhere, f"已在别处{done}：{line}"
        result.update(state=waited.elsewhere, applied=False, approval=given)
        if waited.elsewhere == DecisionState.DECLINED:
            artifacts(year, result["proposal"], DecisionState.DECLINED, given, words_of(home))
            return Completed(name="Declined", message=rec.message, data=result)
        return result
    answer = waited.answer
    given = {"by": answer.by, "via": "ui", "note": answer.note, "flow_run_id": run_id()}
    if answer.decision == "decline":
        recorded = proposals.decline_stage(h, stage, year, **given)
        line = proposals.verdict_line(recorded)
        log.info("%s的方案被拒绝：%s。重新运行本阶段可再次提出方案。", what, line)
        rec.outcome, rec.message = DecisionState.DECLINED, f"拒绝：{line}"
        result.update(state=DecisionState.DECLINED, applied=False, approval=recorded)
        artifacts(year, result["proposal"], DecisionState.DECLINED, recorded, words_of(home))
        return Completed(name="Declined", message=rec.message, data=result)
    published = publish(sf, home, year, rec.counts, given)
    result.update(state=DecisionState.PUBLISHED, applied=published["applied"], approval=published["approval"])
    rec.outcome = DecisionState.PUBLISHED
    rec.message = f"批准：{proposals.verdict_line(published['approval'])}"
    return result


def _publicize_or_hold(sf: StageFlow, h: Home, year: int, rec: runlog.Run, result: dict, answer) -> str | None:
    """The form's answer while publicity may hold the stage: `publicize` puts the proposal in
    publicity and sends the drafts; `approve` refused by publicity is logged. Either way the run
    pauses again (returned: what tells the next pause from this one); None: go on to approve."""
    from pilotzones.errors import StageError
    from pilotzones.stages import publicity

    log = get_run_logger()
    stage = sf.stage.name
    if answer.decision == "publicize":
        try:
            out = publicity.publicize(h, year, by=answer.by, via="ui")
        except StageError as exc:
            log.warning("不能公示：%s", exc)
            return f"refused:{answer.by}:{exc}"
        from pilotzones.notices.kinds import PUBLICITY

        n.deliver_notices(str(h.path), year, PUBLICITY)
        log.info(
            "%s年度进入公示：公示期至%s（%s）；公示期满、异议答复后在本运行审批。", year, out["closes_at"], answer.by
        )
        rec.mark(DecisionState.IN_PUBLICITY, f"公示中，至{out['closes_at']}；期满且异议均已答复后审批")
        result.update(state=DecisionState.IN_PUBLICITY)
        return f"publicized:{out['opened_at']}"
    try:
        publicity.check_final(h, year, stage)
    except StageError as exc:
        log.warning("暂不能审批：%s", exc)
        return f"held:{answer.by}:{exc}"
    return None


def publish_recorded(
    sf: StageFlow, home: str, year: int, by: str | None = None, note: str | None = None
) -> dict | State:
    """Publish what a run of `year` left awaiting approval, as a run of its own in the run log;
    `by` (default: the operator) approves."""
    given = dict(cli_approval(), **({"by": by} if by else {}), note=note)
    return as_json(_publish_recorded(sf, home, year, given))


def _publish_recorded(sf: StageFlow, home: str, year: int, given: dict) -> dict | State:
    freeze_once()
    try:
        with runlog.recorded(home, sf.stage.name, year, sf.publish_flow, run_id()) as rec:
            result = publish(sf, home, year, rec.counts, given)
            rec.outcome = DecisionState.PUBLISHED
            if not result["applied"]:
                rec.message = ALREADY_PUBLISHED
            else:
                rec.message = f"批准：{proposals.verdict_line(result['approval'])}"
            return result
    except StageBusy as exc:
        return _busy(exc)


@paused
def publish(sf: StageFlow, home: str, year: int, counts: dict, given: dict) -> dict:
    """Publish under the stage's lock, the approval recorded with it; then the artifacts and notices."""
    stage = sf.stage.name
    with stage_lock(Home(Path(home)).db_url, stage, year, words_of(home)):
        result = sf.tasks.publish(home, year, given)
        done = sf.tasks.published(home, year)
        _, result["approval"] = proposals.verdict(Home(Path(home)), stage, year)
        if result["applied"]:
            sf.artifacts(year, done, DecisionState.PUBLISHED, result["approval"], words_of(home))
            write_reports(stage, home, year)
        counts.update(notify(stage, home, year, done))
        return result


def write_reports(stage: str, home: str, year: int) -> list[Path]:
    """The stage's reports in HOME/reports/Y/; a report that cannot be written is logged, the decision stands."""
    from pilotzones.reports import write_reports as write

    log = get_run_logger()
    try:
        paths = write(Home(Path(home)), year, stage)
    except Exception as exc:  # a report is a copy of what is stored: its failure must not hold up the notices
        name = type(exc).__name__
        log.warning("报告未能生成（%s：%s）；可用 `pilotzones report --year %d` 重新生成", name, exc, year)
        return []
    log.info("报告：%s", "、".join(str(p) for p in paths))
    return paths


def approval_of(stage: str, home: str, year: int) -> dict | None:
    return proposals.verdict(Home(Path(home)), stage, year)[1]


def words_of(home: str) -> dict[str, str]:
    """The home programme's words (`Info.words()`), for what operators read on a run's page."""
    return Home(Path(home)).programme.programme.words()


def state_cn(state: str) -> str:
    return DecisionState(state).cn


def state_lines(state: str, given: dict | None) -> str:
    """The markdown artifact's closing lines: the decision's state and, once given, the verdict."""
    lines = ["", f"- 状态 (state): {DecisionState(state).cn} ({state})"]
    if given:
        lines.append(f"- 审批 (approval): {md(proposals.verdict_line(given))}")
    return "\n".join(lines)


def approval_suffix(given: dict | None) -> str:
    return f"; {md(proposals.verdict_line(given))}" if given else ""


# Markdown's punctuation, escaped with a backslash; HTML's three, as entities.
_MD = re.compile(r"([\\`*_{}\[\]()#+\-.!|~:])")
_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def md(value: object) -> str:
    """Text from users (names, reasons, notes) inert in a markdown artifact: no link, no emphasis,
    no HTML (`<script>` shows as written), no line break or control character (shown escaped)."""
    text = _MD.sub(r"\\\1", shown(str(value)))
    return "".join(_HTML.get(c, c) for c in text)


def notify(stage: str, home: str, year: int, proposal: Proposal) -> dict:
    """Queue the published decisions' notices and send what is unsent (a rerun sends only those)."""
    queued = n.queue_notices(home, year, stage, proposal)
    report = n.deliver_notices(home, year, stage)
    return {"notices_new": queued, **{f"notices_{k}": v for k, v in report.items()}}


def exception_lines(exceptions: list[dict]) -> list[str]:
    """The deadline exceptions a proposal applied, as items of its markdown artifact's list."""
    lines = []
    for x in exceptions:
        what = (
            f"报送截止时间延长至 {x['until']}"
            if x["kind"] == "extension"
            else f"逾期报送的文件 {x['submission_id']} 予以接受"
        )
        lines.append(f"- 期限例外：{md(x['adcode'])} {what}，{md(x['granted_by'])} 准予（理由：{md(x['reason'])}）")
    return lines


def as_json(out: dict | State) -> dict | State:
    """A flow's result as it leaves the flow: the proposal in its stored JSON form (plus decision_id)."""
    data = out.data if isinstance(out, State) else out
    if isinstance(data, dict) and isinstance(data.get("proposal"), Proposal):
        data["proposal"] = data["proposal"].as_json()
    return out
