"""Files with every real-world quirk of INTERCHANGE.md, built from a sample of the run (≤ 2,000 member rows): what a
township office uploads after the data went through Excel a few times.

- registry_quirks.xlsx: title and unit rows above a merged group-header row, the header, a hidden old copy of the ID
  column and a hidden remarks column, IDs stored as numbers (precision lost), lower-case x, 15-digit IDs, full-width
  digits, leading apostrophes, spaces; birth dates as real Excel dates, Excel serials, 2024/3/5, 2024-03-05,
  2024年3月5日, 20240305; phones as numbers; empty rows; a totals row.
- income_quirks.xlsx: title and unit rows, a two-row header with merged group cells, money with thousands
  separators, 元, ¥, full-width digits, numbers, blank vs 0; a hidden helper column; empty rows; a totals row.
- registry_quirks_gb18030.csv / registry_quirks_bom.csv / income_quirks_gb18030.csv / income_quirks_bom.csv: the
  text quirks in GB18030 and UTF-8-with-BOM CSV (CRLF), with a title row, an empty row, empty rows between the data
  and a totals row; IDs as Excel shows them (5.20526199001011E+17) and dates as serials in text.
`truth/quirk_rows.csv` lists, per data row, the true key, the quirks applied and what an importer should do."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import date, datetime
from pathlib import Path

import numpy as np
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from .codes import EDU_LABELS, HEALTH_LABELS, LAB_LABELS, MIG_LABELS, REL_LABELS, SEX, STU_LABELS, YES_NO
from .idnumbers import excel_damaged, to_15
from .model import Run
from .tables import HOUSEHOLD_TYPES, INCOME_HEADERS, REGISTRY_HEADERS, uninsured
from .timeline import BUSINESS, CLAIM, COST, OOP, PROPERTY, TRANSFER, WAGE

MAX_ROWS = 2000
FULL = str.maketrans("0123456789", "０１２３４５６７８９")
ID_QUIRKS = (
    "lower_x",
    "id15",
    "full_width",
    "plain",
    "apostrophe",
    "spaces",
    "plain",
    "id15",
    "number",
    "plain",
)
DATE_QUIRKS = ("excel_date", "serial", "slash", "iso", "chinese", "compact")
MONEY_QUIRKS = ("thousands", "yuan", "full_width", "number", "yen_thousands", "plain")
ID_COL, BIRTH_COL = REGISTRY_HEADERS.index("证件号码"), REGISTRY_HEADERS.index("出生日期")
Truth = list[list[object]]


def _save(book: Workbook, path: Path) -> None:
    """Save with fixed timestamps (document properties and zip entries), so that the same seed gives the same bytes."""
    raw = io.BytesIO()
    book.save(raw)
    fixed = (2024, 12, 31, 0, 0, 0)
    with zipfile.ZipFile(raw) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                stamp = b"2024-12-31T00:00:00Z"
                data = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>" + stamp, data)
            target.writestr(zipfile.ZipInfo(info.filename, date_time=fixed), data, zipfile.ZIP_DEFLATED)


def _sample(rng: np.random.Generator, r: Run) -> np.ndarray:
    """Members of randomly chosen households (≤ MAX_ROWS rows), in registry order."""
    pop = r.pop
    chosen = np.sort(rng.permutation(pop.households)[: max(1, MAX_ROWS // 3)])
    members = np.concatenate([np.arange(pop.first[h], pop.first[h] + pop.size[h]) for h in chosen.tolist()])
    return members[:MAX_ROWS]


def _registry_rows(r: Run, members: np.ndarray) -> list[list[str]]:
    pop = r.pop
    h = pop.hh[members]
    cols = [
        pop.household_no[h].tolist(),
        pop.village_code[h].tolist(),
        HOUSEHOLD_TYPES[pop.former_poor[h].astype(np.int64)].tolist(),
        r.truth.category[h].tolist(),
        pop.name[members].tolist(),
        pop.id_number[members].tolist(),
        REL_LABELS[pop.relation[members]].tolist(),
        SEX[pop.male[members].astype(np.int64)].tolist(),
        np.datetime_as_string(pop.birth[members], unit="D").tolist(),
        EDU_LABELS[pop.education[members]].tolist(),
        STU_LABELS[pop.student[members]].tolist(),
        HEALTH_LABELS[pop.health[members]].tolist(),
        [str(g) if g else "" for g in pop.disability_grade[members].tolist()],
        LAB_LABELS[pop.labour[members]].tolist(),
        MIG_LABELS[pop.migrant[members]].tolist(),
        pop.work_months[members].astype(str).tolist(),
        YES_NO[pop.insured[members].astype(np.int64)].tolist(),
        pop.phone[h].tolist(),
    ]
    return [list(row) for row in zip(*cols, strict=True)]


def _id_variant(idn: str, k: int, excel: bool) -> tuple[object, str]:
    """The k-th quirk of the cycle that applies to this ID (lower-case x needs an X, 15 digits a 19xx birth)."""
    for step in range(len(ID_QUIRKS)):
        quirk = ID_QUIRKS[(k + step) % len(ID_QUIRKS)]
        if quirk == "number" and idn[-1].isdigit():
            return (float(idn) if excel else excel_damaged([idn])[0]), quirk
        if quirk == "lower_x" and idn.endswith("X"):
            return idn.lower(), quirk
        if quirk == "id15" and idn[6:8] == "19":
            return to_15([idn])[0], quirk
        if quirk == "full_width":
            return idn.translate(FULL), quirk
        if quirk == "apostrophe":
            return "'" + idn, quirk
        if quirk == "spaces":
            return f" {idn} ", quirk
        if quirk == "plain":
            return idn, quirk
    return idn, "plain"


def _date_variant(iso: str, k: int, excel: bool) -> tuple[object, str]:
    day = date.fromisoformat(iso)
    quirk = DATE_QUIRKS[k % len(DATE_QUIRKS)]
    if quirk == "excel_date" and not excel:
        quirk = "iso"
    value: object = {
        "excel_date": datetime(day.year, day.month, day.day),
        "serial": (day - date(1899, 12, 30)).days,
        "slash": f"{day.year}/{day.month}/{day.day}",
        "iso": iso,
        "chinese": f"{day.year}年{day.month}月{day.day}日",
        "compact": iso.replace("-", ""),
    }[quirk]
    return (str(value) if quirk == "serial" and not excel else value), quirk


def _money_variant(amount: float, k: int, excel: bool) -> tuple[object, str]:
    if amount == 0:
        return ("" if k % 2 else "0"), ("blank" if k % 2 else "zero")
    quirk = MONEY_QUIRKS[k % len(MONEY_QUIRKS)]
    value: object = {
        "thousands": f"{amount:,.2f}",
        "yuan": f"{amount:.0f}元",
        "full_width": f"{amount:.0f}".translate(FULL),
        "number": round(amount, 2) if excel else f"{amount:.2f}",
        "yen_thousands": f"¥{amount:,.2f}",
        "plain": f"{amount:.2f}",
    }[quirk]
    return value, quirk


def _quirky_registry(rows: list[list[str]], excel: bool) -> tuple[list[list[object]], list[str]]:
    out, tags = [], []
    for k, row in enumerate(rows):
        new: list[object] = list(row)
        new[ID_COL], id_quirk = _id_variant(row[ID_COL], k, excel)
        new[BIRTH_COL], date_quirk = _date_variant(row[BIRTH_COL], k // 2, excel)
        quirks = [id_quirk, date_quirk]
        if excel and k % 5 == 0:
            new[-1] = int(row[-1])  # phone stored as a number
            quirks.append("phone_number")
        out.append(new)
        tags.append(";".join(quirks))
    return out, tags


def _expected(tag: str) -> str:
    return "reject:id_excel_damaged" if tag.startswith("number") else "ok"


def _registry_xlsx(path: Path, title: str, rows: list[list[str]], truth: Truth) -> None:
    data, tags = _quirky_registry(rows, excel=True)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "台账"
    width = len(REGISTRY_HEADERS) + 2
    sheet.append([title])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    sheet.append(
        ["填报单位：（盖章）", None, None, None, None, None, "填报日期：2024年12月", None, None, "单位：人"]
    )
    sheet.append(
        ["家庭基本信息", None, None, None, "成员信息", *[None] * 8, "就业与保障", *[None] * 4, "其他"]
    )
    for lo, hi in ((1, 4), (5, 13), (14, 18), (19, 20)):
        sheet.merge_cells(start_row=3, start_column=lo, end_row=3, end_column=hi)
    sheet.append([*REGISTRY_HEADERS, "证件号码", "内部备注"])  # an old copy of the ID column, hidden
    line = 5
    for k, (row, tag) in enumerate(zip(data, tags, strict=True)):
        old = to_15([rows[k][ID_COL]])[0] if rows[k][ID_COL][6:8] == "19" else ""
        sheet.append([*row, old, "已核实" if k % 7 == 0 else None])
        truth.append([path.name, line, rows[k][ID_COL], tag, _expected(tag)])
        line += 1
        if k % 150 == 75:
            sheet.append([])
            line += 1
    sheet.append(["合计", None, None, None, f"{len(data)}人"])
    for col in (width - 1, width):
        sheet.column_dimensions[get_column_letter(col)].hidden = True
    _save(book, path)


def _income_rows(r: Run, households: np.ndarray, year_index: int) -> list[list[object]]:
    y = r.yearly[households, year_index, :]
    money = np.round(np.maximum(y[:, [WAGE, BUSINESS, PROPERTY, TRANSFER, COST, CLAIM, OOP]], 0), 2)
    flags = [r.flags[k][households, year_index] for k in ("housing", "dropout", "water")]
    flags.append(uninsured(r)[households])
    year = r.tl.years[year_index]
    rows = []
    for i, h in enumerate(households.tolist()):
        rows.append(
            [r.pop.household_no[h], year, *money[i].tolist(), *["是" if f[i] else "否" for f in flags]]
        )
    return rows


def _number(value: object) -> float:
    return float(value) if isinstance(value, int | float | str) else 0.0


def _quirky_income(rows: list[list[object]], excel: bool) -> tuple[list[list[object]], list[str]]:
    out, tags = [], []
    for k, row in enumerate(rows):
        cells: list[object] = [row[0], row[1] if excel else str(row[1])]
        quirks = set()
        for j, amount in enumerate(row[2:9]):
            value, quirk = _money_variant(_number(amount), k + j, excel)
            cells.append(value)
            quirks.add(quirk)
        out.append(cells + row[9:])
        tags.append(";".join(sorted(quirks)))
    return out, tags


def _income_xlsx(path: Path, title: str, rows: list[list[object]], truth: Truth) -> None:
    data, tags = _quirky_income(rows, excel=True)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append([title])
    sheet.merge_cells("A1:N1")
    sheet.append([None] * 12 + ["单位：元"])
    groups = ["户编号", "年度", "收入情况", None, None, None, "支出情况", "理赔及自付", None, "三保障及饮水"]
    sheet.append([*groups, None, None, None, "家庭纯收入（辅助列）"])
    sheet.append([None, None, *INCOME_HEADERS[2:], None])
    for cells in ("A3:A4", "B3:B4", "C3:F3", "H3:I3", "J3:M3", "N3:N4"):
        sheet.merge_cells(cells)
    line = 5
    for k, (row, tag) in enumerate(zip(data, tags, strict=True)):
        money = [_number(v) for v in rows[k][2:9]]
        sheet.append([*row, round(sum(money[:4]) - money[4], 2)])
        truth.append([path.name, line, row[0], tag, "ok"])
        line += 1
        if k % 120 == 60:
            sheet.append([])
            line += 1
    totals = [round(sum(_number(r[j]) for r in rows), 2) for j in range(2, 9)]
    sheet.append(["总计", None, *totals])
    sheet.column_dimensions["N"].hidden = True
    _save(book, path)


def _csv(path: Path, encoding: str, title: str, header: list[str], data: list[list[object]]) -> None:
    with open(path, "w", newline="", encoding=encoding) as fh:
        writer = csv.writer(fh, lineterminator="\r\n")
        writer.writerow([title])
        writer.writerow([])
        writer.writerow(header)
        for k, row in enumerate(data):
            writer.writerow(row)
            if k % 200 == 100:
                writer.writerow([""] * len(header))
        writer.writerow(["合计", "", "", "", f"{len(data)}条"])


def _csv_truth(name: str, keys: list[str], tags: list[str], registry: bool, truth: Truth) -> None:
    line = 4
    for k, (key, tag) in enumerate(zip(keys, tags, strict=True)):
        truth.append([name, line, key, tag, _expected(tag) if registry else "ok"])
        line += 2 if k % 200 == 100 else 1


def write_quirk_files(rng: np.random.Generator, r: Run, out: Path) -> dict[str, int]:
    members = _sample(rng, r)
    rows = _registry_rows(r, members)
    households = np.unique(r.pop.hh[members])
    income = _income_rows(r, households, min(1, len(r.tl.years) - 1))
    name = r.pop.county.name
    year = income[0][1]
    truth: Truth = []
    _registry_xlsx(out / "registry_quirks.xlsx", f"{name}防止返贫监测对象家庭成员信息台账", rows, truth)
    _income_xlsx(out / "income_quirks.xlsx", f"{year}年度农户家庭收入及“三保障”情况统计表", income, truth)
    reg_text, reg_tags = _quirky_registry(rows, excel=False)
    inc_text, inc_tags = _quirky_income(income, excel=False)
    counts = {"registry_quirks.xlsx": len(rows), "income_quirks.xlsx": len(income)}
    for suffix, encoding in (("gb18030", "gb18030"), ("bom", "utf-8-sig")):
        reg_name, inc_name = f"registry_quirks_{suffix}.csv", f"income_quirks_{suffix}.csv"
        _csv(out / reg_name, encoding, "防止返贫监测台账（导出）", REGISTRY_HEADERS, reg_text)
        _csv(out / inc_name, encoding, f"{year}年度收入情况（导出）", INCOME_HEADERS, inc_text)
        _csv_truth(reg_name, [row[ID_COL] for row in rows], reg_tags, True, truth)
        _csv_truth(inc_name, [str(row[0]) for row in income], inc_tags, False, truth)
        counts[reg_name], counts[inc_name] = len(rows), len(income)
    path = out / "truth" / "quirk_rows.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["file", "line", "key", "quirks", "expected"])
        writer.writerows(truth)
    return counts
