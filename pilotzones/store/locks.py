"""One run per stage and year at a time, with a lock that dies with its holder.

PostgreSQL: a session advisory lock, released by the server when the holding connection ends,
however the process ended. SQLite: an exclusive `flock` on a file beside the database file,
released by the kernel when the process ends. Either way a SIGKILLed run leaves no stale lock.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import make_url, text

from pilotzones.errors import StageError
from pilotzones.store.session import engine


class StageBusy(StageError):
    """Another run of the same stage and year holds the lock."""


def _key(stage: str, year: int) -> int:
    digest = hashlib.sha256(f"pilotzones:{stage}:{year}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _busy(stage: str, year: int, words: dict[str, str] | None) -> StageBusy:
    from pilotzones import stages

    return StageBusy(f"{year}年度{stages.cn(stage, words)}的另一运行正在进行，请待其结束后再试")


@contextmanager
def stage_lock(db_url: str, stage: str, year: int, words: dict[str, str] | None = None) -> Iterator[None]:
    """`words`: the programme's (`Info.words()`), for the refusal's stage name."""
    url = make_url(db_url)
    if url.get_backend_name() == "postgresql":
        with engine(db_url).connect() as conn:
            if not conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": _key(stage, year)}).scalar():
                raise _busy(stage, year, words)
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _key(stage, year)})
                conn.commit()
        return
    import fcntl

    db_file = Path(url.database or "pilotzones.db")
    lock_path = db_file.parent / f"{db_file.name}.{stage}-{year}.lock"
    with open(lock_path, "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise _busy(stage, year, words) from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@contextmanager
def file_lock(path: Path, *, shared: bool = False, wait: bool = True) -> Iterator[bool]:
    """An `flock` on `path` (created if missing) for the block; the kernel drops it when the process dies.

    Yields True once taken; without `wait`, False at once when another process holds it (the
    block then runs without it).
    """
    import fcntl

    with open(path, "a+") as fh:
        mode = fcntl.LOCK_SH if shared else fcntl.LOCK_EX
        try:
            fcntl.flock(fh, mode if wait else mode | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
