"""What the people in the cycle see: stage commands show their decisions, publication writes the
year's reports (numbers equal to status --json), and results explain themselves item by item."""

from __future__ import annotations

import json
from email import message_from_bytes, policy
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from pilotzones.cli.main import cli
from pilotzones.reports.yearly import fmt
from pilotzones.store.home import Home
from tests.support import full_marks, write

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("prefect_server")]

PILOTS = ["654025", "654002", "654321", "650521", "652926", "653224"]
FORMULA = '=HYPERLINK("http://example.org","x")'


def run(home: Path, *args: str):
    r = CliRunner().invoke(cli, ["--home", str(home), *args], obj={}, catch_exceptions=False)
    assert r.exit_code == 0, r.output
    return r


def _nominations(home: Path, tmp_path: Path) -> None:
    nominations = tmp_path / "nominations.csv"
    nominations.write_text(
        "year,prefecture,adcode,county,contact_email,reason\n"
        f'2022,652900,652901,阿克苏市,a@example.org,"{FORMULA.replace(chr(34), chr(34) * 2)}"\n'
        "2022,652900,652922,温宿县,b@example.org,基础较好\n"
        "2022,652900,654025,新源县,c@example.org,已是试验区\n",
        encoding="utf-8",
    )
    review = tmp_path / "review.csv"
    review.write_text("year,adcode,review_score\n2022,652901,91\n2022,652922,85.5\n", encoding="utf-8")
    run(home, "submit", str(nominations), "--year", "2022", "--kind", "nomination", "--at", "2022-09-20T10:00")
    run(home, "submit", str(review), "--year", "2022", "--kind", "review", "--at", "2022-09-30T12:00")


def test_publication_writes_reports_that_match_status_and_notices_list_lost_items(tmp_path, monkeypatch):
    monkeypatch.delenv("PILOTZONES_DATABASE_URL", raising=False)
    h = tmp_path / "home"
    run(h, "init")
    home = Home(h)
    _nominations(h, tmp_path)
    r = run(h, "candidates", "run", "--year", "2022", "--approve")
    assert "1. 阿克苏市（652901，阿克苏地区）评审得分 91" in r.stdout
    assert "新源县（654025，阿克苏地区推荐，文件 #1）：不属于推荐的地（州、市）" in r.stdout  # every rejection, why
    (cand_book,) = [line.removeprefix("报告：") for line in r.stdout.splitlines() if line.startswith("报告：")]
    ws = openpyxl.load_workbook(cand_book)["推荐与审核"]
    reasons = {row[0].value: row[8] for row in ws.iter_rows(min_row=4) if row[0].value}
    assert reasons["652901"].value == FORMULA and reasons["652901"].data_type == "s"  # text, never a formula

    for z, scale in zip(PILOTS, [0.9, 0.8, 0.3, 0.7, 0.6, 0.2], strict=True):
        rows = full_marks(home, z, 2022, scale)
        f = write(rows, tmp_path / f"{z}.csv")
        run(h, "submit", str(f), "--year", "2022", "--at", "2022-12-10T10:00")
    r = run(h, "evaluation", "run", "--year", "2022")
    assert "方案待审批" in r.stdout and "亮黄牌：2个" in r.stdout
    assert "布尔津县" in r.stdout and "取消试验区资格：无" in r.stdout
    assert not (home.reports / "2022").joinpath("2022年度试验区监测评价报告.xlsx").exists()

    r = run(h, "approve", "--year", "2022", "--stage", "evaluation")
    assert "2022年度监测评价已发布" in r.stdout
    paths = [Path(line.removeprefix("报告：")) for line in r.stdout.splitlines() if line.startswith("报告：")]
    assert {p.suffix for p in paths} == {".xlsx", ".html"} and all(p.exists() for p in paths)
    book = next(p for p in paths if p.suffix == ".xlsx")
    html = next(p for p in paths if p.suffix == ".html").read_text(encoding="utf-8")

    ranking = json.loads(run(h, "status", "--year", "2022", "--json").stdout)["evaluation"]["ranking"]
    wb = openpyxl.load_workbook(book)
    sheet = [row for row in wb["排名"].iter_rows(min_row=5, values_only=True) if row[0] is not None]
    assert [(x[0], x[1], x[3], x[4], x[5], x[6] == "亮黄牌") for x in sheet] == [
        (z["rank"], z["adcode"], z["base"], z["bonus"], z["total"], z["yellow_card"]) for z in ranking
    ]
    for z in ranking:
        assert (
            f"<td>{z['adcode']}</td><td>{z['county']}</td><td class=n>{fmt(z['base'], 2)}</td>"
            f"<td class=n>{fmt(z['bonus'], 2)}</td><td class=n>{fmt(z['total'], 2)}</td>"
        ) in html
    assert "<svg" in html and "黄牌线" in html and "http" not in html.split("<body>")[0]  # no CDN, inline SVG
    assert wb["排名"]._charts and wb["类别小计"]._charts
    items = wb["指标得分"]
    assert (items["C1"].value, items["C2"].value, items["D2"].value) == ("1. 党委政府主导（满分80）", "得分", "失分")
    xinyuan = next(row for row in items.iter_rows(min_row=3, values_only=True) if row[0] == "654025")
    assert xinyuan[2:4] == (72, 8)  # 90% of item 1's 80 points: 72 earned, 8 lost
    assert {row[1] for row in wb["历年"].iter_rows(min_row=2, values_only=True)} == set(PILOTS)

    # The summary to the commission carries the workbook.
    (summary,) = [
        m
        for p in (h / "outbox").rglob("*.eml")
        if (m := message_from_bytes(p.read_bytes(), policy=policy.default))["X-Notice-Kind"] == "evaluation_summary"
    ]
    (attached,) = list(summary.iter_attachments())
    assert attached.get_filename() == book.name and attached.get_content() == book.read_bytes()

    # The result notice of 新源县 (90% of each weight) lists what it lost, item by item.
    (eml,) = [
        p
        for p in (h / "outbox").rglob("*.eml")
        if (m := message_from_bytes(p.read_bytes(), policy=policy.default))["X-Notice-Kind"] == "evaluation_result"
        and m["X-Notice-About"] == "654025"
    ]
    text = message_from_bytes(eml.read_bytes(), policy=policy.default).get_body(("plain",)).get_content()
    assert "失分指标（共失118分）" in text  # 1000 - 882: what the base lacks, item by item
    assert "第1项 党委政府主导：满分80分，得72分，失8分" in text
