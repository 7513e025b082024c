"""When to try a notice again (pure predicates) and how long to wait."""

from __future__ import annotations

import smtplib
import ssl

import pytest

from pilotzones.notices.delivery import DeliveryReport, RetryPolicy, answer_of, connection_lost, transient


@pytest.mark.parametrize(
    ("exc", "again", "reconnect"),
    [
        (smtplib.SMTPDataError(451, b"try later"), True, False),  # 4xx: the server may take it later
        (smtplib.SMTPDataError(452, b"insufficient storage"), True, False),
        (smtplib.SMTPDataError(554, b"rejected"), False, False),  # 5xx: no point in trying again
        (smtplib.SMTPRecipientsRefused({"a@example.org": (550, b"unknown")}), False, False),
        (smtplib.SMTPRecipientsRefused({"a@example.org": (450, b"greylisted")}), True, False),
        (smtplib.SMTPResponseException(421, b"closing"), True, True),  # the server hangs up
        (smtplib.SMTPServerDisconnected("Connection unexpectedly closed"), True, True),
        (ConnectionRefusedError(111, "Connection refused"), True, True),  # server down
        (TimeoutError("timed out"), True, True),
        (smtplib.SMTPAuthenticationError(535, b"bad credentials"), False, False),  # configuration
        (smtplib.SMTPNotSupportedError("STARTTLS extension not supported"), False, False),
        (ssl.SSLError("bad record"), True, True),
    ],
)
def test_what_is_worth_another_try(exc, again, reconnect):
    assert transient(exc) is again
    assert connection_lost(exc) is reconnect


def test_the_answer_keeps_the_servers_code_and_words():
    assert answer_of(smtplib.SMTPDataError(451, b"4.3.0 try later")) == (451, "451 4.3.0 try later")
    code, text = answer_of(ConnectionRefusedError(111, "Connection refused"))
    assert code is None and "Connection refused" in text


def test_backoff_grows_and_is_capped():
    p = RetryPolicy(attempts=5, backoff=0.5, factor=2, max_backoff=3)
    assert [p.delay(i) for i in range(4)] == [0.5, 1.0, 2.0, 3]


def test_a_report_counts_everything_left_unsent():
    r = DeliveryReport(sent=3, failed=1, queued=2, no_recipient=1)
    assert r.unsent == 4
    assert "已发送3份" in r.summary() and "排队2份" in r.summary()
