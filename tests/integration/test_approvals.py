"""Approval on the record, and one waiting run per proposal: the UI's form, the shell, and their races."""

from __future__ import annotations

import threading
import time

import pytest
from pilotzones.flows.evaluation import evaluation_stage
from prefect.flow_runs import resume_flow_run
from sqlalchemy import select

from pilotzones.cli.status import render_table, year_status
from pilotzones.store import models as m
from pilotzones.store import runlog
from pilotzones.store.locks import StageBusy, stage_lock
from pilotzones.store.session import session
from tests.integration.cli_runs import SCALES, flow_runs, run_cli
from tests.integration.test_evaluation_flow import send

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("prefect_server")]

YEAR = 2022


def runs_of(home) -> list:
    """This home's flow runs on the session's server (other tests' runs share it)."""
    return [r for r in flow_runs() if (r.parameters or {}).get("home") == str(home.path)]


def start_waiting(home) -> tuple[threading.Thread, dict]:
    """A scheduled-style run (wait_for_approval) in a thread; returns once it is paused."""
    out: dict = {}
    known = {r.id for r in runs_of(home)}

    def body():
        out.update(evaluation_stage(home=str(home.path), year=YEAR, wait_for_approval=True))

    worker = threading.Thread(target=body, daemon=True)
    worker.start()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        paused = [r for r in runs_of(home) if r.id not in known and r.state and r.state.is_paused()]
        if paused:
            out["_run"] = paused[0]
            return worker, out
        time.sleep(0.5)
    raise AssertionError("the run never paused for approval")


def final_state(flow_run_id):
    return flow_runs([flow_run_id])[0].state


def summary_text(home) -> str:
    with session(home.db_url) as s:
        row = s.scalars(
            select(m.OutboxNotice).where(m.OutboxNotice.kind == "evaluation_summary", m.OutboxNotice.year == YEAR)
        ).one()
        return row.text + row.html


def test_a_ui_approval_is_on_the_record(home, tmp_path, monkeypatch):
    monkeypatch.setenv("PILOTZONES_APPROVAL_POLL", "1")
    send(home, tmp_path, YEAR, SCALES)
    worker, out = start_waiting(home)
    paused = out.pop("_run")
    assert paused.name == f"evaluation-{YEAR}"
    resume_flow_run(paused.id, run_input={"decision": "approve", "by": "张主任", "note": "同意发布"})
    worker.join(timeout=120)
    assert not worker.is_alive()
    assert out["state"] == "published" and out["applied"] is True

    st = year_status(home, YEAR)
    a = st["evaluation"]["approval"]
    assert (a["verdict"], a["by"], a["via"], a["note"]) == ("approved", "张主任", "ui", "同意发布")
    assert a["at"].endswith("+08:00") and a["flow_run_id"] == str(paused.id)
    assert st["candidates"]["approval"] is None
    assert "批准：张主任" in render_table(st)
    r = st["runs"]["evaluation"]
    assert r["outcome"] == "published" and "张主任" in r["message"]
    text = summary_text(home)
    assert "批准人：张主任" in text and "批准方式：Prefect 界面" in text and "同意发布" in text

    from prefect.client.orchestration import get_client

    async def artifact():
        async with get_client() as client:
            return await client.read_latest_artifacts()

    import asyncio

    latest = {x.key: x for x in asyncio.run(artifact())}
    assert "published" in latest[f"evaluation-{YEAR}-ranking"].description
    assert "张主任" in latest[f"evaluation-{YEAR}-ranking"].description


def test_a_ui_decline_is_recorded_refuses_approval_and_a_rerun_proposes_again(home, tmp_path, monkeypatch):
    monkeypatch.setenv("PILOTZONES_APPROVAL_POLL", "1")
    send(home, tmp_path, YEAR, SCALES)
    worker, out = start_waiting(home)
    paused = out.pop("_run")
    # The form's decision and approver are required: the server refuses a Resume without them.
    with pytest.raises(RuntimeError):
        resume_flow_run(paused.id, run_input={"note": "没有选择"})
    assert final_state(paused.id).is_paused()
    resume_flow_run(paused.id, run_input={"decision": "decline", "by": "李处长", "note": "第3项数据需核实"})
    worker.join(timeout=120)
    assert not worker.is_alive()
    assert out["state"] == "declined" and out["applied"] is False
    state = final_state(paused.id)
    assert state.is_completed() and state.name == "Declined"

    st = year_status(home, YEAR)
    assert st["evaluation"]["state"] == "declined"
    a = st["evaluation"]["approval"]
    assert (a["verdict"], a["by"], a["via"], a["note"]) == ("declined", "李处长", "ui", "第3项数据需核实")
    r = st["runs"]["evaluation"]
    assert r["outcome"] == "declined" and "李处长" in r["message"]

    refused = run_cli(home, "approve", "--year", str(YEAR), "--stage", "evaluation")
    assert refused.returncode == 2
    assert "李处长" in refused.stderr and f"pilotzones evaluation run --year {YEAR}" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1 and "Traceback" not in refused.stderr

    # The same inputs, run again: proposed anew, awaiting approval, the decline kept in the history.
    again = evaluation_stage(home=str(home.path), year=YEAR)
    assert again["state"] == "awaiting_approval"
    st = year_status(home, YEAR)
    assert st["evaluation"]["state"] == "awaiting_approval" and st["evaluation"]["approval"] is None
    with session(home.db_url) as s:
        assert [x.verdict for x in s.scalars(select(m.Approval))] == ["declined"]


def test_cli_approve_records_by_and_note(home, tmp_path):
    send(home, tmp_path, YEAR, SCALES)
    assert evaluation_stage(home=str(home.path), year=YEAR)["state"] == "awaiting_approval"
    done = run_cli(home, "approve", "--year", str(YEAR), "--stage", "evaluation", "--by", "王科长", "--note", "已复核")
    assert done.returncode == 0, done.stderr
    a = year_status(home, YEAR)["evaluation"]["approval"]
    assert (a["verdict"], a["by"], a["via"], a["note"]) == ("approved", "王科长", "cli", "已复核")
    assert "批准方式：命令行" in summary_text(home) and "王科长" in summary_text(home)
    assert [r.name for r in runs_of(home) if r.name.startswith("publish")] == [f"publish-evaluation-{YEAR}"]


def test_one_proposal_one_waiting_run_and_a_shell_approval_ends_it(home, tmp_path, monkeypatch):
    monkeypatch.setenv("PILOTZONES_APPROVAL_POLL", "1")
    send(home, tmp_path, YEAR, SCALES)
    first, out = start_waiting(home)
    paused = out.pop("_run")

    # A second run of the same proposal computes, finds the first one paused and ends without pausing.
    second: dict = {}
    other = threading.Thread(
        target=lambda: second.update(evaluation_stage(home=str(home.path), year=YEAR, wait_for_approval=True)),
        daemon=True,
    )
    other.start()
    other.join(timeout=120)
    assert not other.is_alive(), "the second run paused too"
    assert second["state"] == "awaiting_approval"
    assert sum(1 for r in runs_of(home) if r.state and r.state.is_paused()) == 1
    assert runlog.waiting_runs(home, "evaluation", YEAR) == [str(paused.id)]

    # Published from the shell: the paused run sees it at its next poll and ends.
    done = run_cli(home, "approve", "--year", str(YEAR), "--stage", "evaluation", "--by", "王科长")
    assert done.returncode == 0, done.stderr
    first.join(timeout=60)
    assert not first.is_alive(), "the paused run kept waiting after the stage was published"
    assert out["state"] == "published" and out["applied"] is False
    assert final_state(paused.id).is_completed()
    assert year_status(home, YEAR)["notices"]["sent"] == 9  # sent once, by the shell's approval


def test_a_shell_decline_ends_the_paused_run_as_declined(home, tmp_path, monkeypatch):
    monkeypatch.setenv("PILOTZONES_APPROVAL_POLL", "1")
    send(home, tmp_path, YEAR, SCALES)
    worker, out = start_waiting(home)
    paused = out.pop("_run")
    no = run_cli(home, "decline", "--year", str(YEAR), "--stage", "evaluation", "--by", "李处长", "--note", "重新核实")
    assert no.returncode == 0, no.stderr
    worker.join(timeout=60)
    assert not worker.is_alive(), "the paused run kept waiting after the stage was declined"
    assert out["state"] == "declined"
    state = final_state(paused.id)
    assert state.is_completed() and state.name == "Declined"
    a = year_status(home, YEAR)["evaluation"]["approval"]
    assert (a["verdict"], a["by"], a["via"], a["note"]) == ("declined", "李处长", "cli", "重新核实")
    r = year_status(home, YEAR)["runs"]["evaluation"]
    assert r["outcome"] == "declined" and "李处长" in r["message"]
    twice = run_cli(home, "decline", "--year", str(YEAR), "--stage", "evaluation", "--note", "x")
    assert twice.returncode == 2 and "Traceback" not in twice.stderr


def test_a_run_refused_for_a_busy_lock_ends_as_a_named_refusal(home, tmp_path):
    send(home, tmp_path, YEAR, SCALES)
    with stage_lock(home.db_url, "evaluation", YEAR):
        state = evaluation_stage(home=str(home.path), year=YEAR, return_state=True)
        with pytest.raises(StageBusy):
            evaluation_stage(home=str(home.path), year=YEAR)
    assert state.is_cancelled() and state.name == "Busy"
    assert "正在进行" in state.message and "\n" not in state.message
    assert year_status(home, YEAR)["runs"]["evaluation"]["outcome"] == "busy"


def test_a_new_proposal_supersedes_the_run_paused_on_the_old_one(home, tmp_path, monkeypatch):
    """New inputs: the second run proposes anew and pauses; the run paused on the old proposal ends."""
    from tests.integration.test_evaluation_flow import on_time

    monkeypatch.setenv("PILOTZONES_APPROVAL_POLL", "1")
    send(home, tmp_path, YEAR, SCALES)
    first, out = start_waiting(home)
    old = out.pop("_run")
    send(home, tmp_path, YEAR, {"654002": 0.3}, at=on_time(home, YEAR, 1))
    second, out2 = start_waiting(home)
    new = out2.pop("_run")
    first.join(timeout=60)
    assert not first.is_alive(), "the run paused on the old proposal kept waiting"
    state = final_state(old.id)
    assert state.is_completed() and state.name == "Superseded"
    resume_flow_run(new.id, run_input={"decision": "approve", "by": "张主任"})
    second.join(timeout=120)
    assert out2["state"] == "published" and out2["applied"] is True
    ranking = {r["adcode"]: r for r in year_status(home, YEAR)["evaluation"]["ranking"]}
    assert ranking["654002"]["yellow_card"] is True  # the new file's scores were published


def test_a_run_not_answered_in_time_ends_and_leaves_the_proposal_awaiting(home, tmp_path, monkeypatch):
    monkeypatch.setenv("PILOTZONES_APPROVAL_POLL", "1")
    monkeypatch.setenv("PILOTZONES_APPROVAL_TIMEOUT", "3")
    send(home, tmp_path, YEAR, SCALES)
    out = evaluation_stage(home=str(home.path), year=YEAR, wait_for_approval=True)
    assert out["state"] == "awaiting_approval"
    (run,) = runs_of(home)
    assert run.state.is_completed()
    assert year_status(home, YEAR)["evaluation"]["state"] == "awaiting_approval"
    assert runlog.waiting_runs(home, "evaluation", YEAR) == []


def test_candidates_decline_and_approval_are_on_the_record(home, tmp_path, monkeypatch):
    """The candidate stage: a run named candidates-Y, declined from the shell, proposed again, then `run --approve`."""
    from pilotzones.flows.candidates import candidate_selection

    from tests.integration.test_candidates_flow import nominate, review

    monkeypatch.setenv("USER", "赵科员")
    deadline = home.programme.moment("nomination_deadline", YEAR)
    nominate(home, tmp_path, YEAR, "652900", ["652901"], deadline)
    review(home, tmp_path, YEAR, {"652901": 80})
    assert candidate_selection(home=str(home.path), year=YEAR)["state"] == "awaiting_approval"
    assert [r.name for r in runs_of(home)] == [f"candidates-{YEAR}"]
    no = run_cli(home, "decline", "--year", str(YEAR), "--stage", "candidates", "--note", "评审分待复核")
    assert no.returncode == 0 and "pilotzones candidates run --year" in no.stdout
    st = year_status(home, YEAR)["candidates"]
    assert st["state"] == "declined" and st["approval"]["note"] == "评审分待复核"
    assert st["approval"]["by"] == "赵科员"

    out = candidate_selection(home=str(home.path), year=YEAR, approve=True)
    assert out["state"] == "published" and out["approval"]["verdict"] == "approved"
    st = year_status(home, YEAR)["candidates"]
    assert (st["state"], st["approval"]["by"], st["approval"]["via"]) == ("published", "赵科员", "cli")
    with session(home.db_url) as s:
        rows = s.scalars(select(m.Approval).order_by(m.Approval.id))
        assert [(x.stage, x.verdict) for x in rows] == [("candidates", "declined"), ("candidates", "approved")]
