"""Reading what people send: xlsx/xls (calamine) and csv (UTF-8, UTF-8 with BOM, GB18030) into a grid of strings
with the file's own row numbers, finding the header row below any title rows, and mapping headers to fields."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .specs import Field, TableSpec

HEADER_SCAN_ROWS = 30
TOTAL_MARKERS = ("合计", "总计", "小计", "总和")
_UNIT = re.compile(r"[(（][^()（）]*[)）]$")
EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"}


class IngestFileError(Exception):
    """The file as a whole cannot be read (wrong type, no header, a required column missing). Nothing is written."""


@dataclass
class Grid:
    """Cells as strings (None for blank), each row with its 1-based row number as seen in Excel or a text editor."""

    rows: list[tuple[int, list[str | None]]]
    hidden_columns: set[int] = field(default_factory=set)


def normalise_header(text: object) -> str:
    """Header matching ignores spaces, full-/half-width differences, case, and a trailing unit like "(元)"."""
    if text is None:
        return ""
    s = unicodedata.normalize("NFKC", str(text))
    s = "".join(s.split()).replace("*", "")
    s = _UNIT.sub("", s)
    return s.lower()


def cell_text(value: object) -> str | None:
    """A cell as text, the way a person reading the sheet would see it. Numbers that Excel stores as floats keep
    Excel's 15 significant digits in scientific form when they are too large to be exact (long ID numbers)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        if value != value:  # NaN
            return None
        if value.is_integer():
            if abs(value) >= 1e15:
                return f"{value:.14E}"  # 5.20526199001011E+17: precision already lost
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.timedelta):  # calamine returns durations for time-only cells
        return str(value)
    text = str(value)
    return text if text.strip() else None


def _detect_encoding(path: Path) -> str:
    with open(path, "rb") as fh:
        head = fh.read(4)
        if head.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        fh.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            for block in iter(lambda: fh.read(1 << 20), b""):
                decoder.decode(block)
            decoder.decode(b"", final=True)
            return "utf-8"
        except UnicodeDecodeError:
            return "gb18030"


def _read_csv(path: Path) -> Grid:
    encoding = _detect_encoding(path)
    try:
        with open(path, encoding=encoding, newline="") as fh:
            sample = fh.read(64 * 1024)
            fh.seek(0)
            try:
                dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",\t;|")
            except csv.Error:
                dialect = csv.excel
            reader = csv.reader(fh, dialect)
            rows = [(reader.line_num, [c if c.strip() else None for c in row]) for row in reader]
    except UnicodeDecodeError as exc:
        raise IngestFileError(f"{path.name}: 无法识别文件编码（支持 UTF-8、带BOM的UTF-8、GB18030）") from exc
    return Grid(rows)


def _hidden_xlsx_columns(path: Path) -> set[int]:
    """0-based indexes of hidden columns of the first sheet, read from the sheet XML's <cols> element."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = sorted(n for n in archive.namelist() if re.match(r"xl/worksheets/sheet\d+\.xml$", n))
            if not names:
                return set()
            with archive.open(
                "xl/worksheets/sheet1.xml" if "xl/worksheets/sheet1.xml" in names else names[0]
            ) as fh:
                head = fh.read(256 * 1024).decode("utf-8", "ignore")
    except (zipfile.BadZipFile, OSError, KeyError):
        return set()
    hidden: set[int] = set()
    for col in re.finditer(r"<col\b[^>]*>", head.split("<sheetData")[0]):
        tag = col.group(0)
        if re.search(r'hidden="(1|true)"', tag):
            lo = int(re.search(r'min="(\d+)"', tag).group(1))  # type: ignore[union-attr]
            hi = int(re.search(r'max="(\d+)"', tag).group(1))  # type: ignore[union-attr]
            hidden.update(range(lo - 1, hi))
    return hidden


def _read_excel(path: Path, sheet: str | int | None) -> Grid:
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(path))
        target = (
            book.get_sheet_by_name(sheet) if isinstance(sheet, str) else book.get_sheet_by_index(sheet or 0)
        )
        data = target.to_python(skip_empty_area=False)
    except Exception as exc:  # calamine raises its own error types for damaged or encrypted files
        raise IngestFileError(f"{path.name}: 无法读取Excel文件（{type(exc).__name__}: {exc}）") from exc
    rows = [(i + 1, [cell_text(v) for v in row]) for i, row in enumerate(data)]
    hidden = _hidden_xlsx_columns(path) if path.suffix.lower() in (".xlsx", ".xlsm") else set()
    return Grid(rows, hidden)


def read_grid(path: Path, sheet: str | int | None = None) -> Grid:
    if not path.exists():
        raise IngestFileError(f"{path.name}: 文件不存在")
    if path.stat().st_size == 0:
        raise IngestFileError(f"{path.name}: 文件为空")
    suffix = path.suffix.lower()
    if suffix in EXCEL_SUFFIXES:
        return _read_excel(path, sheet)
    if suffix in (".csv", ".txt", ".tsv"):
        return _read_csv(path)
    raise IngestFileError(f"{path.name}: 不支持的文件类型“{suffix}”（支持 xlsx、xls、csv）")


@dataclass
class HeaderMatch:
    header_rows: list[int]  # 1-based row numbers of the header row(s)
    data_start: int  # index into grid.rows of the first data row
    columns: dict[str, int]  # field name -> column index
    headers: dict[str, str]  # field name -> header text as in the file
    ignored: list[str]  # headers of columns that match no field


def _lookup(spec: TableSpec) -> dict[str, Field]:
    table: dict[str, Field] = {}
    for f in spec.fields:
        for name in (f.name, *f.synonyms):
            table[normalise_header(name)] = f
    return table


def _match_row(cells: list[str | None], lookup: dict[str, Field]) -> dict[str, int]:
    found: dict[str, int] = {}
    for i, cell in enumerate(cells):
        f = lookup.get(normalise_header(cell))
        if f is not None and f.name not in found:
            found[f.name] = i
    return found


def _merge_rows(upper: list[str | None], lower: list[str | None]) -> list[str | None]:
    """Two header rows (a group label row with merged cells above the column names): the lower row's name wins,
    the upper fills columns whose name was merged vertically across both rows."""
    width = max(len(upper), len(lower))
    up = upper + [None] * (width - len(upper))
    low = lower + [None] * (width - len(lower))
    return [b if b else a for a, b in zip(up, low, strict=True)]


def find_header(grid: Grid, spec: TableSpec, file_name: str) -> HeaderMatch:
    lookup = _lookup(spec)
    required = {f.name for f in spec.required}
    best: tuple[int, int, list[str | None], list[int]] | None = None  # (score, index, cells, header rows)
    scan = grid.rows[:HEADER_SCAN_ROWS]
    for i, (row_no, cells) in enumerate(scan):
        candidates = [(cells, [row_no], i)]
        if i + 1 < len(scan):
            candidates.append((_merge_rows(cells, scan[i + 1][1]), [row_no, scan[i + 1][0]], i + 1))
        for merged, header_rows, last in candidates:
            found = _match_row(merged, lookup)
            score = len(found) + (100 if required <= found.keys() else 0)
            if found and (best is None or score > best[0]):
                best = (score, last, merged, header_rows)
        if best and best[0] >= 100 and best[1] <= i:
            break
    if best is None or best[0] < 2:
        wanted = "、".join(f.label for f in spec.required)
        raise IngestFileError(f"{file_name}: 前{HEADER_SCAN_ROWS}行中找不到表头（应包含：{wanted}）")
    _, last, cells, header_rows = best
    found = _match_row(cells, lookup)
    # A hidden column that duplicates a visible one is an old copy kept for reference: prefer the visible column.
    for name in list(found):
        if found[name] in grid.hidden_columns:
            visible = [
                j
                for j, c in enumerate(cells)
                if lookup.get(normalise_header(c)) is lookup[normalise_header(cells[found[name]])]
                and j not in grid.hidden_columns
            ]
            if visible:
                found[name] = visible[0]
    missing = [f.label for f in spec.required if f.name not in found]
    if missing:
        raise IngestFileError(f"{file_name}: 缺少必填列：{'、'.join(missing)}（表头在第{header_rows[-1]}行）")
    used = set(found.values())
    ignored = [str(c) for j, c in enumerate(cells) if c and j not in used]
    return HeaderMatch(
        header_rows=header_rows,
        data_start=last + 1,
        columns=found,
        headers={name: str(cells[j]) for name, j in found.items()},
        ignored=ignored,
    )


def is_total_row(cells: list[str | None]) -> bool:
    first = next((c for c in cells if c and c.strip()), None)
    return first is not None and unicodedata.normalize("NFKC", first).strip().startswith(TOTAL_MARKERS)


def data_rows(grid: Grid, match: HeaderMatch) -> Iterator[tuple[int, list[str | None]]]:
    """Rows below the header: empty rows skipped, a totals row skipped."""
    for row_no, cells in grid.rows[match.data_start :]:
        if not any(c is not None and c.strip() for c in cells):
            continue
        if is_total_row(cells):
            continue
        yield row_no, cells


def csv_text(rows: list[list[str]]) -> str:
    """Helper for tests and error reports: rows to CSV text."""
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue()
