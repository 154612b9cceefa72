"""The Python validator of JSON records (records.py) against DuckDB's (records_to_table): for every table
declaration and a wide palette of cell values, whatever the Python path decides is exactly what DuckDB decides
(values, their types, problems, messages, order, duplicates), and it hands everything else over."""

from __future__ import annotations

import datetime as dt
import random
import zlib
from decimal import Decimal

import pytest

from engine.ingest import INCOME, REGISTRY, SPECS, TableSpec
from engine.ingest.feeds import FEED_KEYS
from engine.ingest.records import check_records, check_records_duckdb, check_records_python

from .helpers import ID1, ID2, ID3, IDX, VILLAGE, VILLAGE2, pid

IDS = [
    ID1,
    ID2,
    ID3,
    IDX,
    IDX.lower(),
    f" {ID1} ",
    "５２０５２６１９８００１０１００１６",
    "'" + ID2,
    "520526800101001",  # old 15 digits
    "520526801301001",  # old 15 digits, no such month
    float(ID1),  # Excel-damaged
    "5.20526198001011E+17",
    ID1[:-3] + "000" if not ID1.endswith("000") else ID1[:-1] + "1",
    ID1[:-1] + ("0" if ID1[-1] != "0" else "1"),  # bad checksum
    pid("52052620990101001"),  # born in the future
    pid("52052619800231001"),  # no 31 February
    pid("52052618700101001"),  # before 1880
    "52052619800101001",  # 17 digits
    "abc",
    "'",
    "",
    None,
    int(ID1) if ID1.isdigit() else 520526198001010016,
]
TEXT = [
    "张三",
    " 李四 ",
    "王　五",
    "ＡＢＣ",
    "5.20526199001011E+17",
    "1.5e3",
    "",
    "  ",
    "\ufeff赵六",
    "x\u00a0",
    None,
]
TEXT += [12, 3.5, True, "a\tb", "A" * 30, *(f"户{i}" for i in range(40))]
DATES = [
    "2024-03-05",
    "2024-3-5",
    "2024/03/05",
    "2024年3月5日",
    "20240305",
    "2024.3.5",
    "2024-03-05 08:30",
    "2024-03-05T08:30:00",
    "2024/3/5 8:30",
    "２０２４年３月５日",
    "2024-02-30",
    "2023-02-29",
    "2024-02-29",
    "20241305",
    "2024-13-01",
    "2024-00-10",
    "2024-01-00",
    "1879-12-31",
    "1880-01-01",
    "2100-12-31",
    "2101-01-01",
    "0024-03-05",
    "不是日期",
    "未知",
    "45356",
    "45356.0",
    "24-03-05",
    "2024-03-05x",
    "2024年3月",
    dt.date(2024, 3, 5),
    dt.datetime(2024, 3, 5, 8, 30),
    45356,
    "",
    None,
    "1980-01-01",
    "1985-02-02",
]
MONEY = [
    "1200",
    "1,200元",
    "¥1 200.50",
    "1200.555",
    "1200.545",
    "-3.005",
    "+5",
    ".5",
    "5.",
    "007",
    "1e3",
    "-",
]
MONEY += [
    "",
    "abc",
    "无",
    "999999999999.99",
    "1000000000000",
    "-0.001",
    "１２００",
    1200,
    1200.5,
    0.1,
    "12.5元",
]
MONEY += ["1_000", None, "-12", "3783.3", "0"]
INTS = [
    "1",
    "4",
    "5",
    "0",
    "-1",
    "12.0",
    "12.5",
    "1e1",
    "abc",
    "",
    "2147483648",
    "+3",
    3,
    3.0,
    None,
    "０３",
    "十",
]
INTS += ["2024", 2023, "2025.0", "1999", "2101"]
BOOLS = [
    "是",
    "否",
    "Y",
    "n",
    "TRUE",
    "False",
    "1",
    "0",
    "√",
    "×",
    "有",
    "无",
    "对",
    "不是",
    "maybe",
    "İ",
    True,
]
BOOLS += [False, None, ""]
REGIONS = [
    VILLAGE,
    VILLAGE2,
    VILLAGE + ".0",
    VILLAGE[:10],
    "５２０５２６１０１００３",
    int(VILLAGE),
    float(VILLAGE),
]
REGIONS += ["abc", None, ""]
PHONES = [
    "13800001234",
    "+8613800001234",
    "0086 138-0000-1234",
    "(0857)1234567",
    "12",
    "abc",
    None,
    13800001234,
]
SEXES = ["男", "女", "M", "F", "1", "2", "male", "未知", None, ""]
PALETTE = {
    "text": TEXT,
    "id_number": IDS,
    "date": DATES,
    "money": MONEY,
    "int": INTS,
    "bool": BOOLS,
    "region_code": REGIONS,
    "phone": PHONES,
}


def palette(f) -> list:
    if f.kind == "enum":
        spellings = [*f.vocab.values(), *f.vocab, *f.alias_map()]
        return [*spellings, *(f" {s.upper()} " for s in spellings[:3]), "不知道", "", None]
    if f.name == "sex_text":
        return SEXES
    return PALETTE[f.kind]


def good_palette(spec: TableSpec, f) -> list:
    """The palette values the field accepts on their own."""
    out = []
    for value in palette(f):
        checked = check_records_python([{f.name: value}], spec)
        if checked is not None and not any(
            p["column"] == f.name and p["severity"] == "error" for p in checked.problems
        ):
            out.append(value)
    return out


def records_for(spec: TableSpec, n: int, seed: int, bad_rate: float = 1.0) -> list[dict]:
    """Random records; with a low `bad_rate`, mostly of values each field accepts (so most rows are clean)."""
    rng = random.Random(seed)
    good = {f.name: good_palette(spec, f) for f in spec.fields}
    out = []
    for _ in range(n):
        record = {}
        for f in spec.fields:
            if rng.random() < 0.15 and not (f.required and bad_rate < 1):
                continue  # the key left out
            key = rng.choice([f.name, *f.synonyms])
            choices = good[f.name] if rng.random() >= bad_rate and good[f.name] else palette(f)
            record[key] = rng.choice(choices)
        if rng.random() < 0.05:
            record["来源系统"] = "x"
        out.append(record)
    return out


def comparable(checked):
    """Values with their types and exact text (Decimal("1.0") == Decimal("1.00"), but payloads differ); problems
    by row, as sets: SQL orders them by row, field and severity only (a required village and the missing subject
    of the same row tie)."""
    rows = [{k: (type(v).__name__, str(v)) for k, v in r.items()} for r in checked.rows]
    problems = sorted(checked.problems, key=lambda p: tuple(str(v) for v in p.values()))
    return rows, problems, checked.columns, checked.warnings


@pytest.mark.parametrize("key", [*FEED_KEYS, "registry", "income"])
def test_python_and_duckdb_agree(key):
    spec = SPECS[key]
    seed = zlib.crc32(key.encode())
    records = records_for(spec, 400, seed) + records_for(spec, 400, seed + 1, bad_rate=0.03)
    singles = [(r, check_records_python([r], spec)) for r in records]
    plain = [r for r, checked in singles if checked is not None]
    assert len(plain) > 100, "too few records for the Python path to compare"
    accepted = [r for r, checked in singles if checked is not None and checked.rows]
    batch = plain + accepted[:30:3]  # repeats: duplicate natural keys inside one push
    python = check_records_python(batch, spec)
    assert python is not None and python.validator == "python"
    duck = check_records_duckdb(batch, spec)
    p_rows, p_problems, p_columns, p_warnings = comparable(python)
    d_rows, d_problems, d_columns, d_warnings = comparable(duck)
    assert p_columns == d_columns and p_warnings == d_warnings
    assert p_rows == d_rows
    assert p_problems == d_problems
    rows = [p["source_row"] for p in python.problems]
    assert rows == sorted(rows)
    assert len(python.rows) > 50
    assert "duplicate_key" in {p["code"] for p in python.problems}


def test_every_cell_value_alone():
    """Each palette value in each kind of field: the Python verdict (where it gives one) is DuckDB's."""
    for spec in (SPECS["medical_settlement"], SPECS["disability_certificate"], REGISTRY, INCOME):
        cells = [(f, v) for f in spec.fields for v in palette(f)]
        batch = [{f.name: v} for f, v in cells]
        plain = [r for r in batch if check_records_python([r], spec) is not None]
        python, duck = check_records_python(plain, spec), check_records_duckdb(plain, spec)
        assert python is not None
        assert comparable(python) == comparable(duck)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("settle_date", "45356"),  # an Excel serial: DuckDB's rule
        ("settle_date", "24-03-05"),
        ("total_cost", "1e3"),
        ("total_cost", "1_000"),
        ("total_cost", "1000000000000"),
    ],
)
def test_unusual_cells_go_to_duckdb(field, value):
    spec = SPECS["medical_settlement"]
    record = {"id_number": ID1, "name": "张三", "settle_date": "2024-03-05", field: value}
    assert check_records_python([record], spec) is None
    checked = check_records([record], spec)
    assert checked.validator == "duckdb"
    assert checked.rows or checked.problems


def test_plain_push_takes_the_python_path():
    spec = SPECS["medical_settlement"]
    records = [
        {
            "证件号码": ID1,
            "姓名": "张三",
            "结算日期": "2024年3月5日",
            "个人自付": "1,200元",
            "医疗总费用": 5000,
        },
        {"id_number": "", "name": "王五", "birth_date": "1980-01-01", "settle_date": "2024-03-06"},
        {"name": "赵六", "settle_date": "不是日期"},
        {"hospital": "县医院", "settle_date": "2024-03-06"},
    ]
    checked = check_records(records, spec)
    assert checked.validator == "python"
    assert [r["source_row"] for r in checked.rows] == [1, 2]
    first = checked.rows[0]
    assert (first["id_number"], first["birth_date"], first["out_of_pocket"]) == (
        ID1,
        dt.date(1980, 1, 1),
        Decimal("1200.00"),
    )
    assert [(p["source_row"], p["code"]) for p in checked.problems] == [
        (3, "bad_date"),
        (4, "missing_subject"),
    ]
    assert comparable(checked) == comparable(check_records_duckdb(records, spec))
