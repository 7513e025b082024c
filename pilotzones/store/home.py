"""The state home: programme file, state database, archive of received files, outbox, reports."""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import tomllib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from sqlalchemy import inspect, make_url, select

from pilotzones.errors import ConfigError, os_reason
from pilotzones.rules import programme as programme_mod
from pilotzones.rules.decisions import DecisionState
from pilotzones.rules.programme import Programme
from pilotzones.rules.register import Register, load_register
from pilotzones.settings import settings
from pilotzones.store import PROGRAMME_FILE
from pilotzones.store import models as m
from pilotzones.store.archive import PART
from pilotzones.store.locks import file_lock
from pilotzones.store.session import at_head, migrate, session


@dataclass(frozen=True)
class Home:
    path: Path

    @property
    def db_url(self) -> str:
        return settings().database_url_value() or f"sqlite:///{self.path.resolve() / 'pilotzones.db'}"

    @property
    def archive(self) -> Path:
        return self.path / "archive"

    @property
    def outbox(self) -> Path:
        return self.path / "outbox"

    @property
    def reports(self) -> Path:
        return self.path / "reports"

    @cached_property
    def programme(self) -> Programme:
        return programme_mod.load(self.path / PROGRAMME_FILE)

    @cached_property
    def register(self) -> Register:
        return load_register(self.programme.programme.region_code)


HOME_LOCK = ".lock"


def init_home(path: Path, programme_file: Path | None = None) -> Home:
    """Create (or bring up to date) a home for the built-in or the given programme.

    Several processes may create the same home at once (counties submitting into a home that does
    not exist yet): one at a time does the work, under a lock in the home, and the programme file
    is written aside and renamed into place, so that no reader ever sees half of it.
    """
    while True:
        existed = (path / PROGRAMME_FILE).exists()
        prog, text, source = _programme_for(path, programme_file)
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"无法创建主目录 {path}：{os_reason(exc)}") from exc
        with file_lock(path / HOME_LOCK):
            # Another process may have created the home meanwhile: then decide again on what it wrote.
            if (path / PROGRAMME_FILE).exists() == existed:
                return _init_locked(path, prog, text, source)


def _programme_for(path: Path, programme_file: Path | None) -> tuple[Programme, str, Path]:
    """The programme a home is to run, its text and where it comes from; refused before anything is made."""
    prog = programme_mod.load(programme_file)
    source = programme_file or programme_mod.BUILTIN
    target = path / PROGRAMME_FILE
    text = source.read_text(encoding="utf-8")
    if target.exists():
        current = programme_mod.load(target)
        if programme_file is not None and current.programme.id != prog.programme.id:
            raise ConfigError(
                f"{path}：本主目录已用于方案 {current.programme.id!r}；方案 {prog.programme.id!r} 请用另一个 --home"
            )
        if programme_file is None:
            text = target.read_text(encoding="utf-8")
            prog = current
            source = target
    programme_mod.check_places(prog, source)
    return prog, text, source


def _init_locked(path: Path, prog: Programme, text: str, source: Path) -> Home:
    home = Home(path)
    for d in (home.archive, home.outbox, home.reports):
        d.mkdir(exist_ok=True)
    migrate(home.db_url)
    # Checked before the file is written: a refused programme leaves the home as it was.
    _refuse_rewriting_published_years(home, prog, text, source)
    _write_aside(path / PROGRAMME_FILE, text)
    _seed(home, prog, text)
    return home


def _write_aside(target: Path, text: str) -> None:
    """Write `target` whole or not at all: to a temporary file beside it, then renamed over it."""
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=PART)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(name, target)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise


# What the published years were decided with. Contacts, calendar and wording may change at any time.
_DECIDING = ("rubric", "rules", "pilots")
_DECIDING_INFO = ("start_year", "region_code")
# Words of the rubric: how items are named and explained, not how they score.
_WORDING = frozenset({"name", "text", "share_name", "pair_note"})


def _without_wording(value):
    if isinstance(value, dict):
        return {k: _without_wording(v) for k, v in value.items() if k not in _WORDING}
    if isinstance(value, list):
        return [_without_wording(v) for v in value]
    return value


def _deciding_parts(prog: Programme) -> dict:
    dumped = prog.model_dump(mode="json")
    parts = {k: _without_wording(dumped[k]) for k in _DECIDING}
    parts.update({k: dumped["programme"][k] for k in _DECIDING_INFO})
    return parts


def _refuse_rewriting_published_years(home: Home, prog: Programme, text: str, source: Path) -> None:
    """Refuse a programme file that changes the rubric, rules or roster under a published year."""
    with session(home.db_url) as s:
        recorded = s.get(m.Meta, "programme_text")
        if recorded is None or recorded.value == text:
            return  # a new home, or one initialised before the text was kept: nothing to compare
        published = sorted(
            set(s.scalars(select(m.Decision.year).where(m.Decision.state == DecisionState.PUBLISHED.value)))
        )
    if not published:
        return
    try:
        before = _deciding_parts(programme_mod.Programme.model_validate(tomllib.loads(recorded.value)))
    except (tomllib.TOMLDecodeError, ValueError):
        return
    after = _deciding_parts(prog)
    changed = [k for k in after if after[k] != before[k]]
    if changed:
        years = "、".join(str(y) for y in published)
        raise ConfigError(
            f"{source}：方案 {prog.programme.id} 的 {'、'.join(changed)} 与已发布年度（{years}）所依据的方案不同，"
            f"不能改写已发布年度的规则：请恢复原方案文件；{published[-1] + 1}年度起的评价细则修订请用 "
            f"pilotzones programme add FILE --from-year {published[-1] + 1}"
        )


def _seed(home: Home, prog: Programme, text: str) -> None:
    with session(home.db_url) as s:
        ids = {r.key: r for r in s.scalars(select(m.Meta))}
        if "programme_id" in ids and ids["programme_id"].value != prog.programme.id:
            raise ConfigError(
                f"{safe_url(home.db_url)}：该状态数据库属于方案 {ids['programme_id'].value!r}，"
                f"不是 {prog.programme.id!r}"
            )
        s.merge(m.Meta(key="programme_id", value=prog.programme.id))
        s.merge(m.Meta(key="programme_sha256", value=hashlib.sha256(text.encode()).hexdigest()))
        s.merge(m.Meta(key="programme_text", value=text))
        known = set(s.scalars(select(m.Membership.adcode)))
        for seat, adcode in enumerate(prog.pilots.initial, start=1):
            if adcode not in known:
                s.add(
                    m.Membership(adcode=adcode, seat=seat, joined_year=prog.programme.start_year, join_reason="initial")
                )


def open_home(path: Path) -> Home:
    """The home at `path`; one that does not exist yet is created for the built-in programme,
    unless the configured state database was already initialised with a home (then: refused)."""
    if not (path / PROGRAMME_FILE).exists():
        if _shared_database_initialised():
            # A machine that does not see the shared home must not start one of its own beside
            # the shared database (and re-seed it with the built-in programme): refuse instead.
            check_shared_home(path)
        print(f"pilotzones: 正在为内置方案创建主目录 {path}", file=sys.stderr)
    elif _set_up(Home(path)):
        return Home(path)
    # Idempotent: migrates the database and seeds the initial pilots if this database is new.
    return init_home(path)


def open_home_if_any(path: Path) -> Home | None:
    """The home at `path` for a command that only shows the programme (`rubric`): None when there is
    none yet, and nothing is created (the built-in programme is what a new home would run); refused
    as `open_home` refuses when the configured state database was already initialised with a home
    (what it runs is that home's programme, which this machine does not see)."""
    if (path / PROGRAMME_FILE).is_file():
        return open_home(path)
    if _shared_database_initialised():
        check_shared_home(path)
    return None


def check_shared_home(path: Path | str) -> Home:
    """The initialised home at `path` for a flow or a worker, which never creates one.

    On several machines the home is a shared location every worker mounts: a worker that does not
    see it (no mount, a typo in PILOTZONES_HOME) must not run the stage against an empty folder or
    a programme of its own. Refuses (ConfigError, one line, in Chinese: operators read it) when the
    folder is missing or was never initialised, and when its programme file is not the one the
    state database was initialised with.
    """
    path = Path(path)
    fix = f"请在共享存储上运行 `pilotzones --home {path} init`，或在本机挂载共享主目录（PILOTZONES_HOME）"
    if not path.is_dir():
        raise ConfigError(f"主目录 {path} 不存在：{fix}")
    home = Home(path)
    missing = [p.name for p in (path / PROGRAMME_FILE, home.archive, home.outbox, home.reports) if not p.exists()]
    if missing:
        raise ConfigError(f"主目录 {path} 未初始化（缺少 {'、'.join(missing)}）：{fix}")
    digest = programme_digest(path)
    with session(home.db_url) as s:
        initialised = inspect(s.connection()).has_table("alembic_version")
        current = initialised and at_head(s)
    if initialised and not current:
        migrate(home.db_url)  # a newer checkout on the workers: as when any command opens the home
    with session(home.db_url) as s:
        recorded = s.get(m.Meta, "programme_sha256") if initialised else None
    where = safe_url(home.db_url)
    if recorded is None:
        raise ConfigError(f"状态数据库 {where} 未初始化（没有方案摘要）：请运行 `pilotzones --home {path} init`")
    if recorded.value != digest:
        raise ConfigError(
            f"主目录 {path} 的方案文件（sha256 {digest[:12]}）与状态数据库 {where} 记录的方案"
            f"（sha256 {recorded.value[:12]}）不同：请挂载共享主目录；方案确需修改时，"
            f"在共享主目录上运行 `pilotzones --home {path} init`"
        )
    return home


def require_shared_home(home: str) -> dict:
    """Pull step of the deployments (prefect.yaml), run by each flow run before its flow loads.

    A refusal ends the run Failed with the one-line message (shown on the run's page) and ends the
    process without a traceback: raising here would log one and leave the run merely Crashed.
    """
    try:
        check_shared_home(home)
    except ConfigError as exc:
        _refuse_flow_run(str(exc))
    return {"home": home}


def _refuse_flow_run(message: str) -> None:
    import os

    print(f"pilotzones: {message}", file=sys.stderr, flush=True)
    run_id = os.environ.get("PREFECT__FLOW_RUN_ID")
    if run_id:
        from prefect.client.orchestration import get_client
        from prefect.states import Failed

        with get_client(sync_client=True) as client:
            client.set_flow_run_state(run_id, Failed(message=message), force=True)
    sys.stderr.flush()
    os._exit(2)


def programme_digest(path: Path) -> str:
    """The SHA-256 of a home's programme file as `init_home` records it."""
    return hashlib.sha256((path / PROGRAMME_FILE).read_text(encoding="utf-8").encode()).hexdigest()


def safe_url(url: str) -> str:
    """A database URL fit for a message: without its password."""
    return make_url(url).render_as_string(hide_password=True)


def _shared_database_initialised() -> bool:
    """Whether PILOTZONES_DATABASE_URL names a state database some home was initialised with."""
    url = settings().database_url_value()
    if not url:
        return False  # the home's own SQLite file: a new home has a new database
    if url.startswith("sqlite") and not Path(make_url(url).database or "").is_file():
        return False  # connecting would create the file
    with session(url) as s:
        if not inspect(s.connection()).has_table("meta"):
            return False
        return s.get(m.Meta, "programme_sha256") is not None


def _set_up(home: Home) -> bool:
    """Whether `init_home` already set this home up for its programme file as it now reads, on the
    newest schema: then a command opens it without a write (and without loading Alembic)."""
    if not all(d.is_dir() for d in (home.archive, home.outbox, home.reports)):
        return False
    digest = programme_digest(home.path)
    with session(home.db_url) as s:
        if not at_head(s):
            return False
        recorded = s.get(m.Meta, "programme_sha256")
        return recorded is not None and recorded.value == digest
