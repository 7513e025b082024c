"""Each stage of the programme's year as a Prefect deployment on its calendar date (programme timezone)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pilotzones import stages
from pilotzones.rules.programme import Programme
from pilotzones.stages.between import STEPS


@dataclass(frozen=True)
class Scheduled:
    """One deployment of the programme's year: a notice round or a registered decision stage."""

    name: str  # deployment name
    moment: str  # calendar entry of the programme
    flow: str  # "module:function" of the flow it runs
    parameters: dict = field(default_factory=dict)
    cn: str = ""  # what it does, in the programme's words ({candidate}: Info.words()), for the UI


_WAIT = {"wait_for_approval": True}

STAGES = (
    Scheduled(
        "nomination-call", "nomination_call", "pilotzones.flows.notices:nomination_call", cn="{candidate}推荐通知"
    ),
    Scheduled(
        "nomination-reminder",
        "nomination_reminder",
        "pilotzones.flows.notices:nomination_reminder",
        cn="{candidate}推荐提醒",
    ),
    Scheduled("evaluation-call", "evaluation_call", "pilotzones.flows.notices:evaluation_call", cn="监测评价报送通知"),
    Scheduled(
        "evaluation-reminder",
        "evaluation_reminder",
        "pilotzones.flows.notices:evaluation_reminder",
        cn="监测评价报送提醒",
    ),
    # Every registered decision stage; a scheduled one stops for approval (a Resume form in the UI).
    *(Scheduled(s.deployment, s.calendar, s.run_flow, _WAIT, s.cn_template) for s in stages.all_stages()),
    # Between evaluations (issue 14): the rectification reminder and overdue list, the visit check.
    *(
        Scheduled(name, step.moment, f"pilotzones.flows.between:{flow}", cn=step.cn)
        for name, flow, step in (
            ("rectification-reminder", "rectification_reminder", STEPS["rectification_reminder"]),
            ("rectification-overdue", "rectification_overdue", STEPS["rectification_overdue"]),
            ("visit-check", "visit_check", STEPS["visit_shortfall"]),
        )
    ),
)


def cron(programme: Programme, moment: str) -> str:
    """The yearly cron line of a calendar entry: "12-31 09:00:00" -> "0 9 31 12 *"."""
    value = programme.calendar_text(moment)
    md, hms = value.split(" ")
    month, day = (int(x) for x in md.split("-"))
    hour, minute, _ = (int(x) for x in hms.split(":"))
    return f"{minute} {hour} {day} {month} *"


def load_flow(ref: str):
    import importlib

    module, name = ref.split(":")
    return getattr(importlib.import_module(module), name)


def checkout() -> Path:
    """The folder holding flows/ (the checkout, or the installed package): where workers find the flows."""
    import pilotzones.flows

    return Path(pilotzones.flows.__file__).resolve().parents[1]


def entrypoint(ref: str) -> str:
    """ "pilotzones.flows.notices:evaluation_call" -> "flows/notices.py:evaluation_call", from `checkout()`."""
    module, name = ref.split(":")
    return f"flows/{module.rsplit('.', 1)[1]}.py:{name}"


def worker_env(home: Path) -> dict[str, str]:
    """What a work pool's run is given, as prefect.yaml's job variables (a test keeps them equal).

    Job variables are shown in the UI: no secret here. The database URL and the SMTP password come
    from each worker's own environment, which a process worker passes on to its runs.
    """
    return {
        "PILOTZONES_HOME": str(home),
        # Notices must go out by mail: without an SMTP host they stay queued and the stage fails.
        "PILOTZONES_DELIVERY": "smtp",
        # Step results on the shared home: a retry on another worker reuses the finished steps.
        "PREFECT_RESULTS_LOCAL_STORAGE_PATH": f"{home}/results",
        # deployments/crash-zombie-flows.yaml crashes a run whose heartbeat is silent for 90 s.
        "PREFECT_FLOWS_HEARTBEAT_FREQUENCY": "30",
    }


def shared_checkout(home: Path):
    """The checkout every worker has at the same path, and prefect.yaml's check of the shared home
    before a run's flow loads (pilotzones.store.home.require_shared_home)."""
    from prefect.runner.storage import LocalStorage

    class SharedCheckout(LocalStorage):
        def to_pull_step(self) -> list[dict]:  # type: ignore[override]  # Prefect takes a list of steps too
            return [super().to_pull_step(), {"pilotzones.store.home.require_shared_home": {"home": str(home)}}]

    return SharedCheckout(str(checkout()))


def deployments(home: Path, programme: Programme, pool: str | None = None) -> list:
    """Every stage as a deployment on its calendar date, the year parameter defaulting to the current one.

    Without `pool`, for `pilotzones serve` (this process runs them); with it, for a work pool's
    workers, which load the flows from the checkout and are given `worker_env`.
    """
    from prefect import Flow
    from prefect.schedules import Cron

    home = home.resolve()
    out = []
    words = programme.programme.words()
    for st in STAGES:
        if pool is None:
            flow, where = load_flow(st.flow), {}
        else:
            flow = Flow.from_source(source=shared_checkout(home), entrypoint=entrypoint(st.flow))
            where = {"work_pool_name": pool, "job_variables": {"env": worker_env(home)}}
        out.append(
            flow.to_deployment(
                name=st.name,
                schedules=[Cron(cron(programme, st.moment), timezone=programme.programme.timezone)],
                parameters={"home": str(home), **st.parameters},
                tags=["pilotzones", programme.programme.id],
                description=f"每年 {programme.calendar_text(st.moment)} 运行：{st.cn.format(**words)}",
                **where,
            )
        )
    return out
