"""Set-based normalisation in DuckDB: each field kind is a small function returning SQL (the repaired value and an
error code), composed into one SELECT over the raw table. Errors become rows of an `errors` table; a row with any
error of severity 'error' stays out of `clean`."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import duckdb

from engine.ids import STATUS_MESSAGES, classify_id_number

from .specs import Field, TableSpec

FULL = "０１２３４５６７８９．，－／：　Ｘｘ（）"
HALF = "0123456789.,-/: XX()"

MESSAGES = {
    "required": "必填项为空",
    "bad_date": "日期无法识别（支持 2024-03-05、2024/3/5、2024年3月5日、20240305、Excel日期）",
    "bad_money": "金额无法识别",
    "bad_int": "应为整数",
    "bad_bool": "应为“是”或“否”",
    "out_of_range": "数值超出允许范围",
    "unknown_value": "取值不在标准代码表中",
    "bad_region_code": "行政区划代码应为12位数字",
    "bad_phone": "电话号码格式错误",
    "sex_mismatch": "性别与身份证号不一致，已按身份证号",
    "birth_mismatch": "出生日期与身份证号不一致，已按身份证号",
    "duplicate_key": "与前面的行重复",
    "missing_subject": "缺少对象：应填写证件号码或姓名（村级数据填写行政区划代码）",
    **{f"id_{status.value}": message for status, message in STATUS_MESSAGES.items()},
}


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def sql_clean(col: str) -> str:
    """Full-width forms to half-width, surrounding blanks removed, blank → NULL."""
    return f"NULLIF(trim(translate({col}, {lit(FULL)}, {lit(HALF)})), '')"


def sql_money(c: str) -> tuple[str, str]:
    """Money: thousands separators, 元, ¥ and spaces removed; '-' alone is blank; blank stays NULL (not 0)."""
    stripped = f"NULLIF(NULLIF(regexp_replace({c}, '[,，元¥￥\\s]', '', 'g'), ''), '-')"
    value = f"TRY_CAST({stripped} AS DECIMAL(14,2))"
    return value, f"CASE WHEN {stripped} IS NOT NULL AND {value} IS NULL THEN 'bad_money' END"


def sql_int(c: str) -> tuple[str, str]:
    number = f"TRY_CAST({c} AS DOUBLE)"
    value = f"CASE WHEN {number} = floor({number}) THEN CAST({number} AS BIGINT) END"
    return value, f"CASE WHEN {c} IS NOT NULL AND {value} IS NULL THEN 'bad_int' END"


def sql_date(c: str) -> tuple[str, str]:
    """Dates: ISO, 2024/3/5, 2024年3月5日, 20240305, 2024.3.5, a timestamp, or an Excel serial number."""
    text = f"regexp_replace({c}, '\\s.*$', '')"  # drop a time part
    formats = "['%Y-%m-%d', '%Y/%m/%d', '%Y年%m月%d日', '%Y%m%d', '%Y.%m.%d']"
    parsed = f"CAST(try_strptime({text}, {formats}) AS DATE)"
    serial = f"TRY_CAST({c} AS DOUBLE)"
    from_serial = (
        f"CASE WHEN regexp_full_match({c}, '[0-9]{{4,5}}(\\.[0-9]+)?') AND {serial} BETWEEN 1 AND 2958465 "
        f"THEN CAST(DATE '1899-12-30' + CAST(floor({serial}) AS INTEGER) AS DATE) END"
    )
    value = f"COALESCE({parsed}, {from_serial})"
    return value, f"CASE WHEN {c} IS NOT NULL AND {value} IS NULL THEN 'bad_date' END"


TRUE_WORDS = ("是", "有", "y", "yes", "true", "1", "√", "✓", "✔", "对")
FALSE_WORDS = ("否", "无", "n", "no", "false", "0", "×", "✗", "✘", "不是")


def sql_bool(c: str) -> tuple[str, str]:
    low = f"lower({c})"
    trues = ", ".join(lit(w) for w in TRUE_WORDS)
    falses = ", ".join(lit(w) for w in FALSE_WORDS)
    value = f"CASE WHEN {low} IN ({trues}) THEN TRUE WHEN {low} IN ({falses}) THEN FALSE END"
    return value, f"CASE WHEN {c} IS NOT NULL AND {value} IS NULL THEN 'bad_bool' END"


def sql_enum(c: str, f: Field) -> tuple[str, str]:
    key = f"replace({c}, ' ', '')"
    pairs: dict[str, str] = {}
    for code, label in (f.vocab or {}).items():
        pairs[label] = code
        pairs[code] = code
    for alias, label in (f.aliases or {}).items():
        target = next((k for k, v in (f.vocab or {}).items() if v == label), None)
        if target is not None:
            pairs[alias] = target
        elif label == "":
            pairs[alias] = ""
    whens = " ".join(f"WHEN {lit(k)} THEN {lit(v)}" for k, v in pairs.items())
    value = f"NULLIF(CASE {key} {whens} END, '')"
    mapped = f"(CASE {key} {whens} END) IS NOT NULL"
    return value, f"CASE WHEN {c} IS NOT NULL AND NOT {mapped} THEN 'unknown_value' END"


def sql_region_code(c: str) -> tuple[str, str]:
    digits = f"regexp_replace({c}, '\\.0+$', '')"
    value = f"CASE WHEN regexp_full_match({digits}, '[0-9]{{12}}') THEN {digits} END"
    return value, f"CASE WHEN {c} IS NOT NULL AND {value} IS NULL THEN 'bad_region_code' END"


def sql_phone(c: str) -> tuple[str, str]:
    digits = f"regexp_replace(regexp_replace({c}, '[\\s\\-()]', '', 'g'), '^\\+?86(1[0-9]{{10}})$', '\\1')"
    value = f"CASE WHEN regexp_full_match({digits}, '[0-9]{{7,12}}') THEN {digits} END"
    return value, f"CASE WHEN {c} IS NOT NULL AND {value} IS NULL THEN 'bad_phone' END"


def sql_text(c: str) -> tuple[str, str]:
    return c, "NULL"


def _classify(raw: str | None) -> str:
    verdict = classify_id_number(raw)
    born = verdict.birth_date.isoformat() if verdict.birth_date else ""
    return "|".join(
        (verdict.status.value, verdict.number or "", verdict.prefix15 or "", verdict.sex or "", born)
    )


def register_functions(con: duckdb.DuckDBPyConnection) -> None:
    """engine.ids is the single definition of a valid ID; DuckDB calls it per distinct value."""
    with contextlib.suppress(duckdb.CatalogException):
        con.create_function(  # type: ignore[call-overload]
            "gl_classify_id",
            _classify,
            [duckdb.sqltype("VARCHAR")],
            duckdb.sqltype("VARCHAR"),
            null_handling="special",
            side_effects=False,
        )


@dataclass(frozen=True)
class Expr:
    value: str
    error: str


def field_sql(f: Field, raw: str) -> Expr:
    c = sql_clean(raw)
    if f.kind == "id_number":
        return Expr(c, "NULL")  # handled in its own stage (see build)
    builder = {
        "money": sql_money,
        "int": sql_int,
        "date": sql_date,
        "bool": sql_bool,
        "region_code": sql_region_code,
        "phone": sql_phone,
        "text": sql_text,
    }.get(f.kind)
    value, error = sql_enum(c, f) if f.kind == "enum" else builder(c)  # type: ignore[misc]
    if f.min is not None or f.max is not None:
        lo = f"{value} < {f.min}" if f.min is not None else "FALSE"
        hi = f"{value} > {f.max}" if f.max is not None else "FALSE"
        error = f"COALESCE({error}, CASE WHEN {lo} OR {hi} THEN 'out_of_range' END)"
    if f.required:
        error = f"CASE WHEN {c} IS NULL THEN 'required' ELSE {error} END"
    return Expr(value, error)


def build(
    con: duckdb.DuckDBPyConnection,
    spec: TableSpec,
    raw: str,
    present: set[str],
    *,
    file: str,
    headers: dict[str, str],
) -> tuple[str, str]:
    """Create `<raw>_clean` and `<raw>_errors` from the raw table; returns their names."""
    register_functions(con)
    staged, clean, errors = f"{raw}_staged", f"{raw}_clean", f"{raw}_errors"
    selects = ["source_row"]
    for f in spec.fields:
        col = q(f.name) if f.name in present else "CAST(NULL AS VARCHAR)"
        e = field_sql(f, col)
        selects.append(f"{e.value} AS {q(f.name)}")
        selects.append(f"{e.error} AS {q(f.name + '__e')}")
        selects.append(f"{col} AS {q(f.name + '__raw')}")
    id_fields = [f for f in spec.fields if f.kind == "id_number"]
    con.execute(f"CREATE OR REPLACE TEMP TABLE {staged} AS SELECT {', '.join(selects)} FROM {raw}")
    for f in id_fields:
        # One UDF call per distinct cleaned value, joined back.
        parts = f"{q(f.name + '__p')}"
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE {staged}_ids AS
            SELECT v, string_split(gl_classify_id(v), '|') AS p FROM (SELECT DISTINCT {q(f.name)} AS v FROM {staged})
        """)
        status = f"{parts}[1]"
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE {staged} AS
            SELECT s.* EXCLUDE ({q(f.name)}, {q(f.name + "__e")}),
                   NULLIF(i.p[2], '') AS {q(f.name)},
                   i.p[1] AS {q(f.name + "_status")},
                   NULLIF(i.p[3], '') AS {q(f.name + "_prefix15")},
                   NULLIF(i.p[4], '') AS {q(f.name + "__sex")},
                   TRY_CAST(NULLIF(i.p[5], '') AS DATE) AS {q(f.name + "__birth")},
                   CASE WHEN s.{q(f.name)} IS NULL AND {str(f.required).upper()} THEN 'required'
                        WHEN s.{q(f.name)} IS NULL THEN NULL
                        WHEN i.p[1] IN ('valid', 'converted') THEN NULL
                        ELSE 'id_' || i.p[1] END AS {q(f.name + "__e")}
            FROM {staged} s LEFT JOIN {staged}_ids i ON i.v IS NOT DISTINCT FROM s.{q(f.name)}
        """)
        del status
    derived_checks: list[tuple[str, str, str]] = []  # (field, error SQL, severity)
    if id_fields and {"sex", "birth_date"} <= {f.name for f in spec.fields}:
        idf = id_fields[0].name
        sex_from_id = f"CASE {q(idf + '__sex')} WHEN '男' THEN 'male' WHEN '女' THEN 'female' END"
        derived_checks.append(
            (
                "sex",
                f"CASE WHEN sex IS NOT NULL AND {sex_from_id} IS NOT NULL AND sex <> "
                f"{sex_from_id} THEN 'sex_mismatch' END",
                "warning",
            )
        )
        derived_checks.append(
            (
                "birth_date",
                f"CASE WHEN birth_date IS NOT NULL AND {q(idf + '__birth')} IS NOT "
                f"NULL AND birth_date <> {q(idf + '__birth')} THEN 'birth_mismatch' END",
                "warning",
            )
        )
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE {staged} AS
            SELECT * EXCLUDE (sex, birth_date),
                   COALESCE({sex_from_id}, sex) AS sex, COALESCE({q(idf + "__birth")}, birth_date) AS birth_date,
                   {derived_checks[0][1]} AS sex__w, {derived_checks[1][1]} AS birth_date__w
            FROM {staged}
        """)

    # Non-strict fields warn instead of rejecting: unknown optional codes, and feed ID numbers (a feed row without a
    # usable ID is still linked by name, birth date and village).
    severity = {
        f.name: ("warning" if f.kind in ("enum", "id_number") and not f.strict else "error")
        for f in spec.fields
    }
    key = ", ".join(q(k) for k in spec.natural_key)
    unions = []
    for f in spec.fields:
        header = headers.get(f.name, f.label)
        sev = severity[f.name]
        unions.append(f"""SELECT source_row, {lit(header)} AS "column", {q(f.name + "__raw")} AS value,
                                 {q(f.name + "__e")} AS code, {lit(sev)} AS severity
                          FROM {staged} WHERE {q(f.name + "__e")} IS NOT NULL""")
    if derived_checks:
        for name, _, sev in derived_checks:
            unions.append(f"""SELECT source_row, {lit(headers.get(name, spec.field(name).label))}, {q(name + "__raw")},
                                     {q(name + "__w")}, {lit(sev)} FROM {staged} WHERE {q(name + "__w")} IS NOT NULL""")
    if spec.require_one_of:
        none_given = " AND ".join(f"{q(n + '__raw')} IS NULL" for n in spec.require_one_of)
        wanted = "或".join(headers.get(n, spec.field(n).label) for n in spec.require_one_of)
        unions.append(f"""SELECT source_row, {lit(wanted)}, NULL, 'missing_subject', 'error'
                          FROM {staged} WHERE {none_given}""")
    # Duplicate natural keys inside the file: later rows are rejected, naming the first.
    key_errors = " OR ".join(f"{q(k + '__e')} IS NOT NULL" for k in spec.natural_key)
    unions.append(f"""SELECT source_row, {lit(headers.get(spec.natural_key[-1], spec.natural_key[-1]))},
                             {q(spec.natural_key[-1])}::VARCHAR, 'duplicate_key:' || first_row, 'error'
                      FROM (SELECT source_row, {key}, min(source_row) OVER (PARTITION BY {key}) AS first_row
                            FROM {staged} WHERE NOT ({key_errors}))
                      WHERE source_row <> first_row""")
    con.execute(f"CREATE OR REPLACE TEMP TABLE {errors}_codes AS {' UNION ALL '.join(unions)}")
    message_cases = " ".join(f"WHEN {lit(code)} THEN {lit(text)}" for code, text in MESSAGES.items())
    con.execute(f"""
        CREATE OR REPLACE TABLE {errors} AS
        SELECT {lit(file)} AS file, source_row, "column", value,
               split_part(code, ':', 1) AS code,
               CASE WHEN code LIKE 'duplicate_key:%' THEN '与第' || split_part(code, ':', 2) || '行重复（{
        "、".join(headers.get(k, k) for k in spec.natural_key)
    }相同）'
                    WHEN code = 'unknown_value' AND severity = 'warning' THEN '取值不在标准代码表中，已忽略该值'
                    ELSE COALESCE(CASE code {message_cases} END, code) END AS message,
               severity
        FROM {errors}_codes
    """)
    names = [q(f.name) for f in spec.fields]
    # Non-strict enum warnings drop the value (NULL); the row itself is kept.
    extra = [f"{q(f.name + '_status')}, {q(f.name + '_prefix15')}" for f in id_fields]
    con.execute(f"""
        CREATE OR REPLACE TABLE {clean} AS
        SELECT source_row, {", ".join(names + extra)} FROM {staged}
        WHERE source_row NOT IN (SELECT source_row FROM {errors} WHERE severity = 'error')
    """)
    return clean, errors
