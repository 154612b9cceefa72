"""Sheet layout (INTERCHANGE.md quirks): title rows, merged header cells, totals rows, empty rows, hidden columns,
header spellings, sheets — and that every row keeps the row number Excel shows."""

from __future__ import annotations

from decimal import Decimal

import pytest
from openpyxl import Workbook

from engine.ingest import INCOME, REGISTRY, IngestFileError, load_table

from .helpers import (
    ID1,
    ID2,
    ID3,
    REG_HEADER,
    VILLAGE,
    by,
    clean_rows,
    errors,
    reg_row,
    write_csv,
    write_xlsx,
)


def test_title_rows_are_skipped_and_row_numbers_match_excel(tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(["威宁县2024年防返贫监测台账"])
    sheet.merge_cells("A1:E1")
    sheet.append(["填报单位：草海镇", None, None, "填报日期：2024年3月5日"])
    sheet.append(REG_HEADER)
    sheet.append(reg_row("H1", "张三", ID1))
    sheet.append(reg_row("H2", "李四", ID2[:-1] + "0"))
    book.save(tmp_path / "t.xlsx")
    result = load_table(tmp_path / "t.xlsx", REGISTRY)
    assert result.header_row == 3
    assert [r["source_row"] for r in clean_rows(result)] == [4]
    assert errors(result) == [(5, "证件号码", "id_bad_checksum", "error")]


def test_two_row_header_with_merged_group_label(tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(["威宁县2024年农户收入台账"])
    sheet.append(["户编号", "年度", "收入情况", None, "三保障"])
    sheet.append([None, None, "工资性收入（元）", "转移性收入(元)", "住房出现安全问题"])
    for cells in ("A2:A3", "B2:B3", "C2:D2"):
        sheet.merge_cells(cells)
    sheet.append(["H1", 2024, 30000, 2000, "否"])
    book.save(tmp_path / "m.xlsx")
    result = load_table(tmp_path / "m.xlsx", INCOME)
    assert result.header_row == 3
    row = by(result)["H1"]
    assert (row["wage_income"], row["transfer_income"], row["housing_unsafe"]) == (
        Decimal(30000),
        Decimal(2000),
        False,
    )
    assert row["source_row"] == 4 and result.warnings == []


def test_merged_header_cell_leaving_an_empty_header_cell(tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(["户编号", "行政区划代码", "姓名", "证件号码", None, "与户主关系"])
    sheet.merge_cells("D1:E1")  # one header over two columns; the ID is in the first
    sheet.append(["H1", VILLAGE, "张三", ID1, None, "户主"])
    book.save(tmp_path / "m.xlsx")
    result = load_table(tmp_path / "m.xlsx", REGISTRY)
    assert by(result)["H1"]["id_number"] == ID1 and result.warnings == []


@pytest.mark.parametrize("label", ["合计", "总计：", "小计", "合 计（3户）"])
def test_totals_row_at_the_bottom_is_skipped(tmp_path, label):
    rows = [
        ["户编号", "年度", "工资性收入"],
        ["H1", 2024, 100],
        ["H2", 2024, 200],
        [label, None, 300],
    ]
    result = load_table(write_xlsx(tmp_path / "t.xlsx", rows), INCOME)
    assert result.rows_read == 2 and errors(result) == []


def test_totals_row_with_required_fields_filled_is_rejected_not_imported(tmp_path):
    rows = [["户编号", "年度", "工资性收入"], ["H1", "2024", "100"], ["合计", "2024", "100"]]
    result = load_table(write_csv(tmp_path / "t.csv", rows), INCOME)
    assert errors(result) == [(3, "", "totals_row", "error")]
    assert list(by(result)) == ["H1"]


def test_empty_rows_are_skipped_and_later_rows_keep_their_numbers(tmp_path):
    rows = [
        REG_HEADER,
        reg_row("H1", "a", ID1),
        [None] * 5,
        [],
        reg_row("H2", "b", ID2),
        ["  ", None, "", None, None],
    ]
    result = load_table(write_xlsx(tmp_path / "e.xlsx", rows), REGISTRY)
    assert result.rows_read == 2
    assert {r["household_no"]: r["source_row"] for r in clean_rows(result)} == {"H1": 2, "H2": 5}


def test_sheet_starting_below_empty_rows_keeps_excel_row_numbers(tmp_path):
    book = Workbook()
    sheet = book.active
    for j, text in enumerate(REG_HEADER, start=2):
        sheet.cell(row=4, column=j, value=text)
    for j, text in enumerate(reg_row("H1", "a", ID1), start=2):
        sheet.cell(row=5, column=j, value=text)
    book.save(tmp_path / "s.xlsx")
    result = load_table(tmp_path / "s.xlsx", REGISTRY)
    assert result.header_row == 4 and clean_rows(result)[0]["source_row"] == 5


def test_hidden_column_duplicating_a_visible_one_is_ignored(tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(["户编号", "年度", "工资性收入", "工资性收入", "备注"])
    sheet.append(["H1", 2024, 1, 30000, "x"])
    sheet.column_dimensions["C"].hidden = True  # an old copy kept aside
    book.save(tmp_path / "h.xlsx")
    result = load_table(tmp_path / "h.xlsx", INCOME)
    assert by(result)["H1"]["wage_income"] == Decimal(30000)
    assert result.warnings == ["未识别的列已忽略：工资性收入、备注"]


def test_hidden_column_that_is_the_only_one_is_read_with_a_warning(tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(["户编号", "年度", "转移性收入"])
    sheet.append(["H1", 2024, 1500])
    sheet.column_dimensions["C"].hidden = True
    book.save(tmp_path / "h.xlsx")
    result = load_table(tmp_path / "h.xlsx", INCOME)
    assert by(result)["H1"]["transfer_income"] == Decimal(1500)
    assert result.warnings == ["以下隐藏列已按正常列读取：转移性收入"]


def test_header_spelling_variants_and_canonical_english_names(tmp_path):
    rows = [
        [" 户 编 号 ", "*行政区划代码", "姓　名", "ID_Number", "RELATION", "务工时间（月）", "ｐｈｏｎｅ"],
        ["H1", VILLAGE, "张三", ID1, "户主", "6", "13800001234"],
    ]
    result = load_table(write_csv(tmp_path / "r.csv", rows), REGISTRY)
    row = by(result)["H1"]
    assert (row["relation"], row["work_months"], row["phone"]) == ("head", 6, "13800001234")
    assert result.columns["id_number"] == "ID_Number" and result.columns["work_months"] == "务工时间（月）"


def test_unknown_columns_are_ignored_and_listed(tmp_path):
    rows = [[*REG_HEADER, "备注", "填表人"], [*reg_row("H1", "a", ID1), "无", "王"]]
    result = load_table(write_csv(tmp_path / "r.csv", rows), REGISTRY)
    assert result.warnings == ["未识别的列已忽略：备注、填表人"] and result.rows_rejected == 0


def test_missing_required_columns_name_them_in_chinese(tmp_path):
    rows = [["户编号", "行政区划代码", "姓名"], ["H1", VILLAGE, "a"]]
    with pytest.raises(IngestFileError, match=r"r\.csv：缺少必填列：证件号码、与户主关系（表头在第1行）"):
        load_table(write_csv(tmp_path / "r.csv", rows), REGISTRY)


def test_no_header_in_the_first_rows(tmp_path):
    with pytest.raises(IngestFileError, match=r"x\.csv：前30行中找不到表头（应包含：户编号、年度）"):
        load_table(write_csv(tmp_path / "x.csv", [["随便", "什么"], ["1", "2"]]), INCOME)


def test_header_after_many_title_rows_is_found_within_thirty(tmp_path):
    rows = [[f"说明第{i}行"] for i in range(1, 29)] + [["户编号", "年度"], ["H1", "2024"]]
    result = load_table(write_csv(tmp_path / "i.csv", rows), INCOME)
    assert result.header_row == 29 and by(result)["H1"]["source_row"] == 30


def test_first_sheet_by_default_other_sheets_on_request(tmp_path):
    book = Workbook()
    book.active.title = "说明"
    book.active.append(["户编号", "年度"])
    book.active.append(["H1", 2023])
    second = book.create_sheet("2024年")
    second.append(["户编号", "年度"])
    second.append(["H2", 2024])
    book.save(tmp_path / "s.xlsx")
    assert list(by(load_table(tmp_path / "s.xlsx", INCOME))) == ["H1"]
    assert list(by(load_table(tmp_path / "s.xlsx", INCOME, sheet="2024年"))) == ["H2"]
    assert list(by(load_table(tmp_path / "s.xlsx", INCOME, sheet=1))) == ["H2"]
    with pytest.raises(IngestFileError, match="找不到工作表“2025年”"):
        load_table(tmp_path / "s.xlsx", INCOME, sheet="2025年")


def test_hidden_columns_are_read_from_the_requested_sheet(tmp_path):
    book = Workbook()
    book.active.append(["户编号", "年度"])
    second = book.create_sheet("收入")
    second.append(["户编号", "年度", "工资性收入", "工资性收入"])
    second.append(["H1", 2024, 1, 2])
    second.column_dimensions["C"].hidden = True
    book.save(tmp_path / "s.xlsx")
    assert by(load_table(tmp_path / "s.xlsx", INCOME, sheet="收入"))["H1"]["wage_income"] == 2


def test_header_only_file_has_no_rows_and_says_so(tmp_path):
    result = load_table(write_csv(tmp_path / "r.csv", [REG_HEADER]), REGISTRY)
    assert result.rows_read == 0 and result.warnings == ["表头（第1行）以下没有数据行"]
    assert list(result.iter_clean()) == []


def test_rows_read_counts_data_rows_only(tmp_path):
    rows = [
        ["标题"],
        REG_HEADER,
        reg_row("H1", "a", ID1),
        [],
        reg_row("H2", "b", ID3),
        ["合计", "", "", "", ""],
    ]
    result = load_table(write_csv(tmp_path / "r.csv", rows), REGISTRY)
    assert (result.rows_read, result.rows_rejected) == (2, 0)


def test_totals_row_with_a_count_under_a_required_column_is_skipped(tmp_path):
    rows = [
        REG_HEADER,
        reg_row("H1", "a", ID1),
        reg_row("H1", "b", ID2, "配偶"),
        ["合计", None, "2人", None, None],
    ]
    result = load_table(write_xlsx(tmp_path / "t.xlsx", rows), REGISTRY)
    assert (result.rows_read, errors(result)) == (2, [])
