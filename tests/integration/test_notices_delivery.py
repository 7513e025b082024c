"""Notices end to end: built from real stage data, queued in the database, sent to a real SMTP
server on loopback (aiosmtpd), on SQLite and PostgreSQL."""

from __future__ import annotations

import logging
from datetime import timedelta
from email import message_from_bytes, policy

import pytest
from sqlalchemy import select

from pilotzones import clock
from pilotzones.notices import (
    KINDS,
    NoticesUnsent,
    RetryPolicy,
    call_notices,
    candidate_notices,
    deliver,
    evaluation_notices,
    outbox_counts,
    queue,
    raise_if_unsent,
    submission_rejected_notice,
    unsent,
)
from pilotzones.notices.delivery import EmlTransport
from pilotzones.rules import selection
from pilotzones.rules.proposal_models import CandidateSelection
from pilotzones.stages import candidates, evaluation
from pilotzones.store import ledger
from pilotzones.store import models as m
from pilotzones.store.home import PROGRAMME_FILE, Home
from pilotzones.store.session import session
from tests.smtp_server import Recorder, free_port, self_signed_cert, smtp_server
from tests.support import full_marks

pytestmark = pytest.mark.integration

PILOTS = ["654025", "654002", "654321", "650521", "652926", "653224"]
PASSWORD = "s3cret-Pa55-never-stored"
# The kinds of the cycle's stages; those between evaluations arrive once in test_between.py, 公示's
# drafts and answers in test_publicity.py.
CYCLE_KINDS = {k for k, v in KINDS.items() if v.stage not in ("rectification", "visits", "meetings", "publicity")}


# -- data ----------------------------------------------------------------------------------------


def _record(home: Home, **fields) -> int:
    now = clock.now()
    base = {
        "filename": "file.csv",
        "sha256": "0" * 64,
        "size": 1,
        "archive_path": "archive/x",
        "recorded_at": now,
        "on_time": True,
        "errors": [],
    }
    with session(home.db_url) as s:
        return ledger.record_submission(s, **{**base, **fields}).id


def send_evaluation(home: Home, year: int, scales: dict[str, float], extra: dict | None = None) -> None:
    """Accepted on-time files, as `submit` records them; `extra` adds rows (key -> value) per zone."""
    at = home.programme.moment("evaluation_deadline", year) - timedelta(days=3)
    for z, scale in scales.items():
        rows = full_marks(home, z, year, scale) + [
            {"key": k, "value": v, "evidence": ""} for k, v in (extra or {}).get(z, {}).items()
        ]
        values = [
            {
                "adcode": z,
                "key": r["key"],
                "value": r["value"],
                "evidence": r["evidence"] or None,
                "extra": None,
            }
            for r in rows
        ]
        _record(
            home,
            values=values,
            kind="evaluation",
            year=year,
            sender=z,
            received_at=at,
            status="accepted",
        )


def evaluate(home: Home, year: int) -> dict:
    """The evaluation stage's steps, published (what the flow does, without Prefect)."""
    c = evaluation.collect(home, year)
    scores = evaluation.score(home, c)
    ranked = evaluation.rank_and_card(home, scores)
    swaps = evaluation.disqualify_and_replace(home, year, ranked)
    proposal = evaluation.build_proposal(home, c, scores, ranked, swaps)
    evaluation.propose(home, c, scores, proposal, None)
    evaluation.publish(home, year)
    result = evaluation.published_result(home, year)
    assert result is not None
    return result.as_json()


def nominate(home: Home, year: int) -> tuple[dict, int]:
    """A published candidate list: 温宿县 (not in the directory; its nomination gives an address)
    and 阿克苏市; two nominations that do not count."""
    at = home.programme.moment("nomination_deadline", year) - timedelta(days=5)
    sid = _record(
        home,
        values=[
            {
                "adcode": "652922",
                "key": "nomination",
                "value": "652922",
                "evidence": None,
                "extra": {"county": "温宿县", "contact_email": "wensu.652922@example.org", "row": 2},
            }
        ],
        kind="nomination",
        year=year,
        sender="652900",
        received_at=at,
        status="accepted",
    )
    proposal = {
        "year": year,
        "selected": [
            {
                "adcode": "652922",
                "county": "温宿县",
                "rank": 1,
                "review_score": 93.5,
                "prefecture": "652900",
                "contact_email": "wensu.652922@example.org",
                "submission_id": sid,
            },
            {
                "adcode": "652901",
                "county": "阿克苏市",
                "rank": 2,
                "review_score": 90.0,
                "prefecture": "652900",
                "contact_email": None,
                "submission_id": sid,
            },
        ],
        "rejected": [
            {
                "adcode": "654025",
                "reason": selection.PILOT.format(zone="试验区"),
                "prefecture": "654000",
                "submission_id": sid,
                "row": 2,
            },
            {
                "adcode": "654203",
                "reason": selection.NO_REVIEW,
                "prefecture": "654200",
                "submission_id": sid,
                "row": 4,
            },
        ],
        "unmatched_reviews": [],
        "nominations": 4,
    }
    candidates.propose(home, year, CandidateSelection.model_validate(proposal), None)
    candidates.publish(home, year)
    return proposal, sid


REJECTED_ERRORS = [
    {"row": 7, "key": "29.village_doctors", "rule": "§3", "message": "应为非负整数"},
    {"row": 3, "key": "2", "rule": "R3", "message": "数值95超出该项分值（0–20）"},
    {"row": None, "key": None, "rule": "R11", "message": "文件包含其他县（市、区）的数据"},
]


def reject_file(home: Home, year: int, sender: str = "654002") -> int:
    at = home.programme.moment("evaluation_deadline", year) - timedelta(days=10)
    return _record(
        home,
        kind="evaluation",
        year=year,
        sender=sender,
        received_at=at,
        status="rejected",
        errors=REJECTED_ERRORS,
    )


def smtp_env(monkeypatch, port: int, security: str = "none", user: str | None = None) -> None:
    monkeypatch.setenv("PILOTZONES_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("PILOTZONES_SMTP_PORT", str(port))
    monkeypatch.setenv("PILOTZONES_SMTP_SECURITY", security)
    monkeypatch.setenv("PILOTZONES_MAIL_FROM", "jcws@example.org")
    monkeypatch.setenv("PILOTZONES_SMTP_ATTEMPTS", "2")
    monkeypatch.setenv("PILOTZONES_SMTP_BACKOFF", "0.01")
    monkeypatch.setenv("PILOTZONES_SMTP_TIMEOUT", "5")
    if user:
        monkeypatch.setenv("PILOTZONES_SMTP_USER", user)
        monkeypatch.setenv("PILOTZONES_SMTP_PASSWORD", PASSWORD)


def rows(home: Home, **where) -> list[m.OutboxNotice]:
    with session(home.db_url) as s:
        q = select(m.OutboxNotice).order_by(m.OutboxNotice.id)
        for k, v in where.items():
            q = q.where(getattr(m.OutboxNotice, k) == v)
        return list(s.scalars(q))


def body(msg) -> tuple[str, str]:
    """(plain text, HTML) of a received notice: multipart/alternative, or mixed around it with its files."""
    assert msg.get_content_type() == ("multipart/mixed" if list(msg.iter_attachments()) else "multipart/alternative")
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    return text, html


def by_kind_about(server: Recorder) -> dict[tuple[str, str], object]:
    out = {}
    for r in server.received:
        msg = r.message
        out[(msg["X-Notice-Kind"], msg["X-Notice-About"])] = (msg, r)
    return out


# -- every kind ----------------------------------------------------------------------------------


def test_every_kind_arrives_once_with_its_headers_recipients_and_figures(home, monkeypatch):
    """Calls, reminders, a rejected file, the candidate stage and the evaluation stage: each notice
    reaches its addressee (cc its prefecture where §5 says so) with the figures it must show; a
    second run queues and sends nothing."""
    send_evaluation(home, 2022, dict(zip(PILOTS, [0.9, 0.8, 0.3, 0.7, 0.6, 0.2], strict=True)))
    evaluate(home, 2022)
    cand, _ = nominate(home, 2023)
    # Five zones have sent their 2023 file when the reminder goes out; 洛浦县 has not.
    scales = dict(zip(PILOTS, [0.9, 0.8, 0.25, 0.7, 0.6, 0.2], strict=True))
    bonus = {"654025": {"40.national": "1", "40.regional": "2", "42": "12"}}
    send_evaluation(home, 2023, {z: s for z, s in scales.items() if z != "653224"}, bonus)
    notices = call_notices(home, 2023, "nomination_call") + call_notices(home, 2023, "nomination_reminder")
    notices += call_notices(home, 2023, "evaluation_call") + call_notices(home, 2023, "evaluation_reminder")
    send_evaluation(home, 2023, {"653224": 0.2})
    rejected_id = reject_file(home, 2023)
    notices.append(submission_rejected_notice(home, rejected_id))
    notices += candidate_notices(home, 2023, cand)
    result = evaluate(home, 2023)
    assert result["disqualified"] == ["653224", "654321"]
    notices += evaluation_notices(home, 2023, result)
    assert {n.kind for n in notices} == CYCLE_KINDS

    assert queue(home, notices) == len(notices) == 57
    with smtp_server() as (server, port):
        smtp_env(monkeypatch, port)
        report = deliver(home)
        assert (report.sent, report.unsent) == (57, 0), report
        assert len(server.received) == 57
        assert len(set(server.message_ids())) == 57

        got = by_kind_about(server)
        assert {k for k, _ in got} == CYCLE_KINDS
        assert sum(1 for k, _ in got if k == "nomination_call") == 15
        # The reminder goes to everyone but 阿克苏地区, whose nomination file was accepted.
        assert sum(1 for k, _ in got if k == "nomination_reminder") == 14
        assert ("nomination_reminder", "652900") not in got
        assert [a for k, a in got if k == "evaluation_reminder"] == ["653224"]

        db = {(r.kind, r.about, r.recipient): r for r in rows(home)}
        for (kind, about), (msg, env) in got.items():
            row = next(r for (k, a, _), r in db.items() if (k, a) == (kind, about))
            assert msg["Message-ID"] == row.message_id
            assert msg["X-Notice-Year"] == "2023"
            assert msg["Subject"].startswith("关于") and row.doc_number in msg["Subject"]
            text, html = body(msg)
            assert row.doc_number in text and "2023年" in text
            assert "新疆维吾尔自治区卫生健康委员会" in text and "<!DOCTYPE html>" in html
            assert env.mail_from == "jcws@example.org"
            if KINDS[kind].cc_prefecture:
                pref = about[:4] + "00"
                assert f"wjw.{pref}@example.org" in env.rcpt_tos, (kind, about)
                assert f"wjw.{pref}@example.org" in msg["Cc"]

        # Addressees: the directory, or the address a nomination gave for a county not in it.
        msg, env = got[("evaluation_result", "654025")]
        assert env.rcpt_tos == ["wjw.654025@example.org", "wjw.654000@example.org"]
        assert "新源县卫生健康委员会" in msg["To"]
        msg, env = got[("promotion", "652922")]
        assert env.rcpt_tos[0] == "wensu.652922@example.org" and "wjw.652900@example.org" in env.rcpt_tos
        _, env = got[("evaluation_summary", "650000")]
        assert env.rcpt_tos == ["jcws.650000@example.org"]

        # evaluation_result: category scores against the maximum, bonus and why, rank, card line.
        ranking = {r["adcode"]: r for r in result["ranking"]}
        top = ranking["654025"]
        text, html = body(got[("evaluation_result", "654025")][0])
        assert f"总分：{top['total']:g}分，排名第1位（共6个试验区）" in text
        assert "强化组织领导：" in text and "/ 150分" in text
        assert f"二、加分项：{top['bonus']:g}分" in text and top["bonus"] == 66
        assert "国家主流媒体宣传报道1次，每次20分" in text and "填报数量12（达到20加100分，达到10加30分）" in text
        best_carded = max(r["total"] for r in result["ranking"] if r["yellow_card"])
        assert f"高{top['total'] - best_carded:g}分" in text
        assert "<td>强化组织领导</td>" in html
        text, _ = body(got[("evaluation_result", "653224")][0])
        assert "本年度被亮黄牌" in text and "排名第6位（共6个试验区）" in text

        # yellow_card: the rectification deadline is the evaluation date + 6 months.
        carded = [a for k, a in got if k == "yellow_card"]
        assert sorted(carded) == sorted(r["adcode"] for r in result["ranking"] if r["yellow_card"])
        text, _ = body(got[("yellow_card", "654321")][0])
        assert "2022年度监测评价中已被亮黄牌" in text and "已予取消" in text
        text, _ = body(got[("evaluation_summary", "650000")][0])
        # Both carded zones are disqualified by their card: neither is told to rectify.
        assert "因连续被亮黄牌，取消试验区资格（见三），不再限期整改" in text and "前完成整改" not in text
        assert "温宿县递补洛浦县的名额" in text and "阿克苏市递补布尔津县的名额" in text

        # disqualification and promotion say what follows.
        text, _ = body(got[("disqualification", "653224")][0])
        assert "2022、2023年度" in text and "自2024年度起" in text and "温宿县递补" in text
        text, _ = body(got[("promotion", "652922")][0])
        assert "自2024年度起参加试验区监测评价" in text and "洛浦县" in text

        # submission_rejected: every error by row and key.
        text, html = body(got[("submission_rejected", "654002")][0])
        assert "第3行 [2]：数值95超出该项分值（0–20）（依据《自治区基层卫生健康综合试验区监测评价细则(试行)》" in text
        assert "（R3）" not in text
        assert "第7行 [29.village_doctors]：应为非负整数" in text
        assert "全文件：文件包含其他县（市、区）的数据" in text
        assert text.index("全文件") < text.index("第3行") < text.index("第7行")
        assert "<td>29.village_doctors</td>" in html

        # Candidate stage: the list to the nominating prefectures and to each selected county.
        text, _ = body(got[("nomination_rejected", "654000")][0])
        assert "新源县（654025，推荐表第2行）：已是试验区" in text
        text, _ = body(got[("candidate_selection", "652900")][0])
        assert "1. 温宿县（阿克苏地区），评审得分93.5分" in text
        text, _ = body(got[("candidate_selection", "652922")][0])
        assert "位列第1位" in text

        # Run again: nothing is queued or sent twice.
        again = (
            call_notices(home, 2023, "nomination_call")
            + candidate_notices(home, 2023, cand)
            + evaluation_notices(home, 2023, evaluation.published_result(home, 2023).as_json())
        )
        assert queue(home, again) == 0
        second = deliver(home)
        assert (second.sent, second.unsent) == (0, 0)
        assert len(server.received) == 57
    assert outbox_counts(home, 2023) == {
        "queued": 0,
        "sending": 0,
        "sent": 57,
        "failed": 0,
        "no_recipient": 0,
    }
    # A printable copy of each notice stays in the home.
    assert len(list((home.reports / "notices" / "2023").glob("*.html"))) == 57


# -- failures ------------------------------------------------------------------------------------


def _evaluated_2022(home: Home) -> int:
    send_evaluation(home, 2022, dict(zip(PILOTS, [0.9, 0.8, 0.3, 0.7, 0.6, 0.2], strict=True)))
    return queue(home, evaluation_notices(home, 2022, evaluate(home, 2022)))


def test_server_down_then_451_midway_then_a_dropped_line_lose_nothing_and_send_nothing_twice(home, monkeypatch):
    """Each failed run reports unsent notices (and the stage fails); the next run sends only those."""
    total = _evaluated_2022(home)
    assert total == 9  # 6 results, 2 yellow cards, the summary
    port = free_port()
    smtp_env(monkeypatch, port)

    down = deliver(home)  # nothing listens on the port
    assert (down.sent, down.queued) == (0, 9)
    assert "无法连接邮件服务器" in (down.error or "")
    with pytest.raises(NoticesUnsent, match="排队9份"):
        raise_if_unsent(down)

    seen: list[str] = []
    with smtp_server(Recorder(fail_from=4), port=port) as (server, _):
        busy = deliver(home)
        seen += server.message_ids()
    assert (busy.sent, busy.queued) == (3, 6)
    waiting = [u for u in unsent(home, 2022) if u["state"] == "queued"]
    assert len(waiting) == 6 and all(u["last_answer"].startswith("451") for u in waiting)
    assert {u["attempts"] for u in waiting} <= {1, 2}

    # The line drops at the first message; the run reconnects and sends the rest.
    with smtp_server(Recorder(drop_at={1}), port=port) as (server, _):
        done = deliver(home)
        seen += server.message_ids()
    assert (done.sent, done.unsent) == (6, 0), done
    raise_if_unsent(done)

    assert len(seen) == len(set(seen)) == 9
    assert set(seen) == {r.message_id for r in rows(home)}
    assert outbox_counts(home, 2022)["sent"] == 9

    with smtp_server(port=port) as (server, _):
        assert deliver(home).sent == 0
        assert server.received == []


def test_a_5xx_answer_fails_that_notice_for_the_run_and_keeps_the_answer(home, monkeypatch):
    """550 for one addressee: no retry within the run, state failed with the server's answer; the
    others go out."""
    _evaluated_2022(home)
    refused = {"wjw.654002@example.org": "550 5.1.1 <wjw.654002@example.org>: mailbox unknown"}
    with smtp_server(Recorder(refuse=refused)) as (server, port):
        smtp_env(monkeypatch, port)
        report = deliver(home)
        assert (report.sent, report.failed, report.queued) == (8, 1, 0)
        assert len(server.received) == 8
        with pytest.raises(NoticesUnsent, match=r"发送失败1份.*核对收件地址.*下次运行会发送余下的通知"):
            raise_if_unsent(report)
    (failed,) = rows(home, state="failed")
    assert (failed.kind, failed.about, failed.attempts, failed.last_code) == (
        "evaluation_result",
        "654002",
        1,
        550,
    )
    assert "mailbox unknown" in failed.last_answer
    assert [(u["about"], u["state"]) for u in unsent(home, 2022)] == [("654002", "failed")]


def test_a_notice_refused_with_5xx_is_sent_by_the_next_run_once_the_server_takes_it(home, monkeypatch):
    """Contract §5: a notice that could not be sent stays queued and the next run sends it. Two
    mailboxes answer 550; one is put right: the next run (and `deliver`) sends it, exactly once. The
    other, still refused, stays failed with the server's answer, tried once a run, never sent."""
    from tests.cli_home import run

    _evaluated_2022(home)
    refused = {
        "wjw.654002@example.org": "550 5.1.1 <wjw.654002@example.org>: mailbox unknown",
        "wjw.654025@example.org": "550 5.7.1 <wjw.654025@example.org>: relay denied",
    }
    with smtp_server(Recorder(refuse=dict(refused))) as (server, port):
        smtp_env(monkeypatch, port)
        first = deliver(home)
        assert (first.sent, first.failed, first.queued) == (7, 2, 0)

        del server.refuse["wjw.654002@example.org"]  # the mailbox is created
        second = deliver(home)
        assert (second.sent, second.failed, second.queued) == (1, 1, 0)
        assert server.received[-1].rcpt_tos[0] == "wjw.654002@example.org"

        third = run(home.path, "deliver")  # the command, as an operator retries
        assert third.exit_code == 1 and "发送失败1份" in third.stderr, third.output
        assert "已发送0份" in third.stdout

        del server.refuse["wjw.654025@example.org"]
        fourth = run(home.path, "deliver")
        assert fourth.exit_code == 0 and "已发送1份" in fourth.stdout, fourth.output
        assert run(home.path, "deliver").exit_code == 0

    seen = server.message_ids()
    assert len(seen) == len(set(seen)) == 9
    assert set(seen) == {r.message_id for r in rows(home)}
    # One try a run: 654025 refused by three runs, sent by the fourth; the fifth tried nothing.
    by_about = {r.about: r for r in rows(home, kind="evaluation_result")}
    assert (by_about["654002"].attempts, by_about["654025"].attempts) == (2, 4)
    assert {r.state for r in rows(home)} == {"sent"}
    assert outbox_counts(home, 2022)["sent"] == 9


def test_an_address_still_refused_stays_failed_and_nothing_is_sent_twice(home, monkeypatch):
    """Runs after runs against a mailbox that stays refused: each run tries the notice once (no loop
    within a run), records the answer for `status`, fails the stage; the accepted ones never go again."""
    _evaluated_2022(home)
    refused = {"wjw.654002@example.org": "550 5.1.1 <wjw.654002@example.org>: mailbox unknown"}
    with smtp_server(Recorder(refuse=refused)) as (server, port):
        smtp_env(monkeypatch, port)
        reports = [deliver(home, year=2022) for _ in range(3)]
        assert [(r.sent, r.failed, r.queued) for r in reports] == [(8, 1, 0), (0, 1, 0), (0, 1, 0)]
        assert len(server.received) == 8 and len(set(server.message_ids())) == 8
    (failed,) = rows(home, state="failed")
    assert failed.about == "654002" and failed.attempts == 3 and failed.last_code == 550
    assert "mailbox unknown" in failed.last_answer
    assert outbox_counts(home, 2022) == {"queued": 0, "sending": 0, "sent": 8, "failed": 1, "no_recipient": 0}


# -- TLS and login -------------------------------------------------------------------------------


def test_starttls_with_a_self_signed_certificate_and_login_and_the_password_is_never_kept(
    home, monkeypatch, tmp_path, caplog
):
    """STARTTLS verified against the test's own CA, then AUTH; a wrong password sends nothing and
    says so; implicit TLS works too. The password appears in neither the database nor the log."""
    caplog.set_level(logging.DEBUG)
    cert, key = self_signed_cert(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    notices = call_notices(home, 2023, "evaluation_call")
    queue(home, notices[:3])
    accounts = {"jcws": PASSWORD}
    with smtp_server(Recorder(accounts={"jcws": "another"}), tls=(cert, key)) as (server, port):
        smtp_env(monkeypatch, port, "starttls", user="jcws")
        refused = deliver(home)
        assert (refused.sent, refused.queued) == (0, 3)
        assert "535" in (refused.error or "")
    with smtp_server(Recorder(accounts=accounts), tls=(cert, key)) as (server, port):
        smtp_env(monkeypatch, port, "starttls", user="jcws")
        report = deliver(home)
        assert (report.sent, report.unsent) == (3, 0), report
        assert server.logins and server.logins[0] == "jcws"
    queue(home, notices[3:])
    with smtp_server(Recorder(accounts=accounts), tls=(cert, key), implicit_tls=True) as (server, port):
        smtp_env(monkeypatch, port, "ssl", user="jcws")
        report = deliver(home)
        assert (report.sent, report.unsent) == (3, 0), report
    assert PASSWORD not in caplog.text
    for r in rows(home):
        assert all(PASSWORD not in str(v) for v in vars(r).values())


def test_a_server_without_starttls_is_not_used_in_clear_text(home, monkeypatch):
    """security=starttls against a server that does not offer it: nothing is sent, all stays queued."""
    queue(home, call_notices(home, 2023, "evaluation_call")[:1])
    with smtp_server() as (server, port):
        smtp_env(monkeypatch, port, "starttls")
        report = deliver(home)
        assert (report.sent, report.queued) == (0, 1) and report.error
        assert server.received == []


# -- hostile text --------------------------------------------------------------------------------

EVIL_NAME = '<script>alert("x")</script>县\r\nBcc: evil@example.org\r\nX-Injected: 1'


def test_a_county_name_with_script_and_crlf_renders_inert_and_adds_no_header(home, monkeypatch):
    """From the ranking (the data) and from the directory (the programme file), the name shows as
    text: escaped in HTML, on one line in headers, and no Bcc or other header is added."""
    path = home.path / PROGRAMME_FILE
    text = path.read_text(encoding="utf-8")
    evil_toml = EVIL_NAME.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "\\r").replace("\n", "\\n")
    path.write_text(
        text.replace('name = "新源县卫生健康委员会"', f'name = "{evil_toml}"'),
        encoding="utf-8",
    )
    home = Home(home.path)
    assert any(c.name == EVIL_NAME for c in home.programme.contacts)
    proposal = {
        "year": 2023,
        "evaluated": 1,
        "ranking": [
            {
                "adcode": "654025",
                "county": EVIL_NAME,
                "base": 500.0,
                "bonus": 0.0,
                "total": 500.0,
                "rank": 1,
                "yellow_card": True,
                "flags": [],
                "below": 0,
                "submission_id": None,
            }
        ],
        "disqualified": [],
        "promoted": [],
        "vacant": [],
        "vacant_seats": 0,
        "late": [],
        "card_history": {},
    }
    assert queue(home, evaluation_notices(home, 2023, proposal)) == 3
    with smtp_server() as (server, port):
        smtp_env(monkeypatch, port)
        assert deliver(home).sent == 3
    for r in server.received:
        assert "evil@example.org" not in r.rcpt_tos
        head = r.raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
        names = [line.split(":", 1)[0].lower() for line in head.split("\r\n") if line and not line[0].isspace()]
        assert "bcc" not in names and "x-injected" not in names
        msg = r.message
        _, html = body(msg)
        assert "<script>" not in html and "&lt;script&gt;" in html
        if msg["X-Notice-Kind"] != "evaluation_summary":
            assert "\n" not in msg["Subject"] and "\n" not in msg["To"]
            assert "<script>" in msg["To"]  # shown as text, inside a quoted display name
            assert msg["To"].addresses[0].addr_spec == "wjw.654025@example.org"


def test_a_hostile_contact_address_is_no_address(home, monkeypatch):
    """An address with CRLF in a nomination is not used: the notice waits as no_recipient."""
    proposal = {
        "year": 2023,
        "selected": [
            {
                "adcode": "652922",
                "county": "温宿县",
                "rank": 1,
                "review_score": 90.0,
                "prefecture": "652900",
                "contact_email": "a@example.org\r\nBcc: evil@example.org",
                "submission_id": 1,
            }
        ],
        "rejected": [],
    }
    queue(home, candidate_notices(home, 2023, proposal))
    assert [r.state for r in rows(home, about="652922")] == ["no_recipient"]


# -- no address yet, no SMTP ---------------------------------------------------------------------


def test_a_notice_without_an_address_is_kept_reported_and_sent_once_the_directory_has_it(home, monkeypatch):
    """A promoted county missing from the directory and without a nomination address."""
    proposal = {
        "year": 2023,
        "evaluated": 0,
        "ranking": [],
        "disqualified": ["653224"],
        "promoted": [{"adcode": "653226", "county": "于田县", "replaces": "653224"}],
        "vacant": [],
        "vacant_seats": 0,
        "late": [],
        "card_history": {"653224": [2022]},
    }
    queue(home, evaluation_notices(home, 2023, proposal))
    with smtp_server() as (server, port):
        smtp_env(monkeypatch, port)
        report = deliver(home)
        assert (report.sent, report.no_recipient) == (2, 1)
        assert outbox_counts(home, 2023)["no_recipient"] == 1
        assert [u["about"] for u in unsent(home, 2023)] == ["653226"]
        with pytest.raises(NoticesUnsent, match="1份没有收件地址"):
            raise_if_unsent(report)
        # Another stage answers only for its own notices.
        assert deliver(home, year=2023, stage="candidates").unsent == 0

        path = home.path / PROGRAMME_FILE
        path.write_text(
            path.read_text(encoding="utf-8")
            + '\n[[contacts]]\nadcode = "653226"\nname = "于田县卫生健康委员会"\n'
            + 'email = "wjw.653226@example.org"\n',
            encoding="utf-8",
        )
        later = deliver(home)
        assert (later.sent, later.unsent) == (1, 0)
        assert server.received[-1].rcpt_tos == ["wjw.653226@example.org", "wjw.653200@example.org"]
        assert len(server.received) == 3


def test_without_an_smtp_host_notices_are_eml_files_in_the_outbox_once_each(home, monkeypatch):
    """Unset SMTP: one .eml per identity (multipart, UTF-8 subject, identity headers), marked sent;
    document numbers are allocated once and never reused."""
    monkeypatch.delenv("PILOTZONES_SMTP_HOST", raising=False)
    first = call_notices(home, 2023, "nomination_call")
    assert queue(home, first) == 15
    report = deliver(home)
    assert (report.sent, report.unsent) == (15, 0)
    files = sorted(home.outbox.rglob("*.eml"))
    assert len(files) == 15
    msg = message_from_bytes(files[0].read_bytes(), policy=policy.default)
    assert msg.get_content_type() == "multipart/alternative"
    assert msg["X-Notice-Kind"] == "nomination_call" and msg["X-Notice-Year"] == "2023"
    assert msg["Subject"] == "关于推荐2023年度候补试验区的通知（新卫基层函〔2023〕1号）"
    text, _ = body(msg)
    assert "2023年9月30日23时59分59秒" in text and "2023年9月1日" in text
    stamps = {f: f.stat().st_mtime_ns for f in files}

    assert queue(home, first) == 0
    assert deliver(home).sent == 0
    assert {f: f.stat().st_mtime_ns for f in sorted(home.outbox.rglob("*.eml"))} == stamps

    queue(home, call_notices(home, 2023, "evaluation_call"))
    numbers = [(r.doc_year, r.doc_seq) for r in rows(home)]
    assert sorted(numbers) == [(2023, n) for n in range(1, 22)]


class _FlakyFiles(EmlTransport):
    """`.eml` files, but the disk refuses the writes numbered in `fail` (counted from 1)."""

    def __init__(self, folder, fail: dict[int, Exception]) -> None:
        super().__init__(folder)
        self.fail, self.calls, self.written = fail, 0, []

    def send(self, msg, sender, rcpts, name):
        self.calls += 1
        if self.calls in self.fail:
            raise self.fail[self.calls]
        self.written.append(msg["Message-ID"])
        return super().send(msg, sender, rcpts, name)


def test_eml_chunks_count_each_try_once_and_a_write_failing_midway_loses_and_repeats_nothing(home, monkeypatch):
    """The .eml outbox is marked per chunk: a transient failure midway is retried, a lasting one
    fails that notice only, and the notices after it are tried once each."""
    monkeypatch.delenv("PILOTZONES_SMTP_HOST", raising=False)
    assert queue(home, call_notices(home, 2023, "nomination_call")) == 15
    flaky = _FlakyFiles(home.outbox, {3: OSError(28, "No space left on device"), 6: ValueError("bad")})
    report = deliver(home, transport=flaky, retry=RetryPolicy(attempts=3, backoff=0))
    assert (report.sent, report.failed, report.queued) == (14, 1, 0)
    assert len(flaky.written) == len(set(flaky.written)) == 14
    by_attempts = sorted((r.attempts, r.state) for r in rows(home))
    # The third notice took two tries; the fifth write (sixth call) failed for the run; others one try.
    assert by_attempts == [(1, "failed")] + [(1, "sent")] * 13 + [(2, "sent")]
    stamps = {f: f.stat().st_mtime_ns for f in home.outbox.rglob("*.eml")}
    again = deliver(home)  # the next run writes the failed one, and only it
    assert (again.sent, again.unsent) == (1, 0)
    assert {f: f.stat().st_mtime_ns for f in home.outbox.rglob("*.eml") if f in stamps} == stamps
    assert len(list(home.outbox.rglob("*.eml"))) == 15
    assert deliver(home).sent == 0


def test_eml_chunk_left_sending_by_a_crash_is_written_again_onto_the_same_files(home, monkeypatch):
    """A process dying between writing a chunk and marking it sent leaves it `sending`; the next
    run writes the same messages (same Message-ID) onto the same files: no file is added."""
    monkeypatch.delenv("PILOTZONES_SMTP_HOST", raising=False)
    assert queue(home, call_notices(home, 2023, "nomination_call")) == 15

    class Crash(BaseException):
        pass

    def dies_before_marking(*_args, **_kwargs):
        raise Crash

    import pilotzones.notices.outbox as outbox

    with monkeypatch.context() as patched:
        patched.setattr(outbox, "mark_chunk_sent", dies_before_marking)
        with pytest.raises(Crash):
            deliver(home)
    assert {r.state for r in rows(home)} == {"sending"}
    first = {f.name: message_from_bytes(f.read_bytes())["Message-ID"] for f in home.outbox.rglob("*.eml")}
    assert len(first) == 15
    report = deliver(home)
    assert (report.sent, report.unsent) == (15, 0)
    again = {f.name: message_from_bytes(f.read_bytes())["Message-ID"] for f in home.outbox.rglob("*.eml")}
    assert again == first
    assert deliver(home).sent == 0


def _programme_with(tmp_path, table: str):
    """The built-in programme with an `[smtp]` table of its own (contract §5: the programme's settings)."""
    from pilotzones.rules.programme import BUILTIN

    path = tmp_path / "with-smtp.toml"
    path.write_text(BUILTIN.read_text(encoding="utf-8") + "\n[smtp]\n" + table, encoding="utf-8")
    return path


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_programme_names_the_mail_server_and_the_environment_wins(db_url, tmp_path, monkeypatch):
    from pilotzones.store.home import init_home

    for name in ("HOST", "PORT", "SECURITY", "USER", "PASSWORD"):
        monkeypatch.delenv(f"PILOTZONES_SMTP_{name}", raising=False)
    monkeypatch.delenv("PILOTZONES_MAIL_FROM", raising=False)
    monkeypatch.delenv("PILOTZONES_DELIVERY", raising=False)
    monkeypatch.setenv("PILOTZONES_DATABASE_URL", db_url)
    port = free_port()
    table = f'host = "127.0.0.1"\nport = {port}\nsecurity = "none"\nmail_from = "wjw-programme@example.org"\n'
    home = init_home(tmp_path / "home", _programme_with(tmp_path, table))
    queue(home, call_notices(home, 2023, "nomination_call"))
    with smtp_server(port=port) as (server, _):
        report = deliver(home)
        assert report.sent > 0 and report.unsent == 0, report
        assert {r.message["From"].addresses[0].addr_spec for r in server.received} == {"wjw-programme@example.org"}
    assert not list(home.outbox.glob("*.eml"))  # sent by SMTP, as the programme says, not written as files
    monkeypatch.setenv("PILOTZONES_MAIL_FROM", "jcws@example.org")  # a variable set wins over its key
    queue(home, call_notices(home, 2024, "nomination_call"))
    with smtp_server(port=port) as (server, _):
        assert deliver(home).unsent == 0
        assert {r.message["From"].addresses[0].addr_spec for r in server.received} == {"jcws@example.org"}


def test_a_programme_never_holds_the_mail_password(tmp_path):
    from pilotzones.errors import ConfigError
    from pilotzones.rules import programme as programme_mod

    path = _programme_with(tmp_path, 'host = "mail.example.org"\npassword = "secret-in-a-file"\n')
    with pytest.raises(ConfigError) as refused:
        programme_mod.load(path)
    assert "smtp.password" in str(refused.value) and "PILOTZONES_SMTP_PASSWORD" in str(refused.value)
    assert "secret-in-a-file" not in str(refused.value)
