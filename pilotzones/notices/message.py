"""The e-mail of a notice: multipart/alternative (text + HTML), UTF-8, identity headers.

Header values are cleaned of control and line-break characters before they are set, so a name
that came from a county (or from a misedited directory) can never start a header of its own.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from pilotzones.notices.directory import Recipient

_SPACES = re.compile(r"\s+")


def header_text(value: str, limit: int = 300) -> str:
    """`value` on one line: control, format and line/paragraph separators become spaces."""
    out = []
    for ch in str(value):
        cat = unicodedata.category(ch)
        out.append(" " if cat.startswith("C") or cat in ("Zl", "Zp") else ch)
    return _SPACES.sub(" ", "".join(out)).strip()[:limit]


def _address(r: Recipient) -> Address:
    return Address(display_name=header_text(r.name, 120), addr_spec=r.email)


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
) -> EmailMessage:
    msg = EmailMessage(policy=policy.SMTP)
    msg["Subject"] = header_text(subject, 500)
    msg["From"] = _address(sender)
    msg["To"] = _address(to)
    if cc:
        msg["Cc"] = [_address(r) for r in cc]
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = header_text(message_id)
    msg["X-Notice-Kind"] = header_text(kind)
    msg["X-Notice-Year"] = str(int(year))
    msg["X-Notice-About"] = header_text(about)
    if number:
        msg["X-Notice-Number"] = header_text(number)
    # base64 keeps the message 7-bit clean: no server needs to offer 8BITMIME for Chinese text.
    msg.set_content(text, subtype="plain", charset="utf-8", cte="base64")
    msg.add_alternative(html, subtype="html", charset="utf-8", cte="base64")
    return msg
