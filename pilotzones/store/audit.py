"""`pilotzones check`: the home's archive against the record, and what a crash leaves behind.

A write into the home goes to a temporary `.part` file first (the archive, the outbox's `.eml`
files, the programme file), and a received file is put in the archive just before its record
commits. So a process killed midway leaves only two kinds of trace, never a record without its
file: a `.part` file, and a file archived but not recorded. `check_home` lists both, and checks
every recorded file's SHA-256 against its archived bytes. With `repair`, it removes the `.part`
files no running writer owns and records each unrecorded file as received but unrecorded
(kind and status `unrecorded`), for the operator to have it sent again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from pilotzones import clock
from pilotzones.store import ledger
from pilotzones.store import models as m
from pilotzones.store.archive import PART, WRITERS_LOCK, Reader, walk
from pilotzones.store.home import Home
from pilotzones.store.locks import file_lock
from pilotzones.store.session import session

UNRECORDED = "unrecorded"  # kind and status of a file found in the archive without a record
# While some process is writing into the archive, a `.part` file younger than this may be its own.
BUSY_AGE = 3600.0
_UNRECORDED_ERROR = (
    "处理中断后在存档中发现的文件，当时未能登记：报送单位、类别与年度不详，已按原样保存。请联系报送方重新报送。"
)


@dataclass
class Archived:
    path: str  # relative to the home
    size: int
    sha256: str
    received: datetime  # the file's modification time: when it was archived


@dataclass
class HomeCheck:
    """What `check_home` found (and, with repair, did)."""

    recorded: int = 0  # recorded files whose archived bytes were checked
    leftovers: list[str] = field(default_factory=list)  # `.part` files (relative to the home)
    removed: list[str] = field(default_factory=list)  # of those, removed by this run
    kept_busy: list[str] = field(default_factory=list)  # young ones left to a running writer
    orphans: list[Archived] = field(default_factory=list)  # archived, not recorded
    newly_recorded: dict[str, int] = field(default_factory=dict)  # orphan path -> its new submission id
    unrecorded: list[tuple[int, str, datetime]] = field(default_factory=list)  # on record, awaiting resubmission
    missing: list[tuple[int, str]] = field(default_factory=list)  # (submission id, archive path)
    mismatched: list[tuple[int, str, str, str]] = field(default_factory=list)  # id, path, recorded, actual

    @property
    def unrepaired(self) -> bool:
        """Whether something is left for the operator: damage, or leftovers a repair would handle."""
        left = set(self.leftovers) - set(self.removed) - set(self.kept_busy)
        orphans = [o for o in self.orphans if o.path not in self.newly_recorded]
        return bool(self.missing or self.mismatched or left or orphans)


def check_home(home: Home, *, repair: bool = False) -> HomeCheck:
    """Check the archive against the record; with `repair`, remove leftovers and record orphans."""
    out = HomeCheck(leftovers=_leftovers(home))
    hashes: dict[str, str | None] = {}
    with session(home.db_url) as s:
        rows = s.execute(select(m.Submission.id, m.Submission.sha256, m.Submission.archive_path)).all()
    with Reader(home) as reader:
        for sub_id, recorded, rel in rows:
            if rel not in hashes:
                hashes[rel] = reader.sha256(rel)
            actual = hashes[rel]
            if actual is None:
                out.missing.append((sub_id, rel))
            elif actual != recorded:
                out.mismatched.append((sub_id, rel, recorded, actual))
        out.recorded = len(rows)
        for kept in walk(home):
            if kept.rel not in hashes:
                digest = reader.sha256(kept.rel)
                if digest is not None:
                    received = datetime.fromtimestamp(kept.modified, UTC)
                    out.orphans.append(Archived(kept.rel, kept.size, digest, received))
    if repair:
        _remove_leftovers(home, out)
        out.newly_recorded = _record_orphans(home, out.orphans)
    with session(home.db_url) as s:
        found = s.execute(
            select(m.Submission.id, m.Submission.archive_path, m.Submission.received_at)
            .where(m.Submission.status == UNRECORDED)
            .order_by(m.Submission.id)
        ).all()
    out.unrecorded = [(i, rel, ledger.utc(at)) for i, rel, at in found]
    return out


def _leftovers(home: Home) -> list[str]:
    """Temporary files of writes that never finished: in the archive, the outbox, the home itself."""
    found = [*home.archive.rglob(f"*{PART}"), *home.outbox.rglob(f"*{PART}"), *home.path.glob(f".*{PART}")]
    return sorted(str(p.relative_to(home.path)) for p in found if p.is_file())


def _remove_leftovers(home: Home, out: HomeCheck) -> None:
    # With no writer holding the archive's lock, every `.part` file in the archive is a dead
    # process's; otherwise only those too old to be a running writer's. The outbox's and the home's
    # own writers (delivery, init) take no such lock: theirs are removed only once that old.
    archive = str(home.archive.relative_to(home.path))
    with file_lock(home.archive / WRITERS_LOCK, wait=False) as alone:
        now = time.time()
        for rel in out.leftovers:
            path = home.path / rel
            locked = alone and Path(rel).parts[0] == archive
            try:
                if not locked and now - path.stat().st_mtime < BUSY_AGE:
                    out.kept_busy.append(rel)
                    continue
                path.unlink()
            except FileNotFoundError:
                pass  # its writer finished meanwhile
            out.removed.append(rel)


def _record_orphans(home: Home, orphans: list[Archived]) -> dict[str, int]:
    """Record each archived, unrecorded file as received but unrecorded; its id by path."""
    if not orphans:
        return {}
    tz = home.programme.tz
    ids = {}
    with session(home.db_url) as s:
        for o in orphans:
            sub = ledger.record_submission(
                s,
                kind=UNRECORDED,
                year=o.received.astimezone(tz).year,
                sender=None,
                filename=Path(o.path).name[:255],
                sha256=o.sha256,
                size=o.size,
                archive_path=o.path,
                received_at=o.received,
                recorded_at=clock.now(),
                status=UNRECORDED,
                on_time=False,
                errors=[{"row": None, "key": None, "rule": "§3", "message": _UNRECORDED_ERROR}],
            )
            ids[o.path] = sub.id
    return ids
