"""Which Prefect server a stage command reports to when none is configured (issue 16): `serve`'s
on the home while it runs, else a temporary one that never outlives the command."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from pilotzones.deployments.local_api import SERVE_RECORD, TEMPORARY_LOG
from prefect.settings import PREFECT_API_URL

from tests.integration.cli_runs import EXE, ROOT, SCALES, flow_runs
from tests.integration.test_evaluation_flow import send

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("prefect_server")]


def operator_env(home) -> dict[str, str]:
    """An operator's shell: no Prefect server configured, Prefect's home left to the command."""
    env = {k: v for k, v in os.environ.items() if k not in ("PREFECT_API_URL", "PREFECT_HOME")}
    return dict(env, PILOTZONES_HOME=str(home.path))


def run(home, *args: str, **extra: str) -> subprocess.CompletedProcess:
    env = dict(operator_env(home), **extra)
    return subprocess.run([str(EXE), *args], capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)


def processes_on(prefect_home: Path) -> list[int]:
    """This user's processes whose PREFECT_HOME is `prefect_home` (a temporary server has it)."""
    want = f"PREFECT_HOME={prefect_home}".encode()
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if want in (proc / "environ").read_bytes().split(b"\0"):
                found.append(int(proc.name))
        except OSError:
            continue
    return found


def flow_run_id(home) -> str:
    status = json.loads(run(home, "status", "--year", "2022", "--json").stdout)
    return status["runs"]["evaluation"]["flow_run_id"]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_without_a_server_the_command_starts_one_and_stops_it(home, tmp_path):
    send(home, tmp_path, 2022, SCALES)
    done = run(home, "evaluation", "run", "--year", "2022")
    assert done.returncode == 0, done.stderr
    assert "方案待审批" in done.stdout
    assert (home.path / "prefect" / "prefect.db").exists()  # Prefect's database in the home, as before
    assert (home.path / TEMPORARY_LOG).exists()
    assert processes_on(home.path / "prefect") == []


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs /proc")
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_command_killed_mid_run_takes_its_temporary_server_with_it(home, tmp_path):
    send(home, tmp_path, 2022, SCALES)
    killed = run(home, "evaluation", "run", "--year", "2022", PILOTZONES_FAULT="propose:kill")
    assert killed.returncode == -signal.SIGKILL
    deadline = time.monotonic() + 15
    while processes_on(home.path / "prefect") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert processes_on(home.path / "prefect") == []


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_with_serve_running_the_command_reports_to_its_server(home, tmp_path):
    # What `serve` writes while it runs: its API (here the session's server) and its pid (alive).
    record = home.path / SERVE_RECORD
    record.write_text(json.dumps({"api_url": PREFECT_API_URL.value(), "pid": os.getpid()}), encoding="utf-8")
    send(home, tmp_path, 2022, SCALES)
    done = run(home, "evaluation", "run", "--year", "2022")
    assert done.returncode == 0, done.stderr
    assert not (home.path / TEMPORARY_LOG).exists()  # no server of its own
    runs = flow_runs([flow_run_id(home)])
    assert [r.state.name for r in runs] == ["Completed"]  # on serve's server
