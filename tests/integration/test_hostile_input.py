"""Issue 12: hostile input, tried as an attacker would, through the real command.

Files over a limit are rejected at once in bounded memory and kept; what is not a regular file is
refused unread; configuration faults are one line and exit 2; secrets and control characters reach
no terminal, log or table (races and crashes: test_hostile_races.py). The big files come from the
`hostile_files` fixture (built in a temporary folder). On SQLite and PostgreSQL wherever the state
database is involved.
"""

from __future__ import annotations

import base64
import os
import shutil
import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import select

from benchmarks.hostile_input import with_limits
from pilotzones.store import models as m
from pilotzones.store.home import init_home
from pilotzones.store.session import session
from tests.integration.hostile import AT, YEAR, ZONE, archived, cli, measured, sha256, submissions, valid_file
from tests.support import rows_for, write

pytestmark = pytest.mark.integration


# -- 1. limits -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "limit"),
    [
        ("csv", "limits.file_bytes"),  # 1,000,000 rows, 41 MB: not read at all
        ("bomb", "limits.xlsx_inflated_bytes"),  # 2 MB inflating to 2 GiB: not opened
        ("sheet_bomb", "limits.xlsx_inflated_bytes"),
        ("xlsx", "limits.file_bytes"),  # 1,000,000 rows, 18.6 MB
    ],
)
def test_a_file_over_a_limit_is_rejected_at_once_in_bounded_memory_and_kept(home, hostile_files, name, limit):
    path = hostile_files(name)
    code, peak, err = measured(home, "submit", str(path), "--year", YEAR, "--at", AT)
    assert code == 3, err
    assert peak < 512 * 2**20  # was 3.5 to 7.7 GB
    listed = [line for line in err.splitlines() if line.startswith("  ")]
    assert len(listed) == 1 and limit in listed[0] and "Traceback" not in err
    (sub,) = submissions(home)
    assert sub.status == "rejected" and len(sub.errors) == 1 and limit in sub.errors[0]["message"]
    assert sub.size == path.stat().st_size and sub.sha256 == sha256(path)
    assert sha256(home.path / sub.archive_path) == sub.sha256  # kept byte for byte, like every file


def test_the_row_limit_stops_a_file_within_the_byte_limit_while_it_is_read(home, hostile_files, tmp_path):
    from pilotzones.intake.submit import submit

    home = init_home(home.path, with_limits(tmp_path / "raised.toml", file_bytes=100_000_000))
    out = submit(home, hostile_files("csv"), year=int(YEAR), kind="evaluation")
    assert not out.accepted and out.error_count == 1
    assert "limits.rows" in out.errors[0].message and "已停止读取" in out.errors[0].message


def test_the_errors_of_one_file_are_capped_on_stderr_in_the_database_and_in_the_notice(home, tmp_path):
    rows = [
        {"year": YEAR, "adcode": ZONE, "county": "新源县", "key": f"x{i}", "value": "1", "evidence": ""}
        for i in range(1_500)
    ]
    path = write(rows, tmp_path / "many-errors.csv")
    done = cli(home, "submit", str(path), "--year", YEAR, "--at", AT)
    assert done.returncode == 3, done.stderr
    listed = [line for line in done.stderr.splitlines() if line.startswith("  ")]
    assert len(listed) == 201 and "仅列出前200处" in listed[-1]
    total = int(done.stderr.split("共", 1)[1].split("处错误", 1)[0])
    assert total >= 1_500
    (sub,) = submissions(home)
    assert len(sub.errors) == 201 and sub.errors[-1]["omitted"] == total - 200
    with session(home.db_url) as s:
        (notice,) = s.scalars(select(m.OutboxNotice).where(m.OutboxNotice.kind == "submission_rejected"))
    assert f"存在{total}处问题" in notice.text and "仅列出前200处" in notice.text
    assert len(notice.text) < 100_000 and len(notice.html) < 200_000


# -- 2. what is not a regular file ---------------------------------------------------------------


def test_a_pipe_or_a_device_is_refused_before_it_is_opened_and_records_nothing(home, tmp_path):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)  # nobody writes to it: reading it would wait forever
    for path, what in ((fifo, "named pipe"), (Path("/dev/zero"), "character device")):
        done = cli(home, "submit", str(path), "--year", YEAR, timeout=60)
        assert done.returncode == 2 and what in done.stderr and len(done.stderr.splitlines()) == 1
    ok = valid_file(home, tmp_path)
    done = cli(home, "submit", str(ok), str(fifo), "--year", YEAR, timeout=60)  # a batch: nothing of it
    assert done.returncode == 2 and "named pipe" in done.stderr
    assert submissions(home) == [] and archived(home) == []


# -- 4. secrets ----------------------------------------------------------------------------------

PASSWORD = "Pa$$/w0rd!"


class _EchoingServer(socketserver.StreamRequestHandler):
    """A mail server that quotes back, decoded and encoded, whatever password it refuses."""

    def handle(self) -> None:
        say = self.wfile.write
        say(b"220 echo ESMTP\r\n")
        while line := self.rfile.readline():
            command = line.decode().strip()
            word = command.upper()
            if word.startswith(("EHLO", "HELO")):
                say(b"250-echo\r\n250 AUTH PLAIN LOGIN\r\n")
            elif word.startswith("AUTH PLAIN"):
                sent = command.split()[2]
                say(f"535 5.7.8 refused {base64.b64decode(sent)!r} ({sent})\r\n".encode())
            elif word.startswith("AUTH LOGIN"):
                say(b"334 UGFzc3dvcmQ6\r\n")
                sent = self.rfile.readline().decode().strip()
                say(f"535 5.7.8 wrong password {base64.b64decode(sent).decode()} ({sent})\r\n".encode())
            elif word.startswith("MAIL"):
                say(f"554 5.7.1 account notices:{PASSWORD} is locked\r\n".encode())
            elif word == "QUIT":
                say(b"221 bye\r\n")
                return
            else:
                say(b"250 OK\r\n")


@contextmanager
def echoing_server() -> Iterator[int]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _EchoingServer)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def _mail_env(monkeypatch, port: int, user: str | None) -> None:
    monkeypatch.setenv("PILOTZONES_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("PILOTZONES_SMTP_PORT", str(port))
    monkeypatch.setenv("PILOTZONES_SMTP_PASSWORD", PASSWORD)
    monkeypatch.setenv("PILOTZONES_SMTP_ATTEMPTS", "1")
    monkeypatch.setenv("PILOTZONES_MAIL_FROM", "notices@example.org")
    if user:
        monkeypatch.setenv("PILOTZONES_SMTP_USER", user)
    else:
        monkeypatch.delenv("PILOTZONES_SMTP_USER", raising=False)


def _leaks(text: str | None) -> bool:
    encoded = base64.b64encode(PASSWORD.encode()).decode()
    return bool(text) and (PASSWORD in text or "w0rd" in text or encoded in text)


@pytest.mark.usefixtures("prefect_server")
def test_a_password_the_mail_server_echoes_is_kept_printed_and_reported_nowhere(home, monkeypatch):
    import asyncio

    from pilotzones.flows.notices import evaluation_call
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId

    from pilotzones.notices import NoticesUnsent
    from tests.integration.cli_runs import flow_runs

    with echoing_server() as port:
        _mail_env(monkeypatch, port, user="notices")  # the login is refused, the password quoted back
        with pytest.raises(NoticesUnsent) as failed:
            evaluation_call(home=str(home.path), year=int(YEAR))
        assert "535" in str(failed.value) and not _leaks(str(failed.value))
        with session(home.db_url) as s:
            run = s.scalars(select(m.StageRun).order_by(m.StageRun.id.desc())).first()
        assert run is not None and run.outcome == "failed" and "535" in run.message and not _leaks(run.message)
        (flow_run,) = [r for r in flow_runs([run.flow_run_id])]
        assert "535" in flow_run.state.message and not _leaks(flow_run.state.message)

        async def logs() -> list[str]:
            async with get_client() as client:
                flt = LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run.id]))
                return [r.message for r in await client.read_logs(log_filter=flt)]

        assert not any(_leaks(line) for line in asyncio.run(logs()))

        _mail_env(monkeypatch, port, user=None)  # no login: each message is refused, quoting it
        done = cli(home, "deliver")
        assert done.returncode == 1 and "554" in done.stderr + done.stdout and not _leaks(done.stderr + done.stdout)
        with session(home.db_url) as s:
            answers = list(s.scalars(select(m.OutboxNotice.last_answer)))
        assert answers and all(a and "554" in a and not _leaks(a) for a in answers)


# -- 5. configuration faults ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("postgresql+psycopg://pz:secret@127.0.0.1:99999/state", "invalid port"),
        ("postgresql+psycopg://pz:secret@127.0.0.1:port/state", "不是可用的数据库地址"),
        ("oracle+nosuchdriver://pz:secret@127.0.0.1/state", "不是可用的数据库地址"),
        ("postgresql+psycopg://pz:secret@127.0.0.1/state?sslmode=sometimes", "invalid sslmode"),
    ],
)
def test_a_database_url_that_cannot_work_is_one_line_and_exit_2(tmp_path, monkeypatch, url, says):
    monkeypatch.delenv("PILOTZONES_DATABASE_URL", raising=False)
    home = init_home(tmp_path / "home")
    done = cli(home, "status", "--year", YEAR, PILOTZONES_DATABASE_URL=url)
    assert done.returncode == 2, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and says in done.stderr and "secret" not in done.stderr


def test_a_read_only_database_is_one_line_and_exit_2_and_keeps_nothing(home, tmp_path, db_url):
    path = valid_file(home, tmp_path)
    if db_url.startswith("sqlite"):
        read_only = f"sqlite:///file:{db_url.removeprefix('sqlite:///')}?mode=ro&uri=true"
    else:  # as a hot standby answers
        read_only = db_url + "?options=-c%20default_transaction_read_only%3Don"
    done = cli(home, "submit", str(path), "--year", YEAR, "--at", AT, PILOTZONES_DATABASE_URL=read_only)
    assert done.returncode == 2, done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert "不可写" in line and "[SQL" not in line and "parameters" not in line
    assert submissions(home) == [] and archived(home) == [] and not list(home.archive.rglob("*.part"))


def test_an_archive_that_cannot_be_written_is_one_line_and_exit_2_and_records_nothing(home, tmp_path):
    path = valid_file(home, tmp_path)
    digest = sha256(path)
    (home.archive / digest[:2]).write_bytes(b"")  # a file where the archive needs a folder
    done = cli(home, "submit", str(path), "--year", YEAR, "--at", AT)
    assert done.returncode == 2 and "无法写入存档" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert submissions(home) == [] and not list(home.archive.rglob("*.part"))
    if os.geteuid() != 0:  # permissions mean nothing to root
        (home.archive / digest[:2]).unlink()
        home.archive.chmod(0o555)
        try:
            done = cli(home, "submit", str(path), "--year", YEAR, "--at", AT)
        finally:
            home.archive.chmod(0o755)
        assert done.returncode == 2 and "无法写入存档" in done.stderr


def test_a_command_that_would_send_refuses_a_delivery_that_cannot(home):
    for args in (["evaluation", "run", "--year", YEAR, "--approve"], ["deliver"]):
        done = cli(home, *args, PILOTZONES_DELIVERY="smtp")
        assert done.returncode == 2, done.stderr
        (line,) = done.stderr.strip().splitlines()
        assert "PILOTZONES_SMTP_HOST" in line and "Traceback" not in done.stderr


# -- 7. text reaching terminals ------------------------------------------------------------------


def test_control_characters_from_a_file_never_reach_the_terminal(home, tmp_path):
    county = "新源县\x1b]0;PWNED\x07\u202e反转"
    rows = rows_for(home, ZONE, int(YEAR))
    rows[0] = dict(rows[0], county=county, key="1\r\n  第99行 [2] 伪造的错误")
    path = write(rows, tmp_path / "x\x1b[2Jy.csv")
    done = cli(home, "submit", str(path), "--year", YEAR, "--at", AT)
    assert done.returncode == 3
    for raw in ("\x1b", "\x07", "\r", "\u202e"):
        assert raw not in done.stderr
    assert "\\x1b]0;PWNED\\x07" in done.stderr and "x\\x1b[2Jy.csv" in done.stderr
    assert not any(line.startswith("  第99行") for line in done.stderr.splitlines())  # no forged line

    reason = "网络故障\x1b[2J\r\n伪造"
    extended = cli(home, "extend", "--year", YEAR, "--stage", "evaluation", "--adcode", ZONE,
                   "--until", "2023-12-25T00:00:00", "--reason", reason, "--by", "op\x1b[31m")  # fmt: skip
    assert extended.returncode == 0, extended.stderr
    assert "\x1b" not in extended.stdout + extended.stderr and "\r" not in extended.stdout


def test_a_file_that_names_no_sender_does_not_claim_a_notice_was_queued(home, tmp_path):
    path = tmp_path / "no-sender.csv"
    path.write_text("year,key,value\n2023,1,5\n", encoding="utf-8")
    done = cli(home, "submit", str(path), "--year", YEAR, "--at", AT)
    assert done.returncode == 3 and "未发退回通知" in done.stderr and "已排队" not in done.stderr
    with session(home.db_url) as s:
        assert list(s.scalars(select(m.OutboxNotice))) == []


@pytest.fixture(autouse=True)
def _no_leftover_scratch(tmp_path):
    yield
    shutil.rmtree(tmp_path / "scratch", ignore_errors=True)
