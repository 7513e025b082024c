"""The command line as an operator and a county use it: exit codes, messages, status --json."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from pilotzones.store import models as m
from pilotzones.store.home import Home
from pilotzones.store.session import session
from tests.cli_home import run
from tests.support import rows_for, write

pytestmark = pytest.mark.integration


def test_accepted_file_exits_0_and_is_recorded_with_its_bytes(cli_home, tmp_path):
    home = Home(cli_home)
    f = write(rows_for(home, "654025", 2023), tmp_path / "xinyuan.csv")
    r = run(cli_home, "submit", str(f), "--year", "2023", "--kind", "evaluation", "--at", "2023-12-10T10:00:00")
    assert r.exit_code == 0, r.output
    with session(home.db_url) as s:
        sub = s.scalars(select(m.Submission)).one()
    assert sub.status == "accepted" and sub.sender == "654025" and sub.on_time
    assert (cli_home / sub.archive_path).read_bytes() == f.read_bytes()


def test_rejected_file_exits_3_lists_errors_and_keeps_the_raw_file(cli_home, tmp_path):
    home = Home(cli_home)
    rows = rows_for(home, "654025", 2023, **{"1": "95", "2": "abc"})
    f = write(rows, tmp_path / "bad.csv")
    r = run(cli_home, "submit", str(f), "--year", "2023", "--at", "2023-12-10T10:00:00")
    assert r.exit_code == 3
    assert "95" in r.stderr and "abc" in r.stderr
    with session(home.db_url) as s:
        sub = s.scalars(select(m.Submission)).one()
        assert s.scalar(select(func.count()).select_from(m.SubmissionValue)) == 0
    assert sub.status == "rejected" and len(sub.errors) == 2
    assert {e["key"] for e in sub.errors} == {"1", "2"}
    assert (cli_home / sub.archive_path).read_bytes() == f.read_bytes()


def test_dry_run_reports_like_submit_and_records_nothing(cli_home, tmp_path):
    home = Home(cli_home)
    f = write(rows_for(home, "654025", 2023, **{"1": "95"}), tmp_path / "bad.csv")
    r = run(cli_home, "submit", str(f), "--year", "2023", "--dry-run")
    assert r.exit_code == 3 and "95" in r.stderr
    assert r.stderr.startswith(f"【试运行】{f}: 文件未通过校验") and "dry-run" not in r.output
    with session(home.db_url) as s:
        assert s.scalar(select(func.count()).select_from(m.Submission)) == 0
    assert not any((cli_home / "archive").rglob("*.csv"))


def test_late_file_is_accepted_recorded_late_and_warned(cli_home, tmp_path):
    home = Home(cli_home)
    f = write(rows_for(home, "654025", 2023), tmp_path / "late.csv")
    r = run(cli_home, "submit", str(f), "--year", "2023", "--at", "2023-12-21T00:00:00+08:00")
    assert r.exit_code == 0
    assert "逾期" in r.stderr
    with session(home.db_url) as s:
        assert s.scalars(select(m.Submission)).one().on_time is False


def test_status_json_for_a_year_not_run(cli_home):
    r = run(cli_home, "status", "--year", "2023", "--json")
    assert r.exit_code == 0
    st = json.loads(r.stdout)
    # Beyond the contract's keys, the tracker: every pilot still owes its file.
    tracker = st.pop("submissions")["evaluation"]
    assert (tracker["expected"], tracker["counted"]) == (6, 0) and tracker["missing"] == st["pilots"]
    assert {x["state"] for x in tracker["senders"]} == {"nothing"}
    # Beyond the contract's keys (issue 14): no case, no visit yet (each pilot two short), no meeting.
    rect, visits, meetings = st.pop("rectification"), st.pop("visits"), st.pop("meetings")
    assert rect["cases"] == [] and (rect["open"], rect["overdue"], rect["deadline_months"]) == (0, 0, 6)
    assert [z["short"] for z in visits["zones"]] == [2] * 6 and visits["recorded"] == []
    assert (meetings["required"], meetings["held"], meetings["meetings"]) == (2, 0, [])
    assert st == {
        "year": 2023,
        "evaluation": {
            "state": "not_run",
            "ranking": [],
            "disqualified": [],
            "promoted": [],
            "vacant_seats": 0,
            "approval": None,
            "publicity": None,  # 公示: null until the year's evaluation is publicized
        },
        "candidates": {"state": "not_run", "selected": [], "rejected": [], "approval": None},
        "pilots": ["654025", "654002", "654321", "650521", "652926", "653224"],
        "notices": {"queued": 0, "sending": 0, "sent": 0, "failed": 0, "no_recipient": 0},
        "exceptions": [],
        "runs": {},
    }


def test_rubric_json_has_nine_categories_and_the_bonus(cli_home):
    r = run(cli_home, "rubric", "--json")
    doc = json.loads(r.stdout)
    cats = doc["categories"]
    assert [c["max"] for c in cats[:9]] == [150, 200, 100, 100, 100, 100, 80, 50, 120]
    assert cats[0]["name"] == "强化组织领导"
    assert cats[0]["items"][0] == {**cats[0]["items"][0], "id": 1, "name": "党委政府主导", "weight": 80}
    assert [i["id"] for i in cats[9]["items"]] == [40, 41, 42] and doc["bonus_cap"] == 100
    # Every item has a weight (contract §4): the scored ones add up to their category's maximum; a
    # bonus item's is the most it gives, null for the counts that only the bonus cap bounds.
    assert all(sum(i["weight"] for i in c["items"]) == c["max"] for c in cats[:9])
    assert [(i["weight"], i["rule"]) for i in cats[9]["items"]] == [
        (None, "per_count"),
        (None, "per_count"),
        (100, "tiered_count"),
    ]
    assert cats[9]["items"][2]["tiers"] == [{"min": 20, "points": 100}, {"min": 10, "points": 30}]


def test_broken_programme_file_exits_2_naming_the_field(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[programme]\nid = 'x'\n", encoding="utf-8")
    r = run(tmp_path / "h", "init", "--program", str(bad))
    assert r.exit_code == 2
    assert f"{bad}：pilots：缺少此项：请补上" in r.stderr and "Field required" not in r.stderr


def test_a_duplicate_pilot_exits_2_naming_the_field_and_creates_nothing(tmp_path):
    """Once an IntegrityError from the database; now the file is refused before the home is made."""
    from pilotzones.rules import programme

    text = programme.BUILTIN.read_text(encoding="utf-8").replace('"654002", "654321"', '"654002", "654025"')
    f = tmp_path / "dup.toml"
    f.write_text(text, encoding="utf-8")
    r = run(tmp_path / "h", "init", "--program", str(f))
    assert r.exit_code == 2, r.output
    assert (
        r.stderr.strip()
        == f"pilotzones: {f}：pilots.initial[2]：654025 已列于 pilots.initial[0]：每个县只能列出一次，请删去重复的一项"
    )
    assert not (tmp_path / "h" / "pilotzones.db").exists()


def test_another_programme_runs_without_code_change(tmp_path):
    """init --program: another region, roster and slots from a file."""
    from pilotzones.rules import programme

    text = programme.BUILTIN.read_text(encoding="utf-8")
    text = text.replace('id = "xj-jcws-syq"', 'id = "gx-test"').replace(
        'region_code = "650000"', 'region_code = "450000"'
    )
    text = text.replace('region_name = "新疆维吾尔自治区"', 'region_name = "广西壮族自治区"')
    text = text.replace(
        'initial = ["654025", "654002", "654321", "650521", "652926", "653224"]',
        'initial = ["450102", "450103", "450105"]',
    )
    text = text.replace("candidate_slots = 3", "candidate_slots = 1")
    f = tmp_path / "gx.toml"
    f.write_text(text, encoding="utf-8")
    h = tmp_path / "gx"
    assert run(h, "init", "--program", str(f)).exit_code == 0
    st = json.loads(run(h, "status", "--year", "2023", "--json").stdout)
    assert st["pilots"] == ["450102", "450103", "450105"]


def test_rubric_without_a_home_shows_the_built_in_programme_and_creates_nothing(cli_home, tmp_path):
    """Contract §4: `rubric` exits 0; with no home yet it is the programme a new home would run."""
    r = run(tmp_path / "nowhere", "rubric", "--json")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout) == json.loads(run(cli_home, "rubric", "--json").stdout)
    assert r.stderr == f"pilotzones: 主目录 {tmp_path / 'nowhere'} 尚未建立：以下为内置方案的评价细则\n"
    table = run(tmp_path / "nowhere", "rubric")
    assert table.exit_code == 0 and table.stdout == run(cli_home, "rubric").stdout
    assert not (tmp_path / "nowhere").exists()


def test_status_of_a_home_that_does_not_exist_creates_it_and_reports_nothing_run(tmp_path, monkeypatch):
    monkeypatch.delenv("PILOTZONES_DATABASE_URL", raising=False)
    r = run(tmp_path / "new", "status", "--year", "2023", "--json")
    assert r.exit_code == 0, r.stderr
    assert f"正在为内置方案创建主目录 {tmp_path / 'new'}" in r.stderr
    st = json.loads(r.stdout)
    assert (st["evaluation"]["state"], st["candidates"]["state"]) == ("not_run", "not_run")
    assert st["pilots"] == ["654025", "654002", "654321", "650521", "652926", "653224"]
    assert (tmp_path / "new" / "programme.toml").is_file()


def test_without_the_home_of_an_initialised_shared_database_status_and_rubric_refuse(tmp_path, monkeypatch):
    """What the shared database decides is the shared home's programme, which this machine does not
    see: neither the built-in rubric nor a new home beside it, but the one line saying so."""
    monkeypatch.setenv("PILOTZONES_DATABASE_URL", f"sqlite:///{tmp_path / 'shared.db'}")
    assert run(tmp_path / "shared", "init").exit_code == 0
    for args in (("status", "--year", "2023"), ("rubric", "--json")):
        r = run(tmp_path / "unmounted", *args)
        assert r.exit_code == 2 and r.stdout == "", r.stdout
        assert r.stderr.startswith(f"pilotzones: 主目录 {tmp_path / 'unmounted'} 不存在：请在共享存储上运行")
    assert not (tmp_path / "unmounted").exists()


def test_programme_add_on_a_home_that_does_not_exist_says_so_and_creates_nothing(tmp_path, monkeypatch):
    """It changes what a home holds: a mistyped --home must not get a revision in a new home."""
    from pilotzones.rules import programme

    monkeypatch.delenv("PILOTZONES_DATABASE_URL", raising=False)
    r = run(tmp_path / "nowhere", "programme", "add", str(programme.BUILTIN), "--from-year", "2025")
    assert r.exit_code == 2 and "主目录" in r.stderr and "不存在" in r.stderr and "init" in r.stderr
    assert not (tmp_path / "nowhere").exists()


def test_submit_for_a_year_before_the_programme_says_so(cli_home, tmp_path):
    f = write(rows_for(Home(cli_home), "654025", 2023), tmp_path / "x.csv")
    r = run(cli_home, "submit", str(f), "--year", "2019")
    assert r.exit_code == 2 and "本方案自2022年度起实施" in r.stderr


def test_the_dry_run_of_a_late_file_names_deadline_and_receipt_and_records_nothing(cli_home, tmp_path):
    f = write(rows_for(Home(cli_home), "654025", 2023), tmp_path / "late.csv")
    r = run(cli_home, "submit", str(f), "--year", "2023", "--at", "2023-12-21T08:00:00", "--dry-run")
    assert r.exit_code == 0, r.output
    assert "收到时间 2023-12-21T08:00:00+08:00 晚于截止时间 2023-12-20T23:59:59+08:00" in r.stderr
    assert "将记录为逾期报送（本次试运行未记录）" in r.stderr and "已记录" not in r.stderr
    with session(Home(cli_home).db_url) as s:
        assert s.scalar(select(func.count()).select_from(m.Submission)) == 0


def test_a_late_file_is_said_not_to_count_for_the_stage_that_counts_its_kind(cli_home, tmp_path):
    home = Home(cli_home)
    f = write(rows_for(home, "654025", 2023), tmp_path / "late.csv")
    r = run(cli_home, "submit", str(f), "--year", "2023", "--at", "2023-12-21T08:00:00")
    assert r.exit_code == 0 and "已记录为逾期报送，不计入监测评价。" in r.stderr, r.output
    nom = tmp_path / "nomination.csv"
    nom.write_text(
        "year,prefecture,adcode,county,contact_email,reason\n2023,阿克苏地区,652901,阿克苏市,wjw@example.org,基础较好\n",
        encoding="utf-8",
    )
    r = run(cli_home, "submit", str(nom), "--year", "2023", "--kind", "nomination", "--at", "2023-10-01T00:00:05")
    assert r.exit_code == 0, r.output
    assert "晚于截止时间 2023-09-30T23:59:59+08:00，已记录为逾期报送，不计入候补试验区遴选。" in r.stderr
    assert "评价" not in r.stderr


def test_missing_file_is_a_usage_error(cli_home):
    r = run(cli_home, "submit", "/nonexistent.csv", "--year", "2023")
    assert r.exit_code == 2 and "/nonexistent.csv：无法读取文件（文件或目录不存在）" in r.stderr


def test_an_unreachable_database_is_a_configuration_error_naming_it(cli_home, monkeypatch):
    """A URL no server answers at: exit 2, the URL without its password, what to check."""
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("PILOTZONES_DATABASE_URL", f"postgresql+psycopg://pz:secret@127.0.0.1:{port}/state")
    r = run(cli_home, "status", "--year", "2023")
    assert r.exit_code == 2, r.stderr
    assert f"postgresql+psycopg://pz:***@127.0.0.1:{port}/state" in r.stderr
    assert "secret" not in r.stderr and "PILOTZONES_DATABASE_URL" in r.stderr


def test_real_entry_point_rejects_without_a_traceback(tmp_path):
    """The installed command: exit 3 and Chinese errors, never a Python traceback."""
    f = tmp_path / "x.csv"
    f.write_text("year,adcode,county,key,value\n2023,654025,新源县,1,999\n", encoding="utf-8")
    env = dict(os.environ, PILOTZONES_HOME=str(tmp_path / "h"))
    env.pop("PILOTZONES_DATABASE_URL", None)
    exe = Path(sys.executable).parent / "pilotzones"
    p = subprocess.run(
        [str(exe), "submit", str(f), "--year", "2023"], capture_output=True, text=True, env=env, timeout=120
    )
    assert p.returncode == 3, p.stderr
    assert "Traceback" not in p.stderr and "999" in p.stderr


@pytest.mark.parametrize(
    ("variable", "value", "args"),
    [
        ("PILOTZONES_SMTP_PORT", "abc", ("rubric",)),
        ("PILOTZONES_SMTP_ATTEMPTS", "x", ("status", "--year", "2023", "--json")),
        ("PILOTZONES_SMTP_PORT", "99999", ("submit", "FILE", "--year", "2023")),
        ("PILOTZONES_SMTP_TIMEOUT", "soon", ("evaluation", "run", "--year", "2023")),
    ],
)
def test_a_bad_setting_exits_2_with_one_line_naming_the_variable(cli_home, tmp_path, variable, value, args):
    """The installed command, whose every write goes through the secret filter (which once read the
    settings and died with pydantic's dump, exit 1): one Chinese line, exit 2, nothing done."""
    f = write(rows_for(Home(cli_home), "654025", 2023), tmp_path / "x.csv")
    env = dict(os.environ, PILOTZONES_HOME=str(cli_home), **{variable: value})
    exe = Path(sys.executable).parent / "pilotzones"
    argv = [str(exe), *(str(f) if a == "FILE" else a for a in args)]
    p = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120)
    assert p.returncode == 2, p.stderr
    assert p.stdout == "" and len(p.stderr.splitlines()) == 1, p.stderr
    assert p.stderr.startswith(f"pilotzones: 环境变量 {variable} 的值“{value}”"), p.stderr
    assert "Traceback" not in p.stderr and "ValidationError" not in p.stderr
    with session(Home(cli_home).db_url) as s:
        assert s.scalar(select(func.count()).select_from(m.Submission)) == 0
