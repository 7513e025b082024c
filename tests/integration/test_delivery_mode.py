"""PILOTZONES_DELIVERY: a machine that must send mail never falls back to `.eml` files."""

from __future__ import annotations

import pytest

from pilotzones.errors import ConfigError
from pilotzones.notices import KINDS, NoticesUnsent, call_notices, deliver, outbox_counts, queue, raise_if_unsent
from tests.integration.cli_runs import run_cli
from tests.smtp_server import Recorder, free_port, smtp_server

pytestmark = pytest.mark.integration

STAGE = KINDS["evaluation_call"].stage


def _eml(home) -> list:
    return sorted(home.outbox.rglob("*.eml"))


@pytest.mark.usefixtures("prefect_server")  # run_cli points the command at it
def test_smtp_without_a_host_leaves_the_notices_queued_and_says_so(home, monkeypatch):
    queued = queue(home, call_notices(home, 2023, "evaluation_call"))
    assert queued > 0
    monkeypatch.setenv("PILOTZONES_DELIVERY", "smtp")
    monkeypatch.delenv("PILOTZONES_SMTP_HOST", raising=False)

    report = deliver(home, year=2023, stage=STAGE)
    assert report.sent == 0 and report.queued == queued
    assert "PILOTZONES_SMTP_HOST" in report.error
    assert _eml(home) == []
    assert outbox_counts(home, 2023, STAGE)["queued"] == queued
    with pytest.raises(NoticesUnsent) as refused:
        raise_if_unsent(report)
    assert "\n" not in str(refused.value) and "PILOTZONES_DELIVERY=smtp" in str(refused.value)

    # The command refuses the configuration before it starts: one line naming what to set.
    cli = run_cli(home, "deliver", PILOTZONES_DELIVERY="smtp", PILOTZONES_DATABASE_URL=home.db_url)
    assert cli.returncode == 2, cli.stdout + cli.stderr
    assert "PILOTZONES_SMTP_HOST" in cli.stderr and "Traceback" not in cli.stderr
    assert len(cli.stderr.strip().splitlines()) == 1
    assert _eml(home) == [] and outbox_counts(home, 2023, STAGE)["sent"] == 0

    # The same outbox goes out once the mail server is configured.
    recorder = Recorder()
    with smtp_server(recorder) as (_, port):
        monkeypatch.setenv("PILOTZONES_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("PILOTZONES_SMTP_PORT", str(port))
        report = deliver(home, year=2023, stage=STAGE)
    assert report.sent == queued and report.unsent == 0
    assert len(recorder.received) == queued and _eml(home) == []


def test_files_mode_writes_eml_even_with_a_host_and_unset_keeps_todays_default(home, monkeypatch):
    queued = queue(home, call_notices(home, 2023, "evaluation_call"))
    monkeypatch.setenv("PILOTZONES_DELIVERY", "files")
    monkeypatch.setenv("PILOTZONES_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("PILOTZONES_SMTP_PORT", str(free_port()))  # nothing listens: files are used
    assert deliver(home, year=2023, stage=STAGE).sent == queued
    assert len(_eml(home)) == queued

    queue(home, call_notices(home, 2023, "evaluation_reminder"))
    monkeypatch.delenv("PILOTZONES_DELIVERY")
    monkeypatch.delenv("PILOTZONES_SMTP_HOST")
    assert deliver(home, year=2023, stage=STAGE).unsent == 0
    assert len(_eml(home)) > queued


def test_an_unknown_delivery_mode_is_a_configuration_error(home, monkeypatch):
    monkeypatch.setenv("PILOTZONES_DELIVERY", "pigeon")
    with pytest.raises(ConfigError, match="PILOTZONES_DELIVERY"):
        deliver(home)


@pytest.mark.usefixtures("prefect_server")
def test_a_stage_that_must_send_mail_fails_with_its_notices_queued(home, monkeypatch):
    from pilotzones.flows.notices import evaluation_call

    monkeypatch.setenv("PILOTZONES_DELIVERY", "smtp")
    monkeypatch.delenv("PILOTZONES_SMTP_HOST", raising=False)
    with pytest.raises(NoticesUnsent, match="PILOTZONES_SMTP_HOST"):
        evaluation_call(home=str(home.path), year=2023)
    counts = outbox_counts(home, 2023, STAGE)
    assert counts["queued"] > 0 and counts["sent"] == 0 and _eml(home) == []
