"""Approval from the Prefect UI: a stage run pauses with a form; Resume answers approve or decline.

The wait is our own loop rather than `prefect.flow_runs.pause_flow_run`, which only ever looks for
the run being resumed: a paused run must also notice that its stage was published or declined from
a shell (`pilotzones approve` / `decline`) and end instead of waiting out its timeout.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal
from uuid import UUID

from prefect import get_run_logger
from prefect.client.orchestration import get_client
from prefect.context import FlowRunContext
from prefect.exceptions import Abort
from prefect.input import RunInput, keyset_from_paused_state
from prefect.states import Paused, Running, State
from prefect.utilities.engine import propose_state_sync
from pydantic import Field


class Approval(RunInput):
    """The Resume form an operator fills in the Prefect UI."""

    _description = "审批本阶段的方案：选择批准、拒绝或公示，填写审批人，可填写审批意见。"

    decision: Literal["approve", "decline", "publicize"] = Field(
        title="审批决定",
        description=(
            "approve：批准并发布方案、发送通知；decline：拒绝，方案不发布（重新运行本阶段可再次提出方案）；"
            "publicize：进入公示（方案设有公示期时），向各单位发送公示稿，公示期满、异议答复后再审批。"
        ),
    )
    by: str = Field(
        title="审批人", description="审批人姓名（记入审批记录和评价结果通报）。", min_length=1, max_length=64
    )
    note: str = Field(default="", title="审批意见", description="可不填；填写的意见记入审批记录和评价结果通报。")


@dataclass
class Waited:
    """How a wait for approval ended: the form's answer, the stage settled elsewhere, or the timeout."""

    answer: Approval | None = None
    elsewhere: str | None = None  # published | declined, from a shell while this run waited
    timed_out: bool = False


def _settings() -> tuple[int, float]:
    from pilotzones.settings import settings

    return settings().approval_timeout, settings().approval_poll


def is_paused(flow_run_id: str) -> bool:
    """Whether another flow run is still paused (the run log cannot tell a paused run from a dead one)."""
    with get_client(sync_client=True) as client:
        try:
            fr = client.read_flow_run(UUID(flow_run_id))
        except Exception:  # unknown to this server (another server, or deleted): not waiting here
            return False
    return bool(fr.state and fr.state.is_paused())


def wait_for_approval(
    stage: str, year: int, settled: Callable[[], str | None], proposal: str = "", what: str = ""
) -> Waited:
    """Pause this run until an operator resumes it, the stage is settled elsewhere, or the timeout.

    `settled()` reads the decision's state in the database each poll and returns it once it is no
    longer awaiting approval. The wait (PILOTZONES_APPROVAL_TIMEOUT seconds, default 14 days) holds
    no lock, so `pilotzones approve` or `decline` from a shell still works while the run waits.
    `proposal` identifies the proposal awaiting approval: a retried run that reaches the pause again
    reuses the answer it was given only for the same proposal, never for a rebuilt one. `what`
    names the stage and year in the programme's words for the log.
    """
    timeout, poll = _settings()
    log = get_run_logger()
    context = FlowRunContext.get()
    if context is None or context.flow_run is None:
        raise RuntimeError("only a flow run can wait for approval")
    run_id = context.flow_run.id
    proposed: State[Any] = Paused(timeout_seconds=timeout, reschedule=False, pause_key=f"{stage}-{year}-{proposal}")
    keyset = keyset_from_paused_state(proposed)
    proposed.state_details.run_input_keyset = keyset  # type: ignore[assignment]  # Prefect: its Keyset is a dict[str, str]
    with get_client(sync_client=True) as client:
        try:
            state = propose_state_sync(client, proposed, flow_run_id=run_id)
        except Abort as exc:
            raise RuntimeError(f"本运行无法暂停等待审批：{exc}") from exc
        if state.is_running():  # this pause was answered before (the same run id, retried)
            return Waited(answer=Approval.load(keyset))  # type: ignore[arg-type]  # Prefect: sync in a sync flow
        if not state.is_paused():
            raise RuntimeError(f"本运行无法暂停等待审批：Prefect 服务器答复 {state.type.value}")
        Approval.save(keyset)
        log.info(
            "%s方案等待审批：在 Prefect 界面恢复（Resume）本运行并填写审批表，或在命令行 pilotzones approve/decline",
            what or f"{year}年度{stage}",
        )
        started = time.monotonic()
        while True:
            time.sleep(min(poll, max(0.0, timeout - (time.monotonic() - started))) or poll)
            fr = client.read_flow_run(run_id)
            if fr.state and fr.state.is_running():
                return Waited(answer=Approval.load(keyset))  # type: ignore[arg-type]  # Prefect: sync in a sync flow
            elsewhere = settled()
            if elsewhere is not None:
                _unpause(client, run_id)
                return Waited(elsewhere=elsewhere)
            if time.monotonic() - started >= timeout:
                _unpause(client, run_id)
                return Waited(timed_out=True)


def _unpause(client, run_id: UUID) -> None:
    """Leave Paused before ending: a flow run cannot finish from a paused state."""
    propose_state_sync(client, Running(), flow_run_id=run_id, force=True)
