"""Nomination files: structure is checked here; eligibility (R10) is judged per nomination later."""

from __future__ import annotations

import pytest

from pilotzones.intake.nomination import check_nomination
from tests.unit.test_intake_helpers import NOMINATION_COLUMNS, csv_bytes, programme, register, xlsx_bytes

PROG, REG = programme(), register()


def nomination(adcode: str, county: str, prefecture: str = "阿克苏地区", **extra: str) -> dict:
    row = {
        "year": "2023",
        "prefecture": prefecture,
        "adcode": adcode,
        "county": county,
        "contact_email": f"wjw.{adcode}@example.org",
        "reason": "党委政府支持力度大，工作基础较好",
    }
    return row | extra


ROWS = [nomination("652901", "阿克苏市"), nomination("652902", "库车市")]


def check(rows: list[dict], columns=NOMINATION_COLUMNS, year: int = 2023):
    data = csv_bytes(rows, columns)
    return check_nomination(data, "nominations.csv", year=year, programme=PROG, register=REG)


def test_a_valid_file_is_accepted_with_its_prefecture_and_rows():
    result = check(ROWS)
    assert result.accepted, [str(e) for e in result.errors]
    assert result.prefecture == "652900"
    assert result.rows[0] == {
        "adcode": "652901",
        "county": "阿克苏市",
        "contact_email": "wjw.652901@example.org",
        "reason": "党委政府支持力度大，工作基础较好",
        "row": 2,
    }


@pytest.mark.parametrize(
    "prefecture",
    [
        "阿克苏地区",  # the official name
        "阿克苏",  # a short form
        "652900",  # the code
        "652900000000",  # the 12-digit statistical code
    ],
)
def test_the_prefecture_may_be_given_by_name_or_code(prefecture):
    result = check([nomination("652901", "阿克苏市", prefecture)])
    assert result.accepted, [str(e) for e in result.errors]
    assert result.prefecture == "652900"


def test_an_xlsx_file_with_twelve_digit_codes_is_accepted():
    data = xlsx_bytes([nomination("652901000000", "阿克苏市")], NOMINATION_COLUMNS)
    result = check_nomination(data, "nominations.xlsx", year=2023, programme=PROG, register=REG)
    assert result.accepted, [str(e) for e in result.errors]
    assert result.rows[0]["adcode"] == "652901"


@pytest.mark.parametrize(
    "row",
    [
        nomination("110101", "东城区"),  # outside the region
        nomination("654025", "新源县"),  # another prefecture's county, and a pilot already
    ],
)
def test_eligibility_is_not_judged_at_intake(row):
    assert check([row]).accepted


@pytest.mark.parametrize(
    ("name", "fits"),
    [
        ("阿克苏市", True),  # the official name
        ("阿克苏", True),  # the short form, as evaluation files may use it
        ("不对的县名", False),  # a name that is not this code's
        ("库车市", False),  # another county's official name
        ("", False),  # no name at all
    ],
)
def test_a_county_name_must_fit_its_code(name, fits):
    result = check([nomination("652901", name)])
    assert result.accepted == fits, [str(e) for e in result.errors]
    if not fits:
        (error,) = result.errors
        assert error.row == 2 and error.key == "county" and "652901" in error.message and "阿克苏市" in error.message


@pytest.mark.parametrize(
    ("rows", "row", "key", "rule", "says"),
    [
        # a row for another year
        ([ROWS[0], ROWS[1] | {"year": "2022"}], 3, "year", "§3", "年份“2022”与报送年度2023不符"),
        # a prefecture the register does not know
        (
            [ROWS[0], ROWS[1] | {"prefecture": "火星地区"}],
            3,
            "prefecture",
            "§3",
            "“火星地区”不是新疆维吾尔自治区的地（州、市）",
        ),
        # a second prefecture in the same file
        (
            [ROWS[0], nomination("654004", "霍尔果斯市", "伊犁州")],
            3,
            "prefecture",
            "R11",
            "本文件由阿克苏地区（652900）提名",
        ),
        # a malformed e-mail address
        (
            [ROWS[0], ROWS[1] | {"contact_email": "wjw.example.org"}],
            3,
            "contact_email",
            "§3",
            "联系邮箱“wjw.example.org”格式不正确",
        ),
        # an empty e-mail address
        ([ROWS[0], ROWS[1] | {"contact_email": ""}], 3, "contact_email", "§3", "联系邮箱“（空）”格式不正确"),
        # a malformed adcode
        ([ROWS[0], ROWS[1] | {"adcode": "65290"}], 3, "adcode", "§3", "代码“65290”格式不正确"),
    ],
)
def test_each_structural_error_rejects_the_file_with_its_row(rows, row, key, rule, says):
    result = check(rows)
    assert [(e.row, e.key, e.rule) for e in result.errors] == [(row, key, rule)]
    assert says in result.errors[0].message


def test_an_unknown_first_prefecture_leaves_the_sender_to_the_next_row():
    rows = [ROWS[0] | {"prefecture": "火星"}, ROWS[1]]
    result = check(rows)
    assert result.prefecture == "652900"
    assert [(e.row, e.rule) for e in result.errors] == [(2, "§3")]


@pytest.mark.parametrize(
    "missing",
    [
        "prefecture",  # who nominates cannot be told
        "contact_email",  # the contact is required
        "reason",  # the panel reads the reason
    ],
)
def test_a_missing_column_is_a_whole_file_error(missing):
    columns = [c for c in NOMINATION_COLUMNS if c != missing]
    result = check(ROWS, columns=columns)
    assert [(e.row, e.key) for e in result.errors] == [(None, missing)]


def test_every_error_of_a_file_is_listed():
    rows = [
        ROWS[0] | {"year": "2022", "contact_email": "x"},
        ROWS[1] | {"adcode": "abc", "prefecture": "伊犁州"},
    ]
    result = check(rows)
    assert [(e.row, e.key) for e in result.errors] == [
        (2, "year"),
        (2, "contact_email"),
        (3, "adcode"),
        (3, "prefecture"),
    ]
