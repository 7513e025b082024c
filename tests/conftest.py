"""Shared fixtures: a Prefect test server per session, real databases, homes in temporary folders."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator

import pytest

# The `cli_home` fixture of the command-line tests.
pytest_plugins = ["tests.cli_home"]

# Before anything imports Prefect: its home (and any local database) lives in a temporary folder.
os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="pilotzones-prefect-"))
os.environ["GX_ANALYTICS_ENABLED"] = "false"
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
# No telemetry from the test server: these machines have no route out, and it would only log errors.
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"

PG_ADMIN = os.environ.get("PILOTZONES_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def pytest_collection_modifyitems(config, items):
    """Integration tests must say so: an unmarked test under tests/integration is refused."""
    for item in items:
        if "tests/integration" in str(item.fspath) and not item.get_closest_marker("integration"):
            raise pytest.UsageError(f"{item.nodeid}: tests under tests/integration need @pytest.mark.integration")


def _postgres_reachable() -> str | None:
    try:
        import sqlalchemy as sa

        eng = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
        with eng.connect() as c:
            c.execute(sa.text("select 1"))
        eng.dispose()
        return None
    except Exception as exc:
        return f"PostgreSQL not reachable at {PG_ADMIN.split('@')[-1]}: {type(exc).__name__}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path) -> Iterator[str]:
    """A fresh, empty state database: SQLite in a temporary folder, or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'state.db'}"
        return
    reason = _postgres_reachable()
    if reason:
        pytest.skip(reason)
    import sqlalchemy as sa

    name = f"pz_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    yield url
    from pilotzones.store.session import engine

    engine(url).dispose()
    with admin.connect() as c:
        c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def home(tmp_path, db_url, monkeypatch):
    """An initialised home for the built-in programme on the fixture's database."""
    from pilotzones.store.home import init_home

    monkeypatch.setenv("PILOTZONES_DATABASE_URL", db_url)
    return init_home(tmp_path / "home")


@pytest.fixture(scope="session")
def prefect_server():
    """One real Prefect server (the test harness) for the whole session."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


def pytest_report_header(config):
    reason = _postgres_reachable()
    return "postgresql: " + ("available" if reason is None else f"SKIPPED ({reason})")


@pytest.fixture(scope="session")
def hostile_files(tmp_path_factory):
    """Issue 12's hostile files, built on first use in a temporary folder (never in git), in
    seconds: `hostile_files("csv")` a 1,000,000-row CSV (41 MB), "bomb" a 2 MB XLSX whose shared
    string inflates to 2 GiB, "sheet_bomb" an XLSX whose sheet inflates to 1 GiB, "xlsx" a
    1,000,000-row XLSX (18.6 MB)."""
    from benchmarks import hostile_input as h

    folder = tmp_path_factory.mktemp("hostile")
    builders = {
        "csv": h.million_row_csv,
        "bomb": h.shared_string_bomb,
        "sheet_bomb": h.sheet_bomb,
        "xlsx": h.million_row_xlsx,
    }
    built: dict = {}

    def get(name: str):
        if name not in built:
            built[name] = builders[name](folder)
        return built[name]

    return get
