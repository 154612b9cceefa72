"""File ingest: read what counties and departments send, normalise it in DuckDB, and report every problem by file,
row and column.

    result = load_table(path, REGISTRY)
    for rows in result.iter_clean(batch_size=5000, order_by=("household_no",)): ...
    write_error_report(result, "errors.xlsx")
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from . import feeds as feeds  # registers the department feed declarations in SPECS
from .normalize import build, q
from .read import Grid, IngestFileError, data_rows, find_header, read_grid
from .specs import INCOME, REGISTRY, SPECS, Field, TableSpec

__all__ = [
    "INCOME",
    "REGISTRY",
    "SPECS",
    "Field",
    "IngestFileError",
    "LoadResult",
    "TableSpec",
    "load_table",
    "records_to_table",
    "write_error_report",
]
_counter = itertools.count()
ERROR_COLUMNS = ("file", "source_row", "column", "value", "code", "message", "severity")


@dataclass
class LoadResult:
    """A file read and normalised: the accepted rows (`clean`), the problems (`errors`), and what was read."""

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

    @property
    def rows_rejected(self) -> int:
        row = self.con.execute(
            f"SELECT count(DISTINCT source_row) FROM {self.errors} WHERE severity = 'error'"
        ).fetchone()
        return int(row[0]) if row else 0

    def iter_clean(
        self, batch_size: int = 10000, order_by: Sequence[str] = ("source_row",)
    ) -> Iterator[list[dict]]:
        """Accepted rows as dicts, in batches."""
        cursor = self.con.cursor()
        cursor.execute(f"SELECT * FROM {self.clean} ORDER BY {', '.join(q(c) for c in order_by)}")
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
                str(i.get("value") or ""),
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


def _raw_table(grid: Grid, match, file_name: str) -> tuple[pa.Table, int]:
    columns: dict[str, list[str | None]] = {name: [] for name in match.columns}
    source_rows: list[int] = []
    for row_no, cells in data_rows(grid, match):
        source_rows.append(row_no)
        for name, j in match.columns.items():
            columns[name].append(cells[j] if j < len(cells) else None)
    arrays = {"source_row": pa.array(source_rows, pa.int32())}
    arrays.update({name: pa.array(values, pa.string()) for name, values in columns.items()})
    return pa.table(arrays), len(source_rows)


def load_table(
    path: str | Path,
    spec: TableSpec,
    *,
    con: duckdb.DuckDBPyConnection | None = None,
    sheet: str | int | None = None,
) -> LoadResult:
    """Read, validate and normalise one file against a table declaration.

    Raises IngestFileError when the file as a whole is unusable; row problems go to the `errors` table instead."""
    path = Path(path)
    grid = read_grid(path, sheet)
    match = find_header(grid, spec, path.name)
    if con is None:
        con = duckdb.connect()
        con.execute("SET enable_progress_bar = false")  # callers report progress their own way
    table, count = _raw_table(grid, match, path.name)
    del grid
    raw = f"raw_{spec.key}_{next(_counter)}"
    con.register(f"{raw}_arrow", table)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {raw} AS SELECT * FROM {raw}_arrow")
    con.unregister(f"{raw}_arrow")
    clean, errors = build(con, spec, raw, set(match.columns), file=path.name, headers=match.headers)
    warnings = [f"未识别的列已忽略：{'、'.join(match.ignored)}"] if match.ignored else []
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
    )


def write_error_report(result: LoadResult, out_path: str | Path) -> Path:
    """The row-level problem report a person can act on: 文件, 行号, 列, 原值, 问题, 级别 (xlsx)."""
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
    cursor = result.con.cursor()
    cursor.execute(
        f'SELECT file, source_row, "column", value, message, severity FROM {result.errors} '
        "ORDER BY source_row, severity"
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
    for text in result.warnings:
        i += 1
        sheet.write_string(i, 0, result.file)
        sheet.write_string(i, 4, text)
        sheet.write_string(i, 5, "提示")
    book.close()
    return out


def records_to_table(
    records: Sequence[dict[str, Any]],
    spec: TableSpec,
    *,
    source: str = "API",
    con: duckdb.DuckDBPyConnection | None = None,
) -> LoadResult:
    """Validate JSON records (e.g. events pushed through the live API) with the same declarations and SQL as files.

    Keys may be canonical names or Chinese headers; unknown keys are reported as a warning. `source_row` is the
    record's 1-based position in the request."""
    from .read import _lookup, cell_text, normalise_header

    lookup = _lookup(spec)
    columns: dict[str, list[str | None]] = {f.name: [] for f in spec.fields}
    unknown: set[str] = set()
    for record in records:
        row: dict[str, str | None] = {}
        for key, value in record.items():
            f = lookup.get(normalise_header(key))
            if f is None:
                unknown.add(str(key))
            else:
                row[f.name] = cell_text(value)
        for name, values in columns.items():
            values.append(row.get(name))
    if con is None:
        con = duckdb.connect()
        con.execute("SET enable_progress_bar = false")
    arrays = {"source_row": pa.array(range(1, len(records) + 1), pa.int32())}
    arrays.update({name: pa.array(values, pa.string()) for name, values in columns.items()})
    raw = f"raw_{spec.key}_{next(_counter)}"
    con.register(f"{raw}_arrow", pa.table(arrays))
    con.execute(f"CREATE OR REPLACE TEMP TABLE {raw} AS SELECT * FROM {raw}_arrow")
    con.unregister(f"{raw}_arrow")
    clean, errors = build(
        con, spec, raw, set(columns), file=source, headers={f.name: f.name for f in spec.fields}
    )
    warnings = [f"未识别的字段已忽略：{'、'.join(sorted(unknown))}"] if unknown else []
    return LoadResult(
        con=con,
        file=source,
        spec=spec,
        header_row=0,
        columns={f.name: f.name for f in spec.fields},
        rows_read=len(records),
        raw=raw,
        clean=clean,
        errors=errors,
        warnings=warnings,
    )
