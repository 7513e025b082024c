"""The e-mail of a notice: multipart/alternative (text + HTML), UTF-8, identity headers.

Header values are cleaned of control and line-break characters before they are set, so a name
that came from a county (or from a misedited directory) can never start a header of its own.

Built with the `email` package's compat32 classes (`MIMEMultipart`, `Header`, `formataddr`) and
CRLF line ends: the same message as `EmailMessage` with `policy.SMTP` makes, in a fifth of the
time. The newer policy parses and refolds every non-ASCII header through its header-parse tree,
3 ms a notice, which was most of delivering a national year's 2,847 notices.
"""

from __future__ import annotations

import base64
import hashlib
import io
import re
import unicodedata
from collections.abc import Sequence
from datetime import datetime
from email.charset import BASE64, Charset
from email.generator import BytesGenerator
from email.header import Header
from email.message import Message
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.policy import Compat32
from email.utils import format_datetime, formataddr
from typing import Any

from pilotzones.notices.directory import Recipient, valid_email

_SPACES = re.compile(r"\s+")
_LINE_ENDS = re.compile(r"\r\n|\r|\n")  # as email.generator splits a body


class _Policy(Compat32):
    """compat32, writing a short printable ASCII header as it is (what its folding gives it) rather
    than through a `Header` object each time: most of a message's headers are such."""

    def _fold(self, name: str, value: Any, sanitize: bool) -> str:
        if (
            isinstance(value, str)
            and value.isascii()
            and value.isprintable()
            and len(name) + 2 + len(value) <= (self.max_line_length or 0)
        ):
            return f"{name}: {value}{self.linesep}"
        return super()._fold(name, value, sanitize)  # type: ignore[misc]  # typeshed omits Compat32._fold


_POLICY = _Policy(linesep="\r\n")
# Chinese words are always shorter in base64 than in quoted-printable: saying so spares the
# `email` package measuring both for every header.
_UTF8 = Charset("utf-8")
_UTF8.header_encoding = BASE64


class _Generator(BytesGenerator):
    """compat32's generator, writing each body in one piece rather than line by line (the same bytes)."""

    def _write_lines(self, lines: str) -> None:
        if lines:
            self.write(_POLICY.linesep.join(_LINE_ENDS.split(lines)))


def as_bytes(msg: Message) -> bytes:
    """The message as it goes on the wire or into an `.eml` file (CRLF line ends)."""
    out = io.BytesIO()
    _Generator(out, mangle_from_=False, policy=_POLICY).flatten(msg)
    return out.getvalue()


def header_text(value: str, limit: int = 300) -> str:
    """`value` on one line: control, format and line/paragraph separators become spaces."""
    text = str(value)
    # A printable string holds no control, format or separator character but the space: most values.
    if not text.isprintable():
        text = "".join(" " if _unsafe(ch) else ch for ch in text)
    return _SPACES.sub(" ", text).strip()[:limit]


def _unsafe(ch: str) -> bool:
    cat = unicodedata.category(ch)
    return cat.startswith("C") or cat in ("Zl", "Zp")


def _text(value: str, limit: int = 300) -> str | Header:
    """A free-text header: as it is when ASCII, else RFC 2047 encoded words in UTF-8."""
    value = header_text(value, limit)
    return value if value.isascii() else Header(value, _UTF8)


def _address(r: Recipient) -> str:
    email = valid_email(r.email)
    if email is None:
        raise ValueError(f"not one plain e-mail address: {r.email!r}")
    # formataddr quotes a name with specials and encodes a non-ASCII one: it stays a display name.
    return formataddr((header_text(r.name, 120), email), charset="utf-8")


def _part(body: str, subtype: str) -> MIMENonMultipart:
    # UTF-8 bodies are base64: the message stays 7-bit, no server needs to offer 8BITMIME. Encoded
    # here in one C call (76-character lines, as MIMEText's per-line loop writes them).
    part = MIMENonMultipart("text", subtype, policy=_POLICY, charset="utf-8")
    del part["MIME-Version"]  # once, on the message itself
    part["Content-Transfer-Encoding"] = "base64"
    part.set_payload(base64.encodebytes(body.encode("utf-8")).decode("ascii"))
    return part


def _boundary(message_id: str, which: str) -> str:
    """A boundary of the message's own: "=_" never occurs in base64 bodies or in the parts' headers,
    so the generator need not search the whole message for a collision (it compiled a pattern per
    message to do so), and the same notice gives the same bytes."""
    return f"=_{which}_{hashlib.sha256(message_id.encode()).hexdigest()[:24]}"


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
    body = MIMEMultipart("alternative", policy=_POLICY, boundary=_boundary(message_id, "alt"))
    msg = MIMEMultipart("mixed", policy=_POLICY, boundary=_boundary(message_id, "mix")) if attachments else body
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
