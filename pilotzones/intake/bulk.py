"""`submit_many`: record many evaluation files at once, as `submit` records each (`submit FILE...`, the benchmark).

The files are checked together (one Great Expectations run, `check_evaluations`) and recorded in
one transaction with bulk inserts; what is recorded for each file is what `submit` records for it:
the archived bytes, its Submission row (accepted or rejected, on time or late, every error) and, when
accepted, its values. Rejected files get their rejection notices queued, as with `submit`.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from pilotzones import clock
from pilotzones.intake import RowError, capped
from pilotzones.intake.submit import (
    Outcome,
    deadline_of,
    judge_receipt,
    published_stage,
    queue_rejections,
    read_file,
    submission_fields,
    submission_record,
)
from pilotzones.rules.completeness import left_out
from pilotzones.store import archive, ledger
from pilotzones.store import models as m
from pilotzones.store.bulk_insert import insert_returning_ids, insert_rows
from pilotzones.store.home import Home
from pilotzones.store.session import session
from pilotzones.store.versions import programme_for

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from pilotzones.intake.evaluation import EvaluationCheck
    from pilotzones.intake.read import Received

KIND = "evaluation"


def submit_many(
    home: Home, paths: list[Path], *, year: int, at: datetime | None = None, dry_run: bool = False
) -> list[Outcome]:
    """Check, archive and record evaluation files of `year`, received at `at` (default now); in order.

    Every file is read before anything is recorded: an unreadable path raises ConfigError and
    records nothing. With `dry_run`, the files are checked and nothing is kept or recorded.
    """
    from pilotzones.intake.evaluation import EvaluationCheck, check_evaluations
    from pilotzones.intake.read import too_big

    prog, reg = programme_for(home, year), home.register  # the rubric in force for the year
    limits = prog.limits
    files = [read_file(p, limits) for p in paths]
    received = at or clock.now()
    with session(home.db_url) as s:
        pilots = frozenset(ledger.pilots_for(s, year))
    readable = [(f.data, f.name) for f in files if f.data is not None]
    checked = iter(check_evaluations(readable, year=year, programme=prog, register=reg, pilots=pilots))
    # A file over the byte limit was not read: its one error says so.
    checks = [
        next(checked)
        if f.data is not None
        else EvaluationCheck(None, None, errors=[RowError(None, None, "§3", too_big(f.size, limits))])
        for f in files
    ]
    for check in checks:
        check.errors = capped(check.errors, limits.listed_errors)
    lateness = _lateness(home, year, received, [c.adcode for c in checks])
    outcomes = []
    published = published_stage(home, KIND, year)
    left_out_by_keys: dict[frozenset[str], list[tuple[int, str]]] = {}  # a batch's files mostly share theirs
    for check in checks:
        on_time, extended_until = lateness.get(check.adcode, (True, None))
        rows = len(check.values)
        outcome = Outcome(KIND, year, check.accepted, on_time, check.adcode, list(check.errors), rows=rows)
        outcome.extended_until = extended_until
        outcome.published_stage = published
        if check.accepted:
            keys = frozenset(check.values)
            if keys not in left_out_by_keys:
                left_out_by_keys[keys] = left_out(prog.rubric, keys)
            outcome.left_out = list(left_out_by_keys[keys])
        outcomes.append(outcome)
    if dry_run:
        return outcomes
    values = [check if check.accepted else None for check in checks]
    with archive.writing(home):
        records, staged = _archived_records(home, files, checks, outcomes, year, received)
        ids = archive.keep_recorded(home, staged, lambda s: _record(s, records, values))
    for outcome, submission_id in zip(outcomes, ids, strict=True):
        outcome.submission_id = submission_id
    rejected = [o for o in outcomes if not o.accepted and o.submission_id is not None]
    queued = queue_rejections(home, [o.submission_id for o in rejected if o.submission_id is not None])
    for o in rejected:
        o.notice_id = queued.get(o.submission_id) if o.submission_id is not None else None
    return outcomes


def _archived_records(
    home: Home, files: list[Received], checks: list[EvaluationCheck], outcomes: list[Outcome], year: int, received
) -> tuple[list[dict], list[archive.Staged]]:
    """Write the batch into the archive (one pack; a file over the byte limit on its own) and return
    the fields of each file's Submission row, in order, with what is to be put in place."""
    held = [(f.data, f.name) for f in files if f.data is not None]
    entries, pack = archive.stage_batch(home, held) if held else ([], None)
    packed = iter(entries)
    records, staged = [], [pack] if pack is not None else []
    for file, check, outcome in zip(files, checks, outcomes, strict=True):
        fields = dict(kind=KIND, year=year, sender=check.adcode, received=received, on_time=outcome.on_time)
        if file.data is None:
            record, alone = submission_record(home, file, errors=check.errors, **fields)
            staged.append(alone)
        else:
            record = submission_fields(next(packed), filename=file.name, errors=check.errors, **fields)
        records.append(record)
    return records, staged


def _lateness(
    home: Home, year: int, received: datetime, senders: list[str | None]
) -> dict[str | None, tuple[bool, datetime | None]]:
    """Per sender: (on time, the extension it took); the extensions are read once for the batch."""
    deadline = deadline_of(home, KIND, year)
    extensions: dict[str, datetime] = {}
    if deadline is not None and received > deadline:
        with session(home.db_url) as s:
            extensions = ledger.leeway(s, KIND, year).extensions
    return {z: judge_receipt(received, deadline, extensions.get(z) if z else None) for z in set(senders)}


def _record(s: Session, records: list[dict], values: list[EvaluationCheck | None]) -> list[int]:
    """Insert the Submission rows and their values (in the caller's transaction); the new ids, in order."""
    if not records:
        return []
    names = tuple(records[0])
    table = m.table(m.Submission)
    ids = insert_returning_ids(s, table, names, [tuple(r[n] for n in names) for r in records])
    # The rows `evaluation_values` gives `submit`, as tuples; evaluation files carry no `extra`.
    columns = ("submission_id", "adcode", "key", "value", "evidence")
    rows = (
        (i, c.adcode, k, v, c.evidence.get(k) or None)
        for i, c in zip(ids, values, strict=True)
        if c is not None
        for k, v in c.values.items()
    )
    insert_rows(s, m.table(m.SubmissionValue), columns, rows)
    return ids
