"""A stage's notices through a real SMTP server: sent once, held while the server is down."""

from __future__ import annotations

import pytest
from pilotzones.flows.candidates import candidate_selection
from pilotzones.flows.evaluation import evaluation_stage

from pilotzones.cli.status import year_status
from pilotzones.notices import NoticesUnsent
from tests.integration.cli_runs import SCALES, run_cli
from tests.integration.test_candidates_flow import nominate, review
from tests.integration.test_evaluation_flow import PILOTS, send
from tests.integration.test_notices_delivery import smtp_env
from tests.smtp_server import Recorder, free_port, smtp_server

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("prefect_server")]


def test_stage_fails_while_mail_is_down_and_its_rerun_sends_each_notice_once(home, tmp_path, monkeypatch):
    send(home, tmp_path, 2022, dict(zip(PILOTS, [0.9, 0.8, 0.7, 0.6, 0.5, 0.4], strict=True)))
    port = free_port()
    smtp_env(monkeypatch, port)
    with pytest.raises(NoticesUnsent):
        evaluation_stage(home=str(home.path), year=2022, approve=True)
    st = year_status(home, 2022)
    assert st["evaluation"]["state"] == "published"  # the decisions stand; only mail is pending
    assert st["notices"]["queued"] == 9  # 6 results, 2 yellow cards, 1 summary

    with smtp_server(Recorder(), port=port) as (server, _):
        again = evaluation_stage(home=str(home.path), year=2022, approve=True)
        assert again["applied"] is False
        kinds = sorted(r.message["X-Notice-Kind"] for r in server.received)
        assert kinds == ["evaluation_result"] * 6 + ["evaluation_summary"] + ["yellow_card"] * 2
        results = [r.message for r in server.received if r.message["X-Notice-About"] == "653224"]
        assert {m["X-Notice-Kind"] for m in results} == {"evaluation_result", "yellow_card"}
        evaluation_stage(home=str(home.path), year=2022, approve=True)
        assert len(server.received) == 9
    assert year_status(home, 2022)["notices"]["sent"] == 9


def test_a_published_year_retriggered_after_a_later_year_is_reported_and_sends_its_unsent_notices(
    home, tmp_path, monkeypatch
):
    """§1/§5: `run` (and `approve`) of a published year is only reported, exit 0, once a later year is
    published too; the notices it could not send go out then, once each."""
    port = free_port()
    smtp_env(monkeypatch, port)  # nothing listens: every notice stays queued
    for year in (2022, 2023):
        nominate(home, tmp_path, year, "652900", ["652901"], home.programme.moment("nomination_deadline", year))
        review(home, tmp_path, year, {"652901": 80})
        with pytest.raises(NoticesUnsent):
            candidate_selection(home=str(home.path), year=year, approve=True)
        send(home, tmp_path, year, SCALES)
        with pytest.raises(NoticesUnsent):
            evaluation_stage(home=str(home.path), year=year, approve=True)
    assert year_status(home, 2023)["evaluation"]["promoted"] == [{"adcode": "652901", "replaces": "653224"}]
    queued = {y: year_status(home, y)["notices"]["queued"] for y in (2022, 2023)}
    assert queued[2022] > 9 and queued[2023] > 9

    with smtp_server(Recorder(), port=port) as (server, _):
        for args in (("evaluation", "run"), ("evaluation", "run", "--approve"), ("candidates", "run")):
            r = run_cli(home, *args, "--year", "2022")
            assert r.returncode == 0, r.stderr
            assert "2022年度" in r.stdout and "此前已发布，本次未再执行任何变更" in r.stdout, r.stdout
        for stage in ("evaluation", "candidates"):
            r = run_cli(home, "approve", "--year", "2022", "--stage", stage)
            assert r.returncode == 0 and "此前已发布，本次未再执行任何变更" in r.stdout, r.stdout + r.stderr
        years = [r.message["X-Notice-Year"] for r in server.received]
        ids = server.message_ids()
    # Each notice once: the outbox goes out whole (2023's too), and the runs after the first send nothing.
    assert (years.count("2022"), years.count("2023"), len(years)) == (queued[2022], queued[2023], sum(queued.values()))
    assert len(set(ids)) == len(ids)
    assert year_status(home, 2022)["notices"]["queued"] == year_status(home, 2023)["notices"]["queued"] == 0
    # A year not published is still refused once a later year is.
    r = run_cli(home, "candidates", "run", "--year", "2021")
    assert r.returncode == 2 and "2022年度候补试验区遴选已经发布，2021年度不能再运行" in r.stderr, r.stderr
