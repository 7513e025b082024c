"""A stage command run against a shared Prefect server, which runs the automation that crashes a
run silent for 90 s (deployments/crash-zombie-flows.yaml): apart from test_several_machines.py, so
that its two-minute hold runs beside that file on another worker."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from prefect.settings import PREFECT_API_URL, temporary_settings

from pilotzones.cli.status import year_status
from tests.integration.cli_runs import ROOT, SCALES
from tests.integration.test_evaluation_flow import send
from tests.integration.test_several_machines import _prefect, server, server_database  # noqa: F401

pytestmark = pytest.mark.integration


# The shipped automation waits 90 s; here 45 s, more than a 30 s beat and far less than Prefect's
# default of 180 s, so that a step held for 60 s tells the two apart in a minute.
WITHIN = 45
HOLD = 60


@pytest.fixture(scope="module")
def automation(server, tmp_path_factory):  # noqa: F811
    """The zombie automation of deployments/crash-zombie-flows.yaml on the server, with a shorter window."""
    shipped = (ROOT / "deployments" / "crash-zombie-flows.yaml").read_text(encoding="utf-8")
    assert "within: 90" in shipped
    path = tmp_path_factory.mktemp("automation") / "crash-zombie-flows.yaml"
    path.write_text(shipped.replace("within: 90", f"within: {WITHIN}"), encoding="utf-8")
    done = _prefect(server, "automation", "create", "--from-file", str(path))
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_command_on_the_shared_server_beats_as_often_as_a_deployment(server, automation, home, tmp_path):  # noqa: F811
    """A stage command run against the shared server (its automation crashes a run silent for a
    while) holds a step longer than that: it sends a heartbeat every 30 s, as a deployment's run,
    and completes (with Prefect's default of 180 s it was marked Crashed while it ran)."""
    send(home, tmp_path, 2022, SCALES)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_FLOWS_HEARTBEAT", "PREFECT_RUNNER"))}
    env.update(
        PREFECT_API_URL=server,
        PILOTZONES_HOME=str(home.path),
        PILOTZONES_FAULT="rank-and-card:sleep",
        PILOTZONES_FAULT_SLEEP=str(HOLD),
    )
    exe = Path(sys.executable).parent / "pilotzones"
    done = subprocess.run(
        [str(exe), "evaluation", "run", "--year", "2022"], capture_output=True, text=True, env=env, timeout=400
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "方案待审批" in done.stdout
    run_id = year_status(home, 2022)["runs"]["evaluation"]["flow_run_id"]
    with temporary_settings({PREFECT_API_URL: server}), get_client(sync_client=True) as client:
        states = [st.type.value for st in client.read_flow_run_states(run_id)]
    assert "CRASHED" not in states and states[-1] == "COMPLETED", states
