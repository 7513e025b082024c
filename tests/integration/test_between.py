"""Between evaluations (issue 14), end to end on a real database and a real SMTP server: a carded
zone's rectification case through a rejected and an accepted report, a return and the verdict;
the reminder and the overdue list on their programme dates, each notice sent once; a
disqualification closing a case; visits against the minimum and meetings, through the command line."""

from __future__ import annotations

import csv
import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook

from pilotzones.intake.submit import submit
from pilotzones.notices import deliver, evaluation_notices
from pilotzones.notices.attachments import attachments_for
from pilotzones.notices.render import render
from pilotzones.reports.yearly import write_year_report
from pilotzones.rules.rectification import Verdict
from pilotzones.stages import between
from pilotzones.store import cases
from pilotzones.store.home import Home
from pilotzones.store.session import session
from tests.cli_home import run
from tests.integration.test_notices_delivery import PILOTS, by_kind_about, evaluate, rows, send_evaluation, smtp_env
from tests.smtp_server import smtp_server

pytestmark = pytest.mark.integration

# 2022: 伊宁市 (654002) and 洛浦县 (653224) are carded; 2023: 洛浦县 again (disqualified).
SCALES_2022 = dict(zip(PILOTS, [0.9, 0.3, 0.8, 0.7, 0.6, 0.2], strict=True))
SCALES_2023 = dict(zip(PILOTS, [0.9, 0.8, 0.3, 0.7, 0.6, 0.2], strict=True))


def report_file(home: Home, path: Path, adcode: str, year: int, lines: list[tuple[str, str, str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["年度", "行政区划代码", "县（市、区）", "指标", "发现问题", "整改措施", "佐证材料"])
        for line in lines:
            w.writerow([year, adcode, home.register.name(adcode), *line])
    return path


def case_states(home: Home) -> dict[tuple[str, int], str]:
    with session(home.db_url) as s:
        return {(c.adcode, c.card_year): c.state for c in cases.cases(s)}


def test_a_carded_zone_rectifies_another_is_overdue_and_every_notice_goes_once(home, monkeypatch, tmp_path):
    tz = home.programme.tz
    send_evaluation(home, 2022, SCALES_2022)
    proposal = evaluate(home, 2022)
    assert {(r["adcode"], r["state"]) for r in proposal["rectification"]} == {("654002", "opens"), ("653224", "opens")}
    assert case_states(home) == {("654002", 2022): "open", ("653224", 2022): "open"}
    with session(home.db_url) as s:
        due = {c.adcode: cases.view(c, datetime.now(tz), tz).deadline for c in cases.cases(s)}
    assert due["654002"] == datetime(2023, 6, 30, 23, 59, 59, tzinfo=tz)
    # The yellow card carries the zone's report form, its lost items prefilled; the form sent back
    # as it came (no row filled) is read like every file and rejected.
    ((name, data),) = attachments_for(home, "yellow_card", 2022, "654002")
    form = tmp_path / name
    form.write_bytes(data)
    sheet = load_workbook(form).active
    header = [c.value for c in sheet[3]]
    assert header[:5] == ["年度", "行政区划代码", "县（市、区）", "指标", "指标名称"] and sheet.max_row > 10
    unfilled = submit(home, form, year=2022, kind="rectification", at=datetime(2023, 1, 5, tzinfo=tz))
    assert not unfilled.accepted and "没有填写任何整改内容" in str(unfilled.errors[0])

    # 伊宁市: a report with an empty measure is rejected (notice), then one is accepted and returned,
    # then another accepted and the case closed.
    at = datetime(2023, 3, 1, 10, tzinfo=tz)
    bad = report_file(home, tmp_path / "r1.csv", "654002", 2022, [("1", "未定期研究", "", "")])
    out = submit(home, bad, year=2022, kind="rectification", at=at)
    assert not out.accepted and out.notice_queued and "整改措施" in str(out.errors[0])
    rejection = rows(home, kind="submission_rejected")[-1]
    assert "黄牌整改报告" in rejection.subject and "2023年6月30日23时59分59秒前" in rejection.text
    good = report_file(home, tmp_path / "r2.csv", "654002", 2022, [("1", "未定期研究", "建立季度例会", "纪要")])
    assert submit(home, good, year=2022, kind="rectification", at=at + timedelta(days=1)).accepted
    case_id = next(r["id"] for r in cases_json(home, 2022) if r["adcode"] == "654002")
    assert case_states(home)[("654002", 2022)] == "reported"
    with pytest.raises(Exception, match="理由"):
        between.judge_case(home, case_id, Verdict.RETURNED, by="op", reason=" ")
    between.judge_case(home, case_id, Verdict.RETURNED, by="op", reason="佐证材料不足")
    assert submit(home, good, year=2022, kind="rectification", at=at + timedelta(days=30)).accepted
    between.judge_case(home, case_id, Verdict.ACCEPTED, by="op", reason=None)
    assert case_states(home)[("654002", 2022)] == "accepted"
    # A closed case takes no further report.
    again = submit(home, good, year=2022, kind="rectification", at=at + timedelta(days=40))
    assert not again.accepted and "已结案" in str(again.errors[0])

    # The reminder (a month before the deadline) goes to 洛浦县 only; after the deadline it goes to nobody.
    reminder_at = home.programme.moment("rectification_reminder", 2023)
    assert reminder_at == datetime(2023, 5, 30, 9, tzinfo=tz)
    built = between.notices_of(home, "rectification_reminder", 2023, reminder_at)
    assert [(n.kind, n.about) for n in built] == [("rectification_reminder", "653224")]
    assert between.notices_of(home, "rectification_reminder", 2023, datetime(2023, 7, 1, tzinfo=tz)) == []
    # The overdue list: nothing at the deadline's last second, 洛浦县 from the next one on.
    assert between.notices_of(home, "rectification_overdue", 2023, datetime(2023, 6, 30, 23, 59, 59, tzinfo=tz)) == []
    overdue_at = home.programme.moment("rectification_overdue", 2023)
    (listed,) = between.notices_of(home, "rectification_overdue", 2023, overdue_at)
    assert listed.recipient == home.programme.programme.region_code
    assert [c["adcode"] for c in listed.data["overdue"]] == ["653224"]

    with smtp_server() as (server, port):
        smtp_env(monkeypatch, port)
        for _ in range(2):  # a step run twice queues and sends nothing twice
            between.run_step(home, "rectification_reminder", 2023, reminder_at)
            between.run_step(home, "rectification_overdue", 2023, overdue_at)
            report = deliver(home)
            assert report.queued == report.failed == 0
        got = by_kind_about(server)
        kinds = [r.message["X-Notice-Kind"] for r in server.received]
        assert kinds.count("rectification_reminder") == 1 and kinds.count("rectification_overdue") == 1
        msg, received = got[("rectification_reminder", "653224")]
        assert "wjw.653200@example.org" in received.rcpt_tos  # its prefecture copied
        # It carries the zone's report form, as the yellow card did.
        assert [a.get_filename() for a in msg.iter_attachments()] == ["2022年度黄牌整改报告表_653224_洛浦县.xlsx"]
        msg, received = got[("rectification_overdue", "650000")]
        assert received.rcpt_tos == ["jcws.650000@example.org"]
        assert "洛浦县" in msg.get_body(("plain",)).get_content()

    # 2023: 洛浦县 carded again and disqualified: its open case closes, and no case opens for it.
    send_evaluation(home, 2023, SCALES_2023)
    proposal = evaluate(home, 2023)
    assert "653224" in proposal["disqualified"]
    shown = {(r["adcode"], r["card_year"]): r for r in proposal["rectification"]}
    assert shown[("653224", 2022)]["overdue"] and shown[("653224", 2022)]["closes_as"] == "disqualified"
    assert shown[("654002", 2022)]["state"] == "accepted"
    states = case_states(home)
    assert states[("653224", 2022)] == "disqualified" and ("653224", 2023) not in states
    assert states[("654321", 2023)] == "open"
    # The summary notice and the yearly report show each carded zone's case and its state.
    (summary,) = [n for n in evaluation_notices(home, 2023, proposal) if n.kind == "evaluation_summary"]
    text = render(summary.kind, {**summary.data, "doc_number": "x"}).text
    section = text.split("黄牌整改情况")[1]
    assert "洛浦县（653224）：2022年度亮黄牌，整改期限2023年6月30日" in section and "因取消试验区资格结案" in section
    assert "伊宁市（654002）：2022年度亮黄牌" in section and "整改完成（已验收）" in section
    assert "布尔津县（654321）：2023年度亮黄牌，整改期限2024年6月30日，本年度亮黄牌，已立案整改" in section
    html = write_year_report(home, 2023)[1].read_text(encoding="utf-8")
    assert "六、黄牌整改、专家调研与交流会议" in html and "因取消资格而结案" in html


def cases_json(home: Home, year: int) -> list[dict]:
    return between.year_json(home, year)["rectification"]["cases"]


def test_visits_against_the_minimum_and_meetings_through_the_command_line(cli_home):
    h = cli_home
    ok = run(h, "visit", "add", "--county", "新源县", "--date", "2023-04-10", "--who", "北疆组", "--found", "台账不全")
    assert ok.exit_code == 0, ok.output
    for _ in range(2):  # the same visit recorded twice is recorded once
        r = run(h, "visit", "add", "--county", "654025", "--date", "2023-09-01", "--who", "北疆组")
        assert r.exit_code == 0, r.output
    assert "此前已登记" in r.output
    bad = run(h, "visit", "add", "--county", "654025", "--date", "2023-13-01", "--who", "x")
    assert bad.exit_code == 2 and "不是日期" in bad.output
    r = run(h, "visit", "check", "--year", "2023", "--at", "2023-11-01T09:00:00")
    # Five visit shortfalls, and the meeting count (none of two held yet) to the commission.
    assert r.exit_code == 0 and "新排队通知6份" in r.output, r.output
    r = run(h, "visit", "check", "--year", "2023", "--at", "2023-11-01T09:00:00")
    assert "新排队通知0份" in r.output
    r = run(h, "meeting", "add", "--date", "2023-06-15", "--place", "伊宁市", "--kind", "field_visit")
    assert r.exit_code == 0 and "新排队邀请通知6份" in r.output, r.output
    r = run(h, "meeting", "attend", "--meeting", "1", "--zones", "654025,伊宁市")
    assert r.exit_code == 0, r.output
    st = json.loads(run(h, "status", "--year", "2023", "--json").output)
    assert {"evaluation", "candidates", "pilots", "notices"} <= set(st)
    visits = {z["adcode"]: z for z in st["visits"]["zones"]}
    assert visits["654025"] == {"adcode": "654025", "visits": 2, "minimum": 2, "short": 0}
    assert visits["654002"]["short"] == 2
    assert st["meetings"]["required"] == 2 and st["meetings"]["held"] == 1
    assert st["meetings"]["attendance"]["654002"] == 1 and st["meetings"]["attendance"]["653224"] == 0
    assert st["rectification"]["cases"] == [] and st["rectification"]["deadline_months"] == 6
    home = Home(h)
    short = rows(home, kind="visit_shortfall")
    assert {n.about for n in short} == set(PILOTS) - {"654025"}
    group_of = {n.about: (n.recipient, n.cc) for n in short}
    assert group_of["653224"] == ("experts-2", ["leader-2"]) and group_of["654002"] == ("experts-1", ["leader-1"])
    invited = rows(home, kind="meeting_invitation")
    assert {(n.about, tuple(n.cc)) for n in invited} >= {("654025", ("654000",)), ("653224", ("653200",))}
    table = run(h, "status", "--year", "2023").output
    assert "专家调研：每年不少于2次" in table and "交流会议：应开2次，已登记1次" in table


def propose(home: Home, year: int) -> None:
    from pilotzones.stages import evaluation

    c = evaluation.collect(home, year)
    scores = evaluation.score(home, c)
    ranked = evaluation.rank_and_card(home, scores)
    swaps = evaluation.disqualify_and_replace(home, year, ranked)
    evaluation.propose(home, c, scores, evaluation.build_proposal(home, c, scores, ranked, swaps), None)


def test_a_case_moved_after_the_proposal_makes_it_out_of_date(home, tmp_path):
    """The December proposal shows each case's state: a report received before approval refuses the
    approval until the stage runs again, and the new proposal shows the case reported."""
    from pilotzones.errors import PilotzonesError
    from pilotzones.stages import evaluation

    send_evaluation(home, 2022, SCALES_2022)
    evaluate(home, 2022)
    send_evaluation(home, 2023, SCALES_2023)
    propose(home, 2023)
    good = report_file(home, tmp_path / "r.csv", "654002", 2022, [("1", "未定期研究", "建立季度例会", "纪要")])
    assert submit(home, good, year=2022, kind="rectification", at=datetime(2023, 3, 1, tzinfo=home.programme.tz))
    with pytest.raises(PilotzonesError, match="evaluation run --year 2023"):
        evaluation.publish(home, 2023)
    propose(home, 2023)
    evaluation.publish(home, 2023)
    shown = {r["adcode"]: r for r in evaluation.published_result(home, 2023).rectification if r["card_year"] == 2022}
    assert shown["654002"]["state"] == "reported" and not shown["654002"]["overdue"]


def test_a_visit_sheet_is_checked_archived_and_recorded_once(cli_home, tmp_path):
    h = cli_home
    sheet = tmp_path / "visits.csv"
    sheet.write_text(
        "调研日期,行政区划代码,县（市、区）,调研人员,发现问题,后续事项\n"
        "2023-04-10,654002,伊宁市,北疆组,台账不全,完善台账\n"
        "2023/09/01,654002,伊宁市,北疆组,,\n"
        "2023-09-01,653224,洛浦县,南疆组,,\n",
        encoding="utf-8",
    )
    for _ in range(2):  # the same sheet twice: kept twice as received, each visit recorded once
        r = run(h, "submit", str(sheet), "--year", "2023", "--kind", "visits")
        assert r.exit_code == 0, r.output
    bad = tmp_path / "bad.csv"
    bad.write_text("调研日期,行政区划代码,调研人员\n2022-12-01,654002,北疆组\n2023-02-30,654025,x\n", encoding="utf-8")
    r = run(h, "submit", str(bad), "--year", "2023", "--kind", "visits")
    assert r.exit_code == 3 and "不在2023年" in r.stderr and "2023-02-30" in r.stderr
    st = json.loads(run(h, "status", "--year", "2023", "--json").output)
    counts = {z["adcode"]: z["visits"] for z in st["visits"]["zones"]}
    assert (counts["654002"], counts["653224"], counts["654025"]) == (2, 1, 0)
    assert len(st["visits"]["recorded"]) == 3
