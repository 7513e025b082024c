"""What the two decision stages' flows share: the run log, the stage lock, approval and notices.

A stage module (`tasks.evaluation`, `tasks.candidates`) provides the tasks `publish(home, year)` and
`published(home, year)`; its flow provides `run(home, year, approve, counts)`, which computes and
stores the proposal and publishes it when `approve` is given.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import ModuleType

from prefect.runtime import flow_run

from flows import approval
from pilotzones import runlog
from pilotzones.gcpause import freeze_once
from pilotzones.home import Home
from pilotzones.locks import stage_lock
from tasks import notices as n

StageRun = Callable[[str, int, bool, dict], dict]


def run_id() -> str | None:
    return str(flow_run.get_id() or "") or None


def run_to_approval(
    stage: str, tasks: ModuleType, flow_name: str, run: StageRun, home: str, year: int, approve: bool, wait: bool
) -> dict:
    """Run the stage under its lock; with `wait`, pause for the UI's approval and publish on it."""
    freeze_once()
    with runlog.recorded(home, stage, year, flow_name, run_id()) as rec:
        with stage_lock(Home(Path(home)).db_url, stage, year):
            result = run(home, year, approve, rec.counts)
        rec.outcome = result["state"]
        if result["state"] == "published" and not result["applied"]:
            rec.message = "already published; nothing applied again"
        if result["state"] == "awaiting_approval" and wait:
            rec.mark("awaiting_approval", "paused: resume in the Prefect UI, or pilotzones approve")
            answer = approval.wait_for_approval(stage, year)
            rec.message = None
            if answer is not None and answer.approve:
                published = publish(stage, tasks, home, year, rec.counts)
                result.update(state="published", applied=published["applied"])
                rec.outcome = "published"
    return result


def publish_recorded(stage: str, tasks: ModuleType, flow_name: str, home: str, year: int) -> dict:
    """Publish what a run of `year` left awaiting approval, as a run of its own in the run log."""
    freeze_once()
    with runlog.recorded(home, stage, year, flow_name, run_id()) as rec:
        result = publish(stage, tasks, home, year, rec.counts)
        rec.outcome = "published"
        if not result["applied"]:
            rec.message = "already published; nothing applied again"
        return result


def publish(stage: str, tasks: ModuleType, home: str, year: int, counts: dict) -> dict:
    with stage_lock(Home(Path(home)).db_url, stage, year):
        result = tasks.publish(home, year)
        counts.update(notify(stage, home, year, tasks.published(home, year)))
        return result


def notify(stage: str, home: str, year: int, proposal: dict) -> dict:
    """Queue the published decisions' notices and send what is unsent (a rerun sends only those)."""
    queued = n.queue_notices(home, year, stage, proposal)
    report = n.deliver_notices(home, year, stage)
    return {"notices_new": queued, **{f"notices_{k}": v for k, v in report.items()}}


def exception_lines(exceptions: list[dict]) -> list[str]:
    """The deadline exceptions a proposal applied, as items of its markdown artifact's list."""
    lines = []
    for x in exceptions:
        what = (
            f"deadline extended to {x['until']}"
            if x["kind"] == "extension"
            else f"late file {x['submission_id']} accepted"
        )
        lines.append(f"- Deadline exception: {x['adcode']} {what} by {x['granted_by']} ({x['reason']})")
    return lines
