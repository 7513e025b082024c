"""Sending the outbox: one send loop over a transport (SMTP, one connection per batch, or `.eml`
files in the home's outbox folder when no SMTP host is configured), retries for what may pass
later. PILOTZONES_DELIVERY makes the choice explicit: with `smtp` and no host nothing is written or
marked sent (the notices wait).

Each notice is marked `sending` (committed) before it goes out and `sent` right after, so a rerun
never sends a notice marked sent. A notice left `sending` by a process that died mid-send is sent
again by the next run, with the same Message-ID (at-least-once for that one message only).

Through SMTP that holds per message, one transaction per mark. A transport whose messages can be
written again harmlessly (`replayable`: the `.eml` files, one per identity) is marked per chunk of
messages instead: a chunk left `sending` by a crash is written again onto the same files. Every
mark is made by `outbox`; what a failure means is decided by the pure predicates below.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import time
from collections.abc import Collection
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import Protocol

from pilotzones import clock
from pilotzones.errors import ConfigError, PilotzonesError
from pilotzones.notices import message, outbox
from pilotzones.notices.attachments import attachments_for
from pilotzones.notices.directory import Directory, Recipient, valid_email
from pilotzones.notices.outbox import outbox_counts, printable_path, write_printable
from pilotzones.rules import programme as programme_mod
from pilotzones.settings import Settings, scrub, settings
from pilotzones.store.home import PROGRAMME_FILE, Home
from pilotzones.store.locks import StageBusy, stage_lock

log = logging.getLogger(__name__)

DEFAULT_FROM = "notices@pilotzones.invalid"


# The settings delivery reads (SMTP, mode, retries): defined with every other one in settings.py.
DeliverySettings = Settings


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4
    backoff: float = 2.0
    factor: float = 2.0
    max_backoff: float = 60.0

    def delay(self, retry: int) -> float:
        return min(self.max_backoff, self.backoff * self.factor**retry)


@dataclass
class DeliveryReport:
    """`sent` by this run; `failed`, `queued`, `no_recipient`: what the outbox still holds unsent."""

    sent: int = 0
    failed: int = 0
    queued: int = 0
    no_recipient: int = 0
    error: str | None = None  # why the batch stopped early (server down, login refused)

    @property
    def unsent(self) -> int:
        return self.failed + self.queued + self.no_recipient

    def summary(self) -> str:
        text = (
            f"已发送{self.sent}份；未发送：排队{self.queued}份，发送失败{self.failed}份，"
            f"{self.no_recipient}份没有收件地址"
        )
        return text + (f"（{self.error}）" if self.error else "")


# -- what a failure means ------------------------------------------------------------------------


def answer_of(exc: BaseException) -> tuple[int | None, str]:
    """The server's reply code and text behind an error (code None: no reply, e.g. a dropped line)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, text = next(iter(exc.recipients.values()))
        return code, f"{code} {_text(text)}"
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code, f"{exc.smtp_code} {_text(exc.smtp_error)}"
    return None, scrub(f"{type(exc).__name__}: {exc}")


def _text(value: bytes | str) -> str:
    # A server's words are kept (outbox, run log, Prefect), logged and printed: never with a secret
    # it echoed (a 535 answer quoting the password it refused).
    return scrub(value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value))


def transient(exc: BaseException) -> bool:
    """Worth trying again: a 4xx reply, or no reply at all (connection refused, dropped, timed out)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return any(400 <= code < 500 for code, _ in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        # smtplib reports a garbled or missing reply as -1: the line, not the server, failed.
        return exc.smtp_code < 0 or 400 <= exc.smtp_code < 500
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return False  # STARTTLS or AUTH not offered: configuration, not luck
    return isinstance(exc, OSError)


def connection_lost(exc: BaseException) -> bool:
    """The connection cannot carry another message: reopen it before the next try."""
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return True
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code < 0 or exc.smtp_code == 421  # 421: the server is closing the line
    if isinstance(exc, smtplib.SMTPException):
        return False
    return isinstance(exc, OSError)


# -- transports ----------------------------------------------------------------------------------


class Transport(Protocol):
    """Sends messages. A transport may set `replayable = True` when sending a message again
    replaces the first copy rather than adding a second (see `_send`)."""

    def open(self) -> None: ...
    def send(self, msg: Message, sender: str, rcpts: list[str], name: str) -> str: ...
    def close(self) -> None: ...


class SmtpTransport:
    """smtplib over plain, STARTTLS or implicit TLS, with optional login."""

    def __init__(self, cfg: DeliverySettings) -> None:
        if cfg.smtp_security not in ("none", "starttls", "ssl"):
            raise ConfigError(
                f"PILOTZONES_SMTP_SECURITY {cfg.smtp_security!r}："
                "只能是 none、starttls 或 ssl（明文、STARTTLS、隐式 TLS）"
            )
        self.cfg = cfg
        self._conn: smtplib.SMTP | None = None

    def open(self) -> None:
        cfg = self.cfg
        assert cfg.smtp_host
        # Certificates are verified against the system store (or SSL_CERT_FILE / SSL_CERT_DIR).
        context = ssl.create_default_context()
        if cfg.smtp_security == "ssl":
            conn: smtplib.SMTP = smtplib.SMTP_SSL(
                cfg.smtp_host, cfg.smtp_port, timeout=cfg.smtp_timeout, context=context
            )
        else:
            conn = smtplib.SMTP(cfg.smtp_host, cfg.smtp_port, timeout=cfg.smtp_timeout)
        try:
            conn.ehlo()
            if cfg.smtp_security == "starttls":
                conn.starttls(context=context)
                conn.ehlo()
            if cfg.smtp_user:
                password = cfg.smtp_password.get_secret_value() if cfg.smtp_password else ""
                conn.login(cfg.smtp_user, password)
        except BaseException:
            _quietly(conn.close)
            raise
        self._conn = conn

    def send(self, msg: Message, sender: str, rcpts: list[str], name: str) -> str:
        """MAIL, RCPT, DATA by hand so that the first recipient (the addressee) must be accepted
        and the server's answer to DATA is kept."""
        conn = self._conn
        assert conn is not None
        code, resp = conn.mail(sender)
        if code != 250:
            _quietly(conn.rset)
            raise smtplib.SMTPSenderRefused(code, resp, sender)
        refused: dict[str, tuple[int, bytes]] = {}
        for i, r in enumerate(rcpts):
            code, resp = conn.rcpt(r)
            if code not in (250, 251):
                refused[r] = (code, resp)
                if i == 0:  # without the addressee there is no notice to send
                    _quietly(conn.rset)
                    raise smtplib.SMTPRecipientsRefused(refused)
        code, resp = conn.data(message.as_bytes(msg))
        if code != 250:
            _quietly(conn.rset)
            raise smtplib.SMTPDataError(code, resp)
        answer = f"{code} {_text(resp)}"
        if refused:
            answer += "; copies refused: " + ", ".join(f"{a} ({c})" for a, (c, _) in refused.items())
        return answer

    def close(self) -> None:
        if self._conn is not None:
            _quietly(self._conn.quit)
            _quietly(self._conn.close)
            self._conn = None


class EmlTransport:
    """Writes each message as an `.eml` file in the outbox folder, named by its identity."""

    # The same identity always lands on the same file: writing a message again duplicates nothing.
    replayable = True

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def open(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)

    def send(self, msg: Message, sender: str, rcpts: list[str], name: str) -> str:
        path = self.folder / f"{name}.eml"
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".part")
        tmp.write_bytes(message.as_bytes(msg))
        tmp.replace(path)  # the same identity always lands on the same file
        return f"written to {path}"

    def close(self) -> None:
        pass


def _quietly(fn) -> None:
    try:
        fn()
    except Exception:
        pass


# -- the batch -----------------------------------------------------------------------------------


class _Stop(Exception):
    """No connection could be opened: the rest of the batch waits for the next run."""


def deliver(
    home: Home,
    *,
    retry: RetryPolicy | None = None,
    transport: Transport | None = None,
    cfg: DeliverySettings | None = None,
    year: int | None = None,
    stage: str | None = None,
    only: Collection[int] | None = None,
) -> DeliveryReport:
    """Send every notice not sent yet (any year), each at most once; count what is left unsent.

    Queued notices, notices left `sending` by a dead process and notices refused last time (4xx or
    5xx) go out; notices without an address wait for the directory. A 4xx answer or a dropped line
    is tried again within the run (the retry policy); a 5xx answer fails the notice for this run
    only: it stays `failed` with the server's answer (for `status`) and the next run tries it once
    more, so a server or an address put right in between gets it.

    Args:
        year, stage: count only these notices as left unsent (a stage answers for its own
            notices); everything pending is sent whatever they are.
        only: send and count these notices (outbox ids) alone: `submit` sends the notices it has
            just queued, not whatever else the outbox holds.
    """
    cfg = cfg or delivery_settings(home)
    retry = retry or RetryPolicy(attempts=max(1, cfg.smtp_attempts), backoff=cfg.smtp_backoff)
    if transport is None:
        mode = delivery_mode(cfg)
        if mode == "smtp" and not cfg.smtp_host:
            # Writing files here would mark the notices sent and they would never go out.
            return _held(
                home,
                year,
                stage,
                only,
                "PILOTZONES_DELIVERY=smtp 但未设置 PILOTZONES_SMTP_HOST：通知仍在发件箱排队，配置邮件服务器后重新运行",
            )
        transport = SmtpTransport(cfg) if mode == "smtp" else EmlTransport(home.outbox)
    if cfg.mail_from and not valid_email(cfg.mail_from):
        raise ConfigError(
            f"PILOTZONES_MAIL_FROM {cfg.mail_from!r}：应为一个电子邮件地址（如 jcws@example.org），不带姓名"
        )
    if cfg.smtp_host and not cfg.mail_from:
        log.warning("未设置 PILOTZONES_MAIL_FROM：以 %s 作为发件地址", DEFAULT_FROM)
    try:
        with stage_lock(home.db_url, "outbox", 0):
            return _deliver(home, retry, transport, cfg, year, stage, only)
    except StageBusy:
        raise StageBusy("另一运行正在发送通知，请待其结束后再试") from None


def delivery_settings(home: Home | None = None) -> Settings:
    """The settings delivery uses: each PILOTZONES_SMTP_* / PILOTZONES_MAIL_FROM variable set in the
    environment, else the home programme's `[smtp]` key, else its default."""
    cfg = settings()
    if home is None:
        return cfg
    smtp = home.programme.smtp
    given = {
        "smtp_host": smtp.host,
        "smtp_port": smtp.port,
        "smtp_security": smtp.security,
        "smtp_user": smtp.user,
        "mail_from": smtp.mail_from,
    }
    update = {k: v for k, v in given.items() if v is not None and k not in cfg.model_fields_set}
    return cfg.model_copy(update=update) if update else cfg


def check_delivery(cfg: Settings | None = None) -> None:
    """Refuse (ConfigError, one line naming what to set) a delivery configuration that cannot send.

    For the commands that send (`deliver`, a stage run with `--approve`, `approve`): refused before
    they start. A scheduled run is not refused: it decides, and fails at deliver-notices with its
    notices queued (`deliver` below holds them).
    """
    cfg = cfg or settings()
    if delivery_mode(cfg) == "smtp":
        if not cfg.smtp_host:
            raise ConfigError(
                "PILOTZONES_DELIVERY=smtp 但未设置 PILOTZONES_SMTP_HOST：请设置邮件服务器（PILOTZONES_SMTP_HOST 等），"
                "或设 PILOTZONES_DELIVERY=files 将通知写成 .eml 文件"
            )
        SmtpTransport(cfg)  # refuses an unknown PILOTZONES_SMTP_SECURITY
    if cfg.mail_from and not valid_email(cfg.mail_from):
        raise ConfigError(
            f"PILOTZONES_MAIL_FROM {cfg.mail_from!r}：应为一个电子邮件地址（如 jcws@example.org），不带姓名"
        )


def delivery_mode(cfg: Settings) -> str:
    """`smtp` or `files`: PILOTZONES_DELIVERY, or by default SMTP exactly when a host is set."""
    mode = (cfg.delivery or "").strip().lower() or ("smtp" if cfg.smtp_host else "files")
    if mode not in ("smtp", "files"):
        raise ConfigError(f"PILOTZONES_DELIVERY 只能是 smtp 或 files，不能是 {cfg.delivery!r}")
    return mode


def _held(home: Home, year: int | None, stage: str | None, only: Collection[int] | None, why: str) -> DeliveryReport:
    """Nothing sent and nothing marked: what the outbox holds, and why it stays there."""
    counts = outbox_counts(home, year, stage, only)
    report = DeliveryReport(
        failed=counts["failed"],
        no_recipient=counts["no_recipient"],
        queued=counts["queued"] + counts["sending"],
        error=why,
    )
    log.error("通知：%s", report.summary())
    return report


def _directory(home: Home) -> tuple[Directory, programme_mod.Programme]:
    # Read afresh: the directory may have been completed since this Home was opened.
    prog = programme_mod.load(home.path / PROGRAMME_FILE)
    return Directory(prog, home.register), prog


@dataclass
class _Prepared:
    row_id: int
    msg: Message
    to: str
    cc: list[str]
    name: str  # the identity's file name (the .eml of the outbox folder)


class _Line:
    """The batch's one connection, opened when first needed and again after it drops."""

    def __init__(self, transport: Transport, retry: RetryPolicy) -> None:
        self.transport, self.retry, self.open = transport, retry, False

    def ensure(self) -> None:
        if not self.open:
            _open(self.transport, self.retry)
            self.open = True

    def drop(self) -> None:
        self.transport.close()
        self.open = False


# Notices prepared per transaction; with a replayable transport also marked per transaction.
CHUNK = 500


def _deliver(
    home: Home,
    retry: RetryPolicy,
    transport: Transport,
    cfg: DeliverySettings,
    year: int | None,
    stage: str | None,
    only: Collection[int] | None,
) -> DeliveryReport:
    directory, prog = _directory(home)
    sender = Recipient(prog.programme.authority, valid_email(cfg.mail_from) or DEFAULT_FROM)
    url = home.db_url  # resolved once: every mark of the batch goes to this database
    # Writing a message again replaces the same file, so marks can be kept per chunk of messages.
    replayable = bool(getattr(transport, "replayable", False))
    report = DeliveryReport()
    line = _Line(transport, retry)
    try:
        ids = outbox.pending(url, directory, only)
        for start in range(0, len(ids), CHUNK):
            prepared = _prepare(home, url, ids[start : start + CHUNK], directory, sender, prog)
            report.sent += _send(url, prepared, sender.email, line, retry, per_chunk=replayable)
    except _Stop as stop:
        report.error = str(stop)
    finally:
        line.drop()
    counts = outbox_counts(home, year, stage, only)
    report.failed, report.no_recipient = counts["failed"], counts["no_recipient"]
    report.queued = counts["queued"] + counts["sending"]
    log.info("通知：%s", report.summary())
    return report


def _prepare(
    home: Home,
    url: str,
    ids: list[int],
    directory: Directory,
    sender: Recipient,
    prog: programme_mod.Programme,
) -> list[_Prepared]:
    """The messages of these notices (in id order), addressed from the directory as it is now."""
    out: list[_Prepared] = []
    for row, to, cc in outbox.addressed(url, ids, directory):
        msg = message.build(
            subject=row.subject,
            text=row.text,
            html=row.html,
            message_id=row.message_id,
            kind=row.kind,
            year=row.year,
            about=row.about,
            sender=sender,
            to=to,
            cc=cc,
            date=clock.now().astimezone(prog.tz),
            number=row.doc_number,
            attachments=attachments_for(home, row.kind, row.year, row.about),
        )
        write_printable(home, row)
        name = printable_path(home, row).relative_to(home.reports / "notices").with_suffix("")
        out.append(_Prepared(row.id, msg, to.email, [r.email for r in cc], str(name)))
    return out


def _send(url: str, prepared: list[_Prepared], sender: str, line: _Line, retry: RetryPolicy, *, per_chunk: bool) -> int:
    """The send loop: each message with its retries, each try on record before it is made; return
    how many were sent.

    `per_chunk` (a replayable transport): every try of the chunk is recorded in one transaction
    and every message written is marked `sent` in another, rather than two per message. A process
    that dies in between leaves them `sending`: the next run writes them again with the same
    Message-ID onto the same files, so no message exists twice, and none marked `sent` is ever
    written again. At the first failure the rest of the chunk goes one mark at a time, as through
    SMTP.
    """
    if not prepared:
        return 0
    sent = 0
    written: list[tuple[int, str]] = []  # per chunk: sent, to be marked so together
    if per_chunk:
        line.ensure()
        outbox.mark_chunk_sending(url, [(p.row_id, p.to, p.cc) for p in prepared])
    for k, p in enumerate(prepared):
        on_record = per_chunk  # this message's first try is recorded already
        attempt = 0
        while attempt < retry.attempts:
            line.ensure()
            if not on_record:
                outbox.mark_sending(url, p.row_id, p.to, p.cc)
            on_record = False
            try:
                answer = line.transport.send(p.msg, sender, [p.to, *p.cc], p.name)
            except Exception as exc:
                if per_chunk:
                    # Those written so far are sent; those after this one were not tried after all.
                    outbox.mark_chunk_sent(url, written, untried=[q.row_id for q in prepared[k + 1 :]])
                    sent, written, per_chunk = sent + len(written), [], False
                if _failed(url, p.row_id, exc, line, retry, attempt):
                    attempt += 1
                    continue
                break
            if per_chunk:
                written.append((p.row_id, answer))
            else:
                outbox.mark_sent(url, p.row_id, answer)
                sent += 1
            break
    if per_chunk:
        outbox.mark_chunk_sent(url, written)
        sent += len(written)
    return sent


def _failed(url: str, row_id: int, exc: Exception, line: _Line, retry: RetryPolicy, attempt: int) -> bool:
    """Record a failed try; True when another is worth making (after the back-off, waited here)."""
    code, text = answer_of(exc)
    if connection_lost(exc):
        line.drop()
    if not transient(exc):
        outbox.mark_failed(url, row_id, code, text)
        log.warning("通知 %s 发送失败，本次运行不再重试：%s", row_id, text)
        return False
    outbox.mark_queued(url, row_id, code, text)
    log.info("通知 %s 暂未发出（%s）；第%d次尝试", row_id, text, attempt + 1)
    if attempt + 1 >= retry.attempts:
        return False
    time.sleep(retry.delay(attempt))
    return True


def _open(transport: Transport, retry: RetryPolicy) -> None:
    last: BaseException | None = None
    for attempt in range(retry.attempts):
        try:
            transport.open()
            return
        except Exception as exc:
            last = exc
            if not transient(exc):
                break
            if attempt + 1 < retry.attempts:
                time.sleep(retry.delay(attempt))
    code, text = answer_of(last) if last else (None, "")
    raise _Stop(f"无法连接邮件服务器：{text}" if code is None else f"邮件服务器答复 {text}")


class NoticesUnsent(PilotzonesError):
    """Some notices could not be sent; they stay in the outbox for the next run."""


def raise_if_unsent(report: DeliveryReport, what: str = "通知") -> None:
    """For a stage: end non-zero when anything is left unsent, saying what and why."""
    if report.unsent:
        # Each run tries a refused notice once more: the operator's part is the address or the server.
        hint = "被邮件服务器拒收的请核对收件地址或服务器设置，" if report.failed else ""
        raise NoticesUnsent(f"{what}：{report.summary()}；{hint}下次运行会发送余下的通知")
