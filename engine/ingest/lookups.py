"""Verdicts computed once per distinct cell value and joined back (still set-based, and the SQL stays small):

- ID numbers: engine.ids.classify_id_number, registered as a DuckDB Python function, for the cells that the SQL
  fast path (sqlkinds.sql_id_fast) does not already accept as plainly valid.
- Enum cells: matched to a code after NFKC normalisation, removing spaces and ignoring case — the rule that
  engine.vocab.ALIASES is written for. Columns hold a handful of distinct values, so this costs one DISTINCT scan.
"""

from __future__ import annotations

import contextlib
import unicodedata
from datetime import date

import duckdb
import pyarrow as pa

from engine.ids import classify_id_number

from .specs import Field, TableSpec
from .sqlkinds import q, sql_id_fast


def _classify(raw: str | None) -> str:
    verdict = classify_id_number(raw)
    born = verdict.birth_date.isoformat() if verdict.birth_date else ""
    return "|".join(
        (verdict.status.value, verdict.number or "", verdict.prefix15 or "", verdict.sex or "", born)
    )


def register_functions(con: duckdb.DuckDBPyConnection) -> None:
    """Make gl_classify_id(VARCHAR) available on `con` (once: a caller may load several files on one
    connection, and DuckDB refuses to register a name twice)."""
    # DuckDB 2 reports a second registration as NotImplementedException (older versions: CatalogException).
    with contextlib.suppress(duckdb.CatalogException, duckdb.NotImplementedException):
        con.create_function(  # type: ignore[call-overload]
            "gl_classify_id",
            _classify,
            [duckdb.sqltype("VARCHAR")],
            duckdb.sqltype("VARCHAR"),
            null_handling="special",
            side_effects=False,
        )


def id_table(con: duckdb.DuckDBPyConnection, raw: str, f: Field, table: str, today: date) -> None:
    """`table` (v, status, number, prefix15, sex, birth): engine.ids' verdict on each distinct cell of field `f`
    that the fast path does not accept."""
    register_functions(con)
    r = q(f.name)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {table} AS
        SELECT v, p[1] AS status, NULLIF(p[2], '') AS number, NULLIF(p[3], '') AS prefix15,
               CASE p[4] WHEN '男' THEN 'male' WHEN '女' THEN 'female' END AS sex,
               TRY_CAST(NULLIF(p[5], '') AS DATE) AS birth
        FROM (SELECT v, string_split(gl_classify_id(v), '|') AS p
              FROM (SELECT DISTINCT {r} AS v FROM {raw}
                    WHERE {r} IS NOT NULL AND NOT COALESCE({sql_id_fast(r, today)}, false)))
    """)


def enum_key(text: str) -> str:
    """The comparable form of an enum cell or vocabulary entry."""
    return "".join(unicodedata.normalize("NFKC", text).split()).lower()


def enum_pairs(f: Field) -> dict[str, str]:
    """Every accepted spelling (as enum_key) → code; '' for alias spellings that mean "blank"."""
    table = f.vocab or {}
    by_label = {label: code for code, label in table.items()}
    pairs: dict[str, str] = {}
    for alias, label in f.alias_map().items():
        if label in by_label or label == "":
            pairs[enum_key(alias)] = by_label.get(label, "")
    for code, label in table.items():  # labels and codes win over aliases
        pairs[enum_key(label)] = code
        pairs[enum_key(code)] = code
    return pairs


def enum_table(con: duckdb.DuckDBPyConnection, raw: str, f: Field, table: str) -> None:
    """`table` (v, code): the code of each distinct cell of enum field `f` ('' = blank, NULL = unknown)."""
    pairs = enum_pairs(f)
    values = [
        v
        for (v,) in con.execute(
            f"SELECT DISTINCT {q(f.name)} FROM {raw} WHERE {q(f.name)} IS NOT NULL"
        ).fetchall()
    ]
    codes = [pairs.get(enum_key(v)) for v in values]
    arrow = pa.table({"v": pa.array(values, pa.string()), "code": pa.array(codes, pa.string())})
    con.register(f"{table}_arrow", arrow)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT * FROM {table}_arrow")
    con.unregister(f"{table}_arrow")


def lookup_tables(con: duckdb.DuckDBPyConnection, spec: TableSpec, raw: str, today: date) -> dict[str, str]:
    """Field name → its lookup table, for every ID and enum field."""
    tables: dict[str, str] = {}
    for i, f in enumerate(spec.fields):
        table = f"{raw}_lk{i}"
        if f.kind == "id_number":
            id_table(con, raw, f, table, today)
        elif f.kind == "enum":
            enum_table(con, raw, f, table)
        else:
            continue
        tables[f.name] = table
    return tables
