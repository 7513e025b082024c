"""Between evaluations, the builders' gaps (issue 14): a rectification report received after its
case's deadline is recorded as late (still reporting the case) and shown so in status, the case's
history and the overdue list; the yearly meeting count checked on the programme calendar."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from pilotzones.intake.submit import submit
from pilotzones.stages import between
from tests.cli_home import run
from tests.integration.test_between import SCALES_2022, case_states, report_file
from tests.integration.test_notices_delivery import evaluate, send_evaluation

pytestmark = pytest.mark.integration


def test_a_report_after_the_deadline_is_recorded_late_and_still_reports_the_case(home, tmp_path):
    tz = home.programme.tz
    send_evaluation(home, 2022, SCALES_2022)
    evaluate(home, 2022)  # 伊宁市 (654002) and 洛浦县 (653224) carded, due 2023-06-30 23:59:59
    on_time = report_file(home, tmp_path / "a.csv", "654002", 2022, [("1", "未定期研究", "建立季度例会", "纪要")])
    assert submit(home, on_time, year=2022, kind="rectification", at=datetime(2023, 6, 30, 23, 59, 59, tzinfo=tz))
    late = report_file(home, tmp_path / "b.csv", "653224", 2022, [("1", "未定期研究", "建立季度例会", "纪要")])
    out = submit(home, late, year=2022, kind="rectification", at=datetime(2023, 7, 1, 8, tzinfo=tz))
    assert out.accepted
    assert case_states(home)[("653224", 2022)] == "reported"  # accepted for the case all the same

    st = json.loads(run(home.path, "status", "--year", "2022", "--json").output)["rectification"]
    shown = {c["adcode"]: c for c in st["cases"]}
    assert shown["653224"]["late_report"] and not shown["653224"]["overdue"]
    assert not shown["654002"]["late_report"] and st["late_reports"] == 1
    (received,) = [e for e in shown["653224"]["events"] if e["submission_id"] is not None]
    assert received["late"] and "逾期报送" in received["note"]
    table = run(home.path, "status", "--year", "2022").output
    assert "逾期报送1" in table and "653224 2022年度黄牌 期限2023-06-30：已报送整改报告，待审核，逾期报送" in table

    from pilotzones.reports.yearly import write_year_report

    html = write_year_report(home, 2022)[1].read_text(encoding="utf-8")
    assert "已报送整改报告，待审核，逾期报送" in html

    # The overdue list names no overdue case, and lists the late report.
    (listed,) = between.notices_of(
        home, "rectification_overdue", 2023, home.programme.moment("rectification_overdue", 2023)
    )
    assert listed.data["overdue"] == [] and [c["adcode"] for c in listed.data["late"]] == ["653224"]
    assert [c["adcode"] for c in listed.data["others"]] == ["654002"]
    from pilotzones.notices.render import render

    text = render(listed.kind, {**listed.data, "doc_number": "x"}).text
    assert "逾期报送整改报告（整改期限后收到，已受理）的：洛浦县（653224" in text and "均已报送整改报告" in text


@pytest.mark.usefixtures("prefect_server")
def test_the_visit_check_tells_the_commission_how_many_meetings_were_held_once(cli_home):
    from pilotzones.flows.between import visit_check

    from pilotzones.store.home import Home
    from tests.integration.test_notices_delivery import rows

    h = cli_home
    r = run(h, "meeting", "add", "--date", "2023-06-15", "--place", "伊宁市", "--kind", "exchange")
    assert r.exit_code == 0, r.output
    # The visit check's flow (its deployment's) queues and delivers it with the visit shortfalls.
    out = visit_check(home=str(h), year=2023, at=datetime(2023, 11, 1, 9, tzinfo=Home(h).programme.tz))
    assert out["queued"] == out["failed"] == 0, out  # nothing left unsent
    for _ in range(2):  # run again by hand: told once
        r = run(h, "visit", "check", "--year", "2023", "--at", "2023-11-01T09:00:00")
        assert r.exit_code == 0, r.output
    (told,) = rows(Home(h), kind="meeting_shortfall")
    home = Home(h)
    assert told.recipient == home.programme.programme.region_code and told.state == "sent"
    assert "已登记1次，尚差1次" in told.text and "伊宁市" in told.text and "经验交流会" in told.text
    # A year with its count held gets no such notice.
    for day in ("2024-05-10", "2024-09-10"):
        assert run(h, "meeting", "add", "--date", day, "--place", "喀什", "--kind", "field_visit").exit_code == 0
    assert run(h, "visit", "check", "--year", "2024", "--at", "2024-11-01T09:00:00").exit_code == 0
    assert [n.year for n in rows(home, kind="meeting_shortfall")] == [2023]


def test_the_demos_year_between_evaluations_speaks_chinese(home, tmp_path, capsys):
    """Operators read the demo: every line its year between evaluations prints is in Chinese."""
    import re

    from pilotzones.cli import demo_between

    send_evaluation(home, 2022, SCALES_2022)
    evaluate(home, 2022)
    capsys.readouterr()
    demo_between.spring(home, 2023, tmp_path)
    demo_between.autumn(home, 2023)
    lines = [x for x in capsys.readouterr().out.splitlines() if x.strip()]
    assert any("整改报告" in x and "退回" in x for x in lines) and any("交流会议次数不足" in x for x in lines)
    for line in lines:
        assert re.search(r"[\u4e00-\u9fff]", line), line
        assert not re.search(r"\b(submit|rejected|accepted|errors)\b", line), line


def test_a_programme_may_deduct_points_for_an_overdue_case(tmp_path, db_url, monkeypatch):
    """With rectification_overdue_effect = "deduction", a zone whose case is overdue at the evaluation
    of its deadline's year loses the points, flagged; a zone that reported (even late) does not."""
    from pilotzones.rules import programme as programme_mod
    from pilotzones.rules import scoring
    from pilotzones.stages import evaluation as ev
    from pilotzones.store.home import init_home
    from tests.integration.test_between import SCALES_2023

    monkeypatch.setenv("PILOTZONES_DATABASE_URL", db_url)
    text = programme_mod.BUILTIN.read_text(encoding="utf-8").replace(
        "rectification_months = 6\n",
        'rectification_months = 6\nrectification_overdue_effect = "deduction"\nrectification_overdue_points = 10\n',
    )
    (tmp_path / "p.toml").write_text(text, encoding="utf-8")
    home = init_home(tmp_path / "home", tmp_path / "p.toml")
    tz = home.programme.tz
    send_evaluation(home, 2022, SCALES_2022)
    evaluate(home, 2022)  # 654002 and 653224 carded; 654002 reports (late), 653224 never does
    report = report_file(home, tmp_path / "r.csv", "654002", 2022, [("1", "未定期研究", "建立季度例会", "纪要")])
    assert submit(home, report, year=2022, kind="rectification", at=datetime(2023, 8, 1, tzinfo=tz)).accepted
    send_evaluation(home, 2023, SCALES_2023)
    c = ev.collect(home, 2023)
    raw = scoring.score(c.values, c.zones, set(c.files), home.programme.rubric, 2).totals.set_index("adcode")
    got = ev.score(home, c).totals.set_index("adcode")
    assert got.loc["653224", "total"] == max(0, raw.loc["653224", "total"] - 1000)
    assert got.loc["653224", "flags"][-1] == "整改逾期扣10分"
    assert (
        got.loc["654002", "total"] == raw.loc["654002", "total"] and "整改逾期扣10分" not in got.loc["654002", "flags"]
    )
    st = json.loads(run(home.path, "status", "--year", "2022", "--json").output)["rectification"]
    assert (st["overdue_effect"], st["overdue_points"]) == ("deduction", 10)
    (listed,) = between.notices_of(
        home, "rectification_overdue", 2023, home.programme.moment("rectification_overdue", 2023)
    )
    from pilotzones.notices.render import render

    assert "从逾期试验区的总分扣减10分" in render(listed.kind, {**listed.data, "doc_number": "x"}).text
