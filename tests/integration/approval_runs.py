"""What the approval tests share: this home's flow runs on the session's server, a run waiting for approval."""

from __future__ import annotations

import threading
import time

from pilotzones.flows.evaluation import evaluation_stage
from sqlalchemy import select

from pilotzones.store import models as m
from pilotzones.store.session import session
from tests.integration.cli_runs import flow_runs

YEAR = 2022


def runs_of(home) -> list:
    """This home's flow runs on the session's server (other tests' runs share it)."""
    return [r for r in flow_runs() if (r.parameters or {}).get("home") == str(home.path)]


def start_waiting(home) -> tuple[threading.Thread, dict]:
    """A scheduled-style run (wait_for_approval) in a thread; returns once it is paused."""
    out: dict = {}
    known = {r.id for r in runs_of(home)}

    def body():
        out.update(evaluation_stage(home=str(home.path), year=YEAR, wait_for_approval=True))

    worker = threading.Thread(target=body, daemon=True)
    worker.start()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        paused = [r for r in runs_of(home) if r.id not in known and r.state and r.state.is_paused()]
        if paused:
            out["_run"] = paused[0]
            return worker, out
        time.sleep(0.5)
    raise AssertionError("the run never paused for approval")


def final_state(flow_run_id):
    return flow_runs([flow_run_id])[0].state


def summary_text(home) -> str:
    with session(home.db_url) as s:
        row = s.scalars(
            select(m.OutboxNotice).where(m.OutboxNotice.kind == "evaluation_summary", m.OutboxNotice.year == YEAR)
        ).one()
        return row.text + row.html
