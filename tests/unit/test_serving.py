"""The settings every Prefect server of ours starts with (the schedule test watches them at work)."""

from __future__ import annotations

from pilotzones.deployments.serving import SCHEDULE_HORIZON, server_env


def test_a_server_tells_its_ui_the_port_it_listens_on(monkeypatch):
    monkeypatch.delenv("PREFECT_UI_API_URL", raising=False)
    env = server_env("127.0.0.1", 4321)
    assert (env["PREFECT_SERVER_API_HOST"], env["PREFECT_SERVER_API_PORT"]) == ("127.0.0.1", "4321")
    assert "PREFECT_UI_API_URL" not in env  # Prefect derives it from host and port


def test_a_yearly_stage_is_scheduled_more_than_a_year_ahead_unless_the_operator_says_otherwise(monkeypatch):
    monkeypatch.delenv("PREFECT_SERVER_SERVICES_SCHEDULER_MAX_SCHEDULED_TIME", raising=False)
    assert server_env("127.0.0.1", 4200)["PREFECT_SERVER_SERVICES_SCHEDULER_MAX_SCHEDULED_TIME"] == SCHEDULE_HORIZON
    assert SCHEDULE_HORIZON == "P400D"
    monkeypatch.setenv("PREFECT_SERVER_SERVICES_SCHEDULER_MAX_SCHEDULED_TIME", "P800D")
    assert server_env("127.0.0.1", 4200)["PREFECT_SERVER_SERVICES_SCHEDULER_MAX_SCHEDULED_TIME"] == "P800D"


def test_a_server_listening_everywhere_gives_browsers_a_name_they_can_reach(monkeypatch):
    monkeypatch.delenv("PREFECT_UI_API_URL", raising=False)
    url = server_env("0.0.0.0", 4200)["PREFECT_UI_API_URL"]
    assert url.endswith(":4200/api") and "0.0.0.0" not in url
    monkeypatch.setenv("PREFECT_UI_API_URL", "http://prefect.example.org/api")
    assert "PREFECT_UI_API_URL" not in server_env("0.0.0.0", 4200)  # the operator's own is kept
