"""`submit_many` records a batch of evaluation files exactly as `submit` records each of them."""

from __future__ import annotations

import hashlib
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from pilotzones.errors import ConfigError
from pilotzones.intake.bulk import submit_many
from pilotzones.intake.submit import Outcome, submit
from pilotzones.store import archive, deadlines
from pilotzones.store import models as m
from pilotzones.store.audit import check_home
from pilotzones.store.session import session
from tests.support import rows_for, write

pytestmark = pytest.mark.integration

YEAR = 2023
PILOTS = ["654025", "654002", "654321", "650521", "652926", "653224"]


def _files(home, folder: Path) -> list[Path]:
    """Valid files of the pilots and, among them, the kinds of file that are rejected."""
    paths = [write(rows_for(home, z, YEAR), folder / f"{z}.csv") for z in PILOTS[:4]]
    paths.append(write(rows_for(home, PILOTS[4], YEAR, **{"12": "85"}), folder / "out-of-range.csv"))
    paths.append(write(rows_for(home, "652901", YEAR), folder / "not-a-pilot.csv"))
    paths.append(write(rows_for(home, PILOTS[5], YEAR), folder / "gb18030.csv", "gb18030"))
    unreadable = folder / "unreadable.csv"
    unreadable.write_bytes(b'year,adcode\n"2023,654025\n')
    paths.append(unreadable)
    return paths


def _recorded(home, after: int, upto: int) -> list[dict]:
    """Submissions after id `after` up to `upto`, with values and notices, less what two recordings differ in."""
    out = []
    columns = [c for c in m.Submission.__table__.columns.keys() if c not in ("id", "recorded_at")]
    value = m.SubmissionValue
    with session(home.db_url) as s:
        subs = s.scalars(select(m.Submission).where(m.Submission.id > after, m.Submission.id <= upto)).all()
        for sub in sorted(subs, key=lambda x: x.id):
            row = {c: getattr(sub, c) for c in columns}
            values = s.scalars(select(value).where(value.submission_id == sub.id).order_by(value.id)).all()
            row["values"] = [(v.adcode, v.key, v.value, v.evidence, v.extra) for v in values]
            rejection = select(m.OutboxNotice).where(m.OutboxNotice.ref == str(sub.id))
            row["notices"] = [(n.kind, n.about, n.recipient) for n in s.scalars(rejection)]
            out.append(row)
    return out


def _last_id(home) -> int:
    with session(home.db_url) as s:
        return max(s.scalars(select(m.Submission.id)).all(), default=0)


def _plain(outcome: Outcome) -> dict:
    # What recording adds (the id, the rejection notice queued and whether it went) a dry run cannot know.
    return {k: v for k, v in vars(outcome).items() if k not in ("submission_id", "notice_id", "notice_sent")}


def _compare(home, paths: list[Path], at) -> list[Outcome]:
    start = _last_id(home)
    one_by_one = [submit(home, p, year=YEAR, kind="evaluation", at=at) for p in paths]
    middle = _last_id(home)
    together = submit_many(home, paths, year=YEAR, at=at)
    assert [_plain(o) for o in together] == [_plain(o) for o in one_by_one]
    by_submit, by_bulk = _recorded(home, start, middle), _recorded(home, middle, _last_id(home))
    assert len(by_submit) == len(paths)
    assert any(r["notices"] for r in by_submit)  # rejections are noticed, by either way
    assert by_bulk == by_submit
    assert [o.submission_id for o in together] == list(range(middle + 1, middle + 1 + len(paths)))
    return together


def test_a_batch_on_time_is_recorded_as_each_file_by_submit(home, tmp_path):
    at = home.programme.moment("evaluation_deadline", YEAR) - timedelta(days=3)
    outcomes = _compare(home, _files(home, tmp_path), at)
    assert [o.accepted for o in outcomes] == [True] * 4 + [False, False, True, False]
    assert all(o.on_time for o in outcomes)
    assert [o.rows for o in outcomes[:4]] == [48] * 4


def test_a_late_batch_counts_only_within_an_extension(home, tmp_path):
    deadline = home.programme.moment("evaluation_deadline", YEAR)
    deadlines.grant_extension(
        home,
        year=YEAR,
        stage="evaluation",
        adcode=PILOTS[1],
        until=deadline + timedelta(days=2),
        reason="网络故障",
        by="tester",
    )
    outcomes = _compare(home, _files(home, tmp_path), deadline + timedelta(hours=5))
    late = {o.sender: (o.on_time, o.extended_until is not None) for o in outcomes if o.sender}
    assert late[PILOTS[1]] == (True, True)
    assert late[PILOTS[0]] == (False, False)


def test_an_empty_batch_records_nothing(home):
    assert submit_many(home, [], year=YEAR) == []
    assert _last_id(home) == 0


def test_a_batch_that_cannot_be_kept_records_nothing_of_it(home, tmp_path):
    """The batch's files are kept (one pack) before anything of it is recorded."""
    paths = [write(rows_for(home, z, YEAR), tmp_path / f"{z}.csv") for z in PILOTS[:3]]
    submit(home, paths[0], year=YEAR, kind="evaluation")  # kept on its own before
    (home.archive / "packs").write_bytes(b"")  # a file where the archive needs its packs folder
    before = _last_id(home)
    at = home.programme.moment("evaluation_deadline", YEAR) - timedelta(days=1)
    with pytest.raises(ConfigError, match="无法写入存档"):
        submit_many(home, paths, year=YEAR, at=at)
    assert _last_id(home) == before and not list(home.archive.rglob("*.part"))
    # What was kept before stays kept: a received file is never lost.
    assert (home.path / _archive_path(paths[0])).exists()


def test_a_batch_is_one_pack_holding_each_file_as_received(home, tmp_path):
    """A batch costs the disk one new file; each file's bytes are found again by its recorded path."""
    paths = _files(home, tmp_path)
    submit(home, paths[0], year=YEAR, kind="evaluation")  # already archived: not written again
    at = home.programme.moment("evaluation_deadline", YEAR) - timedelta(days=1)
    outcomes = submit_many(home, paths, year=YEAR, at=at)
    (pack,) = (home.archive / "packs").rglob("*.zip")
    with session(home.db_url) as s:
        subs = {o.submission_id: s.get(m.Submission, o.submission_id) for o in outcomes}
    rels = [subs[o.submission_id].archive_path for o in outcomes]
    assert rels[0] == _archive_path(paths[0])
    assert all(rel.startswith(f"{pack.relative_to(home.path)}!/") for rel in rels[1:])
    with zipfile.ZipFile(pack) as z:
        assert len(z.namelist()) == len(paths) - 1
        for path, rel in zip(paths[1:], rels[1:], strict=True):
            assert z.read(rel.partition("!/")[2]) == path.read_bytes()
    with archive.Reader(home) as reader:
        assert [reader.read(rel) for rel in rels] == [p.read_bytes() for p in paths]
    assert check_home(home).unrepaired is False and check_home(home).recorded == len(paths) + 1
    again = submit_many(home, paths, year=YEAR, at=at)  # the same bytes again: nothing new on disk
    assert len(list((home.archive / "packs").rglob("*.zip"))) == 1 and all(o.submission_id for o in again)


def _archive_path(path: Path) -> str:
    """Where the archive keeps a file sent on its own: named by its SHA-256, in a folder of the first two digits."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return f"archive/{digest[:2]}/{digest}{path.suffix}"


def test_a_dry_run_batch_checks_and_keeps_nothing(home, tmp_path):
    at = home.programme.moment("evaluation_deadline", YEAR) - timedelta(days=1)
    paths = _files(home, tmp_path)
    dry = submit_many(home, paths, year=YEAR, at=at, dry_run=True)
    assert [o.accepted for o in dry] == [True] * 4 + [False, False, True, False]
    assert all(o.submission_id is None for o in dry)
    assert _last_id(home) == 0 and not any((home.path / "archive").rglob("*.csv"))
    assert [_plain(o) for o in dry] == [_plain(o) for o in submit_many(home, paths, year=YEAR, at=at)]


def _cli(home, *args: str):
    from click.testing import CliRunner

    from pilotzones.cli.main import cli

    return CliRunner().invoke(cli, ["--home", str(home.path), *args], obj={}, catch_exceptions=False)


def test_submit_takes_several_files_each_accepted_or_rejected_on_its_own(home, tmp_path):
    paths = _files(home, tmp_path)
    r = _cli(home, "submit", *map(str, paths), "--year", str(YEAR), "--at", f"{YEAR}-12-10T10:00:00")
    assert r.exit_code == 3
    assert _recorded(home, 0, _last_id(home)) and _last_id(home) == len(paths)
    for path in paths[:4]:
        assert f"{path}: 已接收（48行" in r.stdout
    assert f"{paths[4]}: 文件未通过校验" in r.stderr and f"{paths[7]}: 文件未通过校验" in r.stderr
    assert "共8份文件：已接收5份，退回3份。" in r.stderr


def test_submit_of_several_accepted_files_exits_0(home, tmp_path):
    paths = _files(home, tmp_path)[:4]
    r = _cli(home, "submit", *map(str, paths), "--year", str(YEAR), "--at", f"{YEAR}-12-10T10:00:00", "--dry-run")
    assert r.exit_code == 0, r.output
    assert r.stdout.count("【试运行】") == 4 and _last_id(home) == 0


def test_submit_of_several_files_records_nothing_when_one_cannot_be_read(home, tmp_path):
    paths = _files(home, tmp_path)[:2]
    for kind in ("evaluation", "review"):
        r = _cli(home, "submit", *map(str, paths), str(tmp_path / "missing.csv"), "--year", str(YEAR), "--kind", kind)
        assert r.exit_code == 2
        assert _last_id(home) == 0
