"""Issue 12: text from files and users reaches terminals and the UI inert; secrets reach nothing."""

from __future__ import annotations

import base64

import pytest

from pilotzones.errors import terminal_safe
from pilotzones.intake import RowError
from pilotzones.settings import scrub

HOSTILE = "新源县\x1b]0;pwned\x07\r\n伪造的一行\u202e反转\x9b2J"


def test_control_characters_from_a_file_are_shown_escaped():
    line = str(RowError(2, "1\r\n第3行 [2] 伪造", "§3", f"县名“{HOSTILE}”不符"))
    assert "\x1b" not in line and "\r" not in line and "\n" not in line and "\u202e" not in line
    assert "\\x1b]0;pwned\\x07\\r\\n" in line and "\\u202e" in line and "\\x9b" in line


def test_the_terminal_net_keeps_line_breaks_tabs_and_colours_only():
    out = terminal_safe("a\tb\n\x1b[31mred\x1b[0m \x1b]0;title\x07 \x1b[2J \r \u2066")
    assert out.startswith("a\tb\n\x1b[31mred\x1b[0m ")
    assert "\\x1b]0;title\\x07" in out and "\\x1b[2J" in out and "\\r" in out and "\\u2066" in out


@pytest.mark.parametrize(
    "echo",
    [
        "535 5.7.8 authentication failed for notices:Pa$$/w0rd!",
        "535 bad credentials " + base64.b64encode(b"\0notices\0Pa$$/w0rd!").decode(),  # AUTH PLAIN, echoed
        "535 " + base64.b64encode(b"Pa$$/w0rd!").decode(),  # AUTH LOGIN's password line, echoed
        "535 Pa%24%24%2Fw0rd%21",  # URL-quoted
    ],
)
def test_a_configured_secret_is_scrubbed_in_every_form_a_server_echoes(monkeypatch, echo):
    monkeypatch.setenv("PILOTZONES_SMTP_USER", "notices")
    monkeypatch.setenv("PILOTZONES_SMTP_PASSWORD", "Pa$$/w0rd!")
    out = scrub(echo)
    assert out.startswith("535") and "***" in out
    assert "Pa$$" not in out and "w0rd" not in out and base64.b64encode(b"Pa$$/w0rd!").decode() not in out


def test_the_database_password_is_scrubbed(monkeypatch):
    monkeypatch.setenv("PILOTZONES_DATABASE_URL", "postgresql+psycopg://pz:s%40fe%2Fpw@db.example/state")
    assert scrub("FATAL: s@fe/pw and s%40fe%2Fpw") == "FATAL: *** and ***"
    monkeypatch.delenv("PILOTZONES_DATABASE_URL")
    assert scrub("s@fe/pw") == "s@fe/pw"  # nothing configured, nothing scrubbed


def test_text_from_users_is_inert_in_markdown_artifacts():
    from pilotzones.flows.stage import exception_lines, md, state_lines

    reason = "[点此](http://evil.example) <script>alert(1)</script> **加粗**\n# 标题 | 列"
    line = exception_lines(
        [{"kind": "extension", "adcode": "654025", "until": "2023-12-25", "granted_by": "<b>x</b>", "reason": reason}]
    )[0]
    assert "<script>" not in line and "&lt;script&gt;" in line and "<b>" not in line
    assert "[点此](" not in line and r"\[点此\]\(" in line and r"\*\*加粗\*\*" in line
    assert "\n" not in line and r"\# 标题 \| 列" in line
    given = {"verdict": "approved", "via": "cli", "by": "[x](javascript:1)", "at": "2023-12-31", "note": "<img>"}
    assert "<img>" not in state_lines("published", given) and "](javascript" not in state_lines("published", given)
    assert md("巴里坤县") == "巴里坤县"  # plain names are left as they are
