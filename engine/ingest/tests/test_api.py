"""The result API: duplicates, iter_clean, JSON records, table checks, the error report, added issues."""

from __future__ import annotations

import datetime as dt

import duckdb
from openpyxl import load_workbook

from engine.ingest import (
    REGISTRY,
    Field,
    TableCheck,
    TableSpec,
    load_table,
    records_to_table,
    write_error_report,
)

from .helpers import (
    ID1,
    ID2,
    ID3,
    REG_HEADER,
    VILLAGE,
    VILLAGE2,
    by,
    clean_rows,
    errors,
    messages,
    reg_row,
    write_csv,
)


def test_duplicate_natural_key_rejects_later_rows_naming_the_first(tmp_path):
    rows = [
        REG_HEADER,
        reg_row("H1", "张三", ID1),
        reg_row("H1", "李四", ID2, "配偶"),
        reg_row("H1", "张三", ID1),
        reg_row("H2", "张三", ID1),  # same person, other household: not this table's key
        reg_row("H1", "张三", "520526800101001"),  # the same ID written in the old 15-digit form
    ]
    result = load_table(write_csv(tmp_path / "r.csv", rows), REGISTRY)
    assert errors(result) == [
        (4, "证件号码", "duplicate_key", "error"),
        (6, "证件号码", "duplicate_key", "error"),
    ]
    assert messages(result)[(4, "duplicate_key")][1] == "与第2行重复（户编号、证件号码相同），本行未导入"
    assert [r["source_row"] for r in clean_rows(result)] == [2, 3, 5]
    assert result.rows_rejected == 2


def test_several_errors_in_one_row_count_once(tmp_path):
    rows = [[*REG_HEADER, "联系电话"], ["H1", "5205", "", ID1[:-1] + "0", "户主", "12"]]
    result = load_table(write_csv(tmp_path / "r.csv", rows), REGISTRY)
    assert [e[2] for e in errors(result)] == ["bad_region_code", "required", "id_bad_checksum", "bad_phone"]
    assert result.rows_rejected == 1 and clean_rows(result) == []


def test_iter_clean_batches_and_order(tmp_path):
    rows = [REG_HEADER] + [reg_row(f"H{9 - i}", f"人{i}", ID1 if i % 2 else ID2) for i in range(9)]
    result = load_table(write_csv(tmp_path / "r.csv", rows), REGISTRY)
    batches = list(result.iter_clean(batch_size=4))
    assert [len(b) for b in batches] == [4, 4, 1]
    assert [r["household_no"] for b in batches for r in b] == [f"H{i}" for i in range(1, 10)]
    by_row = [r["source_row"] for b in result.iter_clean(order_by=("source_row",)) for r in b]
    assert by_row == list(range(2, 11))


def test_clean_columns_and_types(tmp_path):
    result = load_table(write_csv(tmp_path / "r.csv", [REG_HEADER, reg_row("H1", "a", ID1)]), REGISTRY)
    types = dict(
        result.con.execute(f"SELECT column_name, column_type FROM (DESCRIBE {result.clean})").fetchall()
    )
    assert list(types) == [
        "source_row",
        *(f.name for f in REGISTRY.fields),
        "id_number_status",
        "id_number_prefix15",
    ]
    assert types["source_row"] == "INTEGER" and types["birth_date"] == "DATE"
    assert types["disability_grade"] == "INTEGER" and types["basic_medical_insured"] == "BOOLEAN"
    assert types["sex"] == "VARCHAR" and types["id_number_status"] == "VARCHAR"
    etypes = result.con.execute(f"SELECT column_name, column_type FROM (DESCRIBE {result.errors})").fetchall()
    assert etypes == [
        ("file", "VARCHAR"),
        ("source_row", "INTEGER"),
        ("column", "VARCHAR"),
        ("value", "VARCHAR"),
        ("code", "VARCHAR"),
        ("message", "VARCHAR"),
        ("severity", "VARCHAR"),
    ]


def test_records_to_table_validates_json_records_the_same_way():
    records = [
        {"household_no": "H1", "village_code": VILLAGE, "name": "张三", "id_number": ID1, "relation": "户主"},
        {
            "户编号": "H1",
            "行政区划代码": VILLAGE,
            "姓名": "李四",
            "身份证号": ID2,
            "与户主关系": "配偶",
            "出生日期": dt.date(1985, 2, 2),
            "是否参加城乡居民基本医疗保险": True,
            "务工时间(月)": 10,
        },
        {
            "户编号": "H2",
            "行政区划代码": int(VILLAGE2),
            "姓名": "王五",
            "证件号码": float(ID3),
            "与户主关系": "户主",
            "来源系统": "x",
        },
        {"户编号": "H3", "姓名": "赵六", "证件号码": ID3, "与户主关系": "户主"},
    ]
    result = records_to_table(records, REGISTRY)
    got = by(result, "name")
    assert got["张三"]["relation"] == "head"
    assert (got["张三"]["source_row"], got["张三"]["sex"], got["张三"]["birth_date"]) == (
        1,
        "male",
        dt.date(1980, 1, 1),
    )
    row = got["李四"]
    assert (row["basic_medical_insured"], row["work_months"], row["birth_date"]) == (
        True,
        10,
        dt.date(1985, 2, 2),
    )
    assert errors(result) == [
        (3, "id_number", "id_excel_damaged", "error"),
        (4, "village_code", "required", "error"),
    ]
    assert result.warnings == ["未识别的字段已忽略：来源系统"]
    assert (result.rows_read, result.rows_rejected, result.header_row) == (4, 2, 0)


def test_table_check_person_or_village():
    feed = TableSpec(
        key="water_incident",
        title_zh="水利：供水问题",
        natural_key=("id_number", "village_code", "report_date"),
        fields=(
            Field("id_number", ("证件号码", "身份证号"), "id_number"),
            Field("village_code", ("行政区划代码",), "region_code"),
            Field("report_date", ("报告日期",), "date", required=True),
            Field("days", ("持续天数",), "int", min=0),
        ),
        checks=(
            TableCheck(
                "person_or_village",
                "应填写身份证号或行政区划代码",
                "id_number IS NULL AND village_code IS NULL",
                "id_number",
            ),
        ),
    )
    result = records_to_table(
        [
            {"身份证号": ID1, "报告日期": "2024-03-05", "持续天数": "40"},
            {"行政区划代码": VILLAGE, "报告日期": "2024-03-06", "持续天数": "35"},
            {"报告日期": "2024-03-07"},
        ],
        feed,
    )
    assert errors(result) == [(3, "id_number", "person_or_village", "error")]
    assert messages(result)[(3, "person_or_village")][1] == "应填写身份证号或行政区划代码"
    assert [r["days"] for r in clean_rows(result)] == [40, 35]


def test_several_loads_on_one_connection(tmp_path):
    con = duckdb.connect()
    path = write_csv(tmp_path / "r.csv", [REG_HEADER, reg_row("H1", "a", ID1)])
    first, second = load_table(path, REGISTRY, con=con), load_table(path, REGISTRY, con=con)
    assert first.clean != second.clean and first.con is second.con is con
    assert len(clean_rows(first)) == len(clean_rows(second)) == 1


def test_error_report_layout(tmp_path):
    rows = [
        [*REG_HEADER, "备注"],
        [*reg_row("H1", "a", "5.20526199001011E+17"), ""],
        [*reg_row("H2", "b", ID2), ""],
    ]
    rows[2][4] = "邻居"
    result = load_table(write_csv(tmp_path / "r.csv", rows), REGISTRY)
    out = write_error_report(result, tmp_path / "report.xlsx")
    sheet = load_workbook(out).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0] == ["文件", "行号", "列", "原值", "问题", "级别"]
    assert values[1] == [
        "r.csv",
        2,
        "证件号码",
        "5.20526199001011E+17",
        "身份证号被Excel按数字存储，末几位已丢失（请将该列设为文本后重新导出）",
        "拒绝",
    ]
    assert values[2][:4] == ["r.csv", 3, "与户主关系", "邻居"] and values[2][5] == "拒绝"
    assert values[3] == ["r.csv", None, None, None, "未识别的列已忽略：备注", "提示"]


def test_add_issues_rejects_rows_found_later(tmp_path):
    rows = [REG_HEADER, reg_row("H1", "a", ID1), reg_row("H2", "b", ID2)]
    result = load_table(write_csv(tmp_path / "r.csv", rows), REGISTRY)
    result.add_issues(
        [
            {
                "source_row": 3,
                "column": "行政区划代码",
                "value": VILLAGE,
                "code": "out_of_scope",
                "message": "不在您的管辖范围内",
            }
        ]
    )
    assert result.rows_rejected == 1 and [r["household_no"] for r in clean_rows(result)] == ["H1"]
