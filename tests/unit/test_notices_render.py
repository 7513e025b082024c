"""Notice rendering and message rules: Chinese dates, points, deadlines, headers that stay headers."""

from __future__ import annotations

import email
from datetime import UTC, date, datetime
from email import policy

import pytest

from pilotzones.notices import KINDS
from pilotzones.notices.directory import Recipient, valid_email
from pilotzones.notices.message import build, header_text
from pilotzones.notices.notice import Notice, message_id
from pilotzones.notices.render import _env, add_months, cn_date, cn_datetime, points, render, templates_dir

EVIL = '<script>alert("x")</script>县\r\nBcc: evil@example.org'


def test_dates_are_written_the_chinese_way():
    assert cn_date(date(2023, 12, 31)) == "2023年12月31日"
    assert cn_datetime(datetime(2023, 9, 30, 23, 59, 59)) == "2023年9月30日23时59分59秒"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (812.5, "812.5"),  # halves stay
        (850.0, "850"),  # no trailing .0 on whole points
        (0.25, "0.25"),
        (0, "0"),
        (-0.0, "0"),  # a negative zero from a subtraction is still 0
        (None, "—"),
    ],
)
def test_points_are_written_as_on_a_score_sheet(value, text):
    assert points(value) == text


@pytest.mark.parametrize(
    ("start", "months", "end"),
    [
        (date(2023, 12, 31), 6, date(2024, 6, 30)),  # 31 Dec + 6 months: June has 30 days
        (date(2023, 8, 31), 6, date(2024, 2, 29)),  # leap February
        (date(2022, 8, 31), 6, date(2023, 2, 28)),
        (date(2023, 12, 31), 0, date(2023, 12, 31)),  # no rectification period
        (date(2023, 1, 15), 12, date(2024, 1, 15)),
    ],
)
def test_rectification_deadline_adds_calendar_months(start, months, end):
    assert add_months(start, months) == end


@pytest.mark.parametrize(
    ("value", "clean"),
    [
        ("关于新源县的通知", "关于新源县的通知"),
        ("a\r\nBcc: evil@example.org", "a Bcc: evil@example.org"),  # CRLF cannot start a header
        ("a\nb\rc", "a b c"),
        ("a\u2028b\u2029c\x00d\x1be", "a b c d e"),  # Unicode line breaks and control characters
        ("  多余   空白 ", "多余 空白"),
    ],
)
def test_header_values_stay_on_one_line(value, clean):
    assert header_text(value) == clean


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("wjw.654025@example.org", True),
        ("  wjw.654025@example.org ", True),  # spreadsheet padding
        ("a@example.org\r\nBcc: evil@example.org", False),  # header injection
        ("a@example.org, b@example.org", False),  # one address only
        ("名字 <a@example.org>", False),  # a display name is not an address
        ("a@localhost", False),  # needs a domain with a dot
        ("", False),
        (None, False),
    ],
)
def test_only_plain_addresses_are_addresses(value, ok):
    assert (valid_email(value) is not None) is ok


def test_message_id_depends_on_the_identity_only():
    ident = (2023, "evaluation", "yellow_card", "654025", "654025", "")
    a = message_id("xj", ident)
    assert a == message_id("xj", ident)
    assert a.startswith("<") and a.endswith(".2023.yellow_card@pilotzones>")
    assert a != message_id("xj", (2023, "evaluation", "yellow_card", "654025", "654000", ""))
    assert a != message_id("xj", (2024, "evaluation", "yellow_card", "654025", "654025", ""))


def test_stage_and_cc_follow_the_kinds_table():
    """§5: zone notices of the evaluation copy the prefecture; the others do not."""
    cc = {k for k, v in KINDS.items() if v.cc_prefecture}
    # Issue 14: the rectification reminder (the yellow card asks for the report with the prefecture
    # copied) and the meeting invitation (the notice's 五: prefectures organise the attendance).
    between = {"rectification_reminder", "meeting_invitation"}
    publicity = {"evaluation_draft", "objection_answer"}  # issue 15: the drafts and answers to a zone
    assert (
        cc
        == {"evaluation_call", "evaluation_result", "yellow_card", "disqualification", "promotion"}
        | between
        | publicity
    )
    n = Notice(year=2023, kind="yellow_card", about="654025", recipient="654025", issued=date(2023, 12, 31), data={})
    assert n.identity == (2023, "evaluation", "yellow_card", "654025", "654025", "")


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_has_a_text_and_an_html_template_on_the_official_layout(kind):
    env = _env(str(templates_dir()))
    for ext, layout in (("txt", "_layout.txt.j2"), ("html", "_layout.html.j2")):
        source = (templates_dir() / f"{kind}.{ext}.j2").read_text(encoding="utf-8")
        assert f'{{% extends "{layout}" %}}' in source
        env.get_template(f"{kind}.{ext}.j2")  # parses


def test_html_is_escaped_and_text_is_left_as_written():
    data = {
        "title": "关于某县递补为试验区的通知",
        "doc_number": "新卫基层函〔2023〕1号",
        "addressee": EVIL,
        "authority": "新疆维吾尔自治区卫生健康委员会",
        "programme": "自治区基层卫生健康综合试验区",
        "zone_name": "试验区",
        "candidate_name": "候补试验区",
        "prefecture_name": "地（州、市）",
        "withdrawal_name": "取消试验区资格",
        "issued": date(2023, 12, 31),
        "cc_names": [],
        "about_name": EVIL,
        "replaces": {"adcode": "653224", "county": "洛浦县"},
        "first_year": 2024,
    }
    out = render("promotion", data)
    assert "<script>" not in out.html and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in out.html
    assert EVIL in out.text
    assert "2023年12月31日" in out.text and "新卫基层函〔2023〕1号" in out.text
    assert out.subject == "关于某县递补为试验区的通知（新卫基层函〔2023〕1号）"


def test_a_hostile_name_cannot_add_a_header_to_the_message():
    msg = build(
        subject=EVIL,
        text="正文",
        html="<p>正文</p>",
        message_id="<abc.2023.promotion@pilotzones>",
        kind="promotion",
        year=2023,
        about="654025\r\nX-Injected: 1",
        sender=Recipient("自治区卫生健康委", "jcws@example.org"),
        to=Recipient(EVIL, "wjw.654025@example.org"),
        cc=[Recipient(EVIL, "wjw.654000@example.org")],
        date=datetime(2023, 12, 31, 9, tzinfo=UTC),
    )
    raw = msg.as_bytes().decode("ascii")
    head = raw.split("\r\n\r\n", 1)[0]
    names = [line.split(":", 1)[0] for line in head.split("\r\n") if line and not line[0].isspace()]
    assert "Bcc" not in names and "X-Injected" not in names
    sent = email.message_from_bytes(msg.as_bytes(), policy=policy.default)  # as a mail client reads it
    assert sent["To"].addresses[0].addr_spec == "wjw.654025@example.org"
    assert "<script>" in sent["To"].addresses[0].display_name
    assert [a.addr_spec for a in sent["Cc"].addresses] == ["wjw.654000@example.org"]
    assert sent["X-Notice-About"] == "654025 X-Injected: 1"
    assert sent.get_content_type() == "multipart/alternative"
    assert sent.get_body(("plain",)).get_content() == "正文"
