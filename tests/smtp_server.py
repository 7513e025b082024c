"""A real SMTP server on loopback (aiosmtpd) that records what it accepts and can misbehave on cue."""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        return message_from_bytes(self.raw, policy=policy.default)  # type: ignore[return-value]


@dataclass
class Recorder:
    """The server's handler. Faults are counted in DATA commands received (1-based).

    fail_from: answer every DATA from this one on with `fail_reply` (e.g. 451: try later).
    drop_at: abort the connection, without a reply, at these DATA commands.
    refuse: recipient address -> reply to its RCPT (e.g. 550 for an unknown mailbox).
    """

    fail_from: int | None = None
    fail_reply: str = "451 4.3.0 Temporary local problem, try again later"
    drop_at: set[int] = field(default_factory=set)
    refuse: dict[str, str] = field(default_factory=dict)
    accounts: dict[str, str] = field(default_factory=dict)  # login -> password
    received: list[Received] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    data_commands: int = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.data_commands += 1
        n = self.data_commands
        if n in self.drop_at:
            server.transport.abort()
            return "421 closing"  # never reaches the client: the line is already gone
        if self.fail_from is not None and n >= self.fail_from:
            return self.fail_reply
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return f"250 2.0.0 Ok: queued as M{n}"

    def authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        if isinstance(auth_data, LoginPassword):
            login = auth_data.login.decode()
            if self.accounts.get(login) == auth_data.password.decode():
                self.logins.append(login)
                return AuthResult(success=True)
        return AuthResult(success=False, handled=False)

    def message_ids(self) -> list[str]:
        return [r.message["Message-ID"] for r in self.received]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def smtp_server(
    handler: Recorder | None = None,
    *,
    port: int | None = None,
    tls: tuple[Path, Path] | None = None,
    implicit_tls: bool = False,
) -> Iterator[tuple[Recorder, int]]:
    """Run the server on 127.0.0.1; with `tls` (cert, key) it requires STARTTLS and login,
    or speaks TLS from the first byte with `implicit_tls`."""
    handler = handler or Recorder()
    port = port or free_port()
    kwargs: dict = {}
    if tls:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(str(tls[0]), str(tls[1]))
        kwargs["authenticator"] = handler.authenticate
        if implicit_tls:
            kwargs["ssl_context"] = ctx
            kwargs["auth_require_tls"] = False
        else:
            kwargs.update(tls_context=ctx, require_starttls=True, auth_require_tls=True)
    controller = Controller(handler, hostname="127.0.0.1", port=port, ready_timeout=10, **kwargs)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


def self_signed_cert(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, signed by itself (which is then the CA to trust)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pilotzones test SMTP")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path
