"""§3 inputs: CSV in UTF-8, UTF-8 with BOM or GB18030, or XLSX (first sheet), read as strings."""

from __future__ import annotations

import pytest

from pilotzones.intake.read import ROW, FileUnreadable, read_table
from tests.unit.test_intake_helpers import ENCODINGS, csv_bytes, xlsx_bytes

COLUMNS = ["year", "adcode", "county", "key", "value"]
ROWS = [
    {"year": "2023", "adcode": "654025", "county": "新源县", "key": "1", "value": "80.0"},
    {"year": "2023", "adcode": "000123", "county": "巴里坤县", "key": "2", "value": "07"},
]


@pytest.mark.parametrize("encoding", ENCODINGS)  # each CSV encoding of the contract
def test_csv_cells_are_kept_as_typed_strings(encoding):
    frame = read_table(csv_bytes(ROWS, COLUMNS, encoding), "data.csv")
    assert list(frame.columns) == [*COLUMNS, ROW]
    assert frame["value"].tolist() == ["80.0", "07"]  # no float conversion
    assert frame["adcode"].tolist() == ["654025", "000123"]  # leading zeros survive
    assert frame["county"].tolist() == ["新源县", "巴里坤县"]
    assert frame[ROW].tolist() == [2, 3]


def test_xlsx_is_read_from_the_first_sheet_with_numbers_as_text():
    frame = read_table(xlsx_bytes(ROWS, COLUMNS, numeric=False), "data.xlsx")
    assert frame["value"].tolist() == ["80.0", "07"]
    assert frame["county"].tolist() == ["新源县", "巴里坤县"]
    assert frame[ROW].tolist() == [2, 3]


def test_xlsx_numeric_cells_read_without_a_spurious_fraction():
    frame = read_table(xlsx_bytes(ROWS, COLUMNS, numeric=True), "data.xlsx")
    assert frame["year"].tolist() == ["2023", "2023"]
    assert frame["adcode"].tolist() == ["654025", "123"]  # a number cell cannot keep leading zeros


def test_header_names_are_stripped_folded_and_lower_cased():
    data = " Year ,ＡＤＣＯＤＥ,\ufeffkey\n2023,654025,1\n".encode()
    assert list(read_table(data, "data.csv").columns) == ["year", "adcode", "key", ROW]


def test_cells_are_stripped_and_blank_rows_dropped_keeping_row_numbers():
    data = "year,key,value\n\n 2023 , 1 ,\u3000５\u3000\n,,\n2023,2,3\n".encode()
    frame = read_table(data, "data.csv")
    assert frame.to_dict("records") == [
        {"year": "2023", "key": "1", "value": "５", ROW: 3},
        {"year": "2023", "key": "2", "value": "3", ROW: 5},
    ]


def test_short_rows_are_padded_and_unnamed_columns_dropped():
    frame = read_table(b"year,key,\n2023\n2024,1,x,y\n", "data.csv")
    assert frame.drop(columns=ROW).to_dict("records") == [
        {"year": "2023", "key": ""},
        {"year": "2024", "key": "1"},
    ]


def test_tab_separated_and_utf16_exports_are_read():
    data = "year\tkey\r\n2023\t１\r\n".encode("utf-16")
    frame = read_table(data, "data.txt")
    assert frame.drop(columns=ROW).to_dict("records") == [{"year": "2023", "key": "１"}]


def test_a_quoted_cell_may_hold_commas_and_line_breaks():
    data = 'year,evidence,key\n2023,"文件一,\n文件二",1\n2023,,2\n'.encode()
    frame = read_table(data, "data.csv")
    assert frame["evidence"].tolist() == ["文件一,\n文件二", ""]
    assert frame[ROW].tolist() == [2, 3]  # rows are records, as a spreadsheet shows them


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"", "为空"),  # nothing at all
        (b"year,year\n2023,2023\n", "列名重复"),  # a column given twice
        (b" , \n\r\n,,\n", "没有表头"),  # blank cells only
        (b"\x00\x01\x02binary", "二进制"),  # not a text file
    ],
)
def test_unreadable_input_says_why_in_chinese(data, says):
    with pytest.raises(FileUnreadable, match=says):
        read_table(data, "data.csv")


def test_a_nomination_header_may_name_the_prefecture_level_as_another_province_does():
    from pilotzones.intake.read import read_columns

    text = "年度,市（州）,行政区划代码,县（市、区）,联系邮箱,推荐理由\n2025,成都市,510107,武侯区,a@b.cn,好\n"
    columns = read_columns(text.encode("utf-8"), "n.csv")
    assert columns["prefecture"] == ["成都市"] and columns["adcode"] == ["510107"]
