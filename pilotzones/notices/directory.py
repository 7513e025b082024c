"""The contact directory of a programme: which bureau answers for an adcode, at which address."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pilotzones.rules.programme import Contact, Programme
from pilotzones.rules.register import Register

# Plain ASCII addresses only: whatever else a county types into a form is treated as no address,
# so nothing supplied with the data can reach a header as anything but an address.
_EMAIL = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)


def valid_email(value: str | None) -> str | None:
    """The address itself when it is one plain address, else None."""
    if not value:
        return None
    value = value.strip()
    return value if len(value) <= 254 and _EMAIL.fullmatch(value) else None


@dataclass(frozen=True)
class Recipient:
    name: str
    email: str


class Directory:
    def __init__(self, programme: Programme, register: Register) -> None:
        self._contacts = {c.adcode: c for c in programme.contacts}
        # Expert groups and leaders in charge (programme.guidance) are addressed by their ids.
        guidance = programme.guidance
        for ident, name, email in [(g.id, g.name, g.email) for g in guidance.groups] + [
            (x.id, x.name, x.email) for x in guidance.leaders
        ]:
            self._contacts.setdefault(ident, Contact.model_construct(adcode=ident, name=name, email=email, cc=()))
        self._register = register
        self._region = programme.programme.region_code
        self._authority = programme.programme.authority

    def name(self, adcode: str) -> str:
        """How a notice addresses the bureau of `adcode` (the directory's name, else a default)."""
        c = self._contacts.get(adcode)
        if c:
            return c.name
        if adcode == self._region:
            return self._authority
        return f"{self._register.name(adcode)}卫生健康委员会"

    def recipient(self, adcode: str, hint: str | None = None) -> Recipient | None:
        """The addressee of `adcode`: the directory's address, else `hint`, else None."""
        c = self._contacts.get(adcode)
        email = valid_email(c.email if c else None) or valid_email(hint)
        return Recipient(self.name(adcode), email) if email else None

    def copies(self, recipient: str, cc: list[str] | tuple[str, ...]) -> list[Recipient]:
        """Addresses copied: the bureaus `cc` and the extra addresses of the addressee's own entry."""
        out: list[Recipient] = []
        own = self._contacts.get(recipient)
        if own:
            out += [Recipient(own.name, e) for e in map(valid_email, own.cc) if e]
        for a in cc:
            r = self.recipient(a)
            if r:
                out.append(r)
            c = self._contacts.get(a)
            if c:
                out += [Recipient(c.name, e) for e in map(valid_email, c.cc) if e]
        unique: dict[str, Recipient] = {}
        for r in out:
            unique.setdefault(r.email.lower(), r)
        return list(unique.values())
