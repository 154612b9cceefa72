"""Validating a few JSON records (the live API's pushes) without starting DuckDB.

`records_to_table` validates records set-based in DuckDB, exactly like a file. For a handful of records that costs
far more than the records themselves (a connection, a dozen temporary tables: ~100 ms for one event), so
`check_records` first tries `check_records_python`: the same rules, row by row, from the same declarations
(TableSpec, engine.ids, the constants and messages of sqlkinds/normalize, the enum lookups). It only decides cells
whose result is certain — the plain forms people and systems send (2024-03-05, 1200.50, a valid ID…) and cells
that cannot be a value at all (a date without digits). Anything else (an Excel serial date, "1e3" as money, a
table check written in SQL) makes it give up, and the records go through DuckDB. Both validators return the same
thing, a `CheckedRecords`; engine/ingest/tests/test_records.py holds them to identical results.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from engine.ids import CHECK_CHARS, WEIGHTS, classify_id_number

from .lookups import enum_key, enum_pairs
from .normalize import messages
from .result import record_cells, records_to_table, unknown_warning
from .specs import Field, TableSpec
from .sqlkinds import BLANKS, DATE_FORMATS, FALSE_WORDS, FULL, HALF, SCIENTIFIC, TRUE_WORDS

# Up to this many records Python is the faster (medical_settlement rows: 1 → 0.6 ms against ~100 ms in DuckDB,
# 1,000 → 70 ms against 170 ms; even at 5,000); beyond it DuckDB, which does not hold the GIL while it works.
PYTHON_MAX_RECORDS = 1000


@dataclass
class CheckedRecords:
    """Validated records: accepted rows (typed, as `LoadResult.iter_clean` yields them, by source_row) and the
    problems (source_row, column, value, code, message, severity — ordered by row, then field)."""

    rows: list[dict[str, Any]]
    problems: list[dict[str, Any]]
    columns: dict[str, str]
    warnings: list[str] = field(default_factory=list)
    validator: str = "python"  # or "duckdb"

    def problems_by_row(self) -> dict[int, list[dict[str, Any]]]:
        out: dict[int, list[dict[str, Any]]] = {}
        for p in self.problems:
            out.setdefault(p["source_row"], []).append(p)
        return out


class _Unusual(Exception):
    """A cell whose verdict only DuckDB's own parsing can give."""


def check_records(
    records: Sequence[dict[str, Any]], spec: TableSpec, *, source: str = "API"
) -> CheckedRecords:
    """Validate JSON records against `spec`: in Python when every cell is plain, else in DuckDB."""
    if len(records) <= PYTHON_MAX_RECORDS:
        checked = check_records_python(records, spec)
        if checked is not None:
            return checked
    return check_records_duckdb(records, spec, source=source)


def check_records_duckdb(
    records: Sequence[dict[str, Any]], spec: TableSpec, *, source: str = "API"
) -> CheckedRecords:
    result = records_to_table(records, spec, source=source)
    try:
        rows = [r for chunk in result.iter_clean(order_by=()) for r in chunk]
        names = ("source_row", "column", "value", "code", "message", "severity")
        problems = [
            dict(zip(names, p, strict=True))
            for p in result.con.execute(
                f'SELECT source_row, "column", value, code, message, severity FROM {result.errors} '
                "ORDER BY source_row, rowid"  # rowid: the order build wrote them in (field order, error first)
            ).fetchall()
        ]
    finally:
        result.con.close()
    return CheckedRecords(rows, problems, result.columns, result.warnings, "duckdb")


# --- the rules of sqlkinds.py, per cell ---------------------------------------------------------------------------

# DuckDB's regular expressions are RE2: \s is [\t\n\f\r ] (ASCII only) and $ is the end of the text.
_S = "\t\n\f\r "
_NEEDS_CLEAN = re.compile(f"[\uff01-\uff5e\u3000]|^[{_S}\u00a0\ufeff]|[{_S}\u00a0\ufeff]\\Z")
_FOLD = str.maketrans(FULL, HALF)
_SCIENTIFIC = re.compile(SCIENTIFIC)
_MONEY_STRIP = re.compile(f"[,，元¥￥{_S}]")
_PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")
_TIME_PART = re.compile(f"[{_S}T]+[0-9]{{1,2}}:[0-9]{{2}}.*\\Z")
_DIGIT = re.compile("[0-9]")
_REGION = re.compile("[0-9]{12}")
_PHONE_STRIP = re.compile(f"[{_S}\\-()（）]")
_PHONE_PREFIX = re.compile(r"\A(\+86|0086)(1[0-9]{10})\Z")
_PHONE = re.compile("[0-9]{7,12}")
_ID18 = re.compile("[0-9]{17}[0-9Xx]")
# The plain spellings of DATE_FORMATS (a 4-digit year; month and day of 1 or 2 digits, 8 digits without separators).
_DATES = {
    "%Y-%m-%d": re.compile("([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})"),
    "%Y/%m/%d": re.compile("([0-9]{4})/([0-9]{1,2})/([0-9]{1,2})"),
    "%Y年%m月%d日": re.compile("([0-9]{4})年([0-9]{1,2})月([0-9]{1,2})日"),
    "%Y%m%d": re.compile("([0-9]{4})([0-9]{2})([0-9]{2})"),
    "%Y.%m.%d": re.compile("([0-9]{4})\\.([0-9]{1,2})\\.([0-9]{1,2})"),
}
assert tuple(_DATES) == DATE_FORMATS, "records.py must know every date format of sqlkinds.DATE_FORMATS"
_FIRST_DATE, _LAST_DATE = date(1880, 1, 1), date(2100, 12, 31)
_CENTS = Decimal("0.01")
_MONEY_LIMIT = Decimal(10) ** 12  # DECIMAL(14,2)

Verdict = tuple[Any, str | None]  # (value, error code)


def clean(cell: str | None) -> str | None:
    """sqlkinds.sql_clean."""
    if cell is None:
        return None
    if _NEEDS_CLEAN.search(cell):
        cell = cell.translate(_FOLD).strip(BLANKS)
    return cell or None


def _text(c: str) -> Verdict:
    return c, "excel_number" if _SCIENTIFIC.fullmatch(c) else None


def _money(c: str) -> Verdict:
    stripped = _MONEY_STRIP.sub("", c)
    if stripped in ("", "-"):
        return None, None
    if not _DIGIT.search(stripped):
        return None, "bad_money"
    if not _PLAIN_NUMBER.fullmatch(stripped):
        raise _Unusual
    value = Decimal(stripped).quantize(_CENTS, rounding=ROUND_HALF_UP)
    if abs(value) >= _MONEY_LIMIT:
        raise _Unusual
    return value if value else abs(value), None  # -0.001 → 0.00, not -0.00


def _int(c: str) -> Verdict:
    if not _DIGIT.search(c):
        return None, "bad_int"
    if not _PLAIN_NUMBER.fullmatch(c):
        raise _Unusual
    number = float(c)
    if math.isfinite(number) and number == math.floor(number) and abs(number) < 2147483648:
        return int(number), None
    return None, "bad_int"


def _date(c: str) -> Verdict:
    text = _TIME_PART.sub("", c, count=1)
    for pattern in _DATES.values():
        m = pattern.fullmatch(text)
        if m is None:
            continue
        try:
            value = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            return None, "bad_date"  # all formats are tried; a plain form that is no real date matches none
        return (value, None) if _FIRST_DATE <= value <= _LAST_DATE else (None, "bad_date")
    if not _DIGIT.search(c):
        return None, "bad_date"
    raise _Unusual  # an Excel serial number, a 2-digit year…: DuckDB's strptime decides


def _bool(c: str) -> Verdict:
    if c in TRUE_WORDS:
        return True, None
    if c in FALSE_WORDS:
        return False, None
    if not c.isascii():
        raise _Unusual  # lower() of other scripts: leave it to DuckDB's lower()
    low = c.lower()
    if low in TRUE_WORDS:
        return True, None
    if low in FALSE_WORDS:
        return False, None
    return None, "bad_bool"


def _region_code(c: str) -> Verdict:
    digits = re.sub(r"\.0+\Z", "", c, count=1)
    return (digits, None) if _REGION.fullmatch(digits) else (None, "bad_region_code")


def _phone(c: str) -> Verdict:
    digits = _PHONE_PREFIX.sub(r"\2", _PHONE_STRIP.sub("", c))
    return (digits, None) if _PHONE.fullmatch(digits) else (None, "bad_phone")


_KINDS: dict[str, Callable[[str], Verdict]] = {
    "text": _text,
    "money": _money,
    "int": _int,
    "date": _date,
    "bool": _bool,
    "region_code": _region_code,
    "phone": _phone,
}


def _range(f: Field, value: Any) -> str | None:
    """sqlkinds.sql_range."""
    if value is None:
        return None
    if (f.min is not None and value < f.min) or (f.max is not None and value > f.max):
        return "out_of_range"
    return None


def _id_birth(raw: str) -> date | None:
    try:
        return date(int(raw[6:10]), int(raw[10:12]), int(raw[12:14]))
    except ValueError:
        return None


def _id(raw: str | None, today: date) -> tuple[str | None, str, str | None, str | None, date | None]:
    """(number, status, prefix15, sex, birth) as normalize._layer1 computes them: sqlkinds.sql_id_fast for plainly
    valid IDs, engine.ids.classify_id_number (as lookups.id_table calls it) for every other cell."""
    if raw is not None and _ID18.fullmatch(raw):
        total = sum((ord(raw[i]) - 48) * w for i, w in enumerate(WEIGHTS))
        born = _id_birth(raw)
        if CHECK_CHARS[total % 11] == raw[17].upper() and born is not None and _FIRST_DATE <= born <= today:
            return raw.upper(), "valid", raw[:15], "male" if (ord(raw[16]) - 48) % 2 == 1 else "female", born
    if raw is None:
        return None, "missing", None, None, None
    verdict = classify_id_number(raw)
    sex = {"男": "male", "女": "female"}.get(verdict.sex or "")
    return verdict.number, verdict.status.value, verdict.prefix15, sex, verdict.birth_date


# --- one row, then the table ---------------------------------------------------------------------------------------


def _derived(spec: TableSpec) -> list[tuple[str, int, str]]:
    """normalize._derived: (field, index of the ID part, warning code); parts are (…, sex, birth) of `_id`."""
    names = {f.name: f for f in spec.fields}
    if not any(f.kind == "id_number" for f in spec.fields):
        return []
    wanted = (("sex", "enum", 3, "sex_mismatch"), ("birth_date", "date", 4, "birth_mismatch"))
    return [(n, part, code) for n, kind, part, code in wanted if n in names and names[n].kind == kind]


def check_records_python(
    records: Sequence[dict[str, Any]], spec: TableSpec, *, today: date | None = None
) -> CheckedRecords | None:
    """The rules of normalize.build, row by row; None when a cell needs DuckDB (see the module docstring)."""
    if spec.checks:
        return None  # table checks are SQL expressions
    today = today or date.today()
    data, columns, unknown = record_cells(records, spec)
    fields = spec.fields
    order = {f.name: i for i, f in enumerate(fields)}
    texts = [messages(f) for f in fields]
    pairs = {f.name: enum_pairs(f) for f in fields if f.kind == "enum"}
    ids = [f.name for f in fields if f.kind == "id_number"]
    derived = _derived(spec)
    staged = []
    try:
        for i in range(len(records)):
            row: dict[str, Any] = {"source_row": i + 1}
            raw: dict[str, str | None] = {}
            issues: list[tuple[int, str, str, str]] = []  # (ord, code, severity, field)
            id_parts: dict[str, tuple] = {}
            bad = False
            key_ok = True
            no_subject = bool(spec.require_one_of)
            for j, f in enumerate(fields):
                n = f.name
                r = raw[n] = data[n][i]
                c = clean(r)
                warn: str | None = None
                if f.kind == "id_number":
                    id_parts[n] = number, status, prefix15, _, _ = _id(r, today)
                    row[n], row[n + "_status"], row[n + "_prefix15"] = number, status, prefix15
                    error = None if c is None or status in ("valid", "converted") else "id_" + status
                    if not f.strict:
                        warn, error = error, None
                elif f.kind == "enum":
                    code = None if r is None else pairs[n].get(enum_key(r))
                    row[n] = code or None
                    error = "unknown_value" if c is not None and code is None else None
                    if not f.strict:
                        warn, error = error, None
                else:
                    row[n], error = (None, None) if c is None else _KINDS[f.kind](c)
                    if f.min is not None or f.max is not None:
                        error = error or _range(f, row[n])
                if f.required and c is None:
                    error = "required"
                if n in spec.require_one_of and c is not None:
                    no_subject = False
                if error:
                    issues.append((j, error, "error", n))
                    bad = True
                if warn:
                    issues.append((j, warn, "warning", n))
                if n in spec.natural_key and (error or warn):
                    key_ok = False
            for n, part, code in derived:
                from_id = id_parts[ids[0]][part]
                if row[n] is not None and from_id is not None and row[n] != from_id:
                    issues.append((order[n], code, "warning", n))
                row[n] = from_id if from_id is not None else row[n]
            staged.append((row, raw, issues, bad or no_subject, key_ok, no_subject))
    except _Unusual:
        return None

    # Duplicate natural keys (normalize.build's `dups`): later rows name the first.
    first: dict[tuple, int] = {}
    dup_of: dict[int, int] = {}
    for row, _, _, _, key_ok, _ in staged:
        if key_ok:
            key = tuple(row[k] for k in spec.natural_key)
            if key in first:
                dup_of[row["source_row"]] = first[key]
            else:
                first[key] = row["source_row"]

    names = [f.name for f in fields]
    names += [n + s for n in ids for s in ("_status", "_prefix15")]
    last = spec.natural_key[-1]
    key_names = "、".join(spec.natural_key)
    wanted = "或".join(spec.require_one_of)
    rows: list[dict[str, Any]] = []
    problems: list[dict[str, Any]] = []
    for row, raw, issues, bad, _, no_subject in staged:
        source_row = row["source_row"]
        found = [(j, sev, n, code, texts[j].get(code, code), raw[n]) for j, code, sev, n in issues]
        if source_row in dup_of:
            message = f"与第{dup_of[source_row]}行重复（{key_names}相同），本行未导入"
            found.append((order[last], "error", last, "duplicate_key", message, raw[last]))
        if no_subject:
            ord_ = order[spec.require_one_of[0]]
            found.append((ord_, "error", wanted, "missing_subject", f"缺少对象：应填写{wanted}", None))
        for _, severity, column, code, message, value in sorted(found, key=lambda p: (p[0], p[1])):
            problems.append(
                {
                    "source_row": source_row,
                    "column": column,
                    "value": value,
                    "code": code,
                    "message": message,
                    "severity": severity,
                }
            )
        if not bad and source_row not in dup_of:
            rows.append({"source_row": source_row, **{n: row[n] for n in names}})
    return CheckedRecords(rows, problems, columns, unknown_warning(unknown), "python")
