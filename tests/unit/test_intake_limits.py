"""Issue 12: every read is bounded by the programme's limits, checked before and while a file is read."""

from __future__ import annotations

import os
import resource
import stat
from pathlib import Path

import pytest

from benchmarks import hostile_input as h
from pilotzones.errors import ConfigError
from pilotzones.intake import RowError, capped, error_count
from pilotzones.intake.read import ROW, FileUnreadable, OverLimit, read_columns, receive
from pilotzones.rules.programme import Limits, load

HEADER = "year,adcode,county,key,value\r\n"
ROW_TEXT = "2023,654025,新源县,1,5\r\n"


def csv(rows: int, row: str = ROW_TEXT) -> bytes:
    return (HEADER + row * rows).encode()


def _xlsx(tmp_path, sheet_body: bytes, name: str = "t.xlsx", shared=None) -> bytes:
    head, tail = h._sheet_parts()
    return h._workbook(tmp_path / name, head + sheet_body + tail, shared=shared).read_bytes()


def _stream_xlsx(tmp_path, head: bytes, unit: bytes, count: int, tail: bytes = b"") -> bytes:
    sheet_head, sheet_tail = h._sheet_parts()
    return h._workbook(
        tmp_path / "s.xlsx", None, sheet_stream=(sheet_head + head, unit, count, tail + sheet_tail)
    ).read_bytes()


def test_the_builtin_programme_has_the_documented_limits():
    assert load().limits == Limits(
        file_bytes=10 * 2**20,
        rows=10_000,
        cells=200_000,
        xlsx_inflated_bytes=20 * 2**20,
        cell_chars=2_000,
        listed_errors=200,
    )


@pytest.mark.parametrize(
    ("data", "limits", "named"),
    [
        (csv(9), Limits(rows=10), None),  # the header and nine rows: ten, at the limit
        (csv(10), Limits(rows=10), "limits.rows"),  # one more
        (csv(10_000), Limits(rows=10), "limits.rows"),  # stopped at the eleventh, not read to the end
        (("a," * 100 + "\n").encode(), Limits(cells=100), "limits.cells"),  # one row of 101 cells
        ((",,,,\n" * 100).encode(), Limits(cells=400), "limits.cells"),  # blank cells count too
        (csv(1, "2023,654025,新源县,1," + "x" * 2_001 + "\n"), Limits(), "limits.cell_chars"),
        (csv(1, '2023,654025,"' + "x" * 200_000 + '",1,5\n'), Limits(), "limits.cell_chars"),  # past csv's own bound
        (csv(100), Limits(file_bytes=100), "limits.file_bytes"),
    ],
)
def test_a_csv_over_a_limit_is_refused_naming_it(data, limits, named):
    if named is None:
        assert len(read_columns(data, "a.csv", limits)[ROW]) == 9
        return
    with pytest.raises(OverLimit, match=named.replace(".", r"\.")):
        read_columns(data, "a.csv", limits)


@pytest.mark.parametrize("name", ["bomb", "sheet_bomb"])
def test_an_xlsx_bomb_is_refused_before_it_is_opened(hostile_files, name):
    path = hostile_files(name)
    assert path.stat().st_size < 5 * 2**20  # a few megabytes that inflate to gigabytes
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(OverLimit, match=r"limits\.xlsx_inflated_bytes") as refused:
        read_columns(path.read_bytes(), path.name, Limits(file_bytes=10 * 2**20))
    assert "GB" in str(refused.value)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 100 * 2**10  # KB: nothing inflated


def test_an_xlsx_within_its_inflated_size_is_read_row_by_row_to_the_row_limit(tmp_path):
    row = b'<row><c t="inlineStr"><is><t>2023</t></is></c><c><v>654025</v></c></row>'
    data = _stream_xlsx(tmp_path, b'<row><c t="inlineStr"><is><t>year</t></is></c></row>', row, 200_000)
    with pytest.raises(OverLimit, match=r"limits\.rows"):
        read_columns(data, "a.xlsx", Limits(rows=1_000))


def test_a_row_of_a_million_cells_is_stopped_at_the_cells_limit_not_built_first(tmp_path):
    data = _stream_xlsx(tmp_path, b'<row r="1">', b"<c><v>1</v></c>", 1_000_000, b"</row>")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(OverLimit, match=r"limits\.cells"):
        read_columns(data, "a.xlsx", Limits())
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200 * 2**10  # KB


def test_more_shared_strings_than_cells_are_refused(tmp_path):
    head = b'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    data = _xlsx(
        tmp_path,
        b'<row r="1"><c t="s"><v>0</v></c></row>',
        shared=(head, b"<si><t>a</t></si>", 1_001, b"</sst>"),
    )
    with pytest.raises(OverLimit, match=r"limits\.cells"):
        read_columns(data, "a.xlsx", Limits(cells=1_000))


def test_rows_a_sheet_leaves_out_cost_nothing_and_a_row_past_excels_last_is_refused(tmp_path):
    cell = b'<c t="inlineStr"><is><t>year</t></is></c>'
    last = _xlsx(
        tmp_path, b'<row r="1">' + cell + b'</row><row r="1048576"><c t="inlineStr"><is><t>2023</t></is></c></row>'
    )
    assert read_columns(last, "a.xlsx")[ROW] == [1_048_576]
    beyond = _xlsx(tmp_path, b'<row r="1">' + cell + b'</row><row r="999999999"><c><v>1</v></c></row>', "b.xlsx")
    with pytest.raises(OverLimit, match="1048576"):
        read_columns(beyond, "b.xlsx")


def test_a_sheet_nested_without_end_is_refused_as_damaged(tmp_path):
    data = _xlsx(tmp_path, b"<row>" + b"<x>" * 200 + b"</x>" * 200 + b"</row>")
    with pytest.raises(FileUnreadable, match="嵌套过深"):
        read_columns(data, "a.xlsx")


@pytest.mark.parametrize(
    ("encoding", "bom", "found"),
    [
        ("utf-32-le", b"\xff\xfe\x00\x00", "UTF-32"),
        ("utf-32-be", b"\x00\x00\xfe\xff", "UTF-32"),
        ("utf-32-le", b"", "UTF-32LE（无BOM）"),
        ("utf-32-be", b"", "UTF-32BE（无BOM）"),
        ("utf-16-le", b"", "UTF-16LE（无BOM）"),
        ("utf-16-be", b"", "UTF-16BE（无BOM）"),
    ],
)
def test_an_encoding_not_accepted_is_named_with_those_that_are(encoding, bom, found):
    data = bom + (HEADER + ROW_TEXT).encode(encoding)
    with pytest.raises(FileUnreadable) as refused:
        read_columns(data, "a.csv")
    assert f"文件编码为{found}" in str(refused.value)
    assert "UTF-8、带BOM的UTF-8、GB18030、带BOM的UTF-16" in str(refused.value)


def test_errors_are_capped_with_a_count_of_the_rest():
    errors = [RowError(n, "1", "R3", "分值超出范围") for n in range(2, 1_002)]
    listed = capped(errors, 200)
    assert len(listed) == 201 and listed[:200] == errors[:200]
    last = listed[-1]
    assert last.row is None and last.omitted == 800 and "共有1000处错误" in last.message and "800" in last.message
    assert error_count(listed) == 1_000 == error_count([e.as_json() for e in listed])
    assert capped(errors[:200], 200) == errors[:200]  # at the cap: nothing added


def test_a_pipe_a_device_and_a_folder_are_refused_before_they_are_read(tmp_path):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)  # no writer: opening it for reading the usual way would wait forever
    with pytest.raises(ConfigError, match="是命名管道（FIFO），不是普通文件：请报送保存好的 CSV 或 XLSX 文件"):
        receive(fifo, Limits())
    with pytest.raises(ConfigError, match="是字符设备"):
        receive(Path("/dev/zero"), Limits())
    with pytest.raises(ConfigError, match="是目录"):
        receive(tmp_path, Limits())
    with pytest.raises(ConfigError, match="无法读取文件（文件或目录不存在）"):
        receive(tmp_path / "nope.csv", Limits())
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def test_a_file_over_the_byte_limit_is_not_held_in_memory(tmp_path):
    path = tmp_path / "big.csv"
    path.write_bytes(csv(1_000))
    big = receive(path, Limits(file_bytes=1_000))
    assert big.data is None and big.size == path.stat().st_size
    small = receive(path, Limits())
    assert small.data == path.read_bytes()
