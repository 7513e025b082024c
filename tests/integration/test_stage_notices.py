"""A stage's notices through a real SMTP server: sent once, held while the server is down."""

from __future__ import annotations

import pytest
from pilotzones.flows.evaluation import evaluation_stage

from pilotzones.cli.status import year_status
from pilotzones.notices import NoticesUnsent
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
