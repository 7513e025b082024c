"""The county template: a clerk fills the form the system wrote, submits it as is, and it is accepted."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from pilotzones.intake.read import read_table
from tests.cli_home import run

pytestmark = pytest.mark.integration


def _fill(template: Path, out: Path, leave_out: tuple[str, ...] = ()) -> Path:
    """What a clerk does in Excel: a value in every open cell (half the maximum; counts 1), evidence text."""
    wb = openpyxl.load_workbook(template)
    ws = wb["填报表"]
    for row in list(ws.iter_rows(min_row=5)):
        key = row[3].value
        if key is None:
            continue
        maximum = row[6].value
        row[8].value = maximum / 2 if maximum else (3 if key.endswith("village_doctors") else 1)
        row[9].value = "+会议纪要" if key == "1" else "文件"
    for key in leave_out:  # rows deleted by the clerk, bottom first
        (index,) = [r[0].row for r in ws.iter_rows(min_row=5) if r[3].value == key]
        ws.delete_rows(index)
    wb.save(out)
    return out


def test_a_filled_template_is_accepted_and_items_left_out_are_warned(cli_home, tmp_path):
    r = run(cli_home, "template", "--year", "2023", "--county", "新源", "--out", str(tmp_path / "t"))
    assert r.exit_code == 0, r.output
    (template,) = (tmp_path / "t").glob("*.xlsx")
    assert "654025" in template.name
    wb = openpyxl.load_workbook(template)
    ws = wb["填报表"]
    assert ws.protection.sheet and "填报说明" in wb.sheetnames
    assert ws["A5"].protection.locked and not ws["I5"].protection.locked
    assert ws.data_validations.dataValidation, "value cells carry Excel data validation"

    filled = _fill(template, tmp_path / "filled.xlsx")
    r = run(cli_home, "submit", str(filled), "--year", "2023", "--at", "2023-12-10T10:00:00")
    assert r.exit_code == 0, r.output
    assert "已接收" in r.stdout and "未填报" not in r.stderr

    partial = _fill(template, tmp_path / "partial.xlsx", leave_out=("29.village_doctors.prev", "5"))
    r = run(cli_home, "submit", str(partial), "--year", "2023", "--at", "2023-12-10T11:00:00")
    assert r.exit_code == 0, r.output
    assert "第5项" in r.stderr and "第29项" in r.stderr and "将按0分计" in r.stderr


def test_unknown_county_is_refused(cli_home, tmp_path):
    r = run(cli_home, "template", "--year", "2023", "--county", "654003", "--out", str(tmp_path))
    assert r.exit_code == 2 and "不是2023年度的试验区" in r.stderr


@pytest.mark.parametrize(
    "text",
    [
        # Chinese headers as a clerk types them, full-width brackets.
        "年度,行政区划代码,县（市、区）,指标,得分/分值,佐证材料\n2023,654025,新源县,1,80,纪要\n",
        # Half-width brackets and a title block above the header.
        "2023年度监测评价数据报送表,,,,,\n,,,,,\n年度,行政区划代码,县(市、区),指标,得分,佐证材料\n2023,654025,新源县,1,80,纪要\n",
    ],
)
def test_chinese_headers_and_title_rows_are_read_as_the_contract_columns(text):
    frame = read_table(text.encode("utf-8"), "a.csv")
    assert list(frame.columns) == ["year", "adcode", "county", "key", "value", "evidence", "_row"]
    assert frame["value"].tolist() == ["80"]
    assert frame["_row"].tolist() == [text.count("\n")]


def test_a_file_without_a_header_row_keeps_the_missing_column_errors():
    frame = read_table("说明\n2023,654025\n".encode(), "a.csv")
    assert "说明" in frame.columns


def test_the_evaluation_call_carries_each_pilots_own_template(cli_home, tmp_path, monkeypatch):
    import io
    from email import message_from_bytes, policy

    from pilotzones.notices import call_notices, deliver, queue
    from pilotzones.store.home import Home

    monkeypatch.delenv("PILOTZONES_SMTP_HOST", raising=False)
    home = Home(cli_home)
    queue(home, call_notices(home, 2023, "evaluation_call"))
    deliver(home)
    found = {}
    for p in (cli_home / "outbox").rglob("*.eml"):
        msg = message_from_bytes(p.read_bytes(), policy=policy.default)
        if msg["X-Notice-Kind"] == "evaluation_call":
            (part,) = list(msg.iter_attachments())
            found[msg["X-Notice-About"]] = (part.get_filename(), part.get_content())
    assert set(found) == {"654025", "654002", "654321", "650521", "652926", "653224"}
    name, data = found["650521"]
    assert name == "2023年度监测评价数据报送表_650521_巴里坤哈萨克自治县.xlsx"
    ws = openpyxl.load_workbook(io.BytesIO(data))["填报表"]
    assert (ws["A5"].value, ws["B5"].value, ws["C5"].value) == ("2023", "650521", "巴里坤哈萨克自治县")
