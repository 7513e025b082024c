"""Issue 12: counties submitting at once lose nothing, and a crash leaves only what `check --repair`
mends, through the real command, on SQLite and PostgreSQL (apart from test_hostile_input.py so that
these many-process tests run beside it on another worker).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from pilotzones.rules.programme import BUILTIN
from pilotzones.store.home import Home, init_home
from tests.integration.hostile import AT, EXE, YEAR, archived, cli, sha256, submissions, valid_file

pytestmark = pytest.mark.integration

# Processes started together: more than the machine's two cores, so that they do overlap in the
# steps that race (creating the home, migrating, archiving the same bytes, recording).
AT_ONCE = 5


# -- 3. races ------------------------------------------------------------------------------------


def _at_once(commands: list[tuple[Path, list[str]]], env: dict[str, str]) -> list[subprocess.CompletedProcess]:
    """Start every command before waiting for any."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    base.update(env, GX_ANALYTICS_ENABLED="false")
    procs = [
        subprocess.Popen(
            [str(EXE), *args],
            env=dict(base, PILOTZONES_HOME=str(home)),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for home, args in commands
    ]
    return [subprocess.CompletedProcess(p.args, p.wait(300), *p.communicate()) for p in procs]


def test_identical_files_submitted_at_the_same_moment_are_all_recorded(home, tmp_path):
    path = valid_file(home, tmp_path)
    done = _at_once([(home.path, ["submit", str(path), "--year", YEAR, "--at", AT])] * AT_ONCE, {})
    assert [d.returncode for d in done] == [0] * AT_ONCE, [d.stderr for d in done if d.returncode]
    subs = submissions(home)
    assert len(subs) == AT_ONCE and {s.sha256 for s in subs} == {sha256(path)}
    assert archived(home) == [home.path / subs[0].archive_path]  # one copy, no leftovers


def test_submits_into_a_home_that_does_not_exist_yet_all_succeed(db_url, tmp_path, monkeypatch):
    monkeypatch.setenv("PILOTZONES_DATABASE_URL", db_url)
    scratch = init_home(tmp_path / "scratch")  # only to write a valid file
    path = valid_file(scratch, tmp_path)
    new = tmp_path / "new-home"
    if db_url.startswith("postgresql"):  # a fresh database for the new home
        monkeypatch.setenv("PILOTZONES_DATABASE_URL", _fresh_pg(db_url))
    else:
        monkeypatch.setenv("PILOTZONES_DATABASE_URL", f"sqlite:///{new / 'pilotzones.db'}")
    done = _at_once([(new, ["submit", str(path), "--year", YEAR, "--at", AT])] * AT_ONCE, {})
    assert [d.returncode for d in done] == [0] * AT_ONCE, [d.stderr for d in done if d.returncode]
    assert (new / "programme.toml").read_text("utf-8") == BUILTIN.read_text("utf-8")
    assert len(submissions(Home(new))) == AT_ONCE


def _fresh_pg(db_url: str) -> str:
    import uuid

    import sqlalchemy as sa

    name = f"pz_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(db_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return db_url.rsplit("/", 1)[0] + "/" + name


# -- 6. crashes ----------------------------------------------------------------------------------


def test_a_submit_killed_midway_leaves_only_what_check_repairs(home, tmp_path):
    path = valid_file(home, tmp_path)
    staged = cli(home, "submit", str(path), "--year", YEAR, "--at", AT, PILOTZONES_FAULT="archive-staged:kill")
    assert staged.returncode == -9
    (part,) = home.archive.rglob("*.part")
    assert submissions(home) == [] and archived(home) == []
    kept = cli(home, "submit", str(path), "--year", YEAR, "--at", AT, PILOTZONES_FAULT="archive-kept:kill")
    assert kept.returncode == -9
    (orphan,) = archived(home)
    assert submissions(home) == [] and sha256(orphan) == sha256(path)

    found = cli(home, "check")
    assert found.returncode == 1 and part.name in found.stdout and orphan.name in found.stdout
    assert part.exists() and submissions(home) == []  # without --repair nothing changes

    repaired = cli(home, "check", "--repair")
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    assert not part.exists() and "已删除" in repaired.stdout
    (sub,) = submissions(home)
    assert (sub.kind, sub.status, sub.sender) == ("unrecorded", "unrecorded", None)
    assert sub.archive_path == str(orphan.relative_to(home.path)) and sub.sha256 == sha256(path)
    again = cli(home, "check")
    assert again.returncode == 0 and f"编号 {sub.id}" in again.stdout and "重新报送" in again.stdout

    assert cli(home, "submit", str(path), "--year", YEAR, "--at", AT).returncode == 0  # sent again
    assert cli(home, "check").returncode == 0
    orphan.write_bytes(b"tampered")
    broken = cli(home, "check")
    assert broken.returncode == 1 and "SHA-256 不符" in broken.stdout
    orphan.unlink()
    assert "缺失" in cli(home, "check").stdout


def test_a_batch_killed_midway_leaves_only_what_check_repairs(home, tmp_path):
    """A batch is kept as one pack: a crash leaves its `.part`, or the pack with every member unrecorded."""
    paths = [valid_file(home, tmp_path, f"{n}.csv") for n in ("a", "b")]
    paths[1].write_bytes(paths[1].read_bytes() + b"\n")  # other bytes, the same rows
    args = ["submit", *map(str, paths), "--year", YEAR, "--at", AT]
    assert cli(home, *args, PILOTZONES_FAULT="archive-staged:kill").returncode == -9
    (part,) = home.archive.rglob("*.part")
    assert submissions(home) == [] and archived(home) == []
    assert cli(home, *args, PILOTZONES_FAULT="archive-kept:kill").returncode == -9
    (pack,) = archived(home)
    assert pack.suffix == ".zip" and submissions(home) == []

    found = cli(home, "check")
    members = [f"{pack.relative_to(home.path)}!/{sha256(p)}.csv" for p in paths]
    assert found.returncode == 1 and all(m in found.stdout for m in members), found.stdout
    repaired = cli(home, "check", "--repair")
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    assert not part.exists()
    subs = submissions(home)
    assert sorted((s.status, s.archive_path, s.sha256) for s in subs) == sorted(
        ("unrecorded", m, sha256(p)) for m, p in zip(members, paths, strict=True)
    )
    done = cli(home, *args)  # sent again: recorded, and the bytes the pack holds are not written again
    assert done.returncode == 0, done.stderr
    assert archived(home) == [pack] and cli(home, "check").returncode == 0
    pack.write_bytes(pack.read_bytes()[:-30])  # a damaged pack: its files are named, not a traceback
    broken = cli(home, "check")
    assert broken.returncode == 1 and "缺失" in broken.stdout and members[0] in broken.stdout, broken.stderr


@pytest.fixture(autouse=True)
def _no_leftover_scratch(tmp_path):
    yield
    shutil.rmtree(tmp_path / "scratch", ignore_errors=True)
