"""The tasks every decision stage has, made for one stage from its registry entry.

Each stage's steps module answers the same questions (is the year published, may it run, publish
it); the tasks around them differ only in that module, so they are made here once per stage, with
the names, cache policies and fault hooks the stage's own tasks had.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pilotzones.tasks.common import PERSIST, fault
from prefect import task
from prefect.cache_policies import NONE

from pilotzones.rules.proposal_models import Proposal
from pilotzones.stages import Stage
from pilotzones.store.home import Home


@dataclass(frozen=True)
class StageTasks:
    check_stage: Any
    publish: Any
    published: Any


def stage_tasks(stage: Stage) -> StageTasks:
    steps = stage.module

    @task(name="check-stage", cache_policy=NONE)
    def check_stage(home: str, year: int) -> Proposal | None:
        """Return the published proposal if the year is done; refuse a run that would rewrite history."""
        fault("check-stage")
        h = Home(Path(home))
        done = steps.published_result(h, year)
        if done is None:
            steps.check_can_run(h, year)
        return done

    @task(name="publish", **PERSIST)
    def publish(home: str, year: int, approval: dict | None = None) -> dict:
        """Apply the approved proposal; `approval` says who approved."""
        fault("publish")
        return steps.publish(Home(Path(home)), year, approval)

    @task(name="load-published", cache_policy=NONE)
    def published(home: str, year: int) -> Proposal:
        """The published decisions of the year, as notices need them."""
        result = steps.published_result(Home(Path(home)), year)
        assert result is not None, "publish must come first"
        return result

    return StageTasks(check_stage, publish, published)
