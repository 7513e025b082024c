"""The dated steps between evaluations (issue 14) as small Prefect flows, on the programme calendar:
the rectification reminder and overdue list, and the expert visit check."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from pilotzones.tasks import between as b
from pilotzones.tasks import notices as n
from prefect import flow
from prefect.runtime import flow_run

from pilotzones.store import runlog
from pilotzones.store.home import Home


def _run(home: str, year: int | None, step: str, at: datetime | None) -> dict:
    from pilotzones.notices import KINDS

    year = year or Home(Path(home)).programme.this_year()
    run_id = str(flow_run.get_id() or "") or None
    with runlog.recorded(home, step, year, step.replace("_", "-"), run_id) as run:
        added = b.queue_step_notices(home, year, step, at)
        run.counts.update(notices_new=added)
        report = n.deliver_notices(home, year, KINDS[step].stage)
        run.counts.update({f"notices_{k}": v for k, v in report.items()})
    return {"year": year, "step": step, "queued": added, **report}


@flow(name="rectification-reminder")
def rectification_reminder(home: str, year: int | None = None, at: datetime | None = None) -> dict:
    """Remind each carded zone whose case is due this year and still owes its rectification report."""
    return _run(home, year, "rectification_reminder", at)


@flow(name="rectification-overdue")
def rectification_overdue(home: str, year: int | None = None, at: datetime | None = None) -> dict:
    """List the cases due this year whose report is overdue to the commission."""
    return _run(home, year, "rectification_overdue", at)


@flow(name="visit-check")
def visit_check(home: str, year: int | None = None, at: datetime | None = None) -> dict:
    """Notify the expert group and leader of each pilot short of its yearly visits, and the commission
    of the meetings held when fewer than the programme's yearly count."""
    return _run(home, year, "visit_shortfall", at)
