"""Every real-world quirk of INTERCHANGE.md, end to end through load_table: the repaired value, or the specific row
error with its row number. (Kept beside the finer-grained tests in test_values/test_layout/test_files.)"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook

from engine.ids import check_char
from engine.ingest import INCOME, REGISTRY, IngestFileError, load_table, write_error_report

VILLAGE = "520526100001"


def pid(first17: str) -> str:
    return first17 + check_char(first17)


ID1 = pid("52052619800101001")  # male, 1980-01-01
ID2 = pid("52052619850202002")  # female
REG_HEADER = ["户编号", "行政区划代码", "姓名", "证件号码", "与户主关系"]


def reg_row(no: str, name: str, idn: object, relation: str = "户主") -> list[object]:
    return [no, VILLAGE, name, idn, relation]


def write_csv(path: Path, rows: list[list[object]], encoding: str = "utf-8") -> Path:
    import csv

    with open(path, "w", newline="", encoding=encoding) as fh:
        csv.writer(fh).writerows(rows)
    return path


def clean_rows(result) -> list[dict]:
    return [r for batch in result.iter_clean() for r in batch]


def errors(result) -> list[tuple]:
    return result.con.execute(
        f'SELECT source_row, "column", code, severity FROM {result.errors} ORDER BY source_row'
    ).fetchall()


# --- ID numbers -----------------------------------------------------------------------------------------------


def test_excel_numeric_id_cells_are_rejected_as_damaged(tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(REG_HEADER)
    sheet.append(reg_row("H1", "张三", float(ID1[:17] + "1")))  # a number cell: Excel keeps 15 digits
    sheet.append(reg_row("H1", "李四", ID2))
    book.save(tmp_path / "r.xlsx")
    result = load_table(tmp_path / "r.xlsx", REGISTRY)
    assert errors(result) == [(2, "证件号码", "id_excel_damaged", "error")]
    message = result.con.execute(f"SELECT message, value FROM {result.errors}").fetchone()
    assert "Excel" in message[0] and message[1].endswith("E+17")
    assert [r["id_number"] for r in clean_rows(result)] == [ID2]


def test_id_text_repairs(tmp_path):
    old15 = "110105491231002"
    rows = [
        REG_HEADER,
        reg_row("H1", "a", ID2[:-1] + "x" if ID2.endswith("X") else ID2),
        reg_row("H2", "b", "11010519491231002x"),
        reg_row("H3", "c", old15),
        reg_row("H4", "d", " '" + ID1 + " "),
        reg_row("H5", "e", "".join(chr(ord(c) + 0xFEE0) for c in ID1[:-1]) + ID1[-1]),
    ]
    result = load_table(write_csv(tmp_path / "r.csv", rows), REGISTRY)
    got = {r["household_no"]: (r["id_number"], r["id_number_status"]) for r in clean_rows(result)}
    assert got["H2"] == ("11010519491231002X", "valid")
    assert got["H3"] == ("11010519491231002X", "converted")
    assert got["H4"] == (ID1, "valid")
    assert got["H5"] == (ID1, "valid")


def test_bad_ids_have_specific_errors_and_sex_birth_are_derived(tmp_path):
    rows = [
        [*REG_HEADER, "性别", "出生日期"],
        [*reg_row("H1", "a", ID1[:-1] + ("0" if ID1[-1] != "0" else "1")), "", ""],
        [*reg_row("H2", "b", ""), "", ""],
        [*reg_row("H3", "c", ID1), "", ""],
        [*reg_row("H4", "d", ID2), "男", "1985-02-02"],
    ]
    result = load_table(write_csv(tmp_path / "r.csv", rows), REGISTRY)
    assert errors(result) == [
        (2, "证件号码", "id_bad_checksum", "error"),
        (3, "证件号码", "required", "error"),
        (5, "性别", "sex_mismatch", "warning"),
    ]
    got = {r["household_no"]: r for r in clean_rows(result)}
    assert (got["H3"]["sex"], got["H3"]["birth_date"]) == ("male", dt.date(1980, 1, 1))
    assert got["H4"]["sex"] == "female"  # the ID wins, with a warning


# --- dates, money, booleans -----------------------------------------------------------------------------------


def test_excel_date_cells_and_serials(tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append([*REG_HEADER, "出生日期"])
    sheet.append([*reg_row("H1", "a", "99999919900101001X"), dt.datetime(1990, 1, 1)])
    sheet.append([*reg_row("H2", "b", ID1), 29221])  # serial 29221 = 1980-01-01
    book.save(tmp_path / "d.xlsx")
    result = load_table(tmp_path / "d.xlsx", REGISTRY)
    assert [r["birth_date"] for r in clean_rows(result)] == [dt.date(1980, 1, 1)]
    assert errors(result)[0][2] in ("id_bad_checksum", "id_bad_format")


def test_money_forms_and_blank_versus_zero(tmp_path):
    header = [
        "户编号",
        "年度",
        "工资性收入",
        "生产经营性收入",
        "财产性收入",
        "转移性收入",
        "住房出现安全问题",
    ]
    rows = [
        header,
        ["H1", "2024", "1,234.50", "1234元", "１２３４", "", "否"],
        ["H2", "2024", "0", "¥800", " 12 000 ", "-", "是"],
        ["H3", "2024", "abc", "-5", "", "", "也许"],
    ]
    result = load_table(write_csv(tmp_path / "i.csv", rows), INCOME)
    got = {r["household_no"]: r for r in clean_rows(result)}
    assert got["H1"]["wage_income"] == Decimal("1234.50")
    assert got["H1"]["business_income"] == Decimal("1234")
    assert got["H1"]["property_income"] == Decimal("1234")
    assert got["H1"]["transfer_income"] is None  # blank is not 0
    assert got["H1"]["housing_unsafe"] is False
    assert got["H2"]["wage_income"] == Decimal("0")
    assert got["H2"]["business_income"] == Decimal("800")
    assert got["H2"]["property_income"] == Decimal("12000")
    assert got["H2"]["transfer_income"] is None and got["H2"]["housing_unsafe"] is True
    assert errors(result) == [
        (4, "工资性收入", "bad_money", "error"),
        (4, "生产经营性收入", "out_of_range", "error"),
        (4, "住房出现安全问题", "bad_bool", "error"),
    ]


# --- layout: title rows, merged headers, totals, empty rows, hidden columns, header spelling ------------------


def test_title_rows_merged_group_header_totals_empty_rows_and_hidden_column(tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(["威宁县2024年农户收入台账"])
    sheet.merge_cells("A1:F1")
    sheet.append(["填报单位：某某镇", None, None, None, "单位：元"])
    sheet.append(["户编号", "年度", "收入情况", None, "旧工资（隐藏）", "备注"])
    sheet.merge_cells("C3:D3")
    sheet.merge_cells("A3:A4")
    sheet.merge_cells("B3:B4")
    sheet.append([None, None, "工资性收入（元）", "转移性收入(元)", "工资性收入", None])
    sheet.column_dimensions["E"].hidden = True
    sheet.append(["H1", 2024, 30000, 2000, 1, "x"])
    sheet.append([None, None, None, None, None, None])
    sheet.append(["H2", 2024.0, "25,000", 0, 2, None])
    sheet.append(["合计", None, 55000, 2000, 3, None])
    book.save(tmp_path / "t.xlsx")
    result = load_table(tmp_path / "t.xlsx", INCOME)
    assert result.header_row == 4
    assert result.rows_read == 2
    got = {r["household_no"]: r for r in clean_rows(result)}
    assert got["H1"]["wage_income"] == Decimal("30000")  # the visible column, not the hidden old copy
    assert got["H2"]["year"] == 2024 and got["H2"]["wage_income"] == Decimal("25000")
    assert {r["source_row"] for r in clean_rows(result)} == {5, 7}
    assert any("备注" in w for w in result.warnings)


def test_header_spelling_variants_and_canonical_names(tmp_path):
    rows = [
        [" 户 编 号 ", "行政区划代码（12位）", "姓　名", "ID_NUMBER", "relation"],
        ["H1", VILLAGE, "张三", ID1, "户主"],
    ]
    result = load_table(write_csv(tmp_path / "r.csv", rows), REGISTRY)
    assert result.rows_rejected == 0 and clean_rows(result)[0]["relation"] == "head"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_encodings(tmp_path, encoding):
    rows = [[*REG_HEADER, "健康状况"], [*reg_row("H1", "龙秀英", ID1), "长期慢性病"]]
    result = load_table(write_csv(tmp_path / "r.csv", rows, encoding), REGISTRY)
    row = clean_rows(result)[0]
    assert (row["name"], row["health"]) == ("龙秀英", "chronic")


# --- whole-file problems and duplicates ------------------------------------------------------------------------


def test_file_level_errors(tmp_path):
    with pytest.raises(IngestFileError, match="缺少必填列：证件号码"):
        load_table(
            write_csv(
                tmp_path / "a.csv",
                [["户编号", "行政区划代码", "姓名", "与户主关系"], ["1", VILLAGE, "x", "户主"]],
            ),
            REGISTRY,
        )
    with pytest.raises(IngestFileError, match="找不到表头"):
        load_table(write_csv(tmp_path / "b.csv", [["随便", "什么"], ["1", "2"]]), REGISTRY)
    (tmp_path / "c.pdf").write_bytes(b"%PDF")
    with pytest.raises(IngestFileError, match="不支持的文件类型"):
        load_table(tmp_path / "c.pdf", REGISTRY)
    (tmp_path / "d.csv").write_bytes(b"")
    with pytest.raises(IngestFileError, match="文件为空"):
        load_table(tmp_path / "d.csv", REGISTRY)
    (tmp_path / "e.xlsx").write_bytes(b"not really a workbook")
    with pytest.raises(IngestFileError, match="无法读取Excel文件"):
        load_table(tmp_path / "e.xlsx", REGISTRY)


def test_duplicate_natural_key_and_unknown_values(tmp_path):
    rows = [
        [*REG_HEADER, "文化程度", "残疾等级"],
        [*reg_row("H1", "a", ID1), "小学", ""],
        [*reg_row("H1", "a", ID1), "", ""],
        [*reg_row("H1", "b", ID2, "邻居"), "博士后", "5"],
    ]
    result = load_table(write_csv(tmp_path / "r.csv", rows), REGISTRY)
    assert errors(result) == [
        (3, "证件号码", "duplicate_key", "error"),
        (4, "与户主关系", "unknown_value", "error"),
        (4, "文化程度", "unknown_value", "warning"),
        (4, "残疾等级", "out_of_range", "error"),
    ]
    message = result.con.execute(
        f"SELECT message FROM {result.errors} WHERE code='duplicate_key'"
    ).fetchone()[0]
    assert message.startswith("与第2行重复")


def test_error_report_layout(tmp_path):
    from openpyxl import load_workbook

    rows = [REG_HEADER, reg_row("H1", "a", "5.20526199001011E+17")]
    result = load_table(write_csv(tmp_path / "r.csv", rows), REGISTRY)
    out = write_error_report(result, tmp_path / "report.xlsx")
    sheet = load_workbook(out).active
    assert [c.value for c in sheet[1]] == ["文件", "行号", "列", "原值", "问题", "级别"]
    assert [c.value for c in sheet[2]][:4] == ["r.csv", 2, "证件号码", "5.20526199001011E+17"]
    assert sheet[2][5].value == "拒绝"
