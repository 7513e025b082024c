"""Each stage of the programme's year as a Prefect deployment on its calendar date (programme timezone)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pilotzones.programme import Programme


@dataclass(frozen=True)
class Stage:
    name: str  # deployment name
    moment: str  # calendar entry of the programme
    flow: str  # "module:function" of the flow it runs
    parameters: dict = field(default_factory=dict)


_WAIT = {"wait_for_approval": True}

STAGES = (
    Stage("nomination-call", "nomination_call", "flows.notices:nomination_call"),
    Stage("nomination-reminder", "nomination_reminder", "flows.notices:nomination_reminder"),
    # Scheduled stages stop for approval: the run pauses with a Resume form in the UI.
    Stage("candidate-selection", "candidate_selection", "flows.candidates:candidate_selection", _WAIT),
    Stage("evaluation-call", "evaluation_call", "flows.notices:evaluation_call"),
    Stage("evaluation-reminder", "evaluation_reminder", "flows.notices:evaluation_reminder"),
    Stage("december-evaluation", "evaluation", "flows.evaluation:december_evaluation", _WAIT),
)


def cron(programme: Programme, moment: str) -> str:
    """The yearly cron line of a calendar entry: "12-31 09:00:00" -> "0 9 31 12 *"."""
    value: str = getattr(programme.calendar, moment)
    md, hms = value.split(" ")
    month, day = (int(x) for x in md.split("-"))
    hour, minute, _ = (int(x) for x in hms.split(":"))
    return f"{minute} {hour} {day} {month} *"


def load_flow(ref: str):
    import importlib

    module, name = ref.split(":")
    return getattr(importlib.import_module(module), name)


def checkout() -> Path:
    """The folder holding flows/ and tasks/: where a worker finds the flows' code."""
    import flows

    return Path(flows.__file__).resolve().parents[1]


def entrypoint(ref: str) -> str:
    """ "flows.notices:evaluation_call" -> "flows/notices.py:evaluation_call", as workers load it."""
    module, name = ref.split(":")
    return f"{module.replace('.', '/')}.py:{name}"


def deployments(home: Path, programme: Programme, pool: str | None = None) -> list:
    """Every stage as a deployment on its calendar date, the year parameter defaulting to the current one.

    Without `pool`, for `pilotzones serve` (this process runs them); with it, for a work pool's
    workers, which load the flows from this checkout.
    """
    from prefect import Flow
    from prefect.schedules import Cron

    out = []
    for st in STAGES:
        if pool is None:
            flow = load_flow(st.flow)
        else:
            flow = Flow.from_source(source=str(checkout()), entrypoint=entrypoint(st.flow))
        out.append(
            flow.to_deployment(
                name=st.name,
                schedules=[Cron(cron(programme, st.moment), timezone=programme.programme.timezone)],
                parameters={"home": str(home.resolve()), **st.parameters},
                tags=["pilotzones", programme.programme.id],
                description=f"{st.name}: {getattr(programme.calendar, st.moment)} every year",
                **({"work_pool_name": pool} if pool else {}),
            )
        )
    return out
