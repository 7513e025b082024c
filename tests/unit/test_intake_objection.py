"""An objection file (公示): one zone, a pilot of the year, items of the rubric, claimed values checked."""

from __future__ import annotations

import pytest

from pilotzones.intake.objection import check_objection
from tests.unit.test_intake_helpers import csv_bytes, programme, register

PROG, REG = programme(), register()
COLUMNS = ["year", "adcode", "county", "key", "value", "claim", "evidence"]
PILOTS = frozenset(PROG.pilots.initial)
ROW = {
    "year": "2023",
    "adcode": "654025",
    "county": "新源",
    "key": "1",
    "value": "80",
    "claim": "已落实",
    "evidence": "附件",
}


def check(rows: list[dict], columns=COLUMNS):
    return check_objection(csv_bytes(rows, columns), "o.csv", year=2023, programme=PROG, register=REG, pilots=PILOTS)


def test_a_valid_objection_names_its_zone_and_items():
    out = check([ROW, dict(ROW, key="2", value="", claim="漏计", evidence="")])
    assert not out.errors, [str(e) for e in out.errors]
    assert out.adcode == "654025"
    assert [(i["key"], i["value"], i["claim"], i["evidence"]) for i in out.items] == [
        ("1", "80", "已落实", "附件"),
        ("2", None, "漏计", None),
    ]


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"year": "2022"}, "应为2023"),
        ({"adcode": "652901", "county": ""}, "不是2023年度参加监测评价的试验区"),
        ({"county": "伊宁"}, "不符"),
        ({"key": "99", "value": ""}, "不是本年度评价细则的报送项"),
        ({"value": "81"}, "超出范围"),
        ({"claim": ""}, "理由为空"),
    ],
)
def test_each_error_is_named(change, says):
    out = check([dict(ROW, **change)])
    assert any(says in str(e) for e in out.errors), [str(e) for e in out.errors]


def test_one_zone_per_file_and_the_columns_it_needs():
    out = check([ROW, dict(ROW, adcode="654002", county="")])
    assert out.adcode is None and any("只能涉及一个" in str(e) for e in out.errors)
    out = check([{k: v for k, v in ROW.items() if k != "claim"}], [c for c in COLUMNS if c != "claim"])
    assert any("缺少列：claim" in str(e) for e in out.errors)


def test_a_prefecture_may_object_for_its_zone():
    out = check([dict(ROW, prefecture="伊犁州")], [*COLUMNS, "prefecture"])
    assert not out.errors, [str(e) for e in out.errors]
    assert (out.adcode, out.sender) == ("654025", "654000")
    out = check([dict(ROW, prefecture="阿克苏地区")], [*COLUMNS, "prefecture"])
    assert any("不是新源县所在的" in str(e) for e in out.errors)
    assert check([ROW]).sender == "654025"


def test_the_chinese_headers_of_the_form_and_its_untouched_rows():
    """The objection form's headers (Excel/WPS, in Chinese) are the columns; a prefilled row with no
    value, reason or evidence is left alone, and a form with none filled has no objection."""
    chinese = ["年度", "行政区划代码", "县（市、区）", "指标", "指标名称", "公示得分", "报送值", "异议理由", "佐证材料"]
    filled = ["2023", "654025", "新源县", "1", "党委政府主导", "45.5", "80", "已落实", "验收报告"]
    untouched = ["2023", "654025", "新源县", "2", "制定试验区实施方案", "11.5", "", "", ""]
    out = check([dict(zip(chinese, filled, strict=True)), dict(zip(chinese, untouched, strict=True))], chinese)
    assert not out.errors, [str(e) for e in out.errors]
    assert [(i["key"], i["value"], i["claim"], i["evidence"]) for i in out.items] == [("1", "80", "已落实", "验收报告")]
    out = check([dict(zip(chinese, untouched, strict=True))], chinese)
    assert any("没有任何异议行" in str(e) for e in out.errors)
    out = check([dict(zip(chinese, filled, strict=True))], [c for c in chinese if c != "异议理由"])
    assert any("缺少列：claim（异议理由）" in str(e) for e in out.errors)
