"""The task of a dated step between evaluations: queue its notices (each identity once)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from pilotzones.tasks.common import fault
from prefect import get_run_logger, task
from prefect.cache_policies import NONE

from pilotzones.store.home import Home


@task(name="queue-between-notices", cache_policy=NONE)
def queue_step_notices(home: str, year: int, step: str, at: datetime | None = None) -> int:
    """Build the step's notices as things stand at `at` (default now) and queue those not queued yet."""
    from pilotzones.stages.between import STEPS, run_step

    fault("queue-notices")
    added = run_step(Home(Path(home)), step, year, at)
    get_run_logger().info("%s：新排队通知%d份", STEPS[step].cn if step in STEPS else step, added)
    return added
