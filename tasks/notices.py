"""Tasks that queue a stage's notices and deliver the outbox (each notice at most once)."""

from __future__ import annotations

from pathlib import Path

from pilotzones.tasks.common import fault
from prefect import get_run_logger, task
from prefect.cache_policies import NONE

from pilotzones import stages
from pilotzones.rules.proposal_models import Proposal
from pilotzones.store.home import Home


def _home(home: str) -> Home:
    return Home(Path(home))


@task(name="queue-notices", cache_policy=NONE)
def queue_notices(home: str, year: int, stage: str, proposal: Proposal | None = None, kind: str | None = None) -> int:
    """Build the stage's notices and queue those not queued yet."""
    from pilotzones import notices

    fault("queue-notices")
    h = _home(home)
    if stage in stages.names():
        assert proposal is not None
        built = stages.get(stage).build_notices(h, year, proposal)
    else:
        assert kind is not None
        built = notices.call_notices(h, year, kind)
    added = notices.queue(h, built)
    get_run_logger().info("通知：生成%d份，新排队%d份", len(built), added)
    return added


@task(name="deliver-notices", cache_policy=NONE)
def deliver_notices(home: str, year: int, stage: str) -> dict:
    """Send everything queued; fail the stage while any of its notices is left unsent."""
    from pilotzones import notices

    fault("deliver-notices")
    report = notices.deliver(_home(home), year=year, stage=stage)
    get_run_logger().info("通知：%s", report.summary())
    notices.raise_if_unsent(report)
    return {"sent": report.sent, "queued": report.queued, "failed": report.failed}
