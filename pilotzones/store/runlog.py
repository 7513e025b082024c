"""The run log: each stage run recorded in the state database, so `status` never asks Prefect.

A flow opens a record when it starts and closes it with its outcome; a failure is recorded with
its message and raised again. A run killed hard (SIGKILL) leaves its record `running`: `status`
shows it as "running (or interrupted)". Nothing here imports Prefect: the flows pass the run id.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import tzinfo
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from pilotzones import clock
from pilotzones.rules.decisions import DecisionState
from pilotzones.settings import scrub
from pilotzones.store import ledger
from pilotzones.store import models as m
from pilotzones.store.home import Home
from pilotzones.store.session import session

# A run ends where its decision does (awaiting approval, published, declined) or in one of its own outcomes.
OUTCOMES = (
    "running",
    DecisionState.AWAITING_APPROVAL,
    DecisionState.IN_PUBLICITY,
    DecisionState.PUBLISHED,
    DecisionState.DECLINED,
    "done",
    "failed",
    "busy",
)
log = logging.getLogger(__name__)


def _home(home: Home | str) -> Home:
    return home if isinstance(home, Home) else Home(Path(home))


def start(home: Home | str, stage: str, year: int, flow: str, flow_run_id: str | None = None) -> int:
    """Open the record of a run; a retry of the same flow run (same id) reopens its own record."""
    with session(_home(home).db_url) as s:
        row = None
        if flow_run_id:
            row = s.scalars(
                select(m.StageRun)
                .where(m.StageRun.stage == stage, m.StageRun.year == year, m.StageRun.flow_run_id == flow_run_id)
                .order_by(m.StageRun.id.desc())
            ).first()
        if row is None:
            row = m.StageRun(stage=stage, year=year, flow=flow, flow_run_id=flow_run_id or None, counts={})
            s.add(row)
        row.flow, row.started_at, row.finished_at = flow, clock.now(), None
        row.outcome, row.message = "running", None
        s.flush()
        return row.id


def finish(
    home: Home | str,
    run_id: int,
    outcome: str,
    message: str | None = None,
    counts: dict | None = None,
    *,
    final: bool = True,
) -> None:
    """Close (or, with final=False, update) the record of a run."""
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome {outcome!r} is not one of {', '.join(OUTCOMES)}")
    with session(_home(home).db_url) as s:
        row = s.get(m.StageRun, run_id)
        if row is None:
            return
        row.outcome = outcome
        row.message = (message or None) and scrub(message)[:4000]
        if counts is not None:
            row.counts = dict(counts)
        row.finished_at = clock.now() if final else None


class Run:
    """What a flow body tells the record: its outcome, counts and message."""

    def __init__(self, home: Home | str, run_id: int) -> None:
        self.home, self.id = home, run_id
        self.outcome = "done"
        self.message: str | None = None
        self.counts: dict = {}

    def mark(self, outcome: str, message: str | None = None) -> None:
        """Record an outcome now, the run going on (e.g. awaiting approval while paused in the UI)."""
        self.outcome, self.message = outcome, message
        finish(self.home, self.id, outcome, message, self.counts, final=False)


@contextmanager
def recorded(home: Home | str, stage: str, year: int, flow: str, flow_run_id: str | None = None) -> Iterator[Run]:
    """Record the run around a flow body; a failure is recorded (failed, or busy) and raised again."""
    from pilotzones.errors import PilotzonesError
    from pilotzones.store.locks import StageBusy

    run = Run(home, start(home, stage, year, flow, flow_run_id))
    try:
        yield run
    except StageBusy as exc:
        _close(run, "busy", str(exc))
        raise
    except BaseException as exc:
        # A refusal we worded is recorded as the operator read it; anything else with its type.
        _close(run, "failed", str(exc) if isinstance(exc, PilotzonesError) else f"{type(exc).__name__}: {exc}")
        raise
    _close(run, run.outcome, run.message)


def _close(run: Run, outcome: str, message: str | None) -> None:
    try:
        finish(run.home, run.id, outcome, message, run.counts)
    except Exception:  # the run's own outcome matters more than its record
        log.exception("could not record the end of stage run %s", run.id)


def waiting_runs(home: Home | str, stage: str, year: int, exclude: str | None = None) -> list[str]:
    """Flow-run ids of other runs of the stage recorded as paused for approval, newest first.

    The record alone cannot tell a paused run from one killed while paused: the caller asks Prefect.
    """
    with session(_home(home).db_url) as s:
        rows = s.scalars(
            select(m.StageRun.flow_run_id)
            .where(
                m.StageRun.stage == stage,
                m.StageRun.year == year,
                m.StageRun.outcome == DecisionState.AWAITING_APPROVAL.value,
                m.StageRun.finished_at.is_(None),
                m.StageRun.flow_run_id.is_not(None),
            )
            .order_by(m.StageRun.id.desc())
        )
        return [r for r in rows if r is not None and r != exclude]


def _iso(dt, tz: tzinfo) -> str | None:
    return None if dt is None else ledger.utc(dt).astimezone(tz).isoformat()


def last_runs(s: Session, year: int, tz: tzinfo) -> dict[str, dict]:
    """The last run of each stage for `year`.

    A run refused because another held the stage's lock (`busy`) does not hide the run that held
    it: it is shown only when a stage has no other run.
    """
    rows = s.scalars(select(m.StageRun).where(m.StageRun.year == year).order_by(m.StageRun.started_at, m.StageRun.id))
    last: dict[str, m.StageRun] = {}
    for r in rows:
        prev = last.get(r.stage)
        if prev is None or r.outcome != "busy" or prev.outcome == "busy":
            last[r.stage] = r
    return {
        stage: {
            "outcome": r.outcome,
            "flow": r.flow,
            "flow_run_id": r.flow_run_id,
            "started_at": _iso(r.started_at, tz),
            "finished_at": _iso(r.finished_at, tz),
            "message": r.message,
            "counts": r.counts or {},
        }
        for stage, r in sorted(last.items())
    }
