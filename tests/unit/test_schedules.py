"""Every stage of the contract's calendar is a deployment whose runs fall on its date and time."""

from __future__ import annotations

import asyncio
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from pilotzones.deployments.schedules import STAGES, cron, entrypoint, load_flow
from prefect.server.schemas.schedules import CronSchedule

from pilotzones.rules import programme

P = programme.load()
SHANGHAI = ZoneInfo("Asia/Shanghai")

# The contract's §1 calendar (month, day, hour) per deployment.
CALENDAR = {
    "nomination-call": (9, 1, 9),
    "nomination-reminder": (9, 23, 9),
    "candidate-selection": (10, 1, 9),
    "evaluation-call": (12, 1, 9),
    "evaluation-reminder": (12, 15, 9),
    "evaluation-stage": (12, 31, 9),
    # Between evaluations (issue 14): a month before the 6-month rectification deadline, the day
    # after it, and the visit check.
    "rectification-reminder": (5, 30, 9),
    "rectification-overdue": (7, 1, 9),
    "visit-check": (11, 1, 9),
}


def test_every_stage_has_a_deployment_and_every_flow_imports():
    assert {s.name for s in STAGES} == set(CALENDAR)
    for s in STAGES:
        assert callable(load_flow(s.flow).fn)


@pytest.mark.parametrize("stage", STAGES, ids=lambda s: s.name)
def test_next_runs_fall_on_the_contract_dates_in_asia_shanghai(stage):
    schedule = CronSchedule(cron=cron(P, stage.moment), timezone=P.programme.timezone)
    start = datetime(2026, 1, 1, tzinfo=SHANGHAI)
    dates = asyncio.run(schedule.get_dates(n=3, start=start))
    month, day, hour = CALENDAR[stage.name]
    assert [
        (d.astimezone(SHANGHAI).year, d.month, d.day, d.hour, d.minute) for d in (x.astimezone(SHANGHAI) for x in dates)
    ] == [(y, month, day, hour, 0) for y in (2026, 2027, 2028)]


def test_scheduled_stages_wait_for_approval_in_the_ui():
    waits = {s.name for s in STAGES if s.parameters.get("wait_for_approval")}
    assert waits == {"candidate-selection", "evaluation-stage"}


def test_prefect_yaml_matches_the_programme_calendar():
    """The work-pool deployments (prefect deploy) and `serve` share one calendar."""
    from pathlib import Path

    import yaml

    doc = yaml.safe_load((Path(__file__).resolve().parents[2] / "prefect.yaml").read_text(encoding="utf-8"))
    by_name = {d["name"]: d for d in doc["deployments"]}
    assert set(by_name) == {s.name for s in STAGES}
    for s in STAGES:
        d = by_name[s.name]
        assert d["schedules"] == [{"cron": cron(P, s.moment), "timezone": P.programme.timezone}]
        assert d["entrypoint"] == entrypoint(s.flow)
        assert d["parameters"].get("wait_for_approval", False) == s.parameters.get("wait_for_approval", False)


def test_each_deployment_says_in_the_programme_s_words_what_runs():
    """The UI's deployment list is read by operators: each says what it does, in Chinese."""
    words = {**P.programme.words(), "candidate": "候补单位"}
    said = {s.name: s.cn.format(**words) for s in STAGES}
    assert said["nomination-call"] == "候补单位推荐通知" and said["candidate-selection"] == "候补单位遴选"
    assert said["evaluation-stage"] == "监测评价" and said["visit-check"] == "专家调研与交流会议次数检查"
    assert all(said.values())
