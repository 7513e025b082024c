"""公示, the builders' gaps: the objection form in Chinese (a template prefilled from the draft, filled
and submitted as it is), and every rebuild in publicity that moves the card line sending the next
draft, whatever made it (a late file accepted, an upheld objection), and a rebuild that failed after
the answer was saved sending it with the next run."""

from __future__ import annotations

import json
import re
from pathlib import Path

import openpyxl
import pytest

from pilotzones.stages import evaluation as ev
from pilotzones.store.home import Home
from tests.cli_home import run
from tests.integration.test_publicity import SCALES, YEAR, objection_file, outbox, pub_home  # noqa: F401
from tests.support import full_marks, write

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("prefect_server")]

CLAIMS = {"7": 40, "8": 30, "9": 50, "12": 40, "14": 60, "23": 60, "28": 60}
LATE = "653224"  # at 0.2 and late: carded at 0 until its late file (at 0.95) is accepted


def carded(h) -> set[str]:
    st = json.loads(run(h, "status", "--year", str(YEAR), "--json").stdout)["evaluation"]
    return {x["adcode"] for x in st["ranking"] if x["yellow_card"]}


def drafts(home: Home, ref: str) -> set[str]:
    return {a for k, a, r in outbox(home) if k == "evaluation_draft" and r == ref}


def test_every_rebuild_in_publicity_that_moves_the_card_line_sends_drafts(pub_home, tmp_path, monkeypatch):  # noqa: F811
    home, h = pub_home, pub_home.path
    late_id = None
    for z, scale in SCALES.items():
        when = "2022-12-10T10:00"
        if z == LATE:
            scale, when = 0.95, "2022-12-27T10:00"
        f = write(full_marks(home, z, YEAR, scale), tmp_path / f"{z}.csv")
        r = run(h, "submit", str(f), "--year", str(YEAR), "--at", when)
        assert r.exit_code == 0, r.output
        if z == LATE:
            late_id = re.search(r"编号 (\d+)", r.stdout).group(1)
    assert run(h, "evaluation", "run", "--year", str(YEAR), "--publicize", "--at", "2022-12-30T09:00").exit_code == 0
    first = carded(h)
    assert LATE in first and len(drafts(home, "r1")) == len(SCALES)

    # A new input in publicity (the late file accepted): the run rebuilds, the card line moves, r2 goes out.
    r = run(h, "accept-late", "--submission", str(late_id), "--reason", "系统故障", "--by", "王五")
    assert r.exit_code == 0, r.output
    r = run(h, "evaluation", "run", "--year", str(YEAR))
    assert r.exit_code == 0, r.output
    second = carded(h)
    assert "黄牌线调整涉及" in r.stdout and LATE not in second
    assert drafts(home, "r2") == first ^ second
    assert run(h, "evaluation", "run", "--year", str(YEAR)).exit_code == 0
    assert not drafts(home, "r3")  # nothing moved since: nothing sent again

    # The objection form: Chinese headers, the lost items prefilled from the draft; filled in and submitted.
    zone = "654321"  # carded at 0.57 in both drafts
    assert zone in second
    r = run(h, "objection", "template", "--year", str(YEAR), "--county", zone, "--out", str(tmp_path / "forms"))
    assert r.exit_code == 0, r.output
    (path,) = [p for p in r.stdout.split() if p.endswith(".xlsx")]
    # The same form goes with the zone's draft notice.
    from pilotzones.notices.attachments import attachments_for

    ((name, _),) = attachments_for(home, "evaluation_draft", YEAR, zone)
    assert name == Path(path).name == f"{YEAR}年度监测评价异议材料表_{zone}_布尔津县.xlsx"
    wb = openpyxl.load_workbook(path)
    ws = wb.active
    header = [c.value for c in ws[3]]
    assert header[:4] == ["年度", "行政区划代码", "县（市、区）", "指标"] and "异议理由" in header
    rows = {row[3].value: row for row in ws.iter_rows(min_row=4)}
    assert rows["1"][1].value == zone and rows["1"][7].value  # the value counted, prefilled
    for key, value in CLAIMS.items():  # full marks claimed on items of uncapped categories
        rows[key][header.index("报送值")].value = value
        rows[key][header.index("异议理由")].value = f"第{key}项已落实，应得满分"
        rows[key][header.index("佐证材料")].value = "验收报告"
    wb.save(path)
    r = run(h, "submit", path, "--year", str(YEAR), "--kind", "objection", "--at", "2023-01-04T10:00")
    assert r.exit_code == 0 and "异议已受理" in r.stdout, r.output
    st = json.loads(run(h, "status", "--year", str(YEAR), "--json").stdout)["evaluation"]["publicity"]
    (o,) = st["objections"]
    assert {i["key"]: i["value"] for i in o["items"]} == {k: str(v) for k, v in CLAIMS.items()}  # the rest skipped

    # The rebuild after the answer fails: the answer stays on record, its notice queued; the next run
    # rebuilds and sends the drafts the failure left unsent.
    real = ev.collect

    def broken(*args, **kwargs):
        raise OSError("磁盘已满")

    monkeypatch.setattr(ev, "collect", broken)
    r = run(h, "objection", "answer", "--id", str(o["id"]), "--uphold", "--reason", "属实")
    assert r.exit_code != 0 and "答复已记录" in r.stderr and "evaluation run" in r.stderr, r.output
    monkeypatch.setattr(ev, "collect", real)
    assert ("objection_answer", zone, str(o["id"])) in outbox(home) and not drafts(home, "r3")
    r = run(h, "evaluation", "run", "--year", str(YEAR))
    assert r.exit_code == 0 and "黄牌线调整涉及" in r.stdout, r.output
    third = carded(h)
    assert zone not in third and drafts(home, "r3") == second ^ third


def test_the_candidate_selection_cannot_be_publicized(cli_home):
    """By choice (README, Rules: Publicity): no publicity period for the candidate selection."""
    r = run(cli_home, "candidates", "run", "--year", "2023", "--publicize")
    assert r.exit_code == 2 and "候补试验区遴选没有公示期" in r.stderr, r.output
