"""The 1 October candidate selection as Prefect flows: run (to approval) and publish."""

from __future__ import annotations

from pathlib import Path

from pilotzones.flows import stage
from pilotzones.tasks import candidates as t
from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.runtime import flow_run

from pilotzones.rules.proposal_models import CandidateSelection
from pilotzones.stages import CANDIDATES
from pilotzones.stages import candidates as c
from pilotzones.store.home import Home


def _markdown(p: CandidateSelection, state: str, words: dict[str, str]) -> str:
    lines = [
        f"# {p.year}年度{CANDIDATES.cn_in(words)}：收到推荐{p.nominations}项（{stage.state_cn(state)}）",
        "",
        "| 名次 | 代码 | 县（市、区） | 评审得分 |",
        "|---:|---|---|---:|",
    ]
    md = stage.md  # names and reasons come from files and operators: inert in markdown
    lines += [f"| {x.rank} | {md(x.adcode)} | {md(x.county)} | {x.review_score:g} |" for x in p.selected]
    lines += ["", "| 不予计入 | 原因 |", "|---|---|"]
    lines += [f"| {md(x.adcode)} | {md(x.reason)} |" for x in p.rejected]
    lines += ["", *stage.exception_lines(p.exceptions)]
    return "\n".join(lines)


def selection_table(p: CandidateSelection) -> list[dict]:
    """The selection as the UI's table shows it: Chinese column headers, as in the markdown above."""
    header = ("名次", "代码", "县（市、区）", "评审得分")
    rows: list[tuple[object, ...]] = [(x.rank, x.adcode, x.county, x.review_score) for x in p.selected]
    return [dict(zip(header, row, strict=True)) for row in rows or [("", "", "无符合条件的推荐对象", "")]]


def artifacts(year: int, p: CandidateSelection, state: str, approval: dict | None, words: dict[str, str]) -> None:
    """The run's markdown summary and selection table; created again, same keys, once approved or declined.
    `words`: the programme's, as the operators approving it read them."""
    what = f"{year}年度{CANDIDATES.cn_in(words)}"
    create_markdown_artifact(
        markdown=_markdown(p, state, words) + stage.state_lines(state, approval),
        key=f"candidates-{year}",
        description=f"{what}（{stage.state_cn(state)}，{state}）",
    )
    create_table_artifact(
        table=selection_table(p),
        key=f"candidates-{year}-selected",
        description=f"{what}入选名单（{stage.state_cn(state)}，{state}）" + stage.approval_suffix(approval),
    )


def _decide(home: str, year: int, counts: dict, forced_early: dict | None = None) -> dict:
    """Collect the nominations, judge and rank them, propose: the steps that are this stage's own."""
    log = get_run_logger()
    collected = t.collect(home, year)
    files = collected.get("files") or {}
    counts.update(files, exceptions=len(collected.get("exceptions", [])))
    log.info(
        "收集推荐：读取文件%d份（通过%d份，退回%d份，逾期%d份，因期限例外计入%d份）；"
        "推荐%d项，评审得分%d项；期限例外%d项",
        files.get("read", 0),
        files.get("accepted", 0),
        files.get("rejected", 0),
        files.get("late", 0),
        files.get("by_exception", 0),
        len(collected["nominations"]),
        len(collected["reviews"]),
        len(collected.get("exceptions", [])),
    )
    proposal = t.decide(home, collected)
    if forced_early is not None:
        proposal = proposal.model_copy(update={"forced_early": forced_early})
    stored = t.propose(home, year, proposal, str(flow_run.get_id() or ""), c.state_of(collected))
    log.info(
        "收到推荐%d项，入选%d项，不予计入%d项",
        proposal.nominations,
        len(proposal.selected),
        len(proposal.rejected),
    )
    counts.update(nominations=proposal.nominations, selected=len(proposal.selected), not_counted=len(proposal.rejected))
    return dict(stored, proposal=proposal)


FLOW = stage.StageFlow.of(CANDIDATES, _decide, artifacts)


@flow(name=FLOW.run_flow, flow_run_name=stage.run_name("candidates"))
def candidate_selection(
    home: str,
    year: int | None = None,
    approve: bool = False,
    wait_for_approval: bool = False,
    early_reason: str | None = None,
) -> dict:
    """Run the stage for `year` (default: this year); publish with `approve`, or pause for the UI's.
    Refused before the nomination deadline unless `early_reason` (a drill) says why."""
    year = year or Home(Path(home)).programme.this_year()
    return stage.run_to_approval(FLOW, home, year, approve, wait_for_approval, early_reason)


@flow(name=FLOW.publish_flow, flow_run_name=FLOW.publish_flow + "-{year}")
def publish_candidates(home: str, year: int, by: str | None = None, note: str | None = None) -> dict:
    """Publish the selection a run of `year` left awaiting approval; `by` (default: the operator) approves."""
    return stage.publish_recorded(FLOW, home, year, by, note)
