"""Deadline exceptions (issue 5, item 6): an extension for one county or prefecture, one late file
accepted by name; each recorded with who, when and why, shown in status and the summary notice,
and changing only that county's (or prefecture's) treatment."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from pilotzones.flows.candidates import candidate_selection
from pilotzones.flows.evaluation import evaluation_stage
from sqlalchemy import select

from pilotzones.cli.main import cli
from pilotzones.intake.submit import submit
from pilotzones.rules import selection
from pilotzones.stages import candidates as cand
from pilotzones.stages import evaluation as ev
from pilotzones.store import models as m
from pilotzones.store.session import session
from tests.integration.test_candidates_flow import nominate, review
from tests.integration.test_evaluation_flow import PILOTS, on_time
from tests.support import full_marks, rows_for, write

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("prefect_server")]

YEAR = 2022


def run(home, *args: str):
    return CliRunner().invoke(cli, ["--home", str(home.path), *args], obj={}, catch_exceptions=False)


def deadline(home, name: str = "evaluation_deadline"):
    return home.programme.moment(name, YEAR)


def send_one(home, tmp_path: Path, zone: str, scale: float, at) -> int:
    f = write(full_marks(home, zone, YEAR, scale), tmp_path / f"in-{zone}-{scale}-{at.timestamp():.0f}.csv")
    out = submit(home, f, year=YEAR, kind="evaluation", at=at)
    assert out.accepted, out.errors
    return out.submission_id


def ranking(result: dict) -> dict[str, dict]:
    return {r["adcode"]: r for r in result["proposal"]["ranking"]}


def summary_text(home) -> str:
    with session(home.db_url) as s:
        row = s.scalars(
            select(m.OutboxNotice).where(m.OutboxNotice.kind == "evaluation_summary", m.OutboxNotice.year == YEAR)
        ).one()
        return row.text + row.html


def status_json(home) -> dict:
    r = run(home, "status", "--year", str(YEAR), "--json")
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def test_an_extension_lets_exactly_that_countys_late_file_count(home, tmp_path):
    late = deadline(home) + timedelta(days=1)
    for z, scale in zip(PILOTS[2:], [0.9, 0.8, 0.7, 0.6], strict=True):
        send_one(home, tmp_path, z, scale, on_time(home, YEAR))
    xinyuan = send_one(home, tmp_path, "654025", 0.5, late)
    send_one(home, tmp_path, "654002", 0.95, late)

    before = evaluation_stage(home=str(home.path), year=YEAR)
    rows = ranking(before)
    assert rows["654025"]["flags"] == ["未按时报送"] and rows["654002"]["flags"] == ["未按时报送"]
    digest = ev.inputs_digest(home, YEAR)

    until = (deadline(home) + timedelta(days=3)).replace(tzinfo=None).isoformat()
    r = run(
        home, "extend", "--year", str(YEAR), "--stage", "evaluation", "--adcode", "654025",
        "--until", until, "--reason", "网络故障无法上报", "--by", "王五",
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "654025" in r.stdout and "正在待审批" in r.stdout
    assert ev.inputs_digest(home, YEAR) != digest  # the stage's state changed: cached steps are redone

    after = evaluation_stage(home=str(home.path), year=YEAR)
    rows = ranking(after)
    assert rows["654025"]["flags"] == [] and rows["654025"]["submission_id"] == xinyuan
    assert rows["654025"]["total"] > 0
    assert rows["654002"]["flags"] == ["未按时报送"] and rows["654002"]["total"] == 0  # still late
    assert after["proposal"]["late"] == ["654002"]
    (x,) = after["proposal"]["exceptions"]
    assert (x["adcode"], x["kind"], x["granted_by"], x["counted_submissions"]) == (
        "654025",
        "extension",
        "王五",
        [xinyuan],
    )
    assert x["until"] == "2022-12-23T23:59:59+08:00"

    # A file received within the extension after it was granted is on time at receipt.
    f = write(full_marks(home, "654025", YEAR, 0.6), tmp_path / "xinyuan-fix.csv")
    out = submit(home, f, year=YEAR, kind="evaluation", at=deadline(home) + timedelta(days=2))
    assert out.on_time and out.extended_until is not None
    final = evaluation_stage(home=str(home.path), year=YEAR, approve=True)
    assert ranking(final)["654025"]["submission_id"] == out.submission_id
    assert final["proposal"]["exceptions"][0]["counted_submissions"] == [out.submission_id]

    st = status_json(home)
    (shown,) = st["exceptions"]
    assert shown == {
        "id": x["id"],
        "year": YEAR,
        "stage": "evaluation",
        "adcode": "654025",
        "kind": "extension",
        "until": "2022-12-23T23:59:59+08:00",
        "submission_id": None,
        "reason": "网络故障无法上报",
        "granted_by": "王五",
        "granted_at": shown["granted_at"],
        "revoked_at": None,
        "revoked_by": None,
        "revoke_reason": None,
    }
    assert shown["granted_at"].endswith("+08:00")
    assert st["evaluation"]["state"] == "published"
    table = run(home, "status", "--year", str(YEAR)).stdout
    assert "654025：延期至 2022-12-23T23:59:59+08:00；王五于" in table

    text = summary_text(home)
    assert "六、报送期限例外" in text
    assert "新源县（654025）：准予延期报送至2022年12月23日23时59分59秒" in text
    assert "网络故障无法上报" in text and "王五" in text
    assert "伊宁市" in text.split("五、未按时报送")[1].split("六、")[0]  # 654002 stays late

    # Once published, no exception can change the year any more.
    r = run(
        home, "extend", "--year", str(YEAR), "--stage", "evaluation", "--adcode", "654002",
        "--until", until, "--reason", "迟到", "--by", "王五",
    )  # fmt: skip
    assert r.exit_code == 2 and "已经发布" in r.stderr


def test_accept_late_counts_only_the_named_file_and_refuses_what_it_cannot_do(home, tmp_path, monkeypatch):
    monkeypatch.setenv("USER", "operator1")
    for z in PILOTS[1:]:
        send_one(home, tmp_path, z, 0.8, on_time(home, YEAR))
    first = send_one(home, tmp_path, "654025", 0.5, on_time(home, YEAR))
    accepted = send_one(home, tmp_path, "654025", 0.9, deadline(home) + timedelta(hours=2))
    send_one(home, tmp_path, "654025", 0.3, deadline(home) + timedelta(hours=5))  # late, not accepted
    # Another county's late file is not touched by the exception.
    other_late = send_one(home, tmp_path, "654002", 1.0, deadline(home) + timedelta(hours=1))

    assert ranking(evaluation_stage(home=str(home.path), year=YEAR))["654025"]["submission_id"] == first
    digest = ev.inputs_digest(home, YEAR)

    # Refusals, each a usage error with a clear message.
    r = run(home, "accept-late", "--submission", "99999", "--reason", "x")
    assert r.exit_code == 2 and "没有这一编号的报送文件" in r.stderr
    r = run(home, "accept-late", "--submission", str(first), "--reason", "x")
    assert r.exit_code == 2 and "并未逾期" in r.stderr
    r = run(home, "accept-late", "--submission", str(accepted), "--reason", "  ")
    assert r.exit_code == 2 and "--reason" in r.stderr
    bad = write(rows_for(home, "654025", YEAR, **{"1": "abc"}), tmp_path / "bad.csv")
    rejected = submit(home, bad, year=YEAR, kind="evaluation", at=deadline(home) + timedelta(hours=3))
    assert not rejected.accepted
    r = run(home, "accept-late", "--submission", str(rejected.submission_id), "--reason", "x")
    assert r.exit_code == 2 and "未通过校验" in r.stderr

    r = run(home, "accept-late", "--submission", str(accepted), "--reason", "邮件服务器延误，已核实")
    assert r.exit_code == 0, r.output
    assert ev.inputs_digest(home, YEAR) != digest
    r = run(home, "accept-late", "--submission", str(accepted), "--reason", "again")
    assert r.exit_code == 2 and "已接受逾期报送" in r.stderr

    result = evaluation_stage(home=str(home.path), year=YEAR, approve=True)
    rows = ranking(result)
    assert rows["654025"]["submission_id"] == accepted
    assert rows["654002"]["submission_id"] != other_late  # its on-time file counts, not the late one
    (x,) = result["proposal"]["exceptions"]
    assert (x["kind"], x["submission_id"], x["granted_by"], x["counted_submissions"]) == (
        "accept_late",
        accepted,
        "operator1",
        [accepted],
    )

    (shown,) = status_json(home)["exceptions"]
    assert (shown["kind"], shown["submission_id"], shown["until"], shown["adcode"]) == (
        "accept_late",
        accepted,
        None,
        "654025",
    )
    text = summary_text(home)
    assert f"新源县（654025）：认可逾期报送的数据文件（编号{accepted}）" in text
    assert "邮件服务器延误，已核实" in text and "operator1" in text

    r = run(home, "accept-late", "--submission", str(other_late), "--reason", "x")
    assert r.exit_code == 2 and "已经发布" in r.stderr


def test_a_revoked_exception_counts_no_more_and_stays_on_record(home, tmp_path):
    for z, scale in zip(PILOTS[2:], [0.9, 0.8, 0.7, 0.6], strict=True):
        send_one(home, tmp_path, z, scale, on_time(home, YEAR))
    late = deadline(home) + timedelta(days=1)
    xinyuan = send_one(home, tmp_path, "654025", 0.5, late)
    yining = send_one(home, tmp_path, "654002", 0.95, late)
    until = (deadline(home) + timedelta(days=3)).replace(tzinfo=None).isoformat()
    grant = ["extend", "--year", str(YEAR), "--stage", "evaluation", "--until", until, "--by", "王五"]
    assert run(home, *grant, "--adcode", "654025", "--reason", "误批").exit_code == 0
    assert run(home, "accept-late", "--submission", str(yining), "--reason", "邮件延误").exit_code == 0
    mistaken, kept = (x["id"] for x in status_json(home)["exceptions"])
    assert ranking(evaluation_stage(home=str(home.path), year=YEAR))["654025"]["submission_id"] == xinyuan

    r = run(home, "revoke-exception", "--id", str(mistaken), "--reason", "延期批错了县", "--by", "李四")
    assert r.exit_code == 0, r.output
    assert "已由 李四 于" in r.stdout and "正在待审批" in r.stdout
    # The proposal made with it is stale: approval is refused until the stage is run again.
    r = run(home, "approve", "--year", str(YEAR), "--stage", "evaluation")
    assert r.exit_code == 2, r.output

    result = evaluation_stage(home=str(home.path), year=YEAR, approve=True)
    rows = ranking(result)
    assert rows["654025"]["flags"] == ["未按时报送"] and rows["654025"]["total"] == 0
    assert rows["654002"]["submission_id"] == yining  # the other exception still counts
    assert [x["id"] for x in result["proposal"]["exceptions"]] == [kept]

    shown = {x["id"]: x for x in status_json(home)["exceptions"]}
    assert (shown[mistaken]["revoked_by"], shown[mistaken]["revoke_reason"]) == ("李四", "延期批错了县")
    assert shown[mistaken]["revoked_at"].endswith("+08:00") and shown[kept]["revoked_at"] is None
    assert "已撤销（李四" in run(home, "status", "--year", str(YEAR)).stdout
    text = summary_text(home)
    assert "邮件延误" in text and "误批" not in text

    r = run(home, "revoke-exception", "--id", str(mistaken), "--reason", "again")
    assert r.exit_code == 2 and "期限例外 1 已于" in r.stderr and "撤销" in r.stderr
    r = run(home, "revoke-exception", "--id", str(kept), "--reason", "too late")
    assert r.exit_code == 2 and "已经发布" in r.stderr
    r = run(home, "revoke-exception", "--id", "99999", "--reason", "x")
    assert r.exit_code == 2 and "没有这一编号的期限例外" in r.stderr


def test_a_late_file_whose_acceptance_was_revoked_is_not_accepted_again(home, tmp_path):
    late = send_one(home, tmp_path, "654025", 0.9, deadline(home) + timedelta(hours=2))
    assert run(home, "accept-late", "--submission", str(late), "--reason", "x").exit_code == 0
    (x,) = status_json(home)["exceptions"]
    assert run(home, "revoke-exception", "--id", str(x["id"]), "--reason", "误批").exit_code == 0
    r = run(home, "accept-late", "--submission", str(late), "--reason", "again")
    assert r.exit_code == 2 and "后已撤销" in r.stderr and "pilotzones extend" in r.stderr


def test_extension_refusals_exit_2_with_the_reason(home):
    base = ["extend", "--year", str(YEAR), "--stage", "evaluation", "--reason", "r", "--by", "me"]
    r = run(home, *base, "--adcode", "654025", "--until", "2022-12-20T12:00:00")
    assert r.exit_code == 2 and "不晚于" in r.stderr
    r = run(home, *base, "--adcode", "654025", "--until", "next week")
    assert r.exit_code == 2 and "--until" in r.stderr and "ISO-8601" in r.stderr
    r = run(home, *base, "--adcode", "650102", "--until", "2022-12-25T12:00:00")
    assert r.exit_code == 2 and "不是2022年度参加监测评价的试验区" in r.stderr
    r = run(home, *base, "--adcode", "999999", "--until", "2022-12-25T12:00:00")
    assert r.exit_code == 2 and "不是新疆维吾尔自治区的县级行政区划" in r.stderr
    assert run(home, *base, "--adcode", "654025", "--until", "2022-12-25T12:00:00").exit_code == 0
    # A second extension must go further than the first.
    r = run(home, *base, "--adcode", "654025", "--until", "2022-12-24T12:00:00")
    assert r.exit_code == 2 and "已延长的截止时间" in r.stderr
    r = run(home, "extend", "--year", str(YEAR), "--stage", "candidates", "--adcode", "654025",
            "--until", "2022-10-05T00:00:00", "--reason", "r")  # fmt: skip
    assert r.exit_code == 2 and "不是新疆维吾尔自治区的地（州、市）" in r.stderr
    with session(home.db_url) as s:
        assert len(s.scalars(select(m.DeadlineException)).all()) == 1


def test_an_extension_for_a_prefectures_nominations(home, tmp_path):
    dl = deadline(home, "nomination_deadline")
    nominate(home, tmp_path, YEAR, "652900", ["652901"], dl + timedelta(days=1))  # 阿克苏地区, late
    nominate(home, tmp_path, YEAR, "652300", ["652301"], dl + timedelta(days=1))  # 昌吉回族自治州, late
    review(home, tmp_path, YEAR, {"652901": 80, "652301": 90})
    digest = cand.inputs_digest(home, YEAR)

    r = run(
        home, "extend", "--year", str(YEAR), "--stage", "candidates", "--adcode", "阿克苏地区",
        "--until", "2022-10-03T18:00:00+08:00", "--reason", "地区换届，材料延迟", "--by", "李四",
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    assert cand.inputs_digest(home, YEAR) != digest

    result = candidate_selection(home=str(home.path), year=YEAR, approve=True)
    p = result["proposal"]
    assert [x["adcode"] for x in p["selected"]] == ["652901"]
    assert [(x["adcode"], x["reason"]) for x in p["rejected"]] == [("652301", selection.LATE)]
    (x,) = p["exceptions"]
    assert (x["adcode"], x["stage"], x["kind"], x["granted_by"]) == ("652900", "candidates", "extension", "李四")
    assert x["counted_submissions"] == [p["selected"][0]["submission_id"]]

    (shown,) = status_json(home)["exceptions"]
    assert (shown["stage"], shown["adcode"], shown["until"]) == ("candidates", "652900", "2022-10-03T18:00:00+08:00")
    # Every nominating prefecture's notice of the list says who was given more time, and why.
    with session(home.db_url) as s:
        texts = s.scalars(
            select(m.OutboxNotice.text).where(
                m.OutboxNotice.kind == "candidate_selection", m.OutboxNotice.recipient == "652300"
            )
        ).all()
    assert len(texts) == 1
    assert "阿克苏地区（652900）：准予延期推荐至2022年10月3日18时00分00秒，理由：地区换届，材料延迟" in texts[0]
