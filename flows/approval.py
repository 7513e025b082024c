"""Approval from the Prefect UI: a stage run pauses with a form; Resume with `approve` publishes."""

from __future__ import annotations

import os

from prefect import get_run_logger
from prefect.flow_runs import pause_flow_run
from prefect.input import RunInput


class Approval(RunInput):
    """The Resume form an operator fills in the Prefect UI."""

    approve: bool = False
    note: str = ""


def wait_for_approval(stage: str, year: int) -> Approval | None:
    """Pause this run until an operator resumes it; None when the wait times out.

    The wait (PILOTZONES_APPROVAL_TIMEOUT seconds, default 14 days) holds no lock, so
    `pilotzones approve` from a shell still works while the run waits.
    """
    timeout = int(os.environ.get("PILOTZONES_APPROVAL_TIMEOUT", str(14 * 24 * 3600)))
    poll = int(os.environ.get("PILOTZONES_APPROVAL_POLL", "10"))
    log = get_run_logger()
    log.info("%s %s awaits approval: resume this run in the UI with approve = true", stage, year)
    try:
        return pause_flow_run(wait_for_input=Approval, timeout=timeout, poll_interval=poll, key=f"{stage}-{year}")
    except TimeoutError:
        log.warning("no approval within %s s; approve later with pilotzones approve", timeout)
        return None
