"""Operating the stages: serve, approval from the UI, prefect deploy to a work pool."""

from __future__ import annotations

import signal
import subprocess
import threading
import time

import pytest
from pilotzones.flows.evaluation import evaluation_stage, publish_evaluation
from prefect.client.orchestration import get_client
from prefect.flow_runs import resume_flow_run

from pilotzones.cli.status import year_status
from tests.integration.cli_runs import EXE, ROOT, SCALES, cli_env, flow_runs
from tests.integration.test_evaluation_flow import send

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("prefect_server")]


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
        while time.monotonic() < deadline and len(found) < 9:
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
            "evaluation-stage": ("0 9 31 12 *", "Asia/Shanghai"),
            "rectification-reminder": ("0 9 30 5 *", "Asia/Shanghai"),
            "rectification-overdue": ("0 9 1 7 *", "Asia/Shanghai"),
            "visit-check": ("0 9 1 11 *", "Asia/Shanghai"),
        }
        params = {d.name: d.parameters for d in found}
        assert params["evaluation-stage"]["wait_for_approval"] is True
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
        target=lambda: out.update(evaluation_stage(home=str(home.path), year=2022, wait_for_approval=True))
    )
    worker.start()
    paused = None
    deadline = time.monotonic() + 120
    while paused is None and time.monotonic() < deadline:
        paused = next((r for r in flow_runs() if r.state and r.state.is_paused()), None)
        time.sleep(0.5)
    assert paused is not None, "the run never paused for approval"
    assert year_status(home, 2022)["evaluation"]["state"] == "awaiting_approval"
    resume_flow_run(paused.id, run_input={"decision": "approve", "by": "张主任", "note": "checked"})
    worker.join(timeout=120)
    assert out["state"] == "published" and out["applied"] is True
    assert publish_evaluation(home=str(home.path), year=2022)["applied"] is False
    assert year_status(home, 2022)["notices"]["sent"] == 9


def test_refusals_are_one_line_before_prefect_starts(home, tmp_path):
    """Nothing to approve, a stale proposal, a year out of order: exit 2, one line, no traceback."""
    from tests.integration.cli_runs import run_cli
    from tests.integration.test_evaluation_flow import on_time

    nothing = run_cli(home, "approve", "--year", "2022", "--stage", "evaluation")
    assert nothing.returncode == 2 and "2022年度没有待审批的监测评价方案" in nothing.stderr
    send(home, tmp_path, 2022, SCALES)
    evaluation_stage(home=str(home.path), year=2022)
    send(home, tmp_path, 2022, {"654002": 0.3}, at=on_time(home, 2022, 1))
    stale = run_cli(home, "approve", "--year", "2022", "--stage", "evaluation")
    assert stale.returncode == 2 and "方案已过时" in stale.stderr
    later = run_cli(home, "evaluation", "run", "--year", "2023")
    assert later.returncode == 2 and "2022年度监测评价方案待审批" in later.stderr
    for p in (nothing, stale, later):
        assert "Traceback" not in p.stderr and "Flow run" not in p.stderr, p.stderr
    assert year_status(home, 2022)["evaluation"]["state"] == "awaiting_approval"
