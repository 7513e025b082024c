"""Opening a home: one already set up is opened without a write; anything else is set up again."""

from __future__ import annotations

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import delete, select, text

from pilotzones.store import models as m
from pilotzones.store.home import PROGRAMME_FILE, open_home
from pilotzones.store.session import MIGRATIONS, at_head, engine, head_revision, migrate, session

pytestmark = pytest.mark.integration


def test_the_head_revision_read_from_file_names_is_alembics():
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    assert head_revision() == ScriptDirectory.from_config(cfg).get_current_head()


def _fingerprint(home) -> tuple:
    """What opening a home could change: the programme file's time and the database's rows."""
    with session(home.db_url) as s:
        meta = sorted((r.key, r.value) for r in s.scalars(select(m.Meta)))
        seats = sorted((r.adcode, r.seat) for r in s.scalars(select(m.Membership)))
    return (home.path / PROGRAMME_FILE).stat().st_mtime_ns, meta, seats


def test_an_up_to_date_home_is_opened_without_a_write(home):
    before = _fingerprint(home)
    assert open_home(home.path) == home
    assert _fingerprint(home) == before


def test_a_home_whose_programme_file_changed_is_set_up_again(home):
    with session(home.db_url) as s:
        s.execute(delete(m.Membership))
    programme = home.path / PROGRAMME_FILE
    programme.write_text(programme.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    open_home(home.path)
    with session(home.db_url) as s:
        assert s.scalars(select(m.Membership)).all(), "the set-up ran again and seeded the pilots"


def test_a_database_is_at_head_only_once_migrated(tmp_path):
    url = f"sqlite:///{tmp_path / 'state.db'}"
    with session(url) as s:
        assert not at_head(s)
    migrate(url)
    with session(url) as s:
        assert at_head(s)
        s.execute(text("UPDATE alembic_version SET version_num = '0001'"))
        assert not at_head(s)


def test_a_home_on_an_older_schema_is_migrated_when_opened(tmp_path, monkeypatch):
    """A home made before revocations existed (schema 0003) keeps its exceptions, in force."""
    from alembic import command

    from pilotzones.store.home import init_home

    monkeypatch.delenv("PILOTZONES_DATABASE_URL", raising=False)
    home = init_home(tmp_path / "home")
    url = home.db_url
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url)
    command.downgrade(cfg, "0003")
    with session(url) as s:
        assert not at_head(s)
        s.execute(
            text(
                "INSERT INTO deadline_exceptions (year, stage, adcode, kind, reason, granted_by, granted_at) "
                "VALUES (2023, 'evaluation', '654025', 'extension', 'r', 'me', '2023-12-21 00:00:00')"
            )
        )
    open_home(home.path)
    with session(url) as s:
        assert at_head(s)
        (x,) = s.scalars(select(m.DeadlineException)).all()
        assert (x.adcode, x.revoked_at, x.revoked_by) == ("654025", None, None)


def _publish(home, year: int) -> None:
    """A published evaluation of `year`, as the stage leaves it (what the refusal looks at)."""
    from datetime import UTC, datetime

    with session(home.db_url) as s:
        now = datetime.now(UTC)
        s.add(
            m.Decision(
                year=year,
                stage="evaluation",
                state="published",
                digest="x",
                proposal={},
                inputs={},
                created_at=now,
                published_at=now,
            )
        )


def test_a_changed_rubric_is_refused_once_a_year_is_published(home, tmp_path):
    """Same programme id, moved weights: refused with the published years named; the home keeps its file.
    A changed contact is still taken."""
    from pilotzones.errors import ConfigError
    from pilotzones.store.home import init_home

    original = (home.path / PROGRAMME_FILE).read_text(encoding="utf-8")
    moved = original.replace("weight = 80", "weight = 70", 1).replace("weight = 20", "weight = 30", 1)
    f = tmp_path / "revised.toml"
    f.write_text(moved, encoding="utf-8")
    _publish(home, 2023)
    with pytest.raises(ConfigError) as exc:
        init_home(home.path, f)
    assert str(exc.value) == (
        f"{f}：方案 xj-jcws-syq 的 rubric 与已发布年度（2023）所依据的方案不同，不能改写已发布年度的规则："
        "请恢复原方案文件；2024年度起的评价细则修订请用 pilotzones programme add FILE --from-year 2024"
    )
    assert (home.path / PROGRAMME_FILE).read_text(encoding="utf-8") == original
    # By hand: the next command refuses too, instead of scoring under the edited rubric.
    (home.path / PROGRAMME_FILE).write_text(moved, encoding="utf-8")
    with pytest.raises(ConfigError, match="rubric"):
        open_home(home.path)
    f.write_text(original.replace("@", "+new@", 1), encoding="utf-8")
    init_home(home.path, f)
    assert "+new@" in (home.path / PROGRAMME_FILE).read_text(encoding="utf-8")


def test_values_keep_through_the_migration_that_drops_their_foreign_key(home, tmp_path):
    """0009 drops submission_values' declared key (SQLite rebuilds the table): every value stays."""
    from alembic import command
    from sqlalchemy import inspect

    from pilotzones.intake.submit import submit
    from tests.support import rows_for, write

    path = write(rows_for(home, "654025", 2023), tmp_path / "654025.csv")
    submit(home, path, year=2023, kind="evaluation")
    with session(home.db_url) as s:
        before = s.execute(select(m.SubmissionValue.submission_id, m.SubmissionValue.key)).all()
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", home.db_url)
    command.downgrade(cfg, "0008")
    engine(home.db_url).dispose()  # SQLite: a pooled connection may hold the schema as it was
    with session(home.db_url) as s:
        assert inspect(s.connection()).get_foreign_keys("submission_values")
    open_home(home.path)
    with session(home.db_url) as s:
        assert at_head(s) and not inspect(s.connection()).get_foreign_keys("submission_values")
        assert s.execute(select(m.SubmissionValue.submission_id, m.SubmissionValue.key)).all() == before
    assert len(before) == 48
