"""The e-mail of a notice: multipart/alternative (text + HTML), UTF-8, identity headers.

Header values are cleaned of control and line-break characters before they are set, so a name
that came from a county (or from a misedited directory) can never start a header of its own.

Built with the `email` package's compat32 classes (`MIMEMultipart`, `Header`, `formataddr`) and
CRLF line ends: the same message as `EmailMessage` with `policy.SMTP` makes, in a fifth of the
time. The newer policy parses and refolds every non-ASCII header through its header-parse tree,
3 ms a notice, which was most of delivering a national year's 2,847 notices.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from datetime import datetime
from email import policy
from email.header import Header
from email.message import Message
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr

from pilotzones.notices.directory import Recipient, valid_email

_SPACES = re.compile(r"\s+")
_POLICY = policy.compat32.clone(linesep="\r\n")


def header_text(value: str, limit: int = 300) -> str:
    """`value` on one line: control, format and line/paragraph separators become spaces."""
    out = []
    for ch in str(value):
        cat = unicodedata.category(ch)
        out.append(" " if cat.startswith("C") or cat in ("Zl", "Zp") else ch)
    return _SPACES.sub(" ", "".join(out)).strip()[:limit]


def _text(value: str, limit: int = 300) -> str | Header:
    """A free-text header: as it is when ASCII, else RFC 2047 encoded words in UTF-8."""
    value = header_text(value, limit)
    return value if value.isascii() else Header(value, "utf-8")


def _address(r: Recipient) -> str:
    email = valid_email(r.email)
    if email is None:
        raise ValueError(f"not one plain e-mail address: {r.email!r}")
    # formataddr quotes a name with specials and encodes a non-ASCII one: it stays a display name.
    return formataddr((header_text(r.name, 120), email), charset="utf-8")


def _part(body: str, subtype: str) -> MIMEText:
    # UTF-8 bodies are base64: the message stays 7-bit, no server needs to offer 8BITMIME.
    part = MIMEText(body, subtype, "utf-8", policy=_POLICY)
    del part["MIME-Version"]  # once, on the message itself
    return part


def build(
    *,
    subject: str,
    text: str,
    html: str,
    message_id: str,
    kind: str,
    year: int,
    about: str,
    sender: Recipient,
    to: Recipient,
    cc: list[Recipient],
    date: datetime,
    number: str = "",
    attachments: Sequence[tuple[str, bytes]] = (),
) -> Message:
    # With attachments (a county's template, the year's workbook): multipart/mixed around the
    # text + HTML alternative, each file a base64 part named in RFC 2231 (Chinese file names).
    body = MIMEMultipart("alternative", policy=_POLICY)
    msg = MIMEMultipart("mixed", policy=_POLICY) if attachments else body
    msg["Subject"] = _text(subject, 500)  # type: ignore[assignment]  # typeshed: Message[str, str]; a Header is a valid value
    msg["From"] = _address(sender)
    msg["To"] = _address(to)
    if cc:
        msg["Cc"] = ", ".join(_address(r) for r in cc)
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = header_text(message_id)
    msg["X-Notice-Kind"] = _text(kind)  # type: ignore[assignment]  # typeshed: Message[str, str]; a Header is a valid value
    msg["X-Notice-Year"] = str(int(year))
    msg["X-Notice-About"] = _text(about)  # type: ignore[assignment]  # typeshed: Message[str, str]; a Header is a valid value
    if number:
        msg["X-Notice-Number"] = _text(number)  # type: ignore[assignment]  # typeshed: Message[str, str]; a Header is a valid value
    body.attach(_part(text, "plain"))
    body.attach(_part(html, "html"))
    if attachments:
        del body["MIME-Version"]
        msg.attach(body)
        for name, data in attachments:
            part = MIMEApplication(data, _XLSX if name.endswith(".xlsx") else "octet-stream", policy=_POLICY)
            del part["MIME-Version"]
            part.add_header("Content-Disposition", "attachment", filename=("utf-8", "", header_text(name, 200)))
            msg.attach(part)
    return msg


_XLSX = "vnd.openxmlformats-officedocument.spreadsheetml.sheet"
