"""§3, R1-R3, R11: an evaluation file is accepted whole or rejected with every error by row and key."""

from __future__ import annotations

import pytest

from pilotzones.intake import RowError
from pilotzones.intake.evaluation import check_evaluation
from pilotzones.intake.read import FileUnreadable
from tests.unit.test_intake_helpers import (
    ENCODINGS,
    EVALUATION_COLUMNS,
    csv_bytes,
    evaluation_rows,
    pilots,
    programme,
    register,
    row_of,
    with_value,
    xlsx_bytes,
)

PROG, REG, PILOTS = programme(), register(), pilots()


def check(rows: list[dict], *, columns=EVALUATION_COLUMNS, encoding="utf-8", year=2023, zones=PILOTS):
    data = csv_bytes(rows, columns, encoding)
    return check_evaluation(data, "data.csv", year=year, programme=PROG, register=REG, pilots=zones)


def only_error(rows: list[dict], **kwargs) -> RowError:
    result = check(rows, **kwargs)
    assert len(result.errors) == 1, [str(e) for e in result.errors]
    return result.errors[0]


def test_a_complete_valid_file_is_accepted_with_its_values_and_evidence():
    result = check(evaluation_rows())
    assert result.accepted, [str(e) for e in result.errors]
    assert (result.adcode, result.county) == ("654025", "新源县")
    assert result.values["1"] == "40"  # half of item 1's 80 points
    assert result.values["2"] == "10"
    assert result.values["29.village_doctors"] == "120"
    assert len(result.values) == 38 + 4 + 4 + 2  # assessed items, item 29's counts, 40.*, 41 and 42
    assert result.evidence["1"] == "见佐证材料"


@pytest.mark.parametrize("encoding", ENCODINGS)  # every encoding the contract allows for CSV
def test_a_csv_file_is_read_in_each_allowed_encoding(encoding):
    result = check(evaluation_rows(), encoding=encoding)
    assert result.accepted, [str(e) for e in result.errors]
    assert result.evidence["12"] == "见佐证材料"


@pytest.mark.parametrize(
    "numeric",
    [
        True,  # numbers typed into numeric cells, as Excel stores them
        False,  # everything typed as text
    ],
)
def test_an_xlsx_file_is_read_from_its_first_sheet(numeric):
    data = xlsx_bytes(evaluation_rows(), EVALUATION_COLUMNS, numeric=numeric)
    result = check_evaluation(data, "data.xlsx", year=2023, programme=PROG, register=REG, pilots=PILOTS)
    assert result.accepted, [str(e) for e in result.errors]
    assert result.values["3"] == "5"
    assert result.values["42"] == "12"


def test_an_xlsx_file_is_recognised_by_its_content_whatever_its_name():
    data = xlsx_bytes(evaluation_rows(), EVALUATION_COLUMNS)
    result = check_evaluation(data, "upload.bin", year=2023, programme=PROG, register=REG, pilots=PILOTS)
    assert result.accepted


@pytest.mark.parametrize(
    "kind",
    [
        "csv",  # typed as text
        "xlsx",  # a 12-digit number in a numeric cell
    ],
)
def test_twelve_digit_statistical_codes_name_the_county(kind):
    rows = evaluation_rows(adcode="654025000000")
    if kind == "csv":
        data = csv_bytes(rows, EVALUATION_COLUMNS)
    else:
        data = xlsx_bytes(rows, EVALUATION_COLUMNS)
    result = check_evaluation(data, f"data.{kind}", year=2023, programme=PROG, register=REG, pilots=PILOTS)
    assert result.accepted, [str(e) for e in result.errors]
    assert result.adcode == "654025"


def test_a_file_whose_codes_are_all_malformed_reports_each_row_and_names_no_county():
    rows = [dict(r, adcode="新源") for r in evaluation_rows()[:3]]
    result = check(rows)
    assert result.adcode is None
    assert [(e.row, e.rule) for e in result.errors] == [(2, "§3"), (3, "§3"), (4, "§3")]


@pytest.mark.parametrize(
    "name",
    [
        "巴里坤哈萨克自治县",  # the official name
        "巴里坤县",  # the common short form the contract names
        "巴里坤",  # the bare place name
    ],
)
def test_the_county_may_be_named_officially_or_by_a_short_form(name):
    result = check(evaluation_rows(adcode="650521", county=name))
    assert result.accepted, [str(e) for e in result.errors]
    assert result.county == "巴里坤哈萨克自治县"


@pytest.mark.parametrize(
    ("key", "typed", "stored"),
    [
        ("12", "12.5", "12.5"),  # halves are allowed
        ("12", "12.25", "12.25"),  # two decimals, the programme's maximum
        ("12", "１２．５", "12.5"),  # full-width digits from a Chinese input method
        ("12", " 12 ", "12"),  # surrounding blanks
        ("12", "12.50", "12.5"),  # trailing zeros are not decimals
        ("12", "040", "40"),  # the weight itself, with a leading zero
        ("12", "0", "0"),  # the lower bound
        ("41", "3.0", "3"),  # a count written as a decimal with no fraction
        ("42", "＋20", "20"),  # a signed full-width count
    ],
)
def test_valid_numbers_are_stored_in_canonical_form(key, typed, stored):
    result = check(with_value(evaluation_rows(), key, typed))
    assert result.accepted, [str(e) for e in result.errors]
    assert result.values[key] == stored


def test_a_missing_assessed_item_is_not_an_error():
    rows = [r for r in evaluation_rows() if r["key"] != "7"]
    result = check(rows)
    assert result.accepted
    assert "7" not in result.values


def test_evidence_is_optional():
    result = check(evaluation_rows(), columns=EVALUATION_COLUMNS[:-1])
    assert result.accepted
    assert result.evidence["1"] == ""


ROWS = evaluation_rows()


def _dup(rows: list[dict]) -> list[dict]:
    return [*rows, dict(rows[11], value="1")]  # key 12 again, at the end


@pytest.mark.parametrize(
    ("rows", "row", "key", "rule", "says"),
    [
        # unknown key
        (with_value(ROWS, "12", "99", "key"), row_of(ROWS, "12"), "99", "§3", "未知的键“99”"),
        # empty key
        (with_value(ROWS, "12", "", "key"), row_of(ROWS, "12"), None, "§3", "键为空"),
        # the second occurrence of a key is the error, and it points at the first
        (_dup(ROWS), len(ROWS) + 2, "12", "§3", f"已在第{row_of(ROWS, '12')}行填报"),
        # not a number
        (with_value(ROWS, "12", "abc"), row_of(ROWS, "12"), "12", "§3", "“abc”不是数字"),
        # an empty value is not a number either
        (with_value(ROWS, "12", ""), row_of(ROWS, "12"), "12", "§3", "数值为空"),
        # exponents are refused
        (with_value(ROWS, "12", "1e1"), row_of(ROWS, "12"), "12", "§3", "不是数字"),
        # thousands separators are refused
        (
            with_value(ROWS, "29.village_doctors", "1,200"),
            row_of(ROWS, "29.village_doctors"),
            "29.village_doctors",
            "§3",
            "不是数字",
        ),
        # above the item's weight (item 12 weighs 40)
        (with_value(ROWS, "12", "85"), row_of(ROWS, "12"), "12", "R3", "分值85超出范围：应在0到40之间"),
        # just above the weight
        (with_value(ROWS, "12", "40.01"), row_of(ROWS, "12"), "12", "R3", "应在0到40之间"),
        # below zero
        (with_value(ROWS, "12", "-1"), row_of(ROWS, "12"), "12", "R3", "分值-1超出范围"),
        # more decimals than the programme allows
        (with_value(ROWS, "12", "12.555"), row_of(ROWS, "12"), "12", "R3", "最多2位小数"),
        # a count must be an integer
        (with_value(ROWS, "41", "3.5"), row_of(ROWS, "41"), "41", "§3", "计数3.5不是整数"),
        # a count must not be negative
        (with_value(ROWS, "40.nhc", "-2"), row_of(ROWS, "40.nhc"), "40.nhc", "§3", "计数-2为负数"),
        # licensed village doctors cannot outnumber village doctors (this year)
        (
            with_value(ROWS, "29.village_doctors_licensed", "121"),
            row_of(ROWS, "29.village_doctors_licensed"),
            "29.village_doctors_licensed",
            "§3",
            "大于29.village_doctors的数值120",
        ),
        # ... nor in the previous year
        (
            with_value(ROWS, "29.village_doctors_licensed.prev", "119"),
            row_of(ROWS, "29.village_doctors_licensed.prev"),
            "29.village_doctors_licensed.prev",
            "§3",
            "大于29.village_doctors.prev的数值118",
        ),
        # a row for another year
        (
            with_value(ROWS, "12", "2022", "year"),
            row_of(ROWS, "12"),
            "12",
            "§3",
            "年份“2022”与报送年度2023不符",
        ),
        # a malformed adcode
        (with_value(ROWS, "12", "65402", "adcode"), row_of(ROWS, "12"), "12", "§3", "代码“65402”格式不正确"),
        # a row of another county
        (
            with_value(ROWS, "12", "654002", "adcode"),
            row_of(ROWS, "12"),
            "12",
            "R11",
            "另一县的数据（代码654002）",
        ),
        # the county name does not fit the code
        (
            with_value(ROWS, "12", "伊宁市", "county"),
            row_of(ROWS, "12"),
            "county",
            "§3",
            "县名“伊宁市”与代码654025不符",
        ),
    ],
)
def test_each_error_is_reported_with_its_row_key_and_rule(rows, row, key, rule, says):
    error = only_error(rows)
    assert (error.row, error.key, error.rule) == (row, key, rule)
    assert says in error.message


def test_equal_licensed_and_village_doctors_are_allowed():
    rows = with_value(evaluation_rows(), "29.village_doctors_licensed", "120")
    assert check(rows).accepted


def test_a_missing_column_is_a_whole_file_error_naming_the_column():
    error = only_error(evaluation_rows(), columns=["year", "adcode", "county", "key", "evidence"])
    assert (error.row, error.key, error.rule) == (None, "value", "§3")
    assert "缺少列“value”" in error.message


def test_a_file_with_a_header_and_no_rows_is_rejected():
    error = only_error([])
    assert error.row is None
    assert "没有数据行" in error.message


def test_a_county_that_is_not_a_pilot_is_rejected():
    error = only_error(evaluation_rows(adcode="652901", county="阿克苏市"))
    assert (error.row, error.key, error.rule) == (2, "adcode", "R2")
    assert "阿克苏市（652901）不是本年度的试验区" in error.message


def test_the_pilots_in_force_decide_not_the_initial_list():
    zones = frozenset({"652901"})  # 阿克苏市 was promoted; 新源县 was disqualified
    assert check(evaluation_rows(adcode="652901", county="阿克苏市"), zones=zones).accepted
    assert only_error(evaluation_rows(), zones=zones).rule == "R2"


@pytest.mark.parametrize(
    "adcode",
    [
        "654000",  # a prefecture, not a county
        "110101",  # a county of another region
        "659999",  # no such code
    ],
)
def test_a_code_that_is_no_county_of_the_region_is_rejected(adcode):
    error = only_error(evaluation_rows(adcode=adcode))
    assert (error.row, error.key, error.rule) == (2, "adcode", "R1")


def test_the_first_rows_county_is_the_files_county_and_other_rows_are_errors():
    rows = evaluation_rows()
    rows[3:5] = [dict(r, adcode="654002", county="伊宁市") for r in rows[3:5]]
    result = check(rows)
    assert result.adcode == "654025"
    assert [(e.row, e.rule) for e in result.errors] == [(5, "R11"), (6, "R11")]


def test_a_wrong_county_name_throughout_is_one_error_counting_its_rows():
    rows = [dict(r, county="新源") for r in evaluation_rows()]  # 新源 is a fine short form
    assert check(rows).accepted
    rows = [dict(r, county="新疆县") for r in evaluation_rows()]
    error = only_error(rows)
    assert (error.row, error.key) == (2, "county")
    assert f"（共{len(rows)}行）" in error.message


def test_every_error_is_listed_at_once_in_row_order():
    rows = evaluation_rows()
    rows = with_value(rows, "1", "85")  # out of range, row 2
    rows = with_value(rows, "2", "abc")  # not a number, row 3
    rows = with_value(rows, "3", "99", "key")  # unknown key, row 4
    rows = with_value(rows, "4", "2021", "year")  # wrong year, row 5
    rows = with_value(rows, "41", "0.5")  # not an integer
    rows = with_value(rows, "29.village_doctors_licensed", "500")  # more licensed than doctors
    result = check(rows)
    found = [(e.row, e.key, e.rule) for e in result.errors]
    assert found == [
        (2, "1", "R3"),
        (3, "2", "§3"),
        (4, "99", "§3"),
        (5, "4", "§3"),
        (row_of(rows, "29.village_doctors_licensed"), "29.village_doctors_licensed", "§3"),
        (row_of(rows, "41"), "41", "§3"),
    ]


def test_one_row_can_break_several_rules_and_each_is_listed():
    rows = evaluation_rows()
    rows[0] = dict(rows[0], year="2022", value="99")  # wrong year and out of range on row 2
    assert [(e.row, e.rule) for e in check(rows).errors] == [(2, "R3"), (2, "§3")]


def test_row_numbers_count_blank_lines_as_in_the_file():
    text = csv_bytes(evaluation_rows()[:2], EVALUATION_COLUMNS).decode()
    header, first, second = text.splitlines()
    data = "\r\n".join([header, first, "", ",,,,,", second.replace(",2,", ",999,")]).encode()
    result = check_evaluation(data, "data.csv", year=2023, programme=PROG, register=REG, pilots=PILOTS)
    assert [(e.row, e.key) for e in result.errors] == [(5, "999")]


def test_an_error_reads_as_row_key_message_and_rule():
    error = only_error(with_value(evaluation_rows(), "12", "85"))
    assert (
        str(error)
        == f"第{row_of(ROWS, '12')}行 [12] 分值85超出范围：应在0到40之间。（依据指标分值的规定（0至该指标满分））"
    )


def test_a_whole_file_error_reads_without_a_row():
    assert str(RowError(None, None, "§3", "文件为空。")) == "全文件 文件为空。（依据报送文件的格式和填写要求）"


@pytest.mark.parametrize(
    ("data", "filename"),
    [
        (b"", "data.csv"),  # empty
        (b"  \r\n ", "data.csv"),  # blanks only
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "data.csv"),  # an image sent by mistake
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "data.xls"),  # legacy Excel
        (b"year,adcode\n2023,654025\n", "data.xlsx"),  # a CSV named .xlsx
        (b"PK\x03\x04 not really a zip", "data.xlsx"),  # a broken workbook
        (b"year,adcode\n2023,\xff\x80\n", "data.csv"),  # neither UTF-8 nor GB18030
        (b'year,adcode\n"2023,654025\n', "data.csv"),  # an unterminated quote
    ],
)
def test_an_unreadable_file_raises_a_chinese_message_not_a_traceback(data, filename):
    with pytest.raises(FileUnreadable) as caught:
        check_evaluation(data, filename, year=2023, programme=PROG, register=REG, pilots=PILOTS)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in str(caught.value))


def test_validation_writes_nothing_on_stderr(capfd):
    check(with_value(evaluation_rows(), "12", "85"))
    check(evaluation_rows(), columns=["year", "key"])
    assert capfd.readouterr().err == ""


def test_a_wrong_year_on_every_row_is_one_line_and_a_blank_value_says_it_is_empty():
    """Issue 11: `--year` one off gave one identical line per row; a blank cell read （空）不是数字."""
    error = only_error(ROWS, year=2024)
    assert error.row is None and f"年份“2023”与报送年度2024不符（第2行起共{len(ROWS)}行）" in error.message
    blank = only_error(with_value(ROWS, "12", ""))
    assert blank.key == "12" and blank.message.startswith("数值为空") and "（空）" not in blank.message
