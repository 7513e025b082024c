"""Operating the stages: serve, approval from the UI, retry from failure, SIGKILL, concurrent runs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
from prefect.flow_runs import resume_flow_run
from prefect.settings import PREFECT_API_URL

from flows.candidates import candidate_selection
from flows.evaluation import december_evaluation, publish_evaluation
from pilotzones.locks import StageBusy, stage_lock
from pilotzones.status import year_status
from tests.integration.test_evaluation_flow import PILOTS, send

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("prefect_server")]

ROOT = Path(__file__).resolve().parents[2]
EXE = Path(sys.executable).parent / "pilotzones"
SCALES = dict(zip(PILOTS, [0.9, 0.8, 0.7, 0.6, 0.5, 0.4], strict=True))


def cli_env(home, **extra: str) -> dict[str, str]:
    env = dict(os.environ, PREFECT_API_URL=PREFECT_API_URL.value(), PILOTZONES_HOME=str(home.path))
    env.update(extra)
    return env


def run_cli(home, *args: str, **extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(EXE), *args], capture_output=True, text=True, env=cli_env(home, **extra), cwd=ROOT, timeout=300
    )


async def _flow_runs(ids=None):
    async with get_client() as client:
        flt = FlowRunFilter(id=FlowRunFilterId(any_=ids)) if ids else None
        return await client.read_flow_runs(flow_run_filter=flt)


def flow_runs(ids=None):
    import asyncio

    return asyncio.run(_flow_runs(ids))


def test_serve_registers_every_deployment_with_its_schedule(home):
    proc = subprocess.Popen(
        [str(EXE), "serve"], env=cli_env(home), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        import asyncio

        async def deployments():
            async with get_client() as client:
                return await client.read_deployments()

        found: list = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and len(found) < 6:
            # Deployments an earlier test's serve registered (same names, another home) do not count.
            found = [
                d
                for d in asyncio.run(deployments())
                if "pilotzones" in (d.tags or []) and d.parameters.get("home") == str(home.path.resolve())
            ]
            time.sleep(1)
        crons = {d.name: (d.schedules[0].schedule.cron, d.schedules[0].schedule.timezone) for d in found}
        assert crons == {
            "nomination-call": ("0 9 1 9 *", "Asia/Shanghai"),
            "nomination-reminder": ("0 9 23 9 *", "Asia/Shanghai"),
            "candidate-selection": ("0 9 1 10 *", "Asia/Shanghai"),
            "evaluation-call": ("0 9 1 12 *", "Asia/Shanghai"),
            "evaluation-reminder": ("0 9 15 12 *", "Asia/Shanghai"),
            "december-evaluation": ("0 9 31 12 *", "Asia/Shanghai"),
        }
        params = {d.name: d.parameters for d in found}
        assert params["december-evaluation"]["wait_for_approval"] is True
        assert params["evaluation-call"]["home"] == str(home.path.resolve())
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_approval_in_the_ui_publishes_exactly_once(home, tmp_path, monkeypatch):
    """A run waiting for approval resumes from the UI's form (the API call it makes) and publishes."""
    monkeypatch.setenv("PILOTZONES_APPROVAL_POLL", "1")
    send(home, tmp_path, 2022, SCALES)
    out: dict = {}
    worker = threading.Thread(
        target=lambda: out.update(december_evaluation(home=str(home.path), year=2022, wait_for_approval=True))
    )
    worker.start()
    paused = None
    deadline = time.monotonic() + 120
    while paused is None and time.monotonic() < deadline:
        paused = next((r for r in flow_runs() if r.state and r.state.is_paused()), None)
        time.sleep(0.5)
    assert paused is not None, "the run never paused for approval"
    assert year_status(home, 2022)["evaluation"]["state"] == "awaiting_approval"
    resume_flow_run(paused.id, run_input={"approve": True, "note": "checked"})
    worker.join(timeout=120)
    assert out["state"] == "published" and out["applied"] is True
    assert publish_evaluation(home=str(home.path), year=2022)["applied"] is False
    assert year_status(home, 2022)["notices"]["sent"] == 9


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
            "flows/evaluation.py:december_evaluation",
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


@pytest.mark.parametrize("step", ["propose", "publish", "deliver-notices"])
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

    from pilotzones.db import models as m
    from pilotzones.db.session import session

    with session(home.db_url) as s:
        assert s.scalar(select(func.count()).select_from(m.Card)) == 2


def test_two_runs_of_a_stage_at_once_one_proceeds_and_the_other_says_why(home, tmp_path):
    send(home, tmp_path, 2022, SCALES)
    slow = subprocess.Popen(
        [str(EXE), "evaluation", "run", "--year", "2022"],
        cwd=ROOT,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=cli_env(home, PILOTZONES_FAULT="score:sleep", PILOTZONES_FAULT_SLEEP="25"),
    )
    try:
        busy = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            busy = run_cli(home, "evaluation", "run", "--year", "2022")
            if busy.returncode != 0:
                break
            time.sleep(1)
        assert busy is not None and busy.returncode == 2
        assert "another run of the evaluation stage for 2022 is in progress" in busy.stderr
        # Another stage of the same year is not held up.
        assert run_cli(home, "candidates", "run", "--year", "2022").returncode == 0
    finally:
        _out, err = slow.communicate(timeout=120)
    assert slow.returncode == 0, err


def test_the_lock_is_per_stage_and_year(home, tmp_path):
    send(home, tmp_path, 2022, SCALES)
    with stage_lock(home.db_url, "evaluation", 2022):
        with pytest.raises(StageBusy):
            december_evaluation(home=str(home.path), year=2022)
        assert candidate_selection(home=str(home.path), year=2022)["state"] == "awaiting_approval"
    assert december_evaluation(home=str(home.path), year=2022)["state"] == "awaiting_approval"


def test_prefect_deploy_registers_every_stage_on_the_work_pool(tmp_path):
    """The shared-server way: `prefect deploy --all` with prefect.yaml onto a process work pool."""
    import asyncio

    prefect = str(Path(sys.executable).parent / "prefect")
    env = dict(
        os.environ,
        PREFECT_API_URL=PREFECT_API_URL.value(),
        PILOTZONES_HOME=str(tmp_path / "home"),
        PILOTZONES_CHECKOUT=str(ROOT),
        PILOTZONES_DATABASE_URL=f"sqlite:///{tmp_path / 'state.db'}",
    )
    pool = subprocess.run(
        [prefect, "work-pool", "create", "pilotzones", "--type", "process", "--overwrite"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )
    assert pool.returncode == 0, pool.stdout + pool.stderr
    deploy = subprocess.run(
        [prefect, "--no-prompt", "deploy", "--all"], capture_output=True, text=True, env=env, cwd=ROOT, timeout=300
    )
    assert deploy.returncode == 0, deploy.stdout + deploy.stderr

    async def on_pool():
        async with get_client() as client:
            return [d for d in await client.read_deployments() if d.work_pool_name == "pilotzones"]

    found = {d.name: d for d in asyncio.run(on_pool())}
    assert set(found) == {
        "nomination-call",
        "nomination-reminder",
        "candidate-selection",
        "evaluation-call",
        "evaluation-reminder",
        "december-evaluation",
    }
    assert found["december-evaluation"].parameters["home"] == str(tmp_path / "home")
    assert found["december-evaluation"].schedules[0].schedule.cron == "0 9 31 12 *"
