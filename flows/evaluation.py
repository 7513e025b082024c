"""The evaluation stage as Prefect flows: run (to approval) and publish."""

from __future__ import annotations

from pathlib import Path

from pilotzones.flows import stage
from pilotzones.tasks import evaluation as t
from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.runtime import flow_run

from pilotzones.rules.proposal_models import EvaluationProposal
from pilotzones.stages import EVALUATION
from pilotzones.store.home import Home


def _ranking_markdown(proposal: EvaluationProposal, state: str, words: dict[str, str]) -> str:
    lines = [
        f"# {proposal.year}年度{EVALUATION.cn_in(words)}：参评{proposal.evaluated}个（{stage.state_cn(state)}）",
        "",
        "| 名次 | 代码 | 县（市、区） | 基础分 | 加分 | 总分 | 黄牌 | 标注 |",
        "|---:|---|---|---:|---:|---:|---|---|",
    ]
    md = stage.md  # names come from the register and files: inert in markdown all the same
    for r in proposal.ranking:
        card = "亮黄牌" if r.yellow_card else ""
        lines.append(
            f"| {r.rank} | {md(r.adcode)} | {md(r.county)} | {r.base:g} | {r.bonus:g} | "
            f"{r.total:g} | {card} | {md(' '.join(r.flags))} |"
        )
    lines += [
        "",
        f"- {words['withdrawal']}：{'、'.join(proposal.disqualified) or '无'}",
        "- 替补：" + ("、".join(f"{p.adcode}替补{p.replaces}" for p in proposal.promoted) or "无"),
        f"- 空缺席位：{proposal.vacant_seats}",
    ]
    lines += stage.exception_lines(proposal.exceptions)
    return "\n".join(lines)


def ranking_table(proposal: EvaluationProposal) -> list[dict]:
    """The ranking as the UI's table shows it: Chinese column headers, as in the markdown above."""
    return [
        {
            "名次": r.rank,
            "代码": r.adcode,
            "县（市、区）": r.county,
            "基础分": r.base,
            "加分": r.bonus,
            "总分": r.total,
            "黄牌": "亮黄牌" if r.yellow_card else "",
            "标注": "、".join(r.flags),
        }
        for r in proposal.ranking
    ]


def artifacts(
    year: int, proposal: EvaluationProposal, state: str, approval: dict | None, words: dict[str, str]
) -> None:
    """The run's markdown summary and ranking table; created again, same keys, once approved or declined.
    `words`: the programme's, as the operators approving it read them."""
    what = f"{year}年度{EVALUATION.cn_in(words)}"
    create_markdown_artifact(
        markdown=_ranking_markdown(proposal, state, words) + stage.state_lines(state, approval),
        key=f"evaluation-{year}",
        description=f"{what}排名与决定（{stage.state_cn(state)}，{state}）",
    )
    create_table_artifact(
        table=ranking_table(proposal),
        key=f"evaluation-{year}-ranking",
        description=f"{what}排名（{stage.state_cn(state)}，{state}）" + stage.approval_suffix(approval),
    )


def _decide(home: str, year: int, counts: dict, forced_early: dict | None = None) -> dict:
    """Collect, score, rank and card, disqualify and replace, propose: the steps that are this stage's own."""
    log = get_run_logger()
    collected = t.collect(home, year)
    files = getattr(collected, "counts", None) or {}
    exceptions = getattr(collected, "exceptions", None) or []
    counts.update(files, exceptions=len(exceptions))
    log.info(
        "收集报送：读取文件%d份（通过%d份，退回%d份，逾期%d份，因期限例外计入%d份）；"
        "参评%d个，计入文件%d个，未报送%d个（其中逾期报送%d个）；期限例外%d项",
        files.get("read", 0),
        files.get("accepted", 0),
        files.get("rejected", 0),
        files.get("late", 0),
        files.get("by_exception", 0),
        len(collected.zones),
        len(collected.files),
        len(collected.zones) - len(collected.files),
        len(collected.late),
        len(exceptions),
    )
    scores = t.score(home, collected)
    ranked = t.rank_and_card(home, scores)
    swaps = t.disqualify_and_replace(home, year, ranked)
    stored = t.propose(home, collected, scores, ranked, swaps, str(flow_run.get_id() or ""), forced_early)
    proposal: EvaluationProposal = stored["proposal"]
    words = stage.words_of(home)
    log.info(
        "亮黄牌%d个，%s%d个，替补入选%d个，空缺席位%d个",
        proposal.carded,
        words["withdrawal"],
        len(proposal.disqualified),
        len(proposal.promoted),
        proposal.vacant_seats,
    )
    counts.update(
        evaluated=proposal.evaluated,
        carded=proposal.carded,
        disqualified=len(proposal.disqualified),
        promoted=len(proposal.promoted),
        vacant=proposal.vacant_seats,
    )
    return stored


FLOW = stage.StageFlow.of(EVALUATION, _decide, artifacts)


@flow(name=FLOW.run_flow, flow_run_name=stage.run_name("evaluation"))
def evaluation_stage(
    home: str,
    year: int | None = None,
    approve: bool = False,
    wait_for_approval: bool = False,
    early_reason: str | None = None,
) -> dict:
    """Run the stage for `year` (default: this year); publish with `approve`, or pause for the UI's.
    Refused before the evaluation deadline unless `early_reason` (a drill) says why."""
    year = year or Home(Path(home)).programme.this_year()
    return stage.run_to_approval(FLOW, home, year, approve, wait_for_approval, early_reason)


@flow(name=FLOW.publish_flow, flow_run_name=FLOW.publish_flow + "-{year}")
def publish_evaluation(home: str, year: int, by: str | None = None, note: str | None = None) -> dict:
    """Publish the decisions a run of `year` left awaiting approval; `by` (default: the operator) approves."""
    return stage.publish_recorded(FLOW, home, year, by, note)
