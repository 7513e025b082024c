"""Engines, sessions and migrations for the state database (SQLite by default, PostgreSQL by URL)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from pilotzones.errors import ConfigError

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
    try:
        eng = create_engine(url, future=True)
    except (ArgumentError, ValueError, ImportError) as exc:
        # A URL that cannot be parsed, an unknown dialect or driver, a port that is no number.
        raise ConfigError(
            f"PILOTZONES_DATABASE_URL 不是可用的数据库地址（{_first_line(exc)}）："
            "请写成 postgresql+psycopg://用户:密码@主机:端口/数据库，或不设置以使用主目录的 SQLite 文件"
        ) from None
    if eng.dialect.name == "sqlite":
        event.listen(eng, "connect", _sqlite_pragmas)
    return eng


# What the drivers say when the state database cannot be used as configured, by what to fix.
_FAULTS = (
    (
        ("readonly database", "read-only", "permission denied"),
        "状态数据库 {where} 不可写（{detail}）：请给运行 pilotzones 的用户写权限（SQLite 文件及其所在目录），"
        "或将 PILOTZONES_DATABASE_URL 设为可写的数据库",
    ),
    (
        (
            "connection failed",
            "could not connect",
            "connection refused",
            "unable to open database file",
            "failed to resolve host",
            "could not translate host",
            "timeout expired",
            "password authentication",
            "no password supplied",
            "does not exist",
            "invalid port",
            "invalid sslmode",
            "invalid integer value",
            "invalid connection option",
            "invalid dsn",
            "connection is bad",
        ),
        "无法打开状态数据库 {where}：{detail}。请检查 PILOTZONES_DATABASE_URL，并确认数据库服务器正在运行",
    ),
)


def database_fault(exc: BaseException) -> str | None:
    """One line naming what to fix when `exc` is the state database refusing its configuration
    (cannot connect, bad connection options, read-only), else None. Never the SQL nor its values."""
    from sqlalchemy.exc import DBAPIError

    if not isinstance(exc, DBAPIError):
        return None
    detail = _first_line(exc.orig if exc.orig is not None else exc)
    for phrases, message in _FAULTS:
        if any(p in detail.lower() for p in phrases):
            return message.format(where=_where(), detail=detail)
    return None


def database_error_line(exc: BaseException) -> str:
    """An unforeseen database error in one line: the driver's words without the statement and its
    parameters (which hold what a county sent)."""
    from sqlalchemy.exc import DBAPIError

    if isinstance(exc, DBAPIError) and exc.orig is not None:
        return f"{type(exc.orig).__name__}: {_first_line(exc.orig)}"
    return f"{type(exc).__name__}: {_first_line(exc)}"


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def _where() -> str:
    from sqlalchemy.engine import make_url

    from pilotzones.settings import settings

    url = settings().database_url_value()
    return make_url(url).render_as_string(hide_password=True) if url else "（主目录的 SQLite 数据库）"


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
