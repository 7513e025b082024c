"""The calls and reminders of the year (nomination and evaluation data) as small Prefect flows."""

from __future__ import annotations

from pathlib import Path

from pilotzones.tasks import notices as n
from prefect import flow
from prefect.runtime import flow_run

from pilotzones.store import runlog
from pilotzones.store.home import Home


def _send(home: str, year: int | None, kind: str) -> dict:
    from pilotzones.notices import KINDS

    year = year or Home(Path(home)).programme.this_year()
    with runlog.recorded(home, kind, year, kind.replace("_", "-"), _run_id()) as run:
        added = n.queue_notices(home, year, "call", kind=kind)
        run.counts.update(notices_new=added)
        report = n.deliver_notices(home, year, KINDS[kind].stage)
        run.counts.update({f"notices_{k}": v for k, v in report.items()})
    return {"year": year, "kind": kind, "queued": added, **report}


def _run_id() -> str | None:
    return str(flow_run.get_id() or "") or None


@flow(name="nomination-call")
def nomination_call(home: str, year: int | None = None) -> dict:
    """Ask every prefecture to nominate candidate counties by the deadline."""
    return _send(home, year, "nomination_call")


@flow(name="nomination-reminder")
def nomination_reminder(home: str, year: int | None = None) -> dict:
    """Remind the prefectures not heard from yet."""
    return _send(home, year, "nomination_reminder")


@flow(name="evaluation-call")
def evaluation_call(home: str, year: int | None = None) -> dict:
    """Ask every pilot zone (cc its prefecture) for its monitoring data by the deadline."""
    return _send(home, year, "evaluation_call")


@flow(name="evaluation-reminder")
def evaluation_reminder(home: str, year: int | None = None) -> dict:
    """Remind the pilot zones with no valid submission yet."""
    return _send(home, year, "evaluation_reminder")


@flow(name="deliver-notices")
def deliver_outbox(home: str, year: int | None = None) -> dict:
    """Send whatever the outbox still holds (rejection notices of `submit`, earlier failures)."""
    year = year or Home(Path(home)).programme.this_year()
    with runlog.recorded(home, "deliver_notices", year, "deliver-notices", _run_id()) as run:
        report = n.deliver_notices(home, year, "submission")
        run.counts.update({f"notices_{k}": v for k, v in report.items()})
    return report
