"""Files as they arrive: CSV encodings and dialects, the DuckDB fast path versus the Python fallback (same result,
same row numbers), and whole-file errors."""

from __future__ import annotations

import pytest

from engine.ingest import INCOME, REGISTRY, IngestFileError, load_table

from .helpers import ID1, ID2, ID3, REG_HEADER, by, clean_rows, errors, reg_row, write_csv

NAMES = ["龙秀英", "王䶮", "禄德芳"]  # 䶮 (CJK Ext. A) is outside GBK but inside GB18030


def _members() -> list[list[str]]:
    return [[*REG_HEADER, "健康状况"]] + [
        [*reg_row(f"H{i}", name, idn), "长期慢性病"]
        for i, (name, idn) in enumerate(zip(NAMES, (ID1, ID2, ID3), strict=True))
    ]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_encodings(tmp_path, encoding):
    result = load_table(write_csv(tmp_path / "r.csv", [["威宁县台账"], *_members()], encoding), REGISTRY)
    assert result.reader == "csv-duckdb"
    assert [(r["name"], r["health"], r["source_row"]) for r in clean_rows(result)] == [
        ("龙秀英", "chronic", 3),
        ("王䶮", "chronic", 4),
        ("禄德芳", "chronic", 5),
    ]


def test_gbk_file_from_excel_on_chinese_windows(tmp_path):
    rows = [["户编号", "年度", "工资性收入（元）"], ["H1", "2024", "1,200"]]
    result = load_table(write_csv(tmp_path / "i.csv", rows, "gbk"), INCOME)
    assert by(result)["H1"]["wage_income"] == 1200


def test_undecodable_bytes_are_a_file_error(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes("户编号,年度\n".encode("gb18030") + b"H1,\xff\xff\n")
    with pytest.raises(IngestFileError, match=r"bad\.csv：无法识别文件编码"):
        load_table(path, INCOME)


@pytest.mark.parametrize("delimiter", ["\t", ";", "|"])
def test_other_delimiters(tmp_path, delimiter):
    result = load_table(write_csv(tmp_path / "r.csv", _members(), delimiter=delimiter), REGISTRY)
    assert len(clean_rows(result)) == 3 and result.rows_rejected == 0


def test_empty_lines_keep_row_numbers_through_the_python_reader(tmp_path):
    path = tmp_path / "r.csv"
    lines = [",".join(r) for r in _members()]
    path.write_text(
        "\n".join([lines[0], lines[1], "", "", lines[2], lines[3][:-1] + "x"]) + "\n", encoding="utf-8"
    )
    result = load_table(path, REGISTRY)
    assert result.reader == "csv-python"  # DuckDB would silently drop the empty lines and shift the numbers
    assert [(r["name"], r["source_row"]) for r in clean_rows(result)] == [("龙秀英", 2), ("王䶮", 5)]
    assert errors(result) == [(6, "健康状况", "unknown_value", "error")]


def test_trailing_empty_lines_and_crlf_keep_the_fast_path(tmp_path):
    path = tmp_path / "r.csv"
    path.write_bytes(("\r\n".join(",".join(r) for r in _members()) + "\r\n\r\n\r\n").encode("utf-8"))
    result = load_table(path, REGISTRY)
    assert result.reader == "csv-duckdb"
    assert [r["source_row"] for r in clean_rows(result)] == [2, 3, 4]


def test_quoted_line_breaks_count_as_one_row_like_excel(tmp_path):
    rows = [
        [*REG_HEADER, "备注"],
        [*reg_row("H1", "a", ID1), "第一行\n第二行"],
        reg_row("H2", "b", ID2[:-1] + "0"),
    ]
    result = load_table(write_csv(tmp_path / "r.csv", rows), REGISTRY)
    assert result.reader == "csv-duckdb"
    assert errors(result) == [(3, "证件号码", "id_bad_checksum", "error")]


def test_ragged_rows(tmp_path):
    path = tmp_path / "r.csv"
    lines = [
        ",".join([*REG_HEADER, "性别"]),
        ",".join(reg_row("H1", "a", ID1)),
        ",".join([*reg_row("H2", "b", ID2), "女", "多余"]),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = load_table(path, REGISTRY)
    assert [r["household_no"] for r in clean_rows(result)] == ["H1", "H2"]
    assert by(result)["H2"]["sex"] == "female"


def test_fast_path_and_python_reader_agree(tmp_path):
    body = [
        ["户编号", "年度", "工资性收入", "住房出现安全问题"],
        ["H1", "2024", "1,000", "否"],
        ["H2", "2024", "-1", "是"],
        ["H1", "2024", "", ""],
        ["#3", "2024.0", " 12 000 ", "√"],
        ["合计", "", "", ""],
    ]
    fast = load_table(write_csv(tmp_path / "a.csv", body), INCOME)
    slow = load_table(write_csv(tmp_path / "b.csv", [body[0], [], *body[1:]]), INCOME)  # one empty line
    assert (fast.reader, slow.reader) == ("csv-duckdb", "csv-python")
    shift = [{**r, "source_row": r["source_row"] - 1} for r in clean_rows(slow)]
    assert clean_rows(fast) == shift
    assert errors(fast) == [(r - 1, c, code, s) for r, c, code, s in errors(slow)]
    assert errors(fast) == [(3, "工资性收入", "out_of_range", "error"), (4, "年度", "duplicate_key", "error")]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("a.pdf", b"%PDF-1.4", r"a\.pdf：不支持的文件类型“\.pdf”"),
        ("noext", b"x", r"noext：不支持的文件类型“无扩展名”"),
        ("e.csv", b"", r"e\.csv：文件为空"),
        ("e.xlsx", b"", r"e\.xlsx：文件为空"),
        ("d.xlsx", b"not really a workbook", r"d\.xlsx：无法读取Excel文件"),
        ("d.xls", b"PK\x03\x04 broken", r"d\.xls：无法读取Excel文件"),
        ("w.csv", b" \n\n  \n", r"w\.csv：前30行中找不到表头"),
    ],
)
def test_unusable_files_raise_with_a_specific_chinese_message(tmp_path, name, content, message):
    (tmp_path / name).write_bytes(content)
    with pytest.raises(IngestFileError, match=message):
        load_table(tmp_path / name, REGISTRY)


def test_missing_file(tmp_path):
    with pytest.raises(IngestFileError, match=r"nothere\.csv：文件不存在"):
        load_table(tmp_path / "nothere.csv", REGISTRY)


def test_empty_workbook_sheet(tmp_path):
    from openpyxl import Workbook

    Workbook().save(tmp_path / "blank.xlsx")
    with pytest.raises(IngestFileError, match=r"blank\.xlsx：工作表“Sheet”是空的"):
        load_table(tmp_path / "blank.xlsx", REGISTRY)


def test_excel_unicode_text_export_utf16_tab_separated(tmp_path):
    path = tmp_path / "导出.txt"
    path.write_text(
        "\n".join("\t".join(r) for r in _members()) + "\n", encoding="utf-16"
    )  # with BOM, like Excel
    result = load_table(path, REGISTRY)
    assert [r["name"] for r in clean_rows(result)] == NAMES


def test_blank_line_between_title_and_header_keeps_the_fast_path(tmp_path):
    path = tmp_path / "r.csv"
    lines = [",".join(r) for r in _members()]
    path.write_text("\n".join(["威宁县台账", "", *lines]) + "\n", encoding="utf-8")
    result = load_table(path, REGISTRY)
    assert (result.reader, result.header_row) == ("csv-duckdb", 3)
    assert [r["source_row"] for r in clean_rows(result)] == [4, 5, 6]


def test_broken_csv_structure_is_a_file_error_naming_the_line(tmp_path):
    path = tmp_path / "n.csv"
    # An unterminated quote swallows the rest of the file into one field, beyond the csv module's field limit
    # (the empty line sends the file to the Python reader).
    path.write_bytes(",".join(REG_HEADER).encode() + b'\n\nH1,"' + b"x\n" * 100_000)
    with pytest.raises(IngestFileError, match=r"n\.csv：第\d+行附近CSV格式错误"):
        load_table(path, REGISTRY)
