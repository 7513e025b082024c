"""The run log (issue 5, item 7): `status` shows the last run of each stage and its outcome,
from our own database, without asking Prefect."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner
from pilotzones.flows.evaluation import evaluation_stage, publish_evaluation
from pilotzones.flows.notices import evaluation_call
from sqlalchemy import select

from pilotzones.cli.main import cli
from pilotzones.cli.status import render_table, year_status
from pilotzones.store import models as m
from pilotzones.store import runlog
from pilotzones.store.locks import StageBusy, stage_lock
from pilotzones.store.session import session
from tests.integration.test_evaluation_flow import PILOTS, send

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("prefect_server")]

YEAR = 2022


def runs(home) -> dict:
    return year_status(home, YEAR)["runs"]


def test_each_stage_shows_its_last_run_and_outcome(home, tmp_path, monkeypatch):
    send(home, tmp_path, YEAR, dict(zip(PILOTS[:5], [0.9, 0.8, 0.7, 0.6, 0.5], strict=True)))

    # A failed step: recorded as failed with the error, and raised as before.
    monkeypatch.setenv("PILOTZONES_FAULT", "score")
    with pytest.raises(RuntimeError, match="injected fault"):
        evaluation_stage(home=str(home.path), year=YEAR)
    monkeypatch.delenv("PILOTZONES_FAULT")
    r = runs(home)["evaluation"]
    assert r["outcome"] == "failed" and "injected fault at step score" in r["message"]
    assert r["flow"] == "evaluation-stage" and r["finished_at"] is not None

    result = evaluation_stage(home=str(home.path), year=YEAR)
    assert result["state"] == "awaiting_approval"
    r = runs(home)["evaluation"]
    assert (r["outcome"], r["message"]) == ("awaiting_approval", None)
    assert r["flow_run_id"] and r["started_at"].endswith("+08:00") and r["finished_at"] >= r["started_at"]
    assert r["counts"]["read"] == 5 and r["counts"]["accepted"] == 5 and r["counts"]["rejected"] == 0
    assert (r["counts"]["zones"], r["counts"]["counted"], r["counts"]["missing"]) == (6, 5, 1)
    assert r["counts"]["carded"] == 2

    # Another run of the same stage and year while one holds the lock: recorded as busy, but the
    # run that held the lock stays the one status shows.
    with stage_lock(home.db_url, "evaluation", YEAR), pytest.raises(StageBusy):
        evaluation_stage(home=str(home.path), year=YEAR)
    with session(home.db_url) as s:
        busy = s.scalars(select(m.StageRun).where(m.StageRun.outcome == "busy")).one()
        assert "正在进行" in busy.message
    assert runs(home)["evaluation"]["outcome"] == "awaiting_approval"

    publish_evaluation(home=str(home.path), year=YEAR)
    r = runs(home)["evaluation"]
    assert (r["outcome"], r["flow"]) == ("published", "publish-evaluation")
    assert r["counts"]["notices_sent"] == 9  # 6 results, 2 yellow cards, the summary (outbox files)

    evaluation_call(home=str(home.path), year=YEAR)
    r = runs(home)["evaluation_call"]
    assert (r["outcome"], r["flow"], r["counts"]["notices_new"]) == ("done", "evaluation-call", 6)

    # A run killed hard leaves its record running: shown as "running (or interrupted)".
    runlog.start(home, "candidates", YEAR, "candidate-selection", "killed-run")
    st = year_status(home, YEAR)
    assert st["runs"]["candidates"]["outcome"] == "running" and st["runs"]["candidates"]["finished_at"] is None
    table = render_table(st)
    assert "候补试验区遴选：运行中（或已中断）（20" in table
    assert "监测评价：已发布（审批后发布，20" in table
    # The Prefect flow names stay in --json only: the table speaks the programme's words.
    assert not any(
        f in table for f in ("candidate-selection", "publish-evaluation", "evaluation-call", "evaluation-stage")
    )

    out = CliRunner().invoke(cli, ["--home", str(home.path), "status", "--year", str(YEAR), "--json"], obj={})
    assert out.exit_code == 0
    shown = json.loads(out.stdout)
    assert set(shown["runs"]) == {"evaluation", "evaluation_call", "candidates"}
    assert shown["evaluation"]["state"] == "published"  # the contract's keys unchanged


def test_a_retried_flow_run_reopens_its_own_record(home):
    first = runlog.start(home, "evaluation", YEAR, "evaluation-stage", "run-1")
    runlog.finish(home, first, "failed", "boom")
    again = runlog.start(home, "evaluation", YEAR, "evaluation-stage", "run-1")
    assert again == first
    assert runs(home)["evaluation"]["outcome"] == "running"
    runlog.finish(home, again, "awaiting_approval", counts={"zones": 6})
    r = runs(home)["evaluation"]
    assert (r["outcome"], r["message"], r["counts"]) == ("awaiting_approval", None, {"zones": 6})
    with pytest.raises(ValueError):
        runlog.finish(home, again, "exploded")


def test_exception_commands_and_the_run_log_do_not_load_prefect():
    code = (
        "import sys, pilotzones.cli.main, pilotzones.store.deadlines, pilotzones.store.runlog, pilotzones.cli.status;"
        "bad = [m for m in ('prefect',) if m in sys.modules];"
        "print(','.join(bad)); sys.exit(1 if bad else 0)"
    )
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
