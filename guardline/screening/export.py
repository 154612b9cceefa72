"""The warnings export of INTERCHANGE §4 (预警名单), csv or xlsx by the file's extension. Only what §4 lists:
no ID numbers, phones or health details leave through it."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path

from engine.screening.rules import RISK_CODES
from guardline.core.spreadsheets import csv_text, xlsx_options

from .models import RiskWarning

HEADERS = (
    ("household_no", "户编号"),
    ("village_code", "行政区划代码"),
    ("grade", "预警等级"),
    ("score", "风险分值"),
    ("risk_types", "风险类型"),
    ("reasons", "预警原因"),
    ("sources", "数据来源"),
    ("first_signal_date", "首次信号日期"),
    ("generated_at", "生成时间"),
)
GRADE_ZH = {"red": "红", "yellow": "黄", "green": "绿"}


def warning_rows(warnings: Iterable[RiskWarning]) -> Iterable[list[str]]:
    for w in warnings:
        yield [
            w.household.household_no,
            w.village_code,
            GRADE_ZH[w.grade],
            f"{w.score:.1f}",
            w.risk_types,
            "；".join(w.reasons),
            ";".join(w.sources),
            w.first_signal_date.isoformat(),
            w.opened_at.strftime("%Y-%m-%d %H:%M:%S"),
        ]


def write_warnings(path: Path, warnings: Iterable[RiskWarning]) -> int:
    """Write the §4 file; returns the number of rows. Unknown extensions are refused before anything is written."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise ValueError(f"{path.name}: 只支持 .csv 或 .xlsx")
    header = [zh for _, zh in HEADERS]
    count = 0
    tmp = path.with_name(path.name + ".part")
    if suffix == ".csv":
        with open(tmp, "w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(header)
            for row in warning_rows(warnings):
                writer.writerow([csv_text(v) for v in row])
                count += 1
    else:
        import xlsxwriter

        book = xlsxwriter.Workbook(str(tmp), xlsx_options(constant_memory=True))
        sheet = book.add_worksheet("预警名单")
        bold = book.add_format({"bold": True})
        sheet.write_row(0, 0, header, bold)
        for count, row in enumerate(warning_rows(warnings), start=1):
            row_out: list = list(row)
            row_out[3] = float(row[3])
            sheet.write_row(count, 0, row_out)
        sheet.set_column(0, 1, 20)
        sheet.set_column(5, 5, 80)
        book.close()
    tmp.replace(path)  # never leave half a file under the real name
    return count


def risk_label(codes: str) -> str:
    return "、".join(RISK_CODES.get(c, c) for c in codes.split(";") if c)
