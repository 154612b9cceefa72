"""Reading what people send into DuckDB: .xlsx/.xlsm/.xls (python-calamine) and .csv (UTF-8, UTF-8 with BOM,
GB18030), every cell as text, every row with the row number a person sees in Excel.

CSV takes DuckDB's parallel reader (fast path) whenever its numbering provably equals Excel's; anything unusual
(blank lines, ragged rows, odd quoting) falls back to Python's csv module, which is slower but takes anything.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import mmap
import os
import re
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from .errors import IngestFileError
from .header import HEADER_SCAN_ROWS, Row

EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"}
CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
DELIMITERS = (",", "\t", ";", "|")
HEAD_BYTES = 4 << 20  # enough for title rows + header + the first data rows
_BLOCK = 1 << 20


def cell_text(value: object) -> str | None:
    """A cell as text, the way a person reading the sheet sees it (None for blank).

    Whole floats become integers ("2024.0" → "2024"), except numbers too large for a float to hold exactly
    (≥ 1e15): those keep Excel's 15 significant digits in scientific form ("5.20526199001011E+17"), which is how
    engine.ids recognises an ID number Excel stored as a number and rounded."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return None
        if value.is_integer():
            return f"{value:.14E}" if abs(value) >= 1e15 else str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value)  # str, int, time, timedelta (calamine's durations)
    return text if text.strip() else None


# --- Excel -----------------------------------------------------------------------------------------------------


def _sheet_xml_path(archive: zipfile.ZipFile, index: int, name: str | None) -> str | None:
    """The worksheet part of the sheet at `index` (or named `name`), via workbook.xml and its relationships."""
    book = archive.read("xl/workbook.xml").decode("utf-8", "ignore")
    rels = archive.read("xl/_rels/workbook.xml.rels").decode("utf-8", "ignore")
    sheets = re.findall(r"<sheet\b[^>]*?name=\"([^\"]*)\"[^>]*?r:id=\"([^\"]+)\"", book)
    pick = [s for s in sheets if s[0] == name] if name is not None else sheets[index : index + 1]
    if not pick:
        return None
    target = re.search(rf"<Relationship\b[^>]*?Id=\"{re.escape(pick[0][1])}\"[^>]*?Target=\"([^\"]+)\"", rels)
    if target is None:
        target = re.search(
            rf"<Relationship\b[^>]*?Target=\"([^\"]+)\"[^>]*?Id=\"{re.escape(pick[0][1])}\"", rels
        )
    return None if target is None else "xl/" + target.group(1).lstrip("/").removeprefix("xl/")


def hidden_columns(path: Path, index: int = 0, name: str | None = None) -> set[int]:
    """0-based indexes of the hidden columns of one sheet of an .xlsx/.xlsm, from the sheet XML's <cols>
    (calamine does not report visibility). Unreadable structure → no hidden columns."""
    try:
        with zipfile.ZipFile(path) as archive:
            part = _sheet_xml_path(archive, index, name)
            if part is None:
                return set()
            with archive.open(part) as fh:
                head = fh.read(256 * 1024).decode("utf-8", "ignore")
    except (zipfile.BadZipFile, OSError, KeyError):
        return set()
    hidden: set[int] = set()
    for tag in re.findall(r"<col\b[^>]*>", head.split("<sheetData")[0]):
        lo, hi = re.search(r'min="(\d+)"', tag), re.search(r'max="(\d+)"', tag)
        if lo and hi and re.search(r'hidden="(1|true)"', tag):
            hidden.update(range(int(lo.group(1)) - 1, int(hi.group(1))))
    return hidden


@dataclass
class ExcelSheet:
    rows: list[Row]  # every row from row 1, blank rows included, so numbers match Excel's
    hidden: set[int]


def read_excel(path: Path, sheet: str | int | None) -> ExcelSheet:
    """The first sheet (or `sheet`, by name or 0-based index) as text cells."""
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises its own error types for damaged or encrypted files
        raise IngestFileError(
            f"{path.name}：无法读取Excel文件（文件损坏、加密或并非Excel格式）：{exc}"
        ) from exc
    names = list(book.sheet_names)
    if isinstance(sheet, str) and sheet not in names:
        raise IngestFileError(f"{path.name}：找不到工作表“{sheet}”（有：{'、'.join(names)}）")
    index = names.index(sheet) if isinstance(sheet, str) else (sheet or 0)
    if not 0 <= index < len(names):
        raise IngestFileError(f"{path.name}：没有第{index + 1}个工作表")
    try:
        data = book.get_sheet_by_index(index).to_python(skip_empty_area=False)
    except Exception as exc:
        raise IngestFileError(f"{path.name}：无法读取工作表“{names[index]}”：{exc}") from exc
    # Text cells (the bulk) take a shortcut; everything else goes through cell_text.
    rows = [
        (i + 1, [(v if v.strip() else None) if type(v) is str else cell_text(v) for v in row])
        for i, row in enumerate(data)
    ]
    if not any(c is not None for _, cells in rows for c in cells):
        raise IngestFileError(f"{path.name}：工作表“{names[index]}”是空的")
    is_xml = path.suffix.lower() in (".xlsx", ".xlsm")
    return ExcelSheet(rows, hidden_columns(path, index) if is_xml else set())


def rows_to_table(rows: Iterable[Row], width: int) -> pa.Table:
    """Data rows as an Arrow table: source_row + c0..c{width-1} (strings), built column-wise."""
    numbers: list[int] = []
    columns: list[list[str | None]] = [[] for _ in range(width)]
    for row_no, cells in rows:
        numbers.append(row_no)
        n = len(cells)
        for j in range(width):
            columns[j].append(cells[j] if j < n else None)
    arrays = {"source_row": pa.array(numbers, pa.int32())}
    arrays.update({f"c{j}": pa.array(col, pa.string()) for j, col in enumerate(columns)})
    return pa.table(arrays)


# --- CSV -------------------------------------------------------------------------------------------------------


def detect_encoding(path: Path) -> str:
    """BOM → utf-8-sig (or utf-16 for Excel's "Unicode text"); valid UTF-8 throughout → utf-8; otherwise GB18030
    (what Excel and WPS save as "CSV" on a Chinese Windows)."""
    with open(path, "rb") as fh:
        head = fh.read(3)
        if head == codecs.BOM_UTF8:
            return "utf-8-sig"
        if head[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
            return "utf-16"
        fh.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            for block in iter(lambda: fh.read(_BLOCK), b""):
                decoder.decode(block)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "gb18030"
    return "utf-8"


@contextmanager
def utf8_csv(path: Path) -> Iterator[tuple[Path, str]]:
    """The CSV as a UTF-8 file DuckDB can read: the file itself, or a streamed GB18030/UTF-16 → UTF-8 temporary
    copy (removed afterwards). Yields (path, encoding to open it with)."""
    encoding = detect_encoding(path)
    if encoding in ("utf-8", "utf-8-sig"):
        yield path, encoding
        return
    fd, name = tempfile.mkstemp(prefix="guardline-ingest-", suffix=".csv")
    try:
        decoder = codecs.getincrementaldecoder(encoding)()
        with open(path, "rb") as src, os.fdopen(fd, "w", encoding="utf-8", newline="") as dst:
            for block in iter(lambda: src.read(_BLOCK), b""):
                dst.write(decoder.decode(block))
            dst.write(decoder.decode(b"", final=True))
    except UnicodeDecodeError as exc:
        os.unlink(name)
        raise IngestFileError(
            f"{path.name}：无法识别文件编码（支持 UTF-8、带BOM的UTF-8、GB18030/GBK、UTF-16），请另存为UTF-8后重新上传"
        ) from exc
    try:
        yield Path(name), "utf-8"
    finally:
        os.unlink(name)


@dataclass
class CsvHead:
    """The first records of a CSV under one delimiter, with the byte offset just after each record."""

    delimiter: str
    rows: list[Row]
    ends: list[int]


def _parse_head(text: str, delimiter: str) -> tuple[list[Row], list[int]]:
    """Up to HEADER_SCAN_ROWS records and the character offset just after each."""
    buffer = io.StringIO(text, newline="")
    consumed = 0

    def lines() -> Iterator[str]:
        nonlocal consumed
        for line in buffer:
            consumed += len(line)  # csv pulls exactly the lines of one record, so this marks the record's end
            yield line

    rows: list[Row] = []
    ends: list[int] = []
    try:
        for n, record in enumerate(csv.reader(lines(), delimiter=delimiter), 1):
            rows.append((n, [c if c.strip() else None for c in record]))
            ends.append(consumed)
            if n >= HEADER_SCAN_ROWS:
                break
    except csv.Error:
        pass  # keep what parsed: the header may still be among the rows before the damage
    return rows, ends


def csv_heads(path: Path) -> list[CsvHead]:
    """The head of the file parsed with each candidate delimiter; the caller keeps the one whose header matches."""
    with open(path, "rb") as fh:
        data = fh.read(HEAD_BYTES)
    bom = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    text = codecs.getincrementaldecoder("utf-8")("replace").decode(data[bom:])
    heads = []
    for delimiter in DELIMITERS:
        rows, ends = _parse_head(text, delimiter)
        heads.append(CsvHead(delimiter, rows, [bom + len(text[:e].encode("utf-8")) for e in ends]))
    return heads


def _blank_line_after(path: Path, start: int) -> bool:
    """Whether an empty line follows `start` before the last data byte. DuckDB silently skips empty lines, which
    would shift every row number after one, so such files take the Python reader."""
    if path.stat().st_size <= start:
        return False
    with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as view:
        end = len(view)
        while end > start and view[end - 1 : end] in (b"\n", b"\r", b" ", b"\t"):
            end -= 1  # trailing empty lines at the end of the file are harmless
        # Start on the header's own line break, so an empty first data line is seen too.
        begin = max(start - 1, 0)
        return any(view.find(pattern, begin, end) != -1 for pattern in (b"\n\n", b"\n\r\n", b"\r\r"))


def csv_to_duckdb(
    con: duckdb.DuckDBPyConnection,
    table: str,
    path: Path,
    encoding: str,
    head: CsvHead,
    skip: int,
    width: int,
) -> tuple[str, int]:
    """Load the records after the first `skip` ones into `table` (c0..c{width-1} VARCHAR). Returns the SQL
    expression of the Excel row number of a record of `table`, and the number of columns."""
    ordered = con.execute("SELECT current_setting('preserve_insertion_order')").fetchall()[0][0]
    if ordered and not _blank_line_after(path, head.ends[skip - 1] if skip else 0):
        columns = "{" + ", ".join(f"'c{j}': 'VARCHAR'" for j in range(width)) + "}"
        quoted = head.delimiter.replace("'", "''")
        options = (
            f"header=false, auto_detect=false, skip={skip}, delim='{quoted}', quote='\"', escape='\"', "
            f"columns={columns}, null_padding=true"
        )
        path_sql = str(path).replace("'", "''")
        for extra in ("", ", parallel=false"):  # the parallel scanner refuses quoted line breaks with padding
            try:
                con.execute(
                    f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT * FROM read_csv('{path_sql}', {options}{extra})"
                )
            except duckdb.Error:
                continue
            # Insertion order is preserved (checked above), so rowid is the record's position after the skip.
            return f"(CAST(rowid AS INTEGER) + {skip + 1})", width
    with open(path, encoding=encoding, newline="") as fh:
        records = csv.reader(fh, delimiter=head.delimiter)
        try:
            data = [(n, [c or None for c in record]) for n, record in enumerate(records, 1) if n > skip]
        except csv.Error as exc:  # a NUL byte, a runaway quote making a field of megabytes…
            raise IngestFileError(f"{path.name}：第{records.line_num}行附近CSV格式错误（{exc}）") from exc
    width = max([width, *(len(c) for _, c in data)])
    arrow = rows_to_table(data, width)
    con.register(f"{table}_arrow", arrow)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT * FROM {table}_arrow")
    con.unregister(f"{table}_arrow")
    return "source_row", width


def check_path(path: Path) -> str:
    """'excel' or 'csv', or IngestFileError for a missing, empty or unsupported file."""
    if not path.exists():
        raise IngestFileError(f"{path.name}：文件不存在")
    if path.stat().st_size == 0:
        raise IngestFileError(f"{path.name}：文件为空（0字节）")
    suffix = path.suffix.lower()
    if suffix in EXCEL_SUFFIXES:
        return "excel"
    if suffix in CSV_SUFFIXES:
        return "csv"
    raise IngestFileError(
        f"{path.name}：不支持的文件类型“{suffix or '无扩展名'}”（支持 xlsx、xlsm、xls、csv）"
    )
