"""Approval on the record: the UI's form and the shell (waiting runs and their races: test_approval_waits.py)."""

from __future__ import annotations

import json

import pytest
from pilotzones.flows.evaluation import evaluation_stage
from prefect.flow_runs import resume_flow_run
from sqlalchemy import select

from pilotzones.cli.status import render_table, year_status
from pilotzones.store import models as m
from pilotzones.store.session import session
from tests.integration.approval_runs import YEAR, final_state, runs_of, start_waiting, summary_text
from tests.integration.cli_runs import SCALES, run_cli
from tests.integration.test_evaluation_flow import send

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("prefect_server")]


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
    # What the operator reads in the UI's table: its columns in Chinese, as the markdown beside it.
    table = latest[f"evaluation-{YEAR}-ranking"].data
    rows = json.loads(table) if isinstance(table, str) else table
    assert list(rows[0]) == ["名次", "代码", "县（市、区）", "基础分", "加分", "总分", "黄牌", "标注"]
    assert rows[0]["名次"] == 1 and {r["黄牌"] for r in rows} <= {"亮黄牌", ""}


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
