"""Tasks of the 1 October candidate selection, each over the whole batch of nominations."""

from __future__ import annotations

from pathlib import Path

from pilotzones.tasks.common import PERSIST, fault, state_aware
from prefect import task

from pilotzones.rules.proposal_models import CandidateSelection
from pilotzones.stages import candidates as c
from pilotzones.store.home import Home


def _home(home: str) -> Home:
    return Home(Path(home))


def _digest(home: str, year: int) -> str:
    return c.inputs_digest(_home(home), year)


@task(name="collect-nominations", persist_result=True, cache_policy=state_aware(_digest))
def collect(home: str, year: int) -> dict:
    """Collect every valid nomination file and the review scores in force."""
    fault("collect-nominations")
    return c.collect(_home(home), year)


@task(name="check-eligibility-and-rank", **PERSIST)
def decide(home: str, collected: dict) -> CandidateSelection:
    """Judge each nomination (R10) and select the top candidates."""
    fault("check-eligibility-and-rank")
    return c.decide(_home(home), collected)


@task(name="propose", **PERSIST)
def propose(
    home: str, year: int, proposal: CandidateSelection, flow_run_id: str | None, state: str | None = None
) -> dict:
    """Store the selection as awaiting approval."""
    fault("propose")
    return c.propose(_home(home), year, proposal, flow_run_id, state)
