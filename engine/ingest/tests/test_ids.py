"""ID numbers (INTERCHANGE.md quirks): Excel damage, lower-case x, 15-digit numbers, stray characters, and exact
agreement of the SQL path with engine.ids.classify_id_number."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from engine.ids import STATUS_MESSAGES, IdStatus, classify_id_number, convert_15_to_18
from engine.ingest import REGISTRY, Field, TableSpec, load_table, records_to_table
from engine.ingest.read import cell_text
from engine.vocab import SEXES

from .helpers import ID1, ID2, IDX, REG_HEADER, by, errors, messages, pid, reg_row, write_csv, write_xlsx


def test_xlsx_numeric_id_cell_is_rejected_as_excel_damaged(tmp_path):
    path = write_xlsx(
        tmp_path / "r.xlsx",
        [REG_HEADER, reg_row("H1", "张三", float(ID1)), reg_row("H2", "李四", ID2)],
    )
    result = load_table(path, REGISTRY)
    assert errors(result) == [(2, "证件号码", "id_excel_damaged", "error")]
    value, message = messages(result)[(2, "id_excel_damaged")]
    assert value == "5.20526198001010E+17"  # how Excel shows the rounded number
    assert message == STATUS_MESSAGES[IdStatus.EXCEL_DAMAGED]
    assert list(by(result)) == ["H2"] and result.rows_rejected == 1


def test_csv_scientific_and_float_written_ids_are_excel_damaged(tmp_path):
    rows = [REG_HEADER, reg_row("H1", "a", "5.20526199001011E+17"), reg_row("H2", "b", "520526199001011000")]
    result = load_table(write_csv(tmp_path / "r.csv", rows), REGISTRY)
    assert errors(result) == [
        (2, "证件号码", "id_excel_damaged", "error"),
        (3, "证件号码", "id_excel_damaged", "error"),
    ]


def test_lower_case_x_is_normalised(tmp_path):
    result = load_table(
        write_csv(tmp_path / "r.csv", [REG_HEADER, reg_row("H1", "a", IDX.lower())]), REGISTRY
    )
    row = by(result)["H1"]
    assert (row["id_number"], row["id_number_status"], row["sex"]) == (IDX, "valid", "female")


def test_fifteen_digit_id_is_converted_to_eighteen(tmp_path):
    old = "520526800101001"  # born 1980-01-01, the old format without century and check character
    result = load_table(write_csv(tmp_path / "r.csv", [REG_HEADER, reg_row("H1", "a", old)]), REGISTRY)
    row = by(result)["H1"]
    assert row["id_number"] == convert_15_to_18(old) == ID1
    assert row["id_number_status"] == "converted"
    assert row["birth_date"] == dt.date(1980, 1, 1)


@pytest.mark.parametrize(
    "cell",
    [f"  {ID1} ", f"'{ID1}", "".join(chr(ord(c) + 0xFEE0) for c in ID1), f"\u3000{ID1}\t"],
    ids=["spaces", "apostrophe", "full-width", "ideographic-space"],
)
def test_stray_characters_around_an_id_are_stripped(tmp_path, cell):
    result = load_table(write_csv(tmp_path / "r.csv", [REG_HEADER, reg_row("H1", "a", cell)]), REGISTRY)
    assert by(result)["H1"]["id_number"] == ID1 and result.rows_rejected == 0


@pytest.mark.parametrize(
    ("cell", "code"),
    [
        (ID1[:-1] + "7", "id_bad_checksum"),
        (pid("52052619801301001"), "id_bad_date"),  # month 13
        (pid("52052620990101001"), "id_bad_date"),  # born in the future
        (ID1[:-1], "id_bad_format"),  # 17 characters
        ("身份证丢失", "id_bad_format"),
        ("", "required"),
    ],
)
def test_bad_ids_get_their_specific_error(tmp_path, cell, code):
    result = load_table(write_csv(tmp_path / "r.csv", [REG_HEADER, reg_row("H1", "a", cell)]), REGISTRY)
    assert errors(result) == [(2, "证件号码", code, "error")]
    expected = (
        STATUS_MESSAGES[IdStatus(code[3:])] if code != "required" else STATUS_MESSAGES[IdStatus.MISSING]
    )
    assert messages(result)[(2, code)][1] == expected


def test_sex_and_birth_date_derived_from_id_and_contradictions_warned(tmp_path):
    rows = [
        [*REG_HEADER, "性别", "出生日期"],
        [*reg_row("H1", "a", ID1), "", ""],
        [*reg_row("H2", "b", ID2), "男", "1985-02-03"],
        [*reg_row("H3", "c", IDX), "女", "1970-01-01"],
    ]
    result = load_table(write_csv(tmp_path / "r.csv", rows), REGISTRY)
    got = by(result)
    assert (got["H1"]["sex"], got["H1"]["birth_date"]) == ("male", dt.date(1980, 1, 1))
    assert (got["H2"]["sex"], got["H2"]["birth_date"]) == ("female", dt.date(1985, 2, 2))  # the ID wins
    assert errors(result) == [
        (3, "性别", "sex_mismatch", "warning"),
        (3, "出生日期", "birth_mismatch", "warning"),
    ]
    assert result.rows_rejected == 0


# --- agreement of the SQL fast path + UDF with engine.ids ------------------------------------------------------

ID_SPEC = TableSpec(
    key="idcheck",
    title_zh="身份证号核对",
    natural_key=("seq",),
    fields=(
        Field("seq", ("序号",), required=True),
        Field("id_number", ("身份证号",), "id_number"),
        Field("sex", ("性别",), "enum", vocab=SEXES),
        Field("birth_date", ("出生日期",), "date"),
    ),
)


def _generated_ids(n: int, seed: int = 7) -> list[object]:
    rnd = random.Random(seed)
    out: list[object] = []
    for _ in range(n):
        born = dt.date(1870, 1, 1) + dt.timedelta(days=rnd.randrange(85000))  # 1870 … 2102
        first17 = f"{rnd.choice(('520526', '110105', '330106'))}{born:%Y%m%d}{rnd.randrange(1000):03d}"
        good = pid(first17)
        kind = rnd.randrange(14)
        if kind == 0:
            out.append(good[:17] + rnd.choice("0123456789X"))  # maybe a wrong check character
        elif kind == 1:
            out.append(good.lower())
        elif kind == 2:
            out.append(first17[:6] + first17[8:17])  # 15-digit old number (any century)
        elif kind == 3:
            out.append(float(good[:17] + "0"))  # an Excel number cell
        elif kind == 4:
            out.append(good[:15] + "000")  # a float written back out
        elif kind == 5:
            out.append(
                f"{first17[:6]}{rnd.randrange(100000000):08d}{rnd.randrange(1000):03d}7"
            )  # random date digits
        elif kind == 6:
            out.append(good[: rnd.randrange(5, 20)])
        elif kind == 7:
            out.append(" '" + "".join(chr(ord(c) + 0xFEE0) if rnd.random() < 0.5 else c for c in good) + " ")
        elif kind == 8:
            out.append(rnd.choice(["", " ", "'", "无", "x" * 18, good + "1", f"{good[:17]}Y"]))
        elif kind == 9:
            out.append(f"{float(good[:15]):.14E}")  # scientific text, as a CSV saved by Excel
        else:
            out.append(good)
    return out


def test_sql_path_agrees_with_classify_id_number_on_generated_ids():
    raws = _generated_ids(5000)
    result = records_to_table([{"seq": str(i), "id_number": raw} for i, raw in enumerate(raws)], ID_SPEC)
    clean = {r["seq"]: r for batch in result.iter_clean(batch_size=1000, order_by=()) for r in batch}
    codes = dict(
        result.con.execute(
            f"SELECT source_row, code FROM {result.errors} WHERE severity = 'error'"
        ).fetchall()
    )
    seen = set()
    for i, raw in enumerate(raws):
        verdict = classify_id_number(cell_text(raw) if isinstance(raw, float) else raw)
        assert verdict == classify_id_number(
            raw
        )  # a float and its scientific text are the same to engine.ids
        seen.add(verdict.status)
        if verdict.accepted:
            row = clean[str(i)]
            assert row["id_number"] == verdict.number, raw
            assert row["id_number_status"] == verdict.status.value, raw
            assert row["id_number_prefix15"] == verdict.prefix15, raw
            assert row["birth_date"] == verdict.birth_date, raw
            assert row["sex"] == {"男": "male", "女": "female"}[verdict.sex or ""], raw
        elif verdict.status is IdStatus.MISSING and not str(raw).strip():
            assert str(i) in clean and clean[str(i)]["id_number"] is None  # blank and not required
        else:
            assert codes.get(i + 1) == f"id_{verdict.status.value}", raw
            assert str(i) not in clean
    assert seen == set(IdStatus)  # every verdict was exercised


def test_sql_path_agrees_through_a_csv_file(tmp_path):
    raws = [r for r in _generated_ids(3000, seed=11) if not isinstance(r, float)]
    path = write_csv(
        tmp_path / "ids.csv", [["序号", "身份证号"]] + [[str(i), raw] for i, raw in enumerate(raws)]
    )
    result = load_table(path, ID_SPEC)
    assert result.reader == "csv-duckdb"
    clean = {r["seq"]: r["id_number"] for r in (x for b in result.iter_clean(order_by=()) for x in b)}
    for i, raw in enumerate(raws):
        verdict = classify_id_number(raw)
        if verdict.accepted:
            assert clean[str(i)] == verdict.number, raw
        elif str(raw).strip():
            assert str(i) not in clean, raw
