"""R11 through the command: `submit` of a rejected file sends its sender the rejection notice at once
(an `.eml` in the outbox without SMTP, a mail through a real SMTP server on loopback with it), only
the notices it queued, each once; a delivery that fails is one line and leaves the exit code alone."""

from __future__ import annotations

import os
import subprocess
import sys
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from sqlalchemy import select

from pilotzones.notices import call_notices, queue
from pilotzones.store import models as m
from pilotzones.store.home import Home
from pilotzones.store.session import session
from tests.cli_home import run
from tests.integration.test_notices_delivery import smtp_env
from tests.smtp_server import Recorder, free_port, smtp_server
from tests.support import rows_for, write

pytestmark = pytest.mark.integration

AT = "2023-12-10T10:00:00"


def _bad(home: Home, folder: Path, adcode: str = "654025", name: str = "bad.csv") -> Path:
    return write(rows_for(home, adcode, 2023, **{"1": "95"}), folder / name)


def _notices(home: Home, kind: str = "submission_rejected") -> list[m.OutboxNotice]:
    with session(home.db_url) as s:
        return list(s.scalars(select(m.OutboxNotice).where(m.OutboxNotice.kind == kind).order_by(m.OutboxNotice.id)))


def _submit(home: Path, *args: str):
    return run(home, "submit", *args, "--year", "2023", "--at", AT)


def test_without_smtp_the_rejection_notice_is_an_eml_in_the_outbox_when_submit_ends(tmp_path):
    """The installed command, no SMTP configured: exit 3, and the outbox holds the notice as an .eml."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PILOTZONES_", "PREFECT_API"))}
    env.update(PILOTZONES_HOME=str(tmp_path / "h"), GX_ANALYTICS_ENABLED="false")
    bad = tmp_path / "bad.csv"
    bad.write_text("year,adcode,county,key,value\n2023,654025,新源县,1,999\n", encoding="utf-8")
    exe = Path(sys.executable).parent / "pilotzones"
    done = subprocess.run(
        [str(exe), "submit", str(bad), "--year", "2023", "--at", AT],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 3, done.stderr
    assert "退回通知已发出" in done.stderr and "通知：" not in done.stderr
    (eml,) = list((tmp_path / "h" / "outbox").rglob("*.eml"))
    msg = message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert (msg["X-Notice-Kind"], msg["X-Notice-Year"], msg["X-Notice-About"]) == (
        "submission_rejected",
        "2023",
        "654025",
    )
    assert msg["To"].endswith("<wjw.654025@example.org>")
    assert "999" in msg.get_body(("plain",)).get_content()
    (notice,) = _notices(Home(tmp_path / "h"))
    assert notice.state == "sent" and notice.ref == "1"


def test_a_rejection_is_mailed_once_and_the_same_file_sent_again_gets_a_notice_of_its_own(
    cli_home, tmp_path, monkeypatch
):
    """Through SMTP: the mail arrives once; `deliver` afterwards sends nothing again; the same bad
    file submitted again is a new submission, with its own notice (identity per submission), and
    only that one is sent; an accepted file sends nothing."""
    home = Home(cli_home)
    bad = _bad(home, tmp_path)
    with smtp_server() as (server, port):
        smtp_env(monkeypatch, port)
        first = _submit(cli_home, str(bad))
        assert first.exit_code == 3 and "原始文件已存档（编号 1）；退回通知已发出。" in first.stderr, first.stderr
        (mail,) = server.received
        assert mail.rcpt_tos[0] == "wjw.654025@example.org"
        assert mail.message["X-Notice-Kind"] == "submission_rejected" and mail.message["X-Notice-About"] == "654025"

        again = run(cli_home, "deliver")
        assert again.exit_code == 0 and "已发送0份" in again.stdout and len(server.received) == 1

        second = _submit(cli_home, str(bad))
        assert second.exit_code == 3 and "原始文件已存档（编号 2）；退回通知已发出。" in second.stderr
        assert len(server.received) == 2
        ids = server.message_ids()
        assert len(set(ids)) == 2

        good = write(rows_for(home, "654002", 2023), tmp_path / "good.csv")
        assert _submit(cli_home, str(good)).exit_code == 0
        assert run(cli_home, "deliver").exit_code == 0
        assert len(server.received) == 2
    notices = _notices(home)
    assert [(n.ref, n.state, n.attempts) for n in notices] == [("1", "sent", 1), ("2", "sent", 1)]
    assert ids == [n.message_id for n in notices]


def test_a_batch_sends_the_notices_of_its_rejected_files_and_nothing_else_of_the_outbox(
    cli_home, tmp_path, monkeypatch
):
    """`submit FILE FILE...`: each rejected file's sender is mailed; the calls queued before (for
    `deliver` or their stage) stay queued."""
    home = Home(cli_home)
    waiting = queue(home, call_notices(home, 2023, "evaluation_call"))
    paths = [
        _bad(home, tmp_path, "654025", "a.csv"),
        write(rows_for(home, "654321", 2023), tmp_path / "b.csv"),
        _bad(home, tmp_path, "654002", "c.csv"),
    ]
    with smtp_server() as (server, port):
        smtp_env(monkeypatch, port)
        done = _submit(cli_home, *map(str, paths))
        assert done.exit_code == 3, done.output
        assert done.stderr.count("退回通知已发出") == 2 and "共3份文件：已接收1份，退回2份。" in done.stderr
        assert sorted(r.rcpt_tos[0] for r in server.received) == ["wjw.654002@example.org", "wjw.654025@example.org"]
        assert {r.message["X-Notice-Kind"] for r in server.received} == {"submission_rejected"}
    with session(home.db_url) as s:
        states = dict(s.execute(select(m.OutboxNotice.kind, m.OutboxNotice.state).distinct()).all())
        calls = s.scalars(select(m.OutboxNotice.state).where(m.OutboxNotice.kind == "evaluation_call")).all()
    assert states["submission_rejected"] == "sent" and len(calls) == waiting and set(calls) == {"queued"}


def test_no_send_keeps_the_notice_queued_and_a_dry_run_sends_nothing(cli_home, tmp_path, monkeypatch):
    home = Home(cli_home)
    bad = _bad(home, tmp_path)
    with smtp_server() as (server, port):
        smtp_env(monkeypatch, port)
        dry = _submit(cli_home, str(bad), "--dry-run")
        assert dry.exit_code == 3 and server.received == [] and _notices(home) == []

        held = _submit(cli_home, str(bad), "--no-send")
        assert held.exit_code == 3 and "退回通知已排队，随下一次 deliver 或阶段运行发送" in held.stderr
        assert server.received == [] and [n.state for n in _notices(home)] == ["queued"]

        later = run(cli_home, "deliver")
        assert later.exit_code == 0 and "已发送1份" in later.stdout
        (mail,) = server.received
        assert mail.message["X-Notice-Kind"] == "submission_rejected"


def test_a_delivery_that_fails_is_one_line_keeps_exit_3_and_the_next_run_sends_it(cli_home, tmp_path, monkeypatch):
    """No server listening, then a mailbox refused (550): submit still exits 3, says once why the
    notice did not go, and the notice waits in the outbox; `deliver` sends it once the server takes it."""
    home = Home(cli_home)
    bad = _bad(home, tmp_path)
    port = free_port()
    smtp_env(monkeypatch, port)
    down = _submit(cli_home, str(bad))
    assert down.exit_code == 3, down.stderr
    assert "退回通知未能发出，留在发件箱" in down.stderr
    (line,) = [x for x in down.stderr.splitlines() if x.startswith("通知：")]
    assert "无法连接邮件服务器" in line and "下次运行 deliver 或阶段时发送" in line and "Traceback" not in down.stderr
    assert [n.state for n in _notices(home)] == ["queued"]

    refused = {"wjw.654025@example.org": "550 5.1.1 <wjw.654025@example.org>: mailbox unknown"}
    with smtp_server(Recorder(refuse=refused), port=port) as (server, _):
        again = _submit(cli_home, str(bad))
        assert again.exit_code == 3 and "发送失败1份" in again.stderr and server.received == []
        # Only its own notice was tried (no line opened before: no try counted for the first one,
        # which still waits for `deliver`).
        assert [(n.state, n.attempts) for n in _notices(home)] == [("queued", 0), ("failed", 1)]

        server.refuse.clear()  # the mailbox is put right
        later = run(cli_home, "deliver")
        assert later.exit_code == 0 and "已发送2份" in later.stdout, later.output
        assert run(cli_home, "deliver").exit_code == 0
    assert len(server.received) == 2 and len(set(server.message_ids())) == 2
    assert [n.state for n in _notices(home)] == ["sent", "sent"]


def test_a_delivery_configuration_that_cannot_send_does_not_refuse_the_file(cli_home, tmp_path, monkeypatch):
    """PILOTZONES_DELIVERY=smtp without a host: `deliver` would refuse to start; `submit` records and
    rejects the file as ever (exit 3), says the notice waits, and writes no .eml."""
    home = Home(cli_home)
    monkeypatch.delenv("PILOTZONES_SMTP_HOST", raising=False)
    monkeypatch.setenv("PILOTZONES_DELIVERY", "smtp")
    done = _submit(cli_home, str(_bad(home, tmp_path)))
    assert done.exit_code == 3, done.stderr
    (line,) = [x for x in done.stderr.splitlines() if x.startswith("通知：")]
    assert "PILOTZONES_SMTP_HOST" in line
    assert [n.state for n in _notices(home)] == ["queued"] and not list((cli_home / "outbox").rglob("*.eml"))
