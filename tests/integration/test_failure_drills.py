"""Failure drills: retry from failure, SIGKILL at a step, two runs at once, the per-stage lock."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pilotzones.flows.candidates import candidate_selection
from pilotzones.flows.evaluation import evaluation_stage
from prefect.client.orchestration import get_client

from pilotzones.cli.status import year_status
from pilotzones.store.locks import StageBusy, stage_lock
from tests.integration.cli_runs import EXE, ROOT, SCALES, cli_env, flow_runs, run_cli
from tests.integration.test_evaluation_flow import send

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("prefect_server")]


def test_retrying_a_failed_run_skips_the_steps_that_finished(home, tmp_path):
    """Retry from the UI keeps the run id: finished steps come from their persisted results."""
    send(home, tmp_path, 2022, SCALES)
    r = run_cli(
        home,
        "evaluation",
        "run",
        "--year",
        "2022",
        "--approve",
        PILOTZONES_FAULT="disqualify-and-replace",
        PILOTZONES_FAULT_ONCE=str(tmp_path / "fired"),
    )
    assert r.returncode == 1 and "injected fault" in r.stderr
    failed = [
        fr
        for fr in flow_runs()
        if fr.state
        and fr.state.is_failed()
        and fr.parameters.get("year") == 2022
        and fr.parameters.get("home") == str(home.path)
    ]
    assert len(failed) == 1
    retry = subprocess.run(
        [
            str(Path(sys.executable).parent / "prefect"),
            "flow-run",
            "retry",
            str(failed[0].id),
            "--entrypoint",
            "flows/evaluation.py:evaluation_stage",
        ],
        capture_output=True,
        text=True,
        env=cli_env(home, PILOTZONES_FAULT="disqualify-and-replace", PILOTZONES_FAULT_ONCE=str(tmp_path / "fired")),
        cwd=ROOT,
        timeout=300,
    )
    assert retry.returncode == 0, retry.stdout + retry.stderr
    assert flow_runs([failed[0].id])[0].state.is_completed()
    import asyncio

    async def task_states():
        async with get_client() as client:
            from prefect.client.schemas.filters import TaskRunFilter, TaskRunFilterFlowRunId

            runs = await client.read_task_runs(
                task_run_filter=TaskRunFilter(flow_run_id=TaskRunFilterFlowRunId(any_=[failed[0].id]))
            )
            return [(t.name.rsplit("-", 1)[0], t.state_name) for t in runs]

    states = asyncio.run(task_states())
    assert ("collect-submissions", "Cached") in states and ("score", "Cached") in states
    assert year_status(home, 2022)["evaluation"]["state"] == "published"


# Every step on SQLite; PostgreSQL at the step that applies decisions (the transactional one).
@pytest.mark.parametrize(
    ("db_url", "step"),
    [("sqlite", "propose"), ("sqlite", "publish"), ("sqlite", "deliver-notices"), ("postgresql", "publish")],
    indirect=["db_url"],
)
def test_sigkill_at_a_step_then_rerun_gives_the_uninterrupted_result(home, tmp_path, step):
    """Killing the process mid-stage and running again applies every decision once."""
    send(home, tmp_path, 2022, SCALES)
    killed = run_cli(home, "evaluation", "run", "--year", "2022", "--approve", PILOTZONES_FAULT=f"{step}:kill")
    assert killed.returncode == -signal.SIGKILL
    again = run_cli(home, "evaluation", "run", "--year", "2022", "--approve")
    assert again.returncode == 0, again.stderr
    st = json.loads(run_cli(home, "status", "--year", "2022", "--json").stdout)
    carded = sorted(r["adcode"] for r in st["evaluation"]["ranking"] if r["yellow_card"])
    assert st["evaluation"]["state"] == "published" and carded == ["652926", "653224"]
    assert st["notices"]["sent"] == 9 and st["notices"]["queued"] == 0
    emls = list((home.path / "outbox").rglob("*.eml"))
    assert len(emls) == 9  # nothing written twice
    from sqlalchemy import func, select

    from pilotzones.store import models as m
    from pilotzones.store.session import session

    with session(home.db_url) as s:
        assert s.scalar(select(func.count()).select_from(m.Card)) == 2


def test_two_runs_of_a_stage_at_once_one_proceeds_and_the_other_says_why(home, tmp_path):
    send(home, tmp_path, 2022, SCALES)
    marker = tmp_path / "slow-run-is-holding-the-lock"
    slow = subprocess.Popen(
        [str(EXE), "evaluation", "run", "--year", "2022"],
        cwd=ROOT,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=cli_env(
            home, PILOTZONES_FAULT="score:sleep", PILOTZONES_FAULT_SLEEP="15", PILOTZONES_FAULT_ONCE=str(marker)
        ),
    )
    try:
        # Wait until the slow run sleeps at `score`, holding the lock (the fault hook leaves its
        # marker just before); racing a second run against its start-up would let either win.
        deadline = time.monotonic() + 90
        while not marker.exists() and time.monotonic() < deadline and slow.poll() is None:
            time.sleep(0.2)
        assert marker.exists(), "the slow run never reached its step"
        busy = run_cli(home, "evaluation", "run", "--year", "2022")
        assert busy.returncode == 2
        assert "2022年度监测评价的另一运行正在进行" in busy.stderr
        # Another stage of the same year is not held up.
        assert run_cli(home, "candidates", "run", "--year", "2022").returncode == 0
    finally:
        _out, err = slow.communicate(timeout=120)
    assert slow.returncode == 0, err


def test_the_lock_is_per_stage_and_year(home, tmp_path):
    send(home, tmp_path, 2022, SCALES)
    with stage_lock(home.db_url, "evaluation", 2022):
        with pytest.raises(StageBusy):
            evaluation_stage(home=str(home.path), year=2022)
        assert candidate_selection(home=str(home.path), year=2022)["state"] == "awaiting_approval"
    assert evaluation_stage(home=str(home.path), year=2022)["state"] == "awaiting_approval"
