"""Cell values (INTERCHANGE.md quirks): dates, money, booleans, integers, enums, codes and phones — each the
repaired value or the specific row error."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from engine.ingest import INCOME, REGISTRY, Field, TableSpec, load_table

from .helpers import (
    ID1,
    ID2,
    INC_HEADER,
    REG_HEADER,
    VILLAGE,
    by,
    errors,
    messages,
    reg_row,
    write_csv,
    write_xlsx,
)

# --- dates -------------------------------------------------------------------------------------------------------

DATE_FEED_HEADER = [*REG_HEADER, "出生日期"]
# A feed-like table (a household and an event date): nothing overrides the date, so the parsed value shows.
EVENT = TableSpec(
    key="event",
    title_zh="事件",
    natural_key=("household_no", "event_date"),
    fields=(
        Field("household_no", ("户编号",), required=True),
        Field("event_date", ("日期", "事件日期"), "date"),
    ),
)


@pytest.mark.parametrize(
    "cell",
    [
        "45356",
        "45356.0",
        "2024/3/5",
        "2024-03-05",
        "2024年3月5日",
        "20240305",
        "2024.3.5",
        "2024-03-05 00:00:00",
        "2024/03/05 8:30",
        "２０２４年３月５日",
    ],
)
def test_date_forms(tmp_path, cell):
    result = load_table(write_csv(tmp_path / "d.csv", [["户编号", "日期"], ["H1", cell]]), EVENT)
    assert errors(result) == []
    assert by(result)["H1"]["event_date"] == dt.date(2024, 3, 5)


@pytest.mark.parametrize("cell", ["2024-13-01", "2024-02-30", "明年", "24-03-05", "2024", "45356天"])
def test_bad_dates_are_row_errors(tmp_path, cell):
    result = load_table(write_csv(tmp_path / "d.csv", [["户编号", "日期"], ["H1", cell]]), EVENT)
    assert errors(result) == [(2, "日期", "bad_date", "error")]
    assert messages(result)[(2, "bad_date")][0] == cell


def test_xlsx_date_cells_and_serial_numbers(tmp_path):
    rows = [
        DATE_FEED_HEADER,
        [*reg_row("H1", "a", ID1), dt.datetime(1980, 1, 1)],  # a real date cell
        [*reg_row("H2", "b", ID2), 31080],  # serial number of 1985-02-02 in a number cell
        [*reg_row("H3", "c", ID1[:-1] + "7"), "29221"],  # serial as text (row rejected for its ID)
    ]
    result = load_table(write_xlsx(tmp_path / "d.xlsx", rows), REGISTRY)
    got = by(result)
    assert got["H1"]["birth_date"] == dt.date(1980, 1, 1)
    assert got["H2"]["birth_date"] == dt.date(1985, 2, 2)
    assert errors(result) == [(4, "证件号码", "id_bad_checksum", "error")]  # no date error, no mismatch


# --- money, blank vs 0 -------------------------------------------------------------------------------------------


def _income(tmp_path, cells: list[str]) -> dict:
    header = [*INC_HEADER, "工资性收入", "生产经营性收入", "财产性收入", "转移性收入"]
    rows = [header, ["H1", "2024", *cells]]
    result = load_table(write_csv(tmp_path / "i.csv", rows), INCOME)
    return {"result": result, **by(result).get("H1", {})}


def test_money_forms(tmp_path):
    got = _income(tmp_path, ["1,234.50", "1234元", "１２３４", "¥1,234"])
    assert [got[k] for k in ("wage_income", "business_income", "property_income", "transfer_income")] == [
        Decimal("1234.50"),
        Decimal("1234"),
        Decimal("1234"),
        Decimal("1234"),
    ]


def test_money_blank_stays_null_and_zero_is_zero(tmp_path):
    got = _income(tmp_path, ["", "0", "  ", "0.00"])
    assert got["wage_income"] is None and got["property_income"] is None
    assert got["business_income"] == 0 and got["transfer_income"] == 0


def test_money_errors(tmp_path):
    result = _income(tmp_path, ["-5", "abc", "1.2万", ""])["result"]
    assert errors(result) == [
        (2, "工资性收入", "out_of_range", "error"),
        (2, "生产经营性收入", "bad_money", "error"),
        (2, "财产性收入", "bad_money", "error"),
    ]
    assert messages(result)[(2, "out_of_range")] == ("-5", "不能为负数")


def test_money_type_is_decimal_with_cents(tmp_path):
    result = _income(tmp_path, ["1", "", "", ""])["result"]
    types = dict(
        result.con.execute(f"SELECT column_name, column_type FROM (DESCRIBE {result.clean})").fetchall()
    )
    assert types["wage_income"] == "DECIMAL(14,2)" and types["year"] == "INTEGER"
    assert types["housing_unsafe"] == "BOOLEAN" and types["source_row"] == "INTEGER"


# --- booleans and integers --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "value"),
    [
        ("是", True),
        ("否", False),
        ("Y", True),
        ("n", False),
        ("1", True),
        ("0", False),
        ("TRUE", True),
        ("false", False),
        ("√", True),
        ("×", False),
        ("", None),
    ],
)
def test_bool_forms(tmp_path, cell, value):
    rows = [[*INC_HEADER, "住房出现安全问题"], ["H1", "2024", cell]]
    result = load_table(write_csv(tmp_path / "b.csv", rows), INCOME)
    assert by(result)["H1"]["housing_unsafe"] is value


def test_bad_bool_is_row_error(tmp_path):
    rows = [[*INC_HEADER, "饮水出现安全问题"], ["H1", "2024", "也许"]]
    result = load_table(write_csv(tmp_path / "b.csv", rows), INCOME)
    assert errors(result) == [(2, "饮水出现安全问题", "bad_bool", "error")]


def test_xlsx_whole_floats_become_integers(tmp_path):
    rows = [[*REG_HEADER, "务工时间(月)"], [*reg_row("H1", "a", ID1), 12.0]]
    result = load_table(write_xlsx(tmp_path / "w.xlsx", rows), REGISTRY)
    assert by(result)["H1"]["work_months"] == 12
    rows = [INC_HEADER, ["H1", 2024.0]]
    assert by(load_table(write_xlsx(tmp_path / "y.xlsx", rows), INCOME))["H1"]["year"] == 2024


@pytest.mark.parametrize(
    ("header", "cell", "code", "message"),
    [
        ("残疾等级", "5", "out_of_range", "超出允许范围（1–4）"),
        ("残疾等级", "二级", "bad_int", "应为整数"),
        ("务工时间(月)", "13", "out_of_range", "超出允许范围（0–12）"),
        ("务工时间(月)", "6.5", "bad_int", "应为整数"),
    ],
)
def test_integer_errors(tmp_path, header, cell, code, message):
    rows = [[*REG_HEADER, header], [*reg_row("H1", "a", ID1), cell]]
    result = load_table(write_csv(tmp_path / "r.csv", rows), REGISTRY)
    assert errors(result) == [(2, header, code, "error")]
    assert messages(result)[(2, code)] == (cell, message)


def test_year_out_of_range(tmp_path):
    result = load_table(write_csv(tmp_path / "i.csv", [INC_HEADER, ["H1", "1999"]]), INCOME)
    assert errors(result) == [(2, "年度", "out_of_range", "error")]


# --- enums, codes, phones ---------------------------------------------------------------------------------------


def test_enum_label_alias_and_code_all_map_to_the_code(tmp_path):
    header = [*REG_HEADER, "健康状况", "户类型", "劳动技能", "务工状况"]
    rows = [
        header,
        [*reg_row("H1", "a", ID1, "户主"), "患有大病", "脱贫户", "普通劳动力", "省外务工"],
        [*reg_row("H2", "b", ID1, "妻"), "大病", "一般户", "半劳动力", "无"],
        [*reg_row("H3", "c", ID1, "head"), "Serious", " 脱贫户（含监测户） ", "weak", "none"],
    ]
    result = load_table(write_csv(tmp_path / "e.csv", rows), REGISTRY)
    assert errors(result) == []
    got = by(result)
    assert [
        got["H1"][k] for k in ("relation", "health", "household_type", "labour_capacity", "migrant_work")
    ] == ["head", "serious", "former_poor", "ordinary", "out_of_province"]
    assert [
        got["H2"][k] for k in ("relation", "health", "household_type", "labour_capacity", "migrant_work")
    ] == ["spouse", "serious", "general", "weak", "none"]
    assert [
        got["H3"][k] for k in ("relation", "health", "household_type", "labour_capacity", "migrant_work")
    ] == ["head", "serious", "former_poor", "weak", "none"]


def test_unknown_enum_strict_is_error_and_non_strict_is_warning_with_null(tmp_path):
    rows = [
        [*REG_HEADER, "文化程度", "在校生状况", "健康状况"],
        [*reg_row("H1", "a", ID1), "博士后", "在读", "健康"],
        [*reg_row("H2", "b", ID2, "邻居"), "初中", "在校生", "很好"],
    ]
    result = load_table(write_csv(tmp_path / "e.csv", rows), REGISTRY)
    assert errors(result) == [
        (2, "文化程度", "unknown_value", "warning"),
        (2, "在校生状况", "unknown_value", "warning"),
        (3, "与户主关系", "unknown_value", "error"),
        (3, "健康状况", "unknown_value", "error"),
    ]
    row = by(result)["H1"]
    assert row["education"] is None and row["student_status"] is None and row["health"] == "healthy"
    assert messages(result)[(2, "unknown_value")][1].endswith("已按空值处理")
    assert result.rows_rejected == 1


@pytest.mark.parametrize(
    ("cell", "value", "code"),
    [
        (VILLAGE, VILLAGE, None),
        (f" {VILLAGE}.0", VILLAGE, None),
        ("520526101", None, "bad_region_code"),
        ("52052610100a", None, "bad_region_code"),
        ("", None, "required"),
    ],
)
def test_village_code(tmp_path, cell, value, code):
    rows = [REG_HEADER, ["H1", cell, "a", ID1, "户主"]]
    result = load_table(write_csv(tmp_path / "v.csv", rows), REGISTRY)
    if code is None:
        assert by(result)["H1"]["village_code"] == value
    else:
        assert errors(result) == [(2, "行政区划代码", code, "error")]


@pytest.mark.parametrize(
    ("cell", "value"),
    [
        ("138 0000 1234", "13800001234"),
        ("0857-1234567", "08571234567"),
        ("+86 13800001234", "13800001234"),
        ("(0857)8221234", "08578221234"),
        ("", None),
        ("１３８００００１２３４", "13800001234"),
    ],
)
def test_phone_repairs(tmp_path, cell, value):
    rows = [[*REG_HEADER, "联系电话"], [*reg_row("H1", "a", ID1), cell]]
    assert by(load_table(write_csv(tmp_path / "p.csv", rows), REGISTRY))["H1"]["phone"] == value


@pytest.mark.parametrize("cell", ["12345", "1380000123456789", "138-abc"])
def test_bad_phone_is_row_error(tmp_path, cell):
    rows = [[*REG_HEADER, "联系电话"], [*reg_row("H1", "a", ID1), cell]]
    result = load_table(write_csv(tmp_path / "p.csv", rows), REGISTRY)
    assert errors(result) == [(2, "联系电话", "bad_phone", "error")]


def test_long_number_damaged_by_excel_in_a_text_column(tmp_path):
    rows = [REG_HEADER, [52052610100300012.0, VILLAGE, "a", ID1, "户主"]]
    result = load_table(write_xlsx(tmp_path / "h.xlsx", rows), REGISTRY)
    assert errors(result) == [(2, "户编号", "excel_number", "error")]
