"""Tasks of the 1 October candidate selection, each over the whole batch of nominations."""

from __future__ import annotations

from pathlib import Path

from prefect import task
from prefect.cache_policies import NONE

from pilotzones import candidates as c
from pilotzones.home import Home
from pilotzones.proposal_models import CandidateSelection
from tasks.common import PERSIST, fault, state_aware


def _home(home: str) -> Home:
    return Home(Path(home))


def _digest(home: str, year: int) -> str:
    return c.inputs_digest(_home(home), year)


@task(name="check-stage", cache_policy=NONE)
def check_stage(home: str, year: int) -> CandidateSelection | None:
    """Return the published selection if the year is done; refuse a run that would rewrite history."""
    fault("check-stage")
    done = c.published_result(_home(home), year)
    if done is None:
        c.check_can_run(_home(home), year)
    return done


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


@task(name="publish", **PERSIST)
def publish(home: str, year: int, approval: dict | None = None) -> dict:
    """Make the selection the candidate list in force; `approval` says who approved."""
    fault("publish")
    return c.publish(_home(home), year, approval)


@task(name="load-published", cache_policy=NONE)
def published(home: str, year: int) -> CandidateSelection:
    """The published decisions of the year, as notices need them."""
    result = c.published_result(_home(home), year)
    assert result is not None, "publish must come first"
    return result
