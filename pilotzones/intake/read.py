"""Read a submitted CSV or XLSX file into a frame of strings, keeping each row's file row number."""

from __future__ import annotations

import csv
import io
import unicodedata
import zipfile
from collections.abc import Sequence
from pathlib import PurePath

import pandas as pd

from pilotzones.errors import PilotzonesError

ROW = "_row"  # the file row number of each data row (header = 1)

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # legacy .xls (and other OLE compound files)
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


class FileUnreadable(PilotzonesError):
    """The file is not a readable CSV or XLSX table; the message is Chinese and names the cause."""


def read_table(data: bytes, filename: str) -> pd.DataFrame:
    """Read `data` as a table of stripped strings with a `_row` column; raise FileUnreadable."""
    return table_frame(read_columns(data, filename))


def read_columns(data: bytes, filename: str) -> dict[str, list]:
    """What `read_table` reads, as plain lists per column (`_row`: the file row numbers, last).

    For a batch of files: building thousands of small frames costs more than reading the files, so
    a batch reads lists and builds one frame for all of them (`table_frame` builds one file's).
    """
    if not data or not data.strip():
        raise FileUnreadable("文件为空，没有任何内容。")
    suffix = PurePath(filename).suffix.lower()
    if data.startswith(_OLE_MAGIC) or suffix == ".xls":
        raise FileUnreadable("不支持旧版Excel（.xls）文件，请另存为.xlsx或CSV（UTF-8）后重新报送。")
    if data.startswith(_ZIP_MAGIC) or suffix == ".xlsx":
        records = _xlsx_records(data)
    else:
        records = _csv_records(_decode(data))
    return _columns(records)


def _decode(data: bytes) -> str:
    if data.startswith(_UTF16_BOMS):
        # Excel's "Unicode text" export: UTF-16 with a byte-order mark.
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise FileUnreadable("文件编码无法识别，请使用UTF-8或GB18030编码的CSV，或XLSX文件。") from exc
    if b"\x00" in data:
        raise FileUnreadable("文件不是CSV或XLSX表格（含有二进制内容），请按模板报送CSV或XLSX文件。")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise FileUnreadable("文件编码无法识别，请使用UTF-8、带BOM的UTF-8或GB18030编码的CSV，或XLSX文件。")


def _csv_records(text: str) -> list[list[str]]:
    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    # A tab-separated export (Excel "text" or "Unicode text") has tabs and no commas in its header.
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    try:
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True))
    except csv.Error as exc:
        raise FileUnreadable(f"CSV格式错误，无法读取：{exc}。请检查引号是否成对。") from exc


def _xlsx_records(data: bytes) -> list[list[str]]:
    try:
        sheet = pd.read_excel(
            io.BytesIO(data), sheet_name=0, header=None, dtype=str, keep_default_na=False, engine="openpyxl"
        )
    except zipfile.BadZipFile as exc:
        raise FileUnreadable("文件不是有效的XLSX工作簿，无法读取，请另存为.xlsx或CSV后重新报送。") from exc
    except Exception as exc:  # openpyxl raises many kinds of errors on damaged workbooks
        raise FileUnreadable("XLSX文件已损坏或格式不受支持，请另存为.xlsx或CSV后重新报送。") from exc
    # header=None keeps leading blank rows, so position i is Excel row i + 1.
    return [["" if v is None else str(v) for v in row] for row in sheet.itertuples(index=False, name=None)]


def _columns(records: Sequence[Sequence[str]]) -> dict[str, list]:
    rows = [(n, [c.strip() for c in r]) for n, r in enumerate(records, start=1)]
    rows = [(n, cells) for n, cells in rows if any(cells)]
    if not rows:
        raise FileUnreadable("文件中没有表头和数据。")
    start = _header_index(rows)
    (_, header), body = rows[start], rows[start + 1 :]
    names = [_column_name(h) for h in header]
    keep = [i for i, name in enumerate(names) if name]  # a blank header cell names no column
    kept = [names[i] for i in keep]
    dup = sorted({n for n in kept if kept.count(n) > 1})
    if dup:
        raise FileUnreadable(f"表头中列名重复：{'、'.join(dup)}。")
    # Short rows are padded with blanks, then the rows are turned into columns in one transpose.
    width = max(keep, default=-1) + 1
    padded = [cells if len(cells) >= width else cells + [""] * (width - len(cells)) for _, cells in body]
    by_position = list(zip(*padded, strict=False)) if padded else [()] * width
    columns: dict[str, list] = {name: list(by_position[i]) for i, name in zip(keep, kept, strict=True)}
    columns[ROW] = [number for number, _ in body]
    return columns


def table_frame(columns: dict[str, list]) -> pd.DataFrame:
    """The frame of columns read by `read_columns`: strings, and `_row` as integers."""
    frame = pd.DataFrame({k: pd.Series(v, dtype=str) for k, v in columns.items() if k != ROW})
    frame[ROW] = pd.Series(columns[ROW], dtype="int64")
    return frame


def _column_name(value: str) -> str:
    # Header names are matched case-insensitively: "Year" and "ＹＥＡＲ" both mean year. A stray
    # byte-order mark (files joined together) is not part of a name.
    name = unicodedata.normalize("NFKC", value.replace("\ufeff", "")).strip().lower()
    return ALIASES.get(name, name)


# The Chinese headers a clerk writes (and the county template prints) for the contract's columns,
# compared after NFKC, so full-width and half-width brackets and slashes are one header.
ALIASES = {
    unicodedata.normalize("NFKC", cn).lower(): name
    for cn, name in (
        ("年度", "year"),
        ("行政区划代码", "adcode"),
        ("县（市、区）", "county"),
        ("县(市、区)", "county"),
        ("县市区", "county"),
        ("指标", "key"),
        ("指标代码", "key"),
        ("得分/分值", "value"),
        ("得分", "value"),
        ("分值", "value"),
        ("佐证材料", "evidence"),
        ("地（州、市）", "prefecture"),
        ("联系邮箱", "contact_email"),
        ("推荐理由", "reason"),
        ("评审得分", "review_score"),
    )
}
KNOWN_COLUMNS = frozenset(ALIASES.values())
# A title block above the header ("2024年度监测评价数据报送表", a blank line, a note) is skipped:
# the header is the first of these rows that names two of the contract's columns.
_HEADER_SEARCH_ROWS = 10


def _header_index(rows: Sequence[tuple[int, list[str]]]) -> int:
    """Index in `rows` of the header: the first row naming two known columns, else the first row."""
    for i, (_, cells) in enumerate(rows[:_HEADER_SEARCH_ROWS]):
        if len({_column_name(c) for c in cells} & KNOWN_COLUMNS) >= 2:
            return i
    return 0
