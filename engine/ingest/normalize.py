"""Set-based normalisation in DuckDB: the per-kind SQL of sqlkinds.py composed into one CREATE TABLE … AS SELECT
over the raw table, then an `errors` table (one row per problem) and a `clean` table (the accepted rows, typed).

Layers of that SELECT: (1) cleaned cells, joined to the per-distinct-value lookups (IDs, enums); (2) the value
per field, then (2b) its error/warning code; (3) what needs several fields: sex/birth date derived from the ID,
table checks, the row's verdict. Duplicate natural keys are found afterwards with one hash aggregate.
"""

from __future__ import annotations

from datetime import date

import duckdb
import pyarrow as pa

from engine.ids import STATUS_MESSAGES, IdStatus

from .lookups import lookup_tables
from .specs import Field, TableSpec
from .sqlkinds import (
    V,
    field_sql,
    lit,
    q,
    sql_clean,
    sql_enum,
    sql_id_birth,
    sql_id_fast,
    sql_id_sex,
    sql_range,
    sql_strip_controls,
)

COMMON_MESSAGES = {
    "bad_date": "日期无法识别（支持 2024-03-05、2024/3/5、2024年3月5日、20240305、2024.3.5 和Excel日期）",
    "bad_money": "金额无法识别（应为数字，可带千分位逗号、“元”或“¥”）",
    "bad_int": "应为整数",
    "bad_bool": "应填“是”或“否”",
    "bad_region_code": "行政区划代码应为12位数字（村级统计用区划代码）",
    "bad_phone": "电话号码应为7–12位数字",
    "excel_number": "长数字被Excel按数字存储，末几位已丢失（请将该列设为文本后重新导出）",
    "sex_mismatch": "性别与身份证号不一致，已按身份证号取值",
    "birth_mismatch": "出生日期与身份证号不一致，已按身份证号取值",
    "totals_row": "疑似合计行（首格为合计/总计/小计），但关键列（如户编号、证件号码）不为空，未导入，请核实",
    **{f"id_{s.value}": m for s, m in STATUS_MESSAGES.items()},
}


def messages(f: Field) -> dict[str, str]:
    """Code → the Chinese message for problems in field `f`."""
    out = dict(COMMON_MESSAGES)
    out["required"] = (
        STATUS_MESSAGES[IdStatus.MISSING] if f.kind == "id_number" else f"“{f.label}”为必填项，不能为空"
    )
    labels = "、".join((f.vocab or {}).values())
    out["unknown_value"] = f"取值不在标准代码表中（可填：{labels}）" + ("" if f.strict else "，已按空值处理")
    if f.min == 0 and f.max is None:
        out["out_of_range"] = "不能为负数"
    else:
        lo = "" if f.min is None else f"{f.min:g}"
        hi = "" if f.max is None else f"{f.max:g}"
        out["out_of_range"] = f"超出允许范围（{lo}–{hi}）"
    return out


def _layer1(spec: TableSpec, raw: str, lookups: dict[str, str], today: date) -> str:
    fast = [
        f"{sql_id_fast(q(f.name), today)} AS {q(f.name + '__fast')}"
        for f in spec.fields
        if f.kind == "id_number"
    ]
    cols = ["r.source_row", "r.__layout", "r.__first"]
    joins = []
    for i, f in enumerate(spec.fields):
        r, n = f"r.{q(f.name)}", f.name
        cols += [f"{r} AS {q(n + '__raw')}", f"{sql_clean(r)} AS {q(n + '__c')}"]
        if n not in lookups:
            continue
        u = f"u{i}"
        joins.append(f"LEFT JOIN {lookups[n]} {u} ON {u}.v = {r}")
        if f.kind == "enum":
            cols.append(f"{u}.code AS {q(n + '__code')}")
            continue
        ok = f"r.{q(n + '__fast')}"
        cols += [
            f"CASE WHEN {ok} THEN upper({r}) ELSE {u}.number END AS {q(n + '__num')}",
            f"CASE WHEN {ok} THEN 'valid' ELSE COALESCE({u}.status, 'missing') END AS {q(n + '__st')}",
            f"CASE WHEN {ok} THEN substr({r}, 1, 15) ELSE {u}.prefix15 END AS {q(n + '__p15')}",
            f"CASE WHEN {ok} THEN {sql_id_sex(r)} ELSE {u}.sex END AS {q(n + '__sex')}",
            f"CASE WHEN {ok} THEN {sql_id_birth(r)} ELSE {u}.birth END AS {q(n + '__birth')}",
        ]
    source = f"(SELECT *, {', '.join(fast)} FROM {raw})" if fast else raw
    return f"SELECT {', '.join(cols)} FROM {source} r {' '.join(joins)}"


def _layer2(spec: TableSpec, inner: str) -> str:
    """Values, and each field's error expression with V still in it (resolved by _layer2b)."""
    cols = ["*"]
    for f in spec.fields:
        n = f.name
        if f.kind == "id_number":
            cols += [f"{q(n + '__num')} AS {q(n)}", f"{q(n + '__st')} AS {q(n + '_status')}"]
            cols.append(f"{q(n + '__p15')} AS {q(n + '_prefix15')}")
        elif f.kind == "enum":
            cols.append(f"{sql_enum(q(n + '__c'), q(n + '__code'))[0]} AS {q(n)}")
        else:
            cols.append(f"{field_sql(f, q(n + '__c'))[0]} AS {q(n)}")
    return f"SELECT {', '.join(cols)} FROM ({inner})"


def _layer2b(spec: TableSpec, inner: str) -> str:
    """Error (rejects the row) and warning codes per field."""
    cols = ["*"]
    for f in spec.fields:
        c, n = q(f.name + "__c"), f.name
        warn = "NULL"
        if f.kind == "id_number":
            st = q(n + "_status")
            error = (
                f"CASE WHEN {c} IS NULL OR {st} IN ('valid', 'converted') THEN NULL ELSE 'id_' || {st} END"
            )
            if not f.strict:
                warn, error = error, "NULL"
        else:
            error = sql_enum(c, q(n + "__code"))[1] if f.kind == "enum" else field_sql(f, c)[1]
            if f.min is not None or f.max is not None:
                error = f"COALESCE({error}, {sql_range(f)})"
            if f.kind == "enum" and not f.strict:
                warn, error = error, "NULL"
        if f.required:
            error = f"CASE WHEN {c} IS NULL THEN 'required' ELSE {error} END"
        cols += [f"{error.replace(V, q(n))} AS {q(n + '__e')}", f"{warn.replace(V, q(n))} AS {q(n + '__w')}"]
    return f"SELECT {', '.join(cols)} FROM ({inner})"


def _derived(spec: TableSpec) -> list[tuple[str, str, str]]:
    """Sex and birth date derived from the ID, when the table has them: (field, ID part column, warning code)."""
    names = {f.name: f for f in spec.fields}
    idf = next((f.name for f in spec.fields if f.kind == "id_number"), None)
    if idf is None:
        return []
    wanted = (("sex", "enum", "__sex", "sex_mismatch"), ("birth_date", "date", "__birth", "birth_mismatch"))
    return [(n, idf + part, code) for n, kind, part, code in wanted if n in names and names[n].kind == kind]


def _layer3(spec: TableSpec, inner: str) -> str:
    derived = _derived(spec)
    # The ID wins over a given sex/birth date; a contradiction is only a warning.
    cols = [f"* EXCLUDE ({', '.join(q(n) for n, _, _ in derived)})" if derived else "*"]
    for n, part, code in derived:
        cols.append(f"COALESCE({q(part)}, {q(n)}) AS {q(n)}")
        cols.append(
            f"CASE WHEN {q(n)} IS NOT NULL AND {q(part)} IS NOT NULL AND {q(n)} <> {q(part)} "
            f"THEN '{code}' END AS {q(n + '__d')}"
        )
    cols += [f"({c.invalid_when}) AS {q(f'__check{i}')}" for i, c in enumerate(spec.checks)]
    # A key with a problem (even a warning, e.g. a damaged feed ID) cannot prove two rows the same; a blank
    # optional key part (a feed row without village) is compared as blank.
    key_ok = " AND ".join(f"{q(k + '__e')} IS NULL AND {q(k + '__w')} IS NULL" for k in spec.natural_key)
    no_subject = " AND ".join(f"{q(n + '__c')} IS NULL" for n in spec.require_one_of) or "false"
    bad = [f"{q(f.name + '__e')} IS NOT NULL" for f in spec.fields] + ["__layout IS NOT NULL", "__no_subject"]
    bad += [f"COALESCE(({c.invalid_when}), false)" for c in spec.checks if c.severity == "error"]
    cols += [f"({no_subject}) AS __no_subject", f"({key_ok}) AS __key_ok", f"({' OR '.join(bad)}) AS __bad"]
    return f"SELECT {', '.join(cols)} FROM ({inner})"


def _message_table(con: duckdb.DuckDBPyConnection, spec: TableSpec, table: str) -> None:
    """(ord, code, message) for every field's possible codes: joined to the problems, keeps the SQL small."""
    rows = [(i, code, text) for i, f in enumerate(spec.fields) for code, text in messages(f).items()]
    rows += [(len(spec.fields) + i, c.code, c.message) for i, c in enumerate(spec.checks)]
    arrow = pa.table({k: pa.array([r[j] for r in rows]) for j, k in enumerate(("ord", "code", "message"))})
    con.register(f"{table}_arrow", arrow)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT * FROM {table}_arrow")
    con.unregister(f"{table}_arrow")


def _problems(spec: TableSpec, staged: str, dups: str, headers: dict[str, str]) -> str:
    """UNION ALL of (source_row, ord, col, value, code, message or NULL, severity)."""

    def header(name: str) -> str:
        return lit(headers.get(name, spec.field(name).label))

    order = {f.name: i for i, f in enumerate(spec.fields)}
    selects = []
    for f in spec.fields:
        for col, severity in (("__e", "error"), ("__w", "warning")):
            code = q(f.name + col)
            selects.append(
                f"SELECT source_row, {order[f.name]} AS ord, {header(f.name)} AS col, {q(f.name + '__raw')} AS value, "
                f"{code} AS code, NULL AS message, '{severity}' AS severity FROM {staged} WHERE {code} IS NOT NULL"
            )
    for n, _, code in _derived(spec):
        selects.append(
            f"SELECT source_row, {order[n]}, {header(n)}, {q(n + '__raw')}, '{code}', NULL, 'warning' "
            f"FROM {staged} WHERE {q(n + '__d')} IS NOT NULL"
        )
    for i, c in enumerate(spec.checks):
        selects.append(
            f"SELECT source_row, {len(spec.fields) + i}, {header(c.column)}, {q(c.column + '__raw')}, "
            f"{lit(c.code)}, NULL, {lit(c.severity)} FROM {staged} WHERE {q(f'__check{i}')}"
        )
    last = spec.natural_key[-1]
    key_headers = "、".join(headers.get(k, spec.field(k).label) for k in spec.natural_key)
    selects.append(
        f"SELECT d.source_row, {order[last]}, {header(last)}, s.{q(last + '__raw')}, 'duplicate_key', "
        f"'与第' || d.first_row || '行重复（{key_headers}相同），本行未导入', 'error' "
        f"FROM {dups} d JOIN {staged} s ON s.source_row = d.source_row"
    )
    selects.append(
        f"SELECT source_row, -1, '', __first, __layout, NULL, 'error' FROM {staged} WHERE __layout IS NOT NULL"
    )
    if spec.require_one_of:
        wanted = "或".join(headers.get(n, spec.field(n).label) for n in spec.require_one_of)
        selects.append(
            f"SELECT source_row, {order[spec.require_one_of[0]]}, {lit(wanted)}, NULL, 'missing_subject', "
            f"{lit(f'缺少对象：应填写{wanted}')}, 'error' FROM {staged} WHERE __no_subject"
        )
    return " UNION ALL ".join(selects)


def build(
    con: duckdb.DuckDBPyConnection,
    spec: TableSpec,
    raw: str,
    *,
    file: str,
    headers: dict[str, str],
) -> tuple[str, str]:
    """Create `<raw>_clean` and `<raw>_errors` from `raw` (source_row, __layout, __first and one VARCHAR column
    per field of the spec); returns their names. Intermediate tables are dropped."""
    today = date.today()  # the same "today" engine.ids uses for future birth dates
    staged, dups, texts = f"{raw}_staged", f"{raw}_dups", f"{raw}_messages"
    clean, errors = f"{raw}_clean", f"{raw}_errors"
    lookups = lookup_tables(con, spec, raw, today)
    layered = _layer3(spec, _layer2b(spec, _layer2(spec, _layer1(spec, raw, lookups, today))))
    con.execute(f"CREATE OR REPLACE TEMP TABLE {staged} AS {layered}")
    # Duplicate natural keys: a hash aggregate finds the (few) repeated keys; later rows name the first one.
    key = ", ".join(q(k) for k in spec.natural_key)
    on = " AND ".join(f"s.{q(k)} IS NOT DISTINCT FROM d.{q(k)}" for k in spec.natural_key)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {dups} AS
        SELECT s.source_row, d.first_row FROM {staged} s
        JOIN (SELECT {key}, min(source_row) AS first_row FROM {staged} WHERE __key_ok
              GROUP BY {key} HAVING count(*) > 1) d ON {on}
        WHERE s.__key_ok AND s.source_row <> d.first_row
    """)
    _message_table(con, spec, texts)
    con.execute(f"""
        CREATE OR REPLACE TABLE {errors} AS
        SELECT {lit(file)} AS file, CAST(p.source_row AS INTEGER) AS source_row,
               {sql_strip_controls("p.col")} AS "column", {sql_strip_controls("CAST(p.value AS VARCHAR)")} AS value, p.code, COALESCE(p.message, m.message, p.code) AS message,
               p.severity
        FROM ({_problems(spec, staged, dups, headers)}) p
        LEFT JOIN {texts} m ON m.ord = p.ord AND m.code = p.code
        ORDER BY p.source_row, p.ord, p.severity
    """)
    names = [q(f.name) for f in spec.fields]
    names += [q(f.name + s) for f in spec.fields if f.kind == "id_number" for s in ("_status", "_prefix15")]
    con.execute(f"""
        CREATE OR REPLACE TABLE {clean} AS
        SELECT CAST(source_row AS INTEGER) AS source_row, {", ".join(names)} FROM {staged}
        WHERE NOT __bad AND source_row NOT IN (SELECT source_row FROM {dups})
        ORDER BY source_row
    """)
    for table in [staged, dups, texts, *lookups.values()]:
        con.execute(f"DROP TABLE IF EXISTS {table}")
    return clean, errors
