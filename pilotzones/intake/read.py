"""Read a submitted CSV or XLSX file into a frame of strings, keeping each row's file row number.

Every read is bounded by the programme's limits (`Limits`): a file's bytes before it is read, an
XLSX workbook's inflated size before it is opened, and rows, cells and a cell's length while it is
read (a CSV record by record, an XLSX sheet row by row in openpyxl's read-only mode). A file over a
limit raises OverLimit at once, naming the limit.
"""

from __future__ import annotations

import csv
import io
import os
import stat
import unicodedata
import warnings
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import BinaryIO
from xml.etree.ElementTree import Element

import pandas as pd

from pilotzones.errors import ConfigError, PilotzonesError
from pilotzones.rules.programme import Limits

ROW = "_row"  # the file row number of each data row (header = 1)

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # legacy .xls (and other OLE compound files)
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_UTF32_BOMS = (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")  # checked first: FF FE also opens UTF-16LE
_ACCEPTED = "可接受的编码：UTF-8、带BOM的UTF-8、GB18030、带BOM的UTF-16；或报送XLSX文件。"
# Excel's sheet ends at row 1,048,576: blank rows up to there are skipped, a sheet claiming more is refused.
_XLSX_MAX_ROWS = 1_048_576


class FileUnreadable(PilotzonesError):
    """The file is not a readable CSV or XLSX table; the message is Chinese and names the cause."""


class OverLimit(FileUnreadable):
    """The file is over one of the programme's limits; the message names it (`limits.NAME`)."""


@dataclass(frozen=True)
class Received:
    """A submitted file as read from disk: its bytes, or only its size when over `limits.file_bytes`."""

    path: Path
    size: int
    data: bytes | None  # None: over the byte limit, never held in memory (the archive copies `path`)

    @property
    def name(self) -> str:
        return self.path.name


def receive(path: Path, limits: Limits) -> Received:
    """Read a submitted file, up to `limits.file_bytes`; refuse (ConfigError) what is not a regular file."""
    with open_regular(path) as f:
        size = os.fstat(f.fileno()).st_size
        if size > limits.file_bytes:
            return Received(path, size, None)
        try:
            data = f.read(limits.file_bytes + 1)  # a file growing meanwhile is read no further
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read the file ({exc.strerror or exc})") from exc
    if len(data) > limits.file_bytes:
        return Received(path, max(size, len(data)), None)
    return Received(path, len(data), data)


def open_regular(path: Path) -> BinaryIO:
    """Open a submitted file for reading; refuse (ConfigError) what is not a regular file.

    A named pipe would block the read forever and a device never end: the path is looked at before
    it is opened (without blocking), then the opened file itself (the path may have been swapped).
    """
    try:
        _regular(path, os.stat(path).st_mode)
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the file ({exc.strerror or exc})") from exc
    f = os.fdopen(fd, "rb")
    try:
        _regular(path, os.fstat(fd).st_mode)
    except BaseException:
        f.close()
        raise
    return f


_NOT_REGULAR = {
    stat.S_IFIFO: "a named pipe (FIFO)",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
    stat.S_IFDIR: "a directory",
}


def _regular(path: Path, mode: int) -> None:
    if not stat.S_ISREG(mode):
        what = _NOT_REGULAR.get(stat.S_IFMT(mode), "not a regular file")
        raise ConfigError(f"{path}: {what}, not a regular file; submit a saved CSV or XLSX file")


def too_big(size: int, limits: Limits) -> str:
    """The one error of a file over `limits.file_bytes` (it is not read at all)."""
    return (
        f"文件大小{_size(size)}，超过上限{_size(limits.file_bytes)}（方案限额 limits.file_bytes），"
        "整份文件未读取、不予受理。请删去多余内容后重新报送。"
    )


def _size(n: int) -> str:
    for unit, scale in (("GB", 2**30), ("MB", 2**20), ("KB", 2**10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n}字节"


def read_table(data: bytes, filename: str, limits: Limits | None = None) -> pd.DataFrame:
    """Read `data` as a table of stripped strings with a `_row` column; raise FileUnreadable."""
    return table_frame(read_columns(data, filename, limits))


def read_columns(data: bytes, filename: str, limits: Limits | None = None) -> dict[str, list]:
    """What `read_table` reads, as plain lists per column (`_row`: the file row numbers, last).

    For a batch of files: building thousands of small frames costs more than reading the files, so
    a batch reads lists and builds one frame for all of them (`table_frame` builds one file's).
    `limits` default to the built-in ones.
    """
    limits = limits or Limits()
    if len(data) > limits.file_bytes:
        raise OverLimit(too_big(len(data), limits))
    if not data or not data.strip():
        raise FileUnreadable("文件为空，没有任何内容。")
    suffix = PurePath(filename).suffix.lower()
    if data.startswith(_OLE_MAGIC) or suffix == ".xls":
        raise FileUnreadable("不支持旧版Excel（.xls）文件，请另存为.xlsx或CSV（UTF-8）后重新报送。")
    if data.startswith(_ZIP_MAGIC) or suffix == ".xlsx":
        records = _xlsx_records(data, limits)
    else:
        records = _csv_records(_decode(data), limits)
    return _columns(records)


def _decode(data: bytes) -> str:
    if data.startswith(_UTF32_BOMS):
        raise FileUnreadable(f"文件编码为UTF-32，不受支持。{_ACCEPTED}")
    if data.startswith(_UTF16_BOMS):
        # Excel's "Unicode text" export: UTF-16 with a byte-order mark.
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise FileUnreadable(f"文件以UTF-16的BOM开头，但内容不是有效的UTF-16。{_ACCEPTED}") from exc
    if b"\x00" in data:
        found = _wide_encoding(data)
        if found:
            raise FileUnreadable(f"文件编码为{found}（无BOM），不受支持。{_ACCEPTED}")
        raise FileUnreadable("文件不是CSV或XLSX表格（含有二进制内容），请按模板报送CSV或XLSX文件。")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise FileUnreadable(f"文件编码无法识别。{_ACCEPTED}")


def _wide_encoding(data: bytes) -> str | None:
    """UTF-32 or UTF-16 without a byte-order mark, told by where the zero bytes fall; else None.

    In UTF-32 the two high bytes of every character of the Basic Multilingual Plane are zero; in
    UTF-16 every ASCII character (digits, commas, line breaks: most of a CSV) has a zero high byte.
    """
    sample = data[: 1 << 16]
    quads = sample[: len(sample) - len(sample) % 4]
    if quads and not any(quads[2::4]) and not any(quads[3::4]):
        return "UTF-32LE"
    if quads and not any(quads[0::4]) and not any(quads[1::4]):
        return "UTF-32BE"
    pairs = sample[: len(sample) - len(sample) % 2]
    for name, zeros, other in (("UTF-16LE", pairs[1::2], pairs[0::2]), ("UTF-16BE", pairs[0::2], pairs[1::2])):
        if zeros.count(0) * 4 >= len(zeros) and other.count(0) == 0:
            try:
                data.decode(name.lower())
            except UnicodeDecodeError:
                continue
            return name
    return None


def _within(limits: Limits, rows: int, cells: int, record: Sequence[str]) -> None:
    """Raise OverLimit as soon as the file read so far is over a limit (`rows`: rows with content;
    `cells`: every cell, blank or not, so that a CSV of commas is bounded too)."""
    if rows > limits.rows:
        raise OverLimit(
            f"文件超过{limits.rows}行的上限（方案限额 limits.rows），已停止读取，整份文件不予受理。"
            "请只报送本单位的数据行。"
        )
    if cells > limits.cells:
        raise OverLimit(_too_many_cells(limits))
    longest = max(map(len, record), default=0)
    if longest > limits.cell_chars:
        raise OverLimit(_long_cell(limits, f"有{longest}个字符"))


def _too_many_cells(limits: Limits, what: str = "单元格") -> str:
    return (
        f"文件超过{limits.cells}个{what}的上限（方案限额 limits.cells），已停止读取，整份文件不予受理。"
        "请删去多余的列和行后重新报送。"
    )


def _long_cell(limits: Limits, what: str) -> str:
    return (
        f"文件中有单元格{what}，超过每格{limits.cell_chars}个字符的上限（方案限额 limits.cell_chars），"
        "整份文件不予受理。请精简该单元格后重新报送。"
    )


def _bounded(records: Iterable[tuple[int, list[str]]], limits: Limits) -> list[tuple[int, list[str]]]:
    """A file's records with their row numbers, read one at a time and checked against the limits
    as they come; records without content are left out (their cells count all the same)."""
    out: list[tuple[int, list[str]]] = []
    rows = cells = 0
    for number, record in records:
        cells += len(record)
        if any(record):
            rows += 1
            out.append((number, record))
        _within(limits, rows, cells, record)
    return out


def _csv_records(text: str, limits: Limits) -> list[tuple[int, list[str]]]:
    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    # A tab-separated export (Excel "text" or "Unicode text") has tabs and no commas in its header.
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
        return _bounded(enumerate(reader, start=1), limits)
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):  # the csv module's own bound, 131,072 characters
            raise OverLimit(_long_cell(limits, f"超过{csv.field_size_limit()}个字符")) from exc
        raise FileUnreadable(f"CSV格式错误，无法读取：{exc}。请检查引号是否成对。") from exc


def _xlsx_records(data: bytes, limits: Limits) -> list[tuple[int, list[str]]]:
    """The first sheet's rows as text, numbered as Excel numbers them.

    The zip's declared sizes bound what can be inflated from it (zipfile stops a member there), so
    they are added up before openpyxl opens the workbook: a small file whose shared strings or
    sheet would inflate to gigabytes is refused unopened.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            inflated = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        raise FileUnreadable("文件不是有效的XLSX工作簿，无法读取，请另存为.xlsx或CSV后重新报送。") from exc
    if inflated > limits.xlsx_inflated_bytes:
        raise OverLimit(
            f"XLSX工作簿解压后为{_size(inflated)}，超过上限{_size(limits.xlsx_inflated_bytes)}"
            "（方案限额 limits.xlsx_inflated_bytes），未打开、不予受理。请另存为只含数据的新工作簿或CSV后重新报送。"
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns in words taken from the file
            return _bounded(_first_sheet(data, limits), limits)
    except FileUnreadable:
        raise
    except Exception as exc:  # openpyxl raises many kinds of errors on damaged workbooks
        raise FileUnreadable("XLSX文件已损坏或格式不受支持，请另存为.xlsx或CSV后重新报送。") from exc


def _first_sheet(data: bytes, limits: Limits) -> Iterator[tuple[int, list[str]]]:
    """The first worksheet's rows with their row numbers (a row the sheet leaves out is blank).

    openpyxl's own read-only worksheet scans the whole sheet for its size when it is opened (seconds
    per ten megabytes of XML), and its parser builds a whole row before it hands it over (a row of
    a million cells, first). So the sheet is walked here an element at a time, each cell read by
    openpyxl's parser and let go: memory holds one cell, and the cells limit stops a wide row midway.
    """
    from openpyxl.reader.excel import ExcelReader
    from openpyxl.styles.stylesheet import apply_stylesheet
    from openpyxl.worksheet._reader import CELL_TAG, ROW_TAG, WorkSheetParser

    reader = ExcelReader(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
    try:
        reader.read_manifest()
        strings = _shared_strings(reader, limits)
        reader.read_workbook()
        apply_stylesheet(reader.archive, reader.wb)
        sheets = (rel.target for _, rel in reader.parser.find_sheets() if rel.Type.endswith("/worksheet"))
        target = next((t for t in sheets if t in reader.valid_files), None)
        if target is None:
            raise FileUnreadable("XLSX工作簿中没有工作表，请另存为.xlsx或CSV后重新报送。")
        wb = reader.wb
        with reader.archive.open(target) as source:
            parser = WorkSheetParser(
                source,
                strings,
                data_only=True,
                epoch=wb.epoch,
                date_formats=wb._date_formats,
                timedelta_formats=wb._timedelta_formats,
            )
            last, cells, row = 0, 0, [""]
            for end, element in _walk(source, CELL_TAG):
                if not end:  # a row starts: number it as openpyxl does
                    parser.parse_row(_bare(element))
                    parser.row_dimensions.clear()  # row heights and styles: kept for every row otherwise
                    number = parser.row_counter
                    if number <= last:
                        raise FileUnreadable("XLSX工作表的行号顺序错乱，请另存为.xlsx或CSV后重新报送。")
                    if number > _XLSX_MAX_ROWS:
                        raise OverLimit(f"工作表超过Excel的{_XLSX_MAX_ROWS}行上限，无法读取，整份文件不予受理。")
                    row = []
                elif element.tag == CELL_TAG:
                    cell = parser.parse_cell(element)
                    column = cell["column"]
                    if column > len(row):
                        row.extend([""] * (column - len(row)))
                    row[column - 1] = _cell_text(cell["value"])
                    cells += 1
                    if cells > limits.cells:
                        raise OverLimit(_too_many_cells(limits))
                elif element.tag == ROW_TAG:
                    yield number, _trimmed(row)
                    last = number
    finally:
        reader.archive.close()


def _walk(source: BinaryIO, cell_tag: str) -> Iterator[tuple[bool, Element]]:
    """(False, row) when a row starts, (True, element) when an element ends; what ended is
    then let go, except inside a cell (the cell's parser reads it), so memory holds one cell.

    A cell of more than a thousand elements (rich-text runs) is refused as damaged.
    """
    from xml.etree.ElementTree import iterparse

    from openpyxl.worksheet._reader import ROW_TAG

    stack: list[Element] = []
    cell_depth, inside = 0, 0
    for event, element in iterparse(source, events=("start", "end")):
        if event == "start":
            stack.append(element)
            if len(stack) > 100:  # a sheet nests a dozen deep; expat alone would go on
                raise FileUnreadable("XLSX文件结构异常（嵌套过深），请另存为.xlsx或CSV后重新报送。")
            if cell_depth:
                inside += 1
                if inside > 1000:
                    raise FileUnreadable("XLSX单元格结构异常（嵌套元素过多），请另存为.xlsx或CSV后重新报送。")
            elif element.tag == cell_tag:
                cell_depth, inside = len(stack), 0
            elif element.tag == ROW_TAG:
                yield False, element
            continue
        stack.pop()
        if cell_depth and len(stack) >= cell_depth:
            continue  # inside the cell: kept for its parser
        yield True, element
        cell_depth = 0
        element.clear()
        if stack and len(stack[-1]) and stack[-1][-1] is element:
            del stack[-1][-1]


def _bare(row: Element) -> Element:
    """A row element's attributes alone: openpyxl's `parse_row` reads its cells too, none yet here."""
    return Element(row.tag, row.attrib)


def _shared_strings(reader: object, limits: Limits) -> list[str]:
    """The workbook's shared strings, as openpyxl reads them, no more of them than `limits.cells`:
    a sheet cannot show more distinct strings than it has cells."""
    from openpyxl.reader.excel import SHARED_STRINGS
    from openpyxl.xml.constants import SHEET_MAIN_NS

    part = reader.package.find(SHARED_STRINGS)  # type: ignore[attr-defined]
    if part is None:
        return []
    si, t, r = (f"{{{SHEET_MAIN_NS}}}{tag}" for tag in ("si", "t", "r"))
    strings: list[str] = []
    with reader.archive.open(part.PartName[1:]) as source:  # type: ignore[attr-defined]
        for _, element in _walk(source, si):
            if element.tag != si:
                continue
            # openpyxl's Text.content: the plain text, then each rich-text run's (phonetic runs left out).
            parts = [element.findtext(t)] + [run.findtext(t) for run in element.iterfind(r)]
            strings.append("".join(p for p in parts if p).replace("x005F_", ""))
            if len(strings) > limits.cells:
                raise OverLimit(_too_many_cells(limits, "共享字符串"))
    return strings


def _trimmed(record: list[str]) -> list[str]:
    while record and record[-1] == "":
        record.pop()
    return record


def _cell_text(value: object) -> str:
    """A cell as text, as pandas' `read_excel(dtype=str)` gave it: a whole number without ".0"."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _columns(records: Iterable[tuple[int, Sequence[str]]]) -> dict[str, list]:
    rows = [(n, [c.strip() for c in r]) for n, r in records]
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
        # The prefecture level as each province's programmes call it (a programme's prefecture_name).
        *(
            (word, "prefecture")
            for word in ("地（州、市）", "地州市", "市（州）", "州（市）", "市州", "地市", "盟市", "地级市")
        ),
        ("联系邮箱", "contact_email"),
        ("推荐理由", "reason"),
        ("评审得分", "review_score"),
        # A rectification report (整改报告): per item, what was found and what was done.
        ("发现问题", "found"),
        ("存在问题", "found"),
        ("整改措施", "done"),
        ("整改情况", "done"),
        # A visit sheet (专家调研登记表).
        ("调研日期", "visit_date"),
        ("调研人员", "who"),
        ("后续事项", "follow_up"),
        ("整改事项", "case"),
        # An objection (异议材料): the value the zone claims and why; 佐证材料 as above.
        ("报送值", "value"),
        ("主张值", "value"),
        ("异议理由", "claim"),
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
