"""Engines, sessions and migrations for the state database (SQLite by default, PostgreSQL by URL)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).parent / "migrations"


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cur = dbapi_connection.cursor()
    # WAL lets `status` read while a stage writes; the busy timeout waits out a short write lock.
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


@lru_cache(maxsize=16)
def engine(url: str) -> Engine:
    eng = create_engine(url, future=True)
    if eng.dialect.name == "sqlite":
        event.listen(eng, "connect", _sqlite_pragmas)
    return eng


def migrate(url: str) -> None:
    """Bring the schema to the newest migration."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    with engine(url).begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def head_revision() -> str:
    """The newest migration's revision id: the migrations are named `NNNN_what.py` with revision "NNNN"."""
    return max(p.name.split("_", 1)[0] for p in (MIGRATIONS / "versions").glob("[0-9]*_*.py"))


def at_head(s: Session) -> bool:
    """Whether the database is migrated to `head_revision()`, read without loading Alembic."""
    if not inspect(s.connection()).has_table("alembic_version"):
        return False  # a database never migrated
    version = s.execute(text("SELECT version_num FROM alembic_version")).scalar_one_or_none()
    return version == head_revision()


@contextmanager
def session(url: str) -> Iterator[Session]:
    """A session whose work is committed on success and rolled back on error."""
    maker = sessionmaker(engine(url), expire_on_commit=False)
    with maker() as s, s.begin():
        yield s
