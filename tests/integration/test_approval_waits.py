"""One waiting run per proposal: the shell's answer ends it, a new proposal supersedes it, a busy
lock or no answer in time ends it with a named outcome."""

from __future__ import annotations

import threading

import pytest
from pilotzones.flows.evaluation import evaluation_stage
from prefect.flow_runs import resume_flow_run

from pilotzones.cli.status import year_status
from pilotzones.store import runlog
from pilotzones.store.locks import StageBusy, stage_lock
from tests.integration.approval_runs import YEAR, final_state, runs_of, start_waiting
from tests.integration.cli_runs import SCALES, run_cli
from tests.integration.test_evaluation_flow import send

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("prefect_server")]


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
