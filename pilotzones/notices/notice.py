"""A notice before it is queued: who it is for, what it is about, and the data its template shows."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date

from pilotzones.notices.kinds import kind as kind_of


@dataclass(frozen=True)
class Notice:
    """One notice to one recipient; (year, stage, kind, about, recipient, ref) is its identity.

    Args:
        about: adcode of the county, prefecture or region the notice concerns (X-Notice-About).
        recipient: adcode of the addressee, looked up in the programme's contact directory.
        issued: the document date printed on the notice and numbered in its year.
        data: what the kind's templates show; title and addressee included.
        ref: tells apart notices that would otherwise share an identity (one per rejected file).
        cc: adcodes copied (their directory addresses, when known at sending time).
        email_hint: an address that came with the data (a nominee's contact), used when the
            directory has none for the recipient.
    """

    year: int
    kind: str
    about: str
    recipient: str
    issued: date
    data: dict = field(hash=False, compare=False)
    ref: str = ""
    cc: tuple[str, ...] = ()
    email_hint: str | None = None

    @property
    def stage(self) -> str:
        return kind_of(self.kind).stage

    @property
    def identity(self) -> tuple[int, str, str, str, str, str]:
        return identity(self.year, self.stage, self.kind, self.about, self.recipient, self.ref)


def identity(year: int, stage: str, kind: str, about: str, recipient: str, ref: str) -> tuple:
    return (int(year), stage, kind, about, recipient, ref or "")


def message_id(programme_id: str, ident: tuple) -> str:
    """A Message-ID that depends on the identity only, so a resend is recognisably the same mail."""
    digest = hashlib.sha256("|".join([programme_id, *map(str, ident)]).encode()).hexdigest()
    year, kind = ident[0], ident[2]
    return f"<{digest[:24]}.{year}.{kind}@pilotzones>"
