"""Files with the real-world quirks of INTERCHANGE.md, built from a sample of the clean files: what a township office
really uploads after passing the data through Excel a few times."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from openpyxl import Workbook

FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def _read(path: Path, limit: int) -> tuple[list[str], list[list[str]]]:
    with open(path, encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        rows = []
        for row in reader:
            rows.append(row)
            if len(rows) >= limit:
                break
    return header, rows


def _id_variant(idn: str, k: int) -> object:
    """Rotate through the ways an ID number gets mangled or decorated."""
    kind = k % 8
    if kind == 0 and idn[6:8] == "19":
        return idn[:6] + idn[8:17]  # old 15-digit number
    if kind == 1:
        return float(idn[:17] + "0")  # stored as a number by Excel: precision lost
    if kind == 2:
        return idn.lower()
    if kind == 3:
        return "'" + idn  # leading apostrophe (Excel's text marker, exported literally)
    if kind == 4:
        return " " + idn.translate(FULL_WIDTH) + " "
    return idn


def _date_variant(iso: str, k: int) -> object:
    y, m, d = iso.split("-")
    forms = [f"{int(y)}/{int(m)}/{int(d)}", iso, f"{y}年{int(m)}月{int(d)}日", f"{y}{m}{d}"]
    if k % 5 == 4:
        from datetime import date

        return (date(int(y), int(m), int(d)) - date(1899, 12, 30)).days  # Excel serial number
    return forms[k % 4]


def _money_variant(value: str, k: int) -> object:
    amount = float(value)
    forms = [f"{amount:,.2f}", f"{amount:.0f}元", f"{amount:.0f}".translate(FULL_WIDTH), amount, ""]
    return forms[k % 5] if amount else ("0" if k % 2 else "")


def write_quirk_files(out_dir: Path, rng: np.random.Generator, households: int) -> None:
    header, rows = _read(out_dir / "registry.csv", households * 4)
    quirky = []
    for k, row in enumerate(rows):
        row = list(row)
        row[5] = _id_variant(row[5], k)  # type: ignore[call-overload]
        row[8] = _date_variant(row[8], k)  # type: ignore[call-overload]
        quirky.append(row)
    book = Workbook()
    sheet = book.active
    sheet.title = "台账"
    sheet.append(["威宁彝族回族苗族自治县防止返贫监测对象基础信息台账"])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(header) + 1)
    sheet.append(["填报单位：（盖章）", None, None, None, None, None, "填报日期：2024年12月"])
    sheet.append([*header, "备注（内部）"])
    for k, row in enumerate(quirky):
        sheet.append([*row, "已核实" if k % 7 == 0 else None])
        if k % 97 == 50:
            sheet.append([None] * (len(header) + 1))  # an empty row in the middle
    sheet.append(["合计", None, None, None, f"{len(quirky)}人"])
    sheet.column_dimensions["S"].hidden = True
    book.save(out_dir / "registry_quirks.xlsx")

    header_i, income_rows = _read(out_dir / "income_2024.csv", households)
    book = Workbook()
    sheet = book.active
    sheet.append(["2024年度农户收入情况统计表", None, None, None, None, None, None, None, None, "单位：元"])
    groups = [
        "户编号",
        "年度",
        "收入情况",
        None,
        None,
        None,
        "支出情况",
        None,
        None,
        "三保障及饮水",
        None,
        None,
        None,
    ]
    sheet.append(groups)
    sheet.append([None, None, *header_i[2:]])
    sheet.merge_cells("A2:A3")
    sheet.merge_cells("B2:B3")
    sheet.merge_cells("C2:F2")
    sheet.merge_cells("G2:I2")
    sheet.merge_cells("J2:M2")
    for k, row in enumerate(income_rows):
        sheet.append(
            [row[0], int(row[1]), *(_money_variant(v, k + j) for j, v in enumerate(row[2:9])), *row[9:]]
        )
    sheet.append(["总计", None, *([None] * 11)])
    book.save(out_dir / "income_quirks.xlsx")

    for name, encoding in (("registry_gb18030.csv", "gb18030"), ("registry_bom.csv", "utf-8-sig")):
        with open(out_dir / name, "w", newline="", encoding=encoding) as fh:
            writer = csv.writer(fh)
            writer.writerow(["防止返贫监测台账（导出）"])
            writer.writerow(header)
            writer.writerows(rows[: households * 2])
