"""Tasks of the evaluation stage: one per step an operator may want to see or retrigger.

Each task handles the whole batch of zones at once; none runs per county.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from pilotzones.tasks.common import PERSIST, fault, state_aware
from prefect import task

from pilotzones.rules import scoring
from pilotzones.stages import evaluation as ev
from pilotzones.store.home import Home


def _home(home: str) -> Home:
    return Home(Path(home))


def _digest(home: str, year: int) -> str:
    return ev.inputs_digest(_home(home), year)


@task(name="collect-submissions", persist_result=True, cache_policy=state_aware(_digest))
def collect(home: str, year: int) -> ev.Collected:
    """Collect the latest accepted on-time file of every zone evaluated this year."""
    fault("collect-submissions")
    return ev.collect(_home(home), year)


@task(name="score", **PERSIST)
def score(home: str, collected: ev.Collected) -> scoring.Scores:
    """Score items 1-42, bonus and totals for all zones."""
    fault("score")
    return ev.score(_home(home), collected)


@task(name="rank-and-card", **PERSIST)
def rank_and_card(home: str, scores: scoring.Scores) -> pd.DataFrame:
    """Rank the zones and mark the yellow cards."""
    fault("rank-and-card")
    return ev.rank_and_card(_home(home), scores)


@task(name="disqualify-and-replace", persist_result=True, cache_policy=state_aware(_digest))
def disqualify_and_replace(home: str, year: int, ranked: pd.DataFrame) -> dict:
    """Disqualify zones carded twice running and swap in candidates."""
    fault("disqualify-and-replace")
    return ev.disqualify_and_replace(_home(home), year, ranked)


@task(name="propose", **PERSIST)
def propose(
    home: str,
    collected: ev.Collected,
    scores: scoring.Scores,
    ranked: pd.DataFrame,
    swaps: dict,
    flow_run_id: str | None,
    forced_early: dict | None = None,
) -> dict:
    """Store the decisions as awaiting approval; `forced_early` records a drill's run before the deadline."""
    fault("propose")
    h = _home(home)
    proposal = ev.build_proposal(h, collected, scores, ranked, swaps)
    if forced_early is not None:
        proposal = proposal.model_copy(update={"forced_early": forced_early})
    return dict(ev.propose(h, collected, scores, proposal, flow_run_id), proposal=proposal)
