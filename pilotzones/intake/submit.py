"""`submit`: check one received file, keep its bytes, and record it accepted or rejected."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pilotzones import clock
from pilotzones.errors import ConfigError
from pilotzones.intake import capped
from pilotzones.rules import file_kinds
from pilotzones.rules.completeness import left_out
from pilotzones.store import archive, ledger
from pilotzones.store.archive import Entry, Staged, keep_recorded
from pilotzones.store.home import Home
from pilotzones.store.session import session
from pilotzones.store.versions import programme_for

if TYPE_CHECKING:
    from pilotzones.intake.evaluation import EvaluationCheck
    from pilotzones.intake.read import Received
    from pilotzones.rules.programme import Limits

KINDS = file_kinds.names()


@dataclass
class Outcome:
    kind: str
    year: int
    accepted: bool
    on_time: bool
    sender: str | None
    errors: list = field(default_factory=list)
    submission_id: int | None = None
    rows: int = 0
    extended_until: datetime | None = None  # on time only thanks to this extension
    left_out: list[tuple[int, str]] = field(default_factory=list)  # items an accepted file leaves out
    # The stage that would count it, when that stage of its year is already published: kept, not counted.
    published_stage: str | None = None
    # The notice this file's recording queued (a rejection; a late objection's answer), by outbox id:
    # None when there is no one to tell (the file named no sender).
    notice_id: int | None = None
    notice_sent: bool = False  # and `deliver_notices` sent it
    recorded_id: int | None = None  # what recording an accepted file made besides it (an objection's id)

    @property
    def notice_queued(self) -> bool:
        return self.notice_id is not None

    @property
    def error_count(self) -> int:
        """Every error found; `errors` lists the first `limits.listed_errors` of them and a count of the rest."""
        from pilotzones.intake import error_count

        return error_count(self.errors)


def _check(home: Home, file: Received, kind: str, year: int):
    """Run the intake check of `kind` (its FileKind's); returns (sender, value rows, errors)."""
    from pilotzones.intake import RowError
    from pilotzones.intake.read import FileUnreadable, too_big

    if file.data is None:  # over limits.file_bytes: not read at all
        return None, [], [RowError(None, None, "§3", too_big(file.size, programme_for(home, year).limits))]
    try:
        return file_kinds.get(kind).call("check", home, file.data, file.name, year)
    except FileUnreadable as exc:
        return None, [], unreadable(exc)


# The check of each kind of file (FileKind.check), with the rubric in force for the year.


def check_evaluation_file(home: Home, data: bytes, filename: str, year: int):
    from pilotzones.intake.evaluation import check_evaluations

    with session(home.db_url) as s:
        pilots = frozenset(ledger.pilots_for(s, year))
    # A batch of one: an unreadable file comes back rejected with its whole-file error.
    (c,) = check_evaluations(
        [(data, filename)], year=year, programme=programme_for(home, year), register=home.register, pilots=pilots
    )
    return c.adcode, evaluation_values(c), c.errors


def check_nomination_file(home: Home, data: bytes, filename: str, year: int):
    from pilotzones.intake.nomination import check_nomination

    nc = check_nomination(data, filename, year=year, programme=programme_for(home, year), register=home.register)
    rows = [
        {
            "adcode": r["adcode"],
            "key": "nomination",
            "value": r["adcode"],
            "evidence": r.get("reason"),
            "extra": {k: r.get(k) for k in ("county", "contact_email", "reason", "row")},
        }
        for r in nc.rows
    ]
    return nc.prefecture, rows, nc.errors


def check_review_file(home: Home, data: bytes, filename: str, year: int):
    from pilotzones.intake.review import check_review

    rc = check_review(data, filename, year=year, programme=programme_for(home, year), register=home.register)
    rows = [
        {"adcode": a, "key": "review_score", "value": v, "evidence": None, "extra": None} for a, v in rc.scores.items()
    ]
    return None, rows, rc.errors


def check_objection_file(home: Home, data: bytes, filename: str, year: int):
    from pilotzones.intake.objection import check_objection

    with session(home.db_url) as s:
        pilots = frozenset(ledger.pilots_for(s, year))
    oc = check_objection(
        data, filename, year=year, programme=programme_for(home, year), register=home.register, pilots=pilots
    )
    rows = [
        {"adcode": oc.adcode, "key": i["key"], "value": i["value"] or "", "evidence": i["evidence"], "extra": i}
        for i in oc.items
    ]
    return oc.sender, rows, oc.errors


def check_rectification_file(home: Home, data: bytes, filename: str, year: int):
    from pilotzones.intake.rectification import check_rectification
    from pilotzones.store import cases

    def case_state(adcode: str) -> str | None:
        with session(home.db_url) as s:
            c = cases.case_of(s, adcode, year)
            return None if c is None else c.state

    prog = programme_for(home, year)
    rc = check_rectification(data, filename, year=year, programme=prog, register=home.register, case_state=case_state)
    return rc.sender, rc.rows, rc.errors


def check_visits_file(home: Home, data: bytes, filename: str, year: int):
    from pilotzones.intake.visits import check_visits
    from pilotzones.store import models as m

    def case_of(case_id: int) -> str | None:
        with session(home.db_url) as s:
            c = s.get(m.RectificationCase, case_id)
            return None if c is None else c.adcode

    vc = check_visits(data, filename, year=year, programme=home.programme, register=home.register, case_of=case_of)
    return None, vc.rows, vc.errors


def evaluation_values(check: EvaluationCheck) -> list[dict]:
    """The value rows an evaluation file is recorded with (kept only when it is accepted)."""
    return [
        {
            "adcode": check.adcode,
            "key": k,
            "value": v,
            "evidence": check.evidence.get(k) or None,
            "extra": None,
        }
        for k, v in check.values.items()
    ]


def unreadable(exc: Exception) -> list:
    """A file that is no table is rejected with one whole-file error saying why."""
    from pilotzones.intake import RowError

    return [RowError(None, None, "§3", str(exc))]


def read_file(file: Path, limits: Limits) -> Received:
    """The file as received (its bytes up to `limits.file_bytes`); ConfigError when it cannot be
    read or is not a regular file (a pipe, a device)."""
    from pilotzones.intake.read import receive

    return receive(file, limits)


def published_stage(home: Home, kind: str, year: int) -> str | None:
    """The stage that counts files of `kind` for `year`, when it is already published (else None)."""
    from pilotzones.rules.decisions import DecisionState

    stage = file_kinds.get(kind).counted_by
    if stage is None:
        return None
    with session(home.db_url) as s:
        d = ledger.decision(s, year, stage)
        return stage if d is not None and d.state == DecisionState.PUBLISHED else None


def deadline_of(home: Home, kind: str, year: int) -> datetime | None:
    moment = file_kinds.get(kind).deadline
    return home.programme.moment(moment, year) if moment else None


def judge_receipt(
    received: datetime, deadline: datetime | None, extension: datetime | None
) -> tuple[bool, datetime | None]:
    """(on time, the extension it took to be on time): a late file counts within its sender's extension."""
    if deadline is None or received <= deadline:
        return True, None
    on_time = extension is not None and received <= extension
    return on_time, extension if on_time else None


def submission_record(home: Home, file: Received, **about: Any) -> tuple[dict, Staged]:
    """Write the file into the archive (not yet in place: `Staged.keep`) and return the fields of
    its Submission row (`about`: the rest of `submission_fields`' arguments). A file over the byte
    limit is copied from its path, never held whole."""
    if file.data is not None:
        entry, staged = archive.stage(home, file.data, file.name)
    else:
        from pilotzones.intake.read import open_regular

        with open_regular(file.path) as f:
            entry, staged = archive.stage(home, f, file.name)
    return submission_fields(entry, filename=file.name, **about), staged


def submission_fields(
    entry: Entry,
    *,
    filename: str,
    kind: str,
    year: int,
    sender: str | None,
    received: datetime,
    on_time: bool,
    errors: list,
) -> dict:
    """The fields of a received file's Submission row, its bytes kept at `entry`."""
    return {
        "kind": kind,
        "year": year,
        "sender": sender,
        "filename": filename[:255],
        "sha256": entry.digest,
        "size": entry.size,
        "archive_path": entry.rel,
        # In UTC: SQLite keeps no offset, and the ledger reads a naive time back as UTC.
        "received_at": received.astimezone(UTC),
        "recorded_at": clock.now(),
        "status": "accepted" if not errors else "rejected",
        "on_time": on_time,
        "errors": [e.as_json() for e in errors],
    }


def submit(
    home: Home, file: Path, *, year: int, kind: str, at: datetime | None = None, dry_run: bool = False
) -> Outcome:
    """Check `file`; unless `dry_run`, archive its bytes and record it either way."""
    if kind not in KINDS:
        raise ConfigError(f"--kind {kind}：报送种类只能是 {'、'.join(KINDS)} 之一")
    limits = home.programme.limits
    received_file = read_file(file, limits)
    received = at or clock.now()
    deadline = deadline_of(home, kind, year)
    sender, rows, errors = _check(home, received_file, kind, year)
    errors = capped(errors, limits.listed_errors)
    extended = None
    if deadline is not None and received > deadline:
        # An extension granted to this sender already moves its deadline (pilotzones extend).
        with session(home.db_url) as s:
            extended = ledger.extended_deadline(s, kind, year, sender)
    on_time, extended_until = judge_receipt(received, deadline, extended)
    fk = file_kinds.get(kind)
    context = None
    if fk.receipt:
        on_time, context = fk.call("receipt", home, year, received)
    outcome = Outcome(kind, year, not errors, on_time, sender, list(errors), rows=len(rows))
    outcome.extended_until = extended_until
    outcome.published_stage = published_stage(home, kind, year)
    if fk.lists_items and not errors:
        outcome.left_out = left_out(programme_for(home, year).rubric, (r["key"] for r in rows))
    if dry_run:
        return outcome
    with archive.writing(home):
        record, staged = submission_record(
            home, received_file, kind=kind, year=year, sender=sender, received=received, on_time=on_time, errors=errors
        )
        values = rows if not errors else ()

        def recorded(s) -> int:
            sub = ledger.record_submission(s, values=values, **record)
            if fk.recorded and not errors:  # in the transaction that records the file
                outcome.recorded_id = fk.call("recorded", s, sub, rows, context)
            return sub.id

        outcome.submission_id = keep_recorded(home, [staged], recorded)
    if errors:
        outcome.notice_id = queue_rejections(home, [outcome.submission_id]).get(outcome.submission_id)
    elif fk.late_notice and outcome.recorded_id is not None and not on_time:
        # Recorded and not heard (an objection outside the publicity window): its sender is told so.
        from pilotzones.notices import queue
        from pilotzones.notices.outbox import ids_of

        notice = fk.call("late_notice", home, outcome.recorded_id)
        queue(home, [notice])
        (outcome.notice_id,) = ids_of(home, [notice])
    return outcome


def queue_rejections(home: Home, submission_ids: list[int]) -> dict[int, int]:
    """Each sender gets a notice listing its errors (`deliver_notices` sends it, or the next delivery).
    Returns the outbox id of each file's notice: a file that names no sender has no one to tell."""
    if not submission_ids:
        return {}  # a batch all accepted does not load the notices
    from pilotzones.notices import queue, submission_rejected_notice
    from pilotzones.notices.outbox import ids_of

    built = {i: submission_rejected_notice(home, i) for i in submission_ids}
    told = {i: n for i, n in built.items() if n is not None}
    if not told:
        return {}
    queue(home, list(told.values()))
    ids = ids_of(home, list(told.values()))
    return {i: notice_id for i, notice_id in zip(told, ids, strict=True) if notice_id is not None}


def deliver_notices(home: Home, outcomes: list[Outcome]) -> str | None:
    """Send now the notices these files' recording queued, and only those (R11: the sender of a
    rejected file gets its notice; the rest of the outbox is for `deliver` and the stages).

    Marks each outcome's `notice_sent`. Returns None when every one went out, else why not (one
    line): what was not sent stays queued for the next delivery. A failure here never undoes the
    files' recording, nor changes what `submit` answers about them.
    """
    ids = [o.notice_id for o in outcomes if o.notice_id is not None]
    if not ids:
        return None  # nothing to send: the notices and SMTP are not even imported
    from pilotzones.errors import PilotzonesError
    from pilotzones.notices import deliver
    from pilotzones.notices.outbox import states

    why = None
    try:
        report = deliver(home, only=ids)
        if report.unsent:
            why = report.summary()
    except Exception as exc:  # the files are recorded already; the notices wait in the outbox
        text = str(exc) if isinstance(exc, PilotzonesError) else f"{type(exc).__name__}: {exc}"
        why = (text.strip().splitlines() or [type(exc).__name__])[0]
    try:
        sent = {i for i, state in states(home, ids).items() if state == "sent"}
    except Exception:  # the database itself failing: none is known sent, and `why` says what happened
        sent = set()
        why = why or "无法读取通知的发送状态"
    for o in outcomes:
        o.notice_sent = o.notice_id in sent
    return why
