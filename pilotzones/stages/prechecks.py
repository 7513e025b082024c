"""What a stage command refuses before it starts Prefect.

A refusal found inside a flow is logged by Prefect with its traceback, after a server start; found
here it is one clear line and exit 2. The flows check the same things again under the stage lock:
they stay the authority (a scheduled run has no command in front of it).
"""

from __future__ import annotations

from pilotzones import stages
from pilotzones.rules.decisions import DecisionState
from pilotzones.store import ledger, proposals
from pilotzones.store.home import Home
from pilotzones.store.locks import stage_lock
from pilotzones.store.session import session


def before_run(home: Home, stage: str, year: int) -> None:
    """Refuse a run the stage would refuse: order of years, or another run of it in progress."""
    stages.get(stage).module.check_can_run(home, year)
    with stage_lock(home.db_url, stage, year):
        pass


def before_publish(home: Home, stage: str, year: int) -> None:
    """Refuse an approval with nothing to approve, of a declined proposal, or of one its inputs have moved past."""
    with session(home.db_url) as s:
        d = ledger.decision(s, year, stage)
        if d is None:
            raise proposals.nothing_to_approve(stage, year)
        if d.state == DecisionState.DECLINED:
            raise proposals.declined_error(s, d, home.programme.tz)
        if d.state == DecisionState.PUBLISHED:
            return
    proposals.ensure_current(
        d, stages.get(stage).module.inputs_digest(home, year), proposals.rerun_command(stage, year)
    )
