"""The public entry points: load a file (or JSON records) against a TableSpec, iterate the accepted rows, and
write the row-level problem report."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from .errors import IngestFileError
from .header import HeaderMatch, find_header, normalise_header
from .normalize import build
from .read import (
    CsvHead,
    cell_text,
    check_path,
    csv_heads,
    csv_to_duckdb,
    read_excel,
    rows_to_table,
    utf8_csv,
)
from .specs import TableSpec
from .sqlkinds import q, sql_nonblank

TOTALS = "^[\\s\\x{3000}]*(合\\s*计|总\\s*计|小\\s*计|总\\s*和)"
REPORT_MAX_ROWS = 1_048_000  # an xlsx sheet holds 1,048,576 rows


@dataclass
class LoadResult:
    """A file read and normalised: the accepted rows (`clean`), the problems (`errors`), and what was read.

    `clean` and `errors` are names of tables in `con`; `raw` (a temp table) keeps the cells as read, by canonical
    column name, for callers that need a rejected row's values."""

    con: duckdb.DuckDBPyConnection
    file: str
    spec: TableSpec
    header_row: int
    columns: dict[str, str]  # canonical field -> header text in the file
    rows_read: int
    raw: str
    clean: str
    errors: str
    warnings: list[str] = field(default_factory=list)
    reader: str = ""  # how the cells were read: "excel", "csv-duckdb" (fast path), "csv-python", "records"

    @property
    def rows_rejected(self) -> int:
        """Distinct source rows with at least one problem of severity 'error' (kept current by add_issues)."""
        return _scalar(
            self.con, f"SELECT count(DISTINCT source_row) FROM {self.errors} WHERE severity = 'error'"
        )

    def iter_clean(
        self, batch_size: int = 10000, order_by: Sequence[str] = ("household_no",)
    ) -> Iterator[list[dict[str, Any]]]:
        """Accepted rows as dicts, in batches, ordered by `order_by` (names the table lacks are skipped) and then
        by source_row, so the order is always deterministic."""
        cursor = self.con.cursor()
        present = {d[0] for d in cursor.execute(f"SELECT * FROM {self.clean} LIMIT 0").description}
        keys = [q(c) for c in order_by if c in present and c != "source_row"] + ["source_row"]
        cursor.execute(f"SELECT * FROM {self.clean} ORDER BY {', '.join(keys)}")
        names = [d[0] for d in cursor.description]
        while batch := cursor.fetchmany(batch_size):
            yield [dict(zip(names, row, strict=True)) for row in batch]

    def add_issues(self, issues: list[dict[str, Any]]) -> None:
        """Problems found later (by the platform: scope, unknown household…) join the same report. Rows with an
        added error are removed from `clean` so the counts stay true."""
        if not issues:
            return
        rows = [
            (
                self.file,
                i["source_row"],
                i["column"],
                None if i.get("value") is None else str(i["value"]),
                i["code"],
                i["message"],
                i.get("severity", "error"),
            )
            for i in issues
        ]
        self.con.executemany(f"INSERT INTO {self.errors} VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
        self.con.execute(
            f"DELETE FROM {self.clean} WHERE source_row IN "
            f"(SELECT source_row FROM {self.errors} WHERE severity = 'error')"
        )


def _scalar(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    # fetchall, not fetchone: DuckDB refuses new work on a connection with an unfinished result.
    rows = con.execute(sql).fetchall()
    return int(rows[0][0]) if rows else 0


def _prefix(spec: TableSpec) -> str:
    # Unique per load, so several loads (even from several processes on one database) never collide.
    return f"gl_{spec.key}_{uuid.uuid4().hex[:10]}"


def _connect(con: duckdb.DuckDBPyConnection | None) -> duckdb.DuckDBPyConnection:
    if con is None:
        con = duckdb.connect()
        con.execute("SET enable_progress_bar = false")  # callers report progress their own way
    return con


def _project(
    con: duckdb.DuckDBPyConnection,
    cells: str,
    row_expr: str,
    width: int,
    match: HeaderMatch,
    spec: TableSpec,
    raw: str,
) -> int:
    """Cells → the raw table: one VARCHAR column per field, empty rows and totals rows dropped.

    A totals row is one whose first non-blank cell starts with 合计/总计/小计 and whose natural-key fields are blank
    (or hold that marker). The natural key, not every required field, decides: real totals rows often put a count
    such as "1200人" under 姓名. Such rows are skipped wherever they are (subtotals too). A row starting with the
    marker but with its key filled is kept and flagged, so it is rejected with a clear message rather than imported
    as a household "合计"."""
    numbered = "*" if row_expr == "source_row" else f"{row_expr} AS source_row, *"
    flags = ", ".join(f"{sql_nonblank(f'c{j}')} AS nb{j}" for j in range(width))
    nonempty = " OR ".join(f"nb{j}" for j in range(width)) or "false"
    first = "CASE " + " ".join(f"WHEN nb{j} THEN c{j}" for j in range(width)) + " END" if width else "NULL"
    marker = f"COALESCE(regexp_matches({first}, '{TOTALS}'), false)"
    keys = [match.columns[k] for k in spec.natural_key if k in match.columns]
    key_blank = " AND ".join(f"(NOT nb{j} OR regexp_matches(c{j}, '{TOTALS}'))" for j in keys) or "true"
    fields = ", ".join(
        f"c{match.columns[f.name]} AS {q(f.name)}"
        if f.name in match.columns
        else f"CAST(NULL AS VARCHAR) AS {q(f.name)}"
        for f in spec.fields
    )
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {raw} AS
        SELECT CAST(source_row AS INTEGER) AS source_row, {fields},
               CASE WHEN {marker} THEN 'totals_row' END AS __layout,
               CASE WHEN {marker} THEN {first} END AS __first
        FROM (SELECT {numbered}, {flags} FROM {cells})
        WHERE ({nonempty}) AND NOT ({marker} AND {key_blank})
    """)
    con.execute(f"DROP TABLE IF EXISTS {cells}")
    return _scalar(con, f"SELECT count(*) FROM {raw}")


def _csv_header(path: Path, upath: Path, spec: TableSpec) -> tuple[HeaderMatch, CsvHead]:
    """Parse the head with each candidate delimiter and keep the one whose header matches best."""
    found: list[tuple[int, HeaderMatch, CsvHead]] = []
    problems: list[IngestFileError] = []
    for head in csv_heads(upath):
        try:
            match = find_header(head.rows, spec, path.name)
        except IngestFileError as exc:
            problems.append(exc)
            continue
        found.append((len(match.columns), match, head))
    if found:
        _, match, head = max(found, key=lambda t: t[0])
        return match, head
    # "a required column is missing" says more than "no header found".
    raise next((p for p in problems if "缺少必填列" in str(p)), problems[0])


def load_table(
    path: str | Path,
    spec: TableSpec,
    *,
    con: duckdb.DuckDBPyConnection | None = None,
    sheet: str | int | None = None,
) -> LoadResult:
    """Read, validate and normalise one file (.xlsx/.xlsm/.xls/.csv) against a table declaration.

    Raises IngestFileError when the file as a whole is unusable; row problems go to the `errors` table instead.
    Only the first sheet is read unless `sheet` (name or 0-based index) is given."""
    path = Path(path)
    kind = check_path(path)
    con = _connect(con)
    prefix = _prefix(spec)
    cells, raw = f"{prefix}_cells", f"{prefix}_raw"
    if kind == "excel":
        book = read_excel(path, sheet)
        match = find_header(book.rows, spec, path.name, book.hidden)
        data = book.rows[match.data_start :]
        width = max([match.width, *(len(c) for _, c in data)])
        con.register(f"{cells}_arrow", rows_to_table(data, width))
        con.execute(f"CREATE OR REPLACE TEMP TABLE {cells} AS SELECT * FROM {cells}_arrow")
        con.unregister(f"{cells}_arrow")
        del book, data
        row_expr, reader = "source_row", "excel"
    else:
        with utf8_csv(path) as (upath, encoding):
            match, head = _csv_header(path, upath, spec)
            skip = match.header_rows[-1]  # records up to the header (CSV records = Excel rows)
            width = max([match.width, *(len(c) for _, c in head.rows[skip:])])
            row_expr, width = csv_to_duckdb(con, cells, upath, encoding, head, skip, width)
            reader = "csv-python" if row_expr == "source_row" else "csv-duckdb"
    count = _project(con, cells, row_expr, width, match, spec, raw)
    clean, errors = build(con, spec, raw, file=path.name, headers=match.headers)
    warnings = []
    if match.ignored:
        warnings.append(f"未识别的列已忽略：{'、'.join(match.ignored)}")
    if match.hidden_used:
        warnings.append(f"以下隐藏列已按正常列读取：{'、'.join(match.hidden_used)}")
    if count == 0:
        warnings.append(f"表头（第{match.header_rows[-1]}行）以下没有数据行")
    return LoadResult(
        con=con,
        file=path.name,
        spec=spec,
        header_row=match.header_rows[-1],
        columns=match.headers,
        rows_read=count,
        raw=raw,
        clean=clean,
        errors=errors,
        warnings=warnings,
        reader=reader,
    )


def record_cells(
    records: Sequence[dict[str, Any]], spec: TableSpec
) -> tuple[dict[str, list[str | None]], dict[str, str], list[str]]:
    """JSON records as text cells per field (keys matched like file headers), the key each field was found under,
    and the keys that match no field. Shared by both validators of records (DuckDB here, Python in records.py)."""
    lookup = {normalise_header(n): f for f in spec.fields for n in (f.name, *f.synonyms)}
    columns: dict[str, str] = {}
    unknown: list[str] = []
    data: dict[str, list[str | None]] = {f.name: [None] * len(records) for f in spec.fields}
    for i, record in enumerate(records):
        for key, value in record.items():
            f = lookup.get(normalise_header(key))
            if f is None:
                if key not in unknown:
                    unknown.append(key)
                continue
            columns.setdefault(f.name, key)
            data[f.name][i] = cell_text(value)
    return data, columns, unknown


def unknown_warning(unknown: list[str]) -> list[str]:
    return [f"未识别的字段已忽略：{'、'.join(unknown)}"] if unknown else []


def records_to_table(
    records: Sequence[dict[str, Any]],
    spec: TableSpec,
    *,
    source: str = "API",
    con: duckdb.DuckDBPyConnection | None = None,
) -> LoadResult:
    """The same validation for JSON records (e.g. events pushed through the live API). Keys are canonical names or
    Chinese headers (matched like file headers); unknown keys are listed in `warnings`. A record's source_row is
    its 1-based position in the list, and problems name the field by its canonical name (what an API client
    sent or can look up). Values may be strings, numbers, booleans or dates; a float ID number counts as
    Excel-damaged, as in a sheet. `source` stands for the file name in the results."""
    data, columns, unknown = record_cells(records, spec)
    arrays = {"source_row": pa.array(range(1, len(records) + 1), pa.int32())}
    arrays.update({n: pa.array(v, pa.string()) for n, v in data.items()})
    arrays["__layout"] = pa.nulls(len(records), pa.string())
    arrays["__first"] = pa.nulls(len(records), pa.string())
    con = _connect(con)
    raw = f"{_prefix(spec)}_raw"
    con.register(f"{raw}_arrow", pa.table(arrays))
    con.execute(f"CREATE OR REPLACE TEMP TABLE {raw} AS SELECT * FROM {raw}_arrow")
    con.unregister(f"{raw}_arrow")
    clean, errors = build(con, spec, raw, file=source, headers={f.name: f.name for f in spec.fields})
    warnings = unknown_warning(unknown)
    return LoadResult(con, source, spec, 0, columns, len(records), raw, clean, errors, warnings, "records")


def write_error_report(result: LoadResult, out_path: str | Path) -> Path:
    """The row-level problem report a person can act on (xlsx): 文件, 行号, 列, 原值, 问题, 级别 — one line per
    problem, ordered by row, then the file-level warnings."""
    import xlsxwriter

    out = Path(out_path)
    book = xlsxwriter.Workbook(str(out), {"constant_memory": True, "strings_to_numbers": False})
    sheet = book.add_worksheet("问题清单")
    bold = book.add_format({"bold": True, "bg_color": "#E2EFDA"})
    for j, title in enumerate(("文件", "行号", "列", "原值", "问题", "级别")):
        sheet.write_string(0, j, title, bold)
    sheet.set_column(0, 0, 24)
    sheet.set_column(2, 3, 20)
    sheet.set_column(4, 4, 60)
    sheet.freeze_panes(1, 0)
    cursor = result.con.cursor()
    total = _scalar(cursor, f"SELECT count(*) FROM {result.errors}")
    cursor.execute(
        f'SELECT file, source_row, "column", value, message, severity FROM {result.errors} '
        f"ORDER BY source_row, rowid LIMIT {REPORT_MAX_ROWS}"  # rowid: the column order of build, then added issues
    )
    i = 0
    while batch := cursor.fetchmany(10000):
        for file, row, column, value, message, severity in batch:
            i += 1
            sheet.write_string(i, 0, file)
            sheet.write_number(i, 1, row)
            sheet.write_string(i, 2, column or "")
            sheet.write_string(i, 3, "" if value is None else str(value))
            sheet.write_string(i, 4, message or "")
            sheet.write_string(i, 5, "拒绝" if severity == "error" else "提示")
    notes = list(result.warnings)
    if total > REPORT_MAX_ROWS:
        notes.append(f"问题共 {total} 条，本表只列出前 {REPORT_MAX_ROWS} 条")
    for text in notes:
        i += 1
        sheet.write_string(i, 0, result.file)
        sheet.write_string(i, 4, text)
        sheet.write_string(i, 5, "提示")
    book.close()
    return out
