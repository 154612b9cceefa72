"""Fixture builders for the ingest tests: real-looking rows of 威宁县 (520526), files made on the fly."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from engine.ids import check_char
from engine.ingest import LoadResult

# Real village codes of 威宁彝族回族苗族自治县 (520526), from the national division table.
VILLAGE = "520526101003"  # 红岩社区
VILLAGE2 = "520526102216"  # 新营村
VILLAGE3 = "520526004203"  # 板仓村


def pid(first17: str) -> str:
    """A valid 18-character ID from its first 17 digits."""
    return first17 + check_char(first17)


ID1 = pid("52052619800101001")  # male, 1980-01-01 → …0016
ID2 = pid("52052619850202002")  # female, 1985-02-02
ID3 = pid("52052620100315003")  # male, 2010-03-15
IDX = pid("52052619700101010")  # female, 1970-01-01, ends in X
assert IDX.endswith("X")

REG_HEADER = ["户编号", "行政区划代码", "姓名", "证件号码", "与户主关系"]
INC_HEADER = ["户编号", "年度"]


def reg_row(no: str, name: str, idn: object, relation: str = "户主", village: str = VILLAGE) -> list[Any]:
    return [no, village, name, idn, relation]


def write_csv(path: Path, rows: list[list[Any]], encoding: str = "utf-8", delimiter: str = ",") -> Path:
    with open(path, "w", newline="", encoding=encoding) as fh:
        csv.writer(fh, delimiter=delimiter).writerows(rows)
    return path


def write_xlsx(path: Path, rows: list[list[Any]]) -> Path:
    """An .xlsx written by openpyxl: numbers stay numbers, datetimes become date cells."""
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def clean_rows(result: LoadResult) -> list[dict]:
    return [r for batch in result.iter_clean(order_by=()) for r in batch]


def by(result: LoadResult, key: str = "household_no") -> dict[Any, dict]:
    return {r[key]: r for r in clean_rows(result)}


def errors(result: LoadResult) -> list[tuple]:
    """(source_row, column, code, severity) of every problem, in report order."""
    return result.con.execute(
        f'SELECT source_row, "column", code, severity FROM {result.errors} ORDER BY source_row'
    ).fetchall()


def messages(result: LoadResult) -> dict[tuple[int, str], tuple[str, str]]:
    """(source_row, code) → (raw value, message)."""
    rows = result.con.execute(f"SELECT source_row, code, value, message FROM {result.errors}").fetchall()
    return {(r, c): (v, m) for r, c, v, m in rows}
