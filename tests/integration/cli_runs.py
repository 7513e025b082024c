"""Running the real `pilotzones` command against the session's Prefect server, for operations tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
from prefect.settings import PREFECT_API_URL

from tests.integration.test_evaluation_flow import PILOTS

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
