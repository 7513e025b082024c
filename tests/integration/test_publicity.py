"""公示 through the command line: the draft in public, objections heard (one late, one upheld that
moves the card line, one dismissed), approval refused while anything is open, each notice once."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from pilotzones import clock
from pilotzones.rules import programme as programme_mod
from pilotzones.store import models as m
from pilotzones.store.home import Home, init_home
from pilotzones.store.session import session
from tests.cli_home import run
from tests.integration.cli_runs import PILOTS
from tests.support import full_marks, write

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("prefect_server")]

TZ = ZoneInfo("Asia/Shanghai")
YEAR = 2022
# 阜康市 (652302 is not a pilot): 654321 is carded at 0.57 and objects to item 1 (45.5 -> 80), which
# lifts it above 652926 (0.6); 653224 objects late; 654002 objects and is dismissed.
SCALES = dict(zip(PILOTS, [0.9, 0.8, 0.57, 0.7, 0.6, 0.2], strict=True))
PUBLICITY = '\n[publicity]\npublicity_days = { evaluation = 5 }\nday_kind = "working"\nholidays = [2023-01-02]\n'


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


@pytest.fixture
def pub_home(tmp_path, db_url, monkeypatch) -> Home:
    monkeypatch.setenv("PILOTZONES_DATABASE_URL", db_url)
    prog = tmp_path / "programme.toml"
    prog.write_text(programme_mod.BUILTIN.read_text(encoding="utf-8") + PUBLICITY, encoding="utf-8")
    return init_home(tmp_path / "home", prog)


def objection_file(tmp_path, name: str, adcode: str, rows: list[tuple[str, str, str]], prefecture: str = ""):
    """An objection file; with `prefecture`, the zone's prefecture objects for it."""
    lines = ["year,adcode,key,value,claim,evidence,prefecture"]
    lines += [f"{YEAR},{adcode},{k},{v},{c},附件1,{prefecture}" for k, v, c in rows]
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def outbox(home: Home) -> list[tuple[str, str, str]]:
    with session(home.db_url) as s:
        rows = s.execute(select(m.OutboxNotice.kind, m.OutboxNotice.about, m.OutboxNotice.ref)).all()
    return sorted((k, a, r) for k, a, r in rows)


def values_of(s, submission_id: int) -> dict[str, str]:
    rows = s.scalars(select(m.SubmissionValue).where(m.SubmissionValue.submission_id == submission_id))
    return {v.key: v.value for v in rows}


def test_publicity_period_end_to_end(pub_home, tmp_path, monkeypatch):
    home, h = pub_home, pub_home.path
    for z, scale in SCALES.items():
        f = write(full_marks(home, z, YEAR, scale), tmp_path / f"{z}.csv")
        assert run(h, "submit", str(f), "--year", str(YEAR), "--at", "2022-12-10T10:00").exit_code == 0
    assert run(h, "evaluation", "run", "--year", str(YEAR)).exit_code == 0
    # A programme with a publicity period: no final approval before publicity.
    r = run(h, "approve", "--year", str(YEAR), "--stage", "evaluation")
    assert r.exit_code == 2 and "须先公示" in r.stderr

    # Friday 30 Dec 2022, five working days, 2 Jan a holiday: Tue 3 .. Mon 9 Jan, 23:59:59.
    r = run(h, "evaluation", "run", "--year", str(YEAR), "--publicize", "--at", "2022-12-30T09:00:00")
    assert r.exit_code == 0, r.output
    assert "2023-01-09T23:59:59+08:00" in r.stdout
    drafts = [x for x in outbox(home) if x[0].startswith("evaluation_draft")]
    assert len(drafts) == 7 and {x[2] for x in drafts} == {"r1"}
    again = run(h, "evaluation", "run", "--year", str(YEAR), "--publicize", "--at", "2022-12-30T09:00:00")
    assert again.exit_code == 0 and "此前已进入公示" in again.stdout
    assert len(outbox(home)) == len(drafts)  # nothing queued twice

    status = json.loads(run(h, "status", "--year", str(YEAR), "--json").stdout)
    assert status["evaluation"]["state"] == "in_publicity"
    assert status["evaluation"]["publicity"]["window"]["closes_at"] == "2023-01-09T23:59:59+08:00"
    carded_before = {x["adcode"] for x in status["evaluation"]["ranking"] if x["yellow_card"]}
    assert carded_before == {"654321", "653224"}

    # The last second of the window is heard; the next is late, recorded and told so.
    upheld = objection_file(tmp_path, "o1.csv", "654321", [("1", "80", "第1项已落实，得分应为满分")])
    r = run(h, "submit", str(upheld), "--year", str(YEAR), "--kind", "objection", "--at", "2023-01-09T23:59:59")
    assert r.exit_code == 0 and "异议已受理（异议编号 1" in r.stdout, r.output
    late = objection_file(tmp_path, "o2.csv", "653224", [("2", "20", "漏报")])
    r = run(h, "submit", str(late), "--year", str(YEAR), "--kind", "objection", "--at", "2023-01-10T00:00:00")
    assert r.exit_code == 0 and "逾期" in r.stderr
    dismissed = objection_file(tmp_path, "o3.csv", "654002", [("3", "", "评分标准理解有误")], prefecture="伊犁州")
    r = run(h, "submit", str(dismissed), "--year", str(YEAR), "--kind", "objection", "--at", "2023-01-05T10:00:00")
    assert r.exit_code == 0
    bad = objection_file(tmp_path, "o4.csv", "654002", [("1", "81", "")])
    r = run(h, "submit", str(bad), "--year", str(YEAR), "--kind", "objection", "--at", "2023-01-05T10:00:00")
    assert r.exit_code == 3 and "超出范围" in r.stderr and "理由为空" in r.stderr

    # Approval refused while the window is open, then while an objection is unanswered.
    monkeypatch.setattr(clock, "now", lambda: at("2023-01-09T23:59:59"))
    r = run(h, "approve", "--year", str(YEAR), "--stage", "evaluation")
    assert r.exit_code == 2 and "公示期未满" in r.stderr
    monkeypatch.setattr(clock, "now", lambda: at("2023-01-10T09:00:00"))
    r = run(h, "approve", "--year", str(YEAR), "--stage", "evaluation")
    assert r.exit_code == 2 and "2件异议未答复" in r.stderr
    r = run(h, "objection", "answer", "--id", "2", "--dismiss", "--reason", "x")
    assert r.exit_code == 2 and "逾期" in r.stderr

    with session(home.db_url) as s:
        counted = s.scalars(
            select(m.Submission).where(m.Submission.sender == "654321", m.Submission.kind == "evaluation")
        ).one()
        before_values = values_of(s, counted.id)
    archived = (home.path / counted.archive_path).read_bytes()

    # A correction that fails the checks is refused and changes nothing.
    r = run(h, "objection", "answer", "--id", "1", "--uphold", "--value", "1=90")
    assert r.exit_code == 2 and "超出范围" in r.stderr
    r = run(h, "objection", "answer", "--id", "1", "--uphold", "--reason", "佐证材料属实")
    assert r.exit_code == 0, r.output
    assert "黄牌线调整涉及" in r.stdout and "654321" in r.stdout and "652926" in r.stdout
    r = run(h, "objection", "answer", "--id", "3", "--dismiss", "--reason", "按细则第3项评分无误")
    assert r.exit_code == 0
    r = run(h, "objection", "answer", "--id", "3", "--dismiss", "--reason", "again")
    assert r.exit_code == 2 and "已于" in r.stderr

    # The amendment sits over the file: its bytes and recorded values are untouched.
    assert hashlib.sha256(archived).hexdigest() == counted.sha256
    assert (home.path / counted.archive_path).read_bytes() == archived
    with session(home.db_url) as s:
        after_values = values_of(s, counted.id)
        amendment = s.scalars(select(m.Amendment)).one()
    assert after_values == before_values and before_values["1"] == "45.5"
    assert (amendment.key, amendment.old_value, amendment.new_value) == ("1", "45.5", "80")

    status = json.loads(run(h, "status", "--year", str(YEAR), "--json").stdout)
    carded_after = {x["adcode"] for x in status["evaluation"]["ranking"] if x["yellow_card"]}
    assert carded_after == {"652926", "653224"}
    states = {o["id"]: o["state"] for o in status["evaluation"]["publicity"]["objections"]}
    assert states == {1: "upheld", 2: "late", 3: "dismissed"}
    # The status table names each objection's sender: 伊犁州 (654000) objected for 伊宁市.
    table = run(h, "status", "--year", str(YEAR)).stdout
    assert "异议 #3 654002（2023-01-05T10:00:00+08:00，提出单位 654000，" in table
    assert "异议 #1 654321（2023-01-09T23:59:59+08:00，提出单位 654321，" in table

    r = run(h, "approve", "--year", str(YEAR), "--stage", "evaluation")
    assert r.exit_code == 0, r.output
    assert "公示及异议处理" in r.stdout and "异议 #3" in r.stdout
    report = next(Path(x.removeprefix("报告：")) for x in r.stdout.splitlines() if x.endswith(".html"))
    html = report.read_text(encoding="utf-8")
    assert "公示及异议处理" in html and "按细则第3项评分无误" in html and "1：45.5→80" in html
    status = json.loads(run(h, "status", "--year", str(YEAR), "--json").stdout)
    assert status["evaluation"]["state"] == "published"
    with session(home.db_url) as s:
        cards = set(s.scalars(select(m.Card.adcode).where(m.Card.year == YEAR)))
        kinds = dict(s.execute(select(m.OutboxNotice.kind, func.count()).group_by(m.OutboxNotice.kind)).tuples().all())
        summary = s.scalars(select(m.OutboxNotice).where(m.OutboxNotice.kind == "evaluation_summary")).one()
    assert cards == {"652926", "653224"}
    # Drafts: six zones and the commission (r1); the two zones the line moved and the commission (r2).
    assert kinds["evaluation_draft"] == 6 + 2 and kinds["evaluation_draft_summary"] == 2
    assert kinds["objection_answer"] == 3  # upheld, dismissed, late: one each
    with session(home.db_url) as s:
        answers = s.execute(
            select(m.OutboxNotice.about, m.OutboxNotice.recipient, m.OutboxNotice.cc).where(
                m.OutboxNotice.kind == "objection_answer"
            )
        ).all()
    # 伊犁州 objected for 伊宁市: the answer is addressed to it, not copied to it.
    assert ("654002", "654000", []) in [tuple(a) for a in answers]
    assert ("654321", "654321", ["654300"]) in [tuple(a) for a in answers]
    assert "异议" in summary.text and "按细则第3项评分无误" in summary.text
    assert "公示" in summary.text
    sent = [x for x in outbox(home)]
    assert len(sent) == len(set(sent))


def _paused_runs(home: Home, known: set) -> list:
    from tests.integration.test_approvals import runs_of

    return [r for r in runs_of(home) if r.id not in known and r.state and r.state.is_paused()]


def _wait_paused(run_id, seen: set, after: int) -> None:
    """Until the run has paused `after` times (each pause has a key of its own, kept in `seen`)."""
    import time

    from tests.integration.cli_runs import flow_runs

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        (fr,) = flow_runs([run_id])
        keys = fr.state.state_details.pause_key if fr.state and fr.state.is_paused() else None
        if keys and keys not in seen:
            seen.add(keys)
        if len(seen) >= after:
            return
        time.sleep(0.5)
    raise AssertionError("the run did not pause again")


def test_the_ui_run_pauses_through_publicity(pub_home, tmp_path, monkeypatch):
    """The form's `publicize` puts the proposal in publicity and the run pauses again; an approval
    inside the window is held (the run pauses once more); after the window it publishes."""
    import threading

    from pilotzones.flows.evaluation import evaluation_stage
    from prefect.flow_runs import resume_flow_run

    home = pub_home
    monkeypatch.setenv("PILOTZONES_APPROVAL_POLL", "1")
    monkeypatch.setattr(clock, "now", lambda: at("2022-12-30T09:00:00"))
    seen: set = set()
    for z, scale in SCALES.items():
        f = write(full_marks(home, z, YEAR, scale), tmp_path / f"{z}.csv")
        assert run(home.path, "submit", str(f), "--year", str(YEAR), "--at", "2022-12-10T10:00").exit_code == 0
    out: dict = {}
    from tests.integration.test_approvals import runs_of

    known = {r.id for r in runs_of(home)}
    worker = threading.Thread(
        target=lambda: out.update(evaluation_stage(home=str(home.path), year=YEAR, wait_for_approval=True)),
        daemon=True,
    )
    worker.start()
    import time

    deadline = time.monotonic() + 120
    while not _paused_runs(home, known) and time.monotonic() < deadline:
        time.sleep(0.5)
    (paused,) = _paused_runs(home, known)
    _wait_paused(paused.id, seen, 1)
    resume_flow_run(paused.id, run_input={"decision": "publicize", "by": "张主任", "note": ""})
    _wait_paused(paused.id, seen, 2)
    st = json.loads(run(home.path, "status", "--year", str(YEAR), "--json").stdout)["evaluation"]
    assert st["state"] == "in_publicity" and st["publicity"]["window"]["via"] == "ui"
    assert st["publicity"]["window"]["closes_at"] == "2023-01-09T23:59:59+08:00"
    assert sum(1 for x in outbox(home) if x[0] == "evaluation_draft") == 6

    monkeypatch.setattr(clock, "now", lambda: at("2023-01-05T09:00:00"))
    resume_flow_run(paused.id, run_input={"decision": "approve", "by": "张主任", "note": ""})
    _wait_paused(paused.id, seen, 3)  # held: the window is open
    assert json.loads(run(home.path, "status", "--year", str(YEAR), "--json").stdout)["evaluation"]["state"] == (
        "in_publicity"
    )
    monkeypatch.setattr(clock, "now", lambda: at("2023-01-10T00:00:00"))
    resume_flow_run(paused.id, run_input={"decision": "approve", "by": "张主任", "note": "公示无异议"})
    worker.join(timeout=120)
    assert not worker.is_alive() and out["state"] == "published"
    st = json.loads(run(home.path, "status", "--year", str(YEAR), "--json").stdout)["evaluation"]
    assert st["approval"]["by"] == "张主任" and st["publicity"]["objections"] == []


def test_declined_in_publicity_then_proposed_and_publicized_again(pub_home, tmp_path):
    home, h = pub_home, pub_home.path
    for z, scale in SCALES.items():
        f = write(full_marks(home, z, YEAR, scale), tmp_path / f"{z}.csv")
        assert run(h, "submit", str(f), "--year", str(YEAR), "--at", "2022-12-10T10:00").exit_code == 0
    assert run(h, "evaluation", "run", "--year", str(YEAR), "--publicize", "--at", "2022-12-30T09:00").exit_code == 0
    r = run(h, "decline", "--year", str(YEAR), "--stage", "evaluation", "--note", "数据需复核")
    assert r.exit_code == 0, r.output
    r = run(h, "evaluation", "run", "--year", str(YEAR), "--publicize", "--at", "2023-01-03T09:00")
    assert r.exit_code == 0, r.output
    assert "2023-01-10T23:59:59+08:00" in r.stdout  # Tue 3 Jan: Wed 4 .. Tue 10
    drafts = [x for x in outbox(home) if x[0] == "evaluation_draft"]
    assert sorted({x[2] for x in drafts}) == ["r1", "r2"] and len(drafts) == 12
    st = json.loads(run(h, "status", "--year", str(YEAR), "--json").stdout)["evaluation"]
    assert st["state"] == "in_publicity" and st["publicity"]["window"]["drafts"] == 2


def test_an_upheld_objection_reopens_the_window_when_the_programme_says_so(tmp_path, db_url, monkeypatch):
    monkeypatch.setenv("PILOTZONES_DATABASE_URL", db_url)
    prog = tmp_path / "programme.toml"
    text = programme_mod.BUILTIN.read_text(encoding="utf-8") + PUBLICITY + "reopen_on_upheld = true\n"
    prog.write_text(text, encoding="utf-8")
    home = init_home(tmp_path / "home", prog)
    h = home.path
    for z, scale in SCALES.items():
        f = write(full_marks(home, z, YEAR, scale), tmp_path / f"{z}.csv")
        assert run(h, "submit", str(f), "--year", str(YEAR), "--at", "2022-12-10T10:00").exit_code == 0
    assert run(h, "evaluation", "run", "--year", str(YEAR), "--publicize", "--at", "2022-12-30T09:00").exit_code == 0
    o = objection_file(tmp_path, "o1.csv", "654321", [("1", "80", "第1项已落实")])
    assert (
        run(h, "submit", str(o), "--year", str(YEAR), "--kind", "objection", "--at", "2023-01-04T10:00").exit_code == 0
    )
    monkeypatch.setattr(clock, "now", lambda: at("2023-01-05T15:00:00"))  # Thursday
    r = run(h, "objection", "answer", "--id", "1", "--uphold", "--reason", "属实")
    assert r.exit_code == 0 and "黄牌线调整涉及" in r.stdout, r.output
    w = json.loads(run(h, "status", "--year", str(YEAR), "--json").stdout)["evaluation"]["publicity"]["window"]
    # Five working days again from Thursday 5 Jan: Fri 6, Mon 9 .. Thu 12.
    assert (w["opened_at"], w["closes_at"], w["drafts"]) == (
        "2022-12-30T09:00:00+08:00",
        "2023-01-12T23:59:59+08:00",
        2,
    )
