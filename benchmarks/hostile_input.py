"""How fast, and in how much memory, `pilotzones submit` rejects hostile files (issue 12).

    python benchmarks/hostile_input.py [--runs 3] [--keep DIR]

Builds, in a temporary folder, the files of issue 12 (never kept in git): a 1,000,000-row CSV
(41 MB), a 2 MB XLSX whose one shared string inflates to 2 GiB, a sheet bomb (a few MB that
inflate to 1 GiB of rows) and a 1,000,000-row XLSX; then submits each to a fresh home with the
real command line, a new process each run, and prints its exit code, wall seconds and peak memory
(the child's maximum resident set), with what stayed of it: stderr, the stored error list.
The last lines submit the million-row files and the sheet bomb again with `limits.file_bytes` and
`limits.xlsx_inflated_bytes` raised out of the way, so that the row limit stops each while it is
read (the CSV record by record, the sheet an element at a time) rather than before.

The builders are also the test suite's (tests/integration/test_hostile_input.py): each writes one
file into a given folder and returns its path, in a second or less.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
import zlib
from pathlib import Path

YEAR = 2023
ZONE, COUNTY = "654025", "新源县"
MiB, GiB = 2**20, 2**30


# -- the files -----------------------------------------------------------------------------------


def million_row_csv(folder: Path, rows: int = 1_000_000, name: str = "million.csv") -> Path:
    """An evaluation CSV of `rows` data rows, each valid alone (a 1,000,000-row file is 41 MB)."""
    path = folder / name
    line = f"{YEAR},{ZONE},{COUNTY},1,5,见佐证材料\r\n".encode()
    block = line * 10_000
    with path.open("wb") as f:
        f.write(b"year,adcode,county,key,value,evidence\r\n")
        for _ in range(rows // 10_000):
            f.write(block)
        f.write(line * (rows % 10_000))
    return path


def shared_string_bomb(folder: Path, inflated: int = 2 * GiB, name: str = "bomb.xlsx") -> Path:
    """A valid XLSX of about 2 MB whose one shared string (cell A2) inflates to `inflated` bytes."""
    head = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    head += b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">'
    head += b"<si><t>"
    tail = b"</t></si></sst>"
    sheet = _sheet([["year", "adcode", "county", "key", "value"]], shared_cell="A2")
    return _workbook(folder / name, sheet, shared=(head, b"A", inflated - len(head) - len(tail), tail))


def sheet_bomb(folder: Path, inflated: int = GiB, name: str = "sheet-bomb.xlsx") -> Path:
    """A valid XLSX of a few MB whose first sheet inflates to `inflated` bytes of identical rows."""
    row = f'<row><c t="inlineStr"><is><t>{YEAR}</t></is></c><c><v>{ZONE}</v></c></row>'.encode()
    head, tail = _sheet_parts()
    head += b'<row><c t="inlineStr"><is><t>year</t></is></c><c t="inlineStr"><is><t>adcode</t></is></c></row>'
    count = (inflated - len(head) - len(tail)) // len(row)
    return _workbook(folder / name, None, sheet_stream=(head, row, count, tail))


def million_row_xlsx(folder: Path, rows: int = 1_000_000, name: str = "million.xlsx") -> Path:
    """An XLSX as a spreadsheet program writes it: `rows` numbered data rows after a header."""
    head, tail = _sheet_parts()
    path = folder / name
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for member, text in _package().items():
            z.writestr(member, text)
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as f:
            f.write(head)
            f.write(_xml_row(1, ["year", "adcode", "county", "key", "value"]))
            template = '<row r="{0}"><c r="A{0}"><v>2023</v></c><c r="B{0}"><v>654025</v></c>'
            template += '<c r="C{0}" t="inlineStr"><is><t>新源县</t></is></c><c r="D{0}"><v>1</v></c>'
            template += '<c r="E{0}"><v>5</v></c></row>'
            chunk: list[str] = []
            for n in range(2, rows + 2):
                chunk.append(template.format(n))
                if len(chunk) == 10_000:
                    f.write("".join(chunk).encode())
                    chunk = []
            f.write("".join(chunk).encode())
            f.write(tail)
    return path


def _sheet_parts() -> tuple[bytes, bytes]:
    head = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    head += b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    return head, b"</sheetData></worksheet>"


def _xml_row(number: int, cells: list[str]) -> bytes:
    inner = "".join(f'<c t="inlineStr"><is><t>{c}</t></is></c>' for c in cells)
    return f'<row r="{number}">{inner}</row>'.encode()


def _sheet(rows: list[list[str]], shared_cell: str | None = None) -> bytes:
    head, tail = _sheet_parts()
    body = b"".join(_xml_row(n, cells) for n, cells in enumerate(rows, start=1))
    if shared_cell:
        body += f'<row r="2"><c r="{shared_cell}" t="s"><v>0</v></c></row>'.encode()
    return head + body + tail


def _package(shared: bool = False) -> dict[str, bytes]:
    """The members of a one-sheet workbook other than the sheet (and the shared strings)."""
    ns = "http://schemas.openxmlformats.org"
    types = (
        f'<Types xmlns="{ns}/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        + (
            '<Override PartName="/xl/sharedStrings.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
            if shared
            else ""
        )
        + "</Types>"
    )
    rel = f"{ns}/officeDocument/2006/relationships"
    book_rels = (
        f'<Relationships xmlns="{ns}/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/>'
        + (f'<Relationship Id="rId2" Type="{rel}/sharedStrings" Target="sharedStrings.xml"/>' if shared else "")
        + "</Relationships>"
    )
    return {
        "[Content_Types].xml": types.encode(),
        "_rels/.rels": (
            f'<Relationships xmlns="{ns}/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ).encode(),
        "xl/workbook.xml": (
            f'<workbook xmlns="{ns}/spreadsheetml/2006/main" xmlns:r="{rel}">'
            '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ).encode(),
        "xl/_rels/workbook.xml.rels": book_rels.encode(),
    }


def _workbook(
    path: Path,
    sheet: bytes | None,
    shared: tuple[bytes, bytes, int, bytes] | None = None,
    sheet_stream: tuple[bytes, bytes, int, bytes] | None = None,
) -> Path:
    """Write a workbook by hand; a member given as (head, unit, count, tail) is deflated once per
    distinct piece, so a gigabyte member costs milliseconds to build."""
    members: list[tuple[str, bytes, int, int]] = []  # name, deflated bytes, crc, size
    for name, data in _package(shared is not None).items():
        members.append((name, _deflate(data, final=True), zlib.crc32(data), len(data)))
    if sheet is not None:
        members.append(("xl/worksheets/sheet1.xml", _deflate(sheet, final=True), zlib.crc32(sheet), len(sheet)))
    for name, parts in (("xl/worksheets/sheet1.xml", sheet_stream), ("xl/sharedStrings.xml", shared)):
        if parts is not None:
            members.append((name, *_repeated(*parts)))
    with path.open("wb") as f:
        central = b""
        for name, body, crc, size in members:
            offset = f.tell()
            encoded = name.encode()
            f.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(body), size, len(encoded), 0))
            f.write(encoded + body)
            central += struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                20,
                20,
                0,
                8,
                0,
                0,
                crc,
                len(body),
                size,
                len(encoded),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
            central += encoded
        start = f.tell()
        f.write(central)
        f.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(central), start, 0))
    return path


def _deflate(data: bytes, final: bool) -> bytes:
    # Each piece is a raw deflate stream flushed to a byte boundary with its history reset, so the
    # pieces can be concatenated (and a repeated piece is the same bytes every time).
    z = zlib.compressobj(9, zlib.DEFLATED, -15)
    return z.compress(data) + z.flush(zlib.Z_FINISH if final else zlib.Z_FULL_FLUSH)


def _repeated(head: bytes, unit: bytes, count: int, tail: bytes) -> tuple[bytes, int, int]:
    """head + unit * count + tail, deflated, with its CRC-32 and size, without building it."""
    block_units = max(1, MiB // len(unit))
    block = unit * block_units
    blocks, rest = divmod(count, block_units)
    deflated = _deflate(head, False) + _deflate(block, False) * blocks + _deflate(unit * rest + tail, True)
    crc = zlib.crc32(head)
    crc = _crc_combine(crc, _crc_repeat(zlib.crc32(block), len(block), blocks), len(block) * blocks)
    crc = zlib.crc32(unit * rest + tail, crc)
    return deflated, crc, len(head) + len(unit) * count + len(tail)


def _crc_repeat(crc: int, length: int, times: int) -> int:
    """CRC-32 of a block repeated `times` times, given the block's CRC and length (by doubling)."""
    out, out_len = 0, 0
    while times:
        if times & 1:
            out, out_len = _crc_combine(out, crc, length) if out_len else crc, out_len + length
        crc, length = _crc_combine(crc, crc, length), 2 * length
        times >>= 1
    return out


def _crc_combine(crc1: int, crc2: int, len2: int) -> int:
    """zlib's crc32_combine: the CRC-32 of A + B from crc(A), crc(B) and len(B)."""

    def times(matrix: list[int], vector: int) -> int:
        total, i = 0, 0
        while vector:
            if vector & 1:
                total ^= matrix[i]
            vector >>= 1
            i += 1
        return total

    def square(matrix: list[int]) -> list[int]:
        return [times(matrix, matrix[n]) for n in range(32)]

    if len2 <= 0:
        return crc1
    odd = [0xEDB88320] + [1 << n for n in range(31)]  # the operator for one zero bit
    even = square(odd)  # two zero bits
    odd = square(even)  # four zero bits
    while True:
        even = square(odd)
        if len2 & 1:
            crc1 = times(even, crc1)
        len2 >>= 1
        if not len2:
            break
        odd = square(even)
        if len2 & 1:
            crc1 = times(odd, crc1)
        len2 >>= 1
        if not len2:
            break
    return crc1 ^ crc2


def with_limits(path: Path, **limits: int) -> Path:
    """The built-in programme with these `[limits]` (its other limits as they are), written to `path`."""
    import re

    from pilotzones.rules.programme import BUILTIN

    text = BUILTIN.read_text(encoding="utf-8")
    for key, value in limits.items():
        text, found = re.subn(rf"(?m)^{key} = [0-9_]+", f"{key} = {value}", text)
        assert found == 1, key
    path.write_text(text, encoding="utf-8")
    return path


# -- the benchmark -------------------------------------------------------------------------------

EXE = Path(sys.executable).with_name("pilotzones")


def measured(command: list[str], env: dict[str, str]) -> tuple[int, float, int, bytes]:
    """Exit code, wall seconds, peak resident memory (bytes) and stderr of one process."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        child = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - start
        err.seek(0)
        return child.returncode, seconds, usage.ru_maxrss * 1024, err.read()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="runs of each file (default 3)")
    parser.add_argument("--keep", type=Path, default=None, help="build in this folder and keep it")
    args = parser.parse_args(argv)
    work = args.keep or Path(tempfile.mkdtemp(prefix="pilotzones-hostile-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        return _run(work, args.runs)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


def _run(work: Path, runs: int) -> int:
    from sqlalchemy import select

    from pilotzones.store import models as m
    from pilotzones.store.home import init_home
    from pilotzones.store.session import session

    files = work / "files"
    files.mkdir(exist_ok=True)
    built = {}
    for label, build in (
        ("1,000,000-row CSV", million_row_csv),
        ("XLSX shared-string bomb (2 GiB)", shared_string_bomb),
        ("XLSX sheet bomb (1 GiB)", sheet_bomb),
        ("1,000,000-row XLSX", million_row_xlsx),
    ):
        start = time.perf_counter()
        built[label] = build(files)
        print(f"built {label}: {built[label].stat().st_size / MiB:.1f} MB in {time.perf_counter() - start:.1f} s")
    # The built-in programme with the size limits out of the way.
    raised = with_limits(work / "raised.toml", file_bytes=100_000_000, xlsx_inflated_bytes=2_000_000_000)
    print(f"{os.cpu_count()} CPUs, SQLite home, {runs} runs each (a new process each run)")
    print(f"{'file':<42} {'exit':>4} {'runs (s)':<18} {'median':>7} {'peak RSS':>9} {'stderr':>8} {'stored':>8}")
    cases = [(label, path, None) for label, path in built.items()]
    for label in ("1,000,000-row CSV", "XLSX sheet bomb (1 GiB)", "1,000,000-row XLSX"):
        cases.append((f"{label}, sizes raised", built[label], raised))
    for n, (label, path, programme) in enumerate(cases):
        home = work / f"home-{n}"
        shutil.rmtree(home, ignore_errors=True)
        os.environ.pop("PILOTZONES_DATABASE_URL", None)
        h = init_home(home, programme)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PILOTZONES_", "PREFECT_"))}
        env.update(PILOTZONES_HOME=str(home), GX_ANALYTICS_ENABLED="false")
        command = [str(EXE), "submit", str(path), "--year", str(YEAR)]
        seconds, peaks, codes, err = [], [], set(), b""
        for _ in range(runs):
            code, wall, peak, err = measured(command, env)
            codes.add(code)
            seconds.append(wall)
            peaks.append(peak)
        with session(h.db_url) as s:
            stored = max(len(str(e)) for e in s.scalars(select(m.Submission.errors)))
        runs_text = " ".join(f"{x:.2f}" for x in seconds)
        print(
            f"{label:<42} {','.join(map(str, sorted(codes))):>4} {runs_text:<18} {statistics.median(seconds):>7.2f} "
            f"{max(peaks) / MiB:>6.0f} MB {len(err):>6} B {stored:>6} B"
        )
        if codes != {3}:
            print(err.decode("utf-8", "replace"), file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
