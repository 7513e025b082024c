"""The review sheet: one score from 0 to 100 per county for the year (R10)."""

from __future__ import annotations

import pytest

from pilotzones.intake.review import check_review
from tests.unit.test_intake_helpers import REVIEW_COLUMNS, csv_bytes, programme, register

PROG, REG = programme(), register()
ROWS = [
    {"year": "2023", "adcode": "652901", "review_score": "91"},
    {"year": "2023", "adcode": "652902000000", "review_score": "87.5"},
    {"year": "2023", "adcode": "653101", "review_score": "１００"},
]


def check(rows: list[dict], columns=REVIEW_COLUMNS):
    return check_review(csv_bytes(rows, columns), "review.csv", year=2023, programme=PROG, register=REG)


def test_a_valid_sheet_gives_one_canonical_score_per_county():
    result = check(ROWS)
    assert result.accepted, [str(e) for e in result.errors]
    assert result.scores == {"652901": "91", "652902": "87.5", "653101": "100"}


@pytest.mark.parametrize(
    ("change", "key", "rule", "says"),
    [
        ({"year": "2022"}, "653101", "§3", "年份“2022”与报送年度2023不符"),  # another year
        ({"adcode": "6531"}, "6531", "§3", "代码“6531”格式不正确"),  # a malformed code
        ({"adcode": "652901"}, "652901", "§3", "已在第2行评分"),  # a county scored twice
        ({"review_score": "100.5"}, "653101", "R10", "应在0到100之间"),  # above 100
        ({"review_score": "-1"}, "653101", "R10", "应在0到100之间"),  # below 0
        ({"review_score": "良好"}, "653101", "§3", "“良好”不是数字"),  # not a number
        ({"review_score": ""}, "653101", "§3", "评审分数为空"),  # no score
    ],
)
def test_each_error_is_reported_on_its_row(change, key, rule, says):
    rows = [*ROWS[:2], ROWS[2] | change]
    result = check(rows)
    assert [(e.row, e.key, e.rule) for e in result.errors] == [(4, key, rule)]
    assert says in result.errors[0].message


def test_a_missing_column_is_a_whole_file_error():
    result = check(ROWS, columns=["year", "adcode"])
    assert [(e.row, e.key) for e in result.errors] == [(None, "review_score")]
