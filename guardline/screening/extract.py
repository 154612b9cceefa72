"""The engine's input tables read from the operational database as Arrow, in a few large scans.

SQLite and PostgreSQL are read through their ADBC drivers (columnar, no Python object per value), so a province's
millions of events reach the engine in seconds; any other database goes through Django's cursor. Only committed
data is read; the platform's own tables stay the single source of truth."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
from django.db import connection

from engine.screening.run import SCHEMAS
from engine.screening.steps import Window
from guardline.core.locks import sqlite_libraries
from guardline.ingest.models import FeedEvent
from guardline.registry.models import Household, HouseholdYear, Member

_LINKED = "'" + FeedEvent.LinkStatus.LINKED + "'"
_AT_VILLAGE = "'" + FeedEvent.LinkStatus.VILLAGE + "'"


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _event_window(as_of: dt.date | None) -> str:
    """The events a screening at `as_of` can read: dated within the engine's longest look-back
    (engine.screening.steps.Window: 24 months up to as_of), the same bounds the engine applies — so that a
    county's years of history do not make every pass read, convert and drop them. Empty without `as_of`."""
    if as_of is None:
        return ""
    window = Window.at(as_of)
    # SQLite: `+event_date` keeps the planner off the index on event_date alone. With the statistics of a real
    # county it prefers that index for a date range, and then looks every event up in the table: at 1M households
    # the extract took 219 s instead of 12 s. The covering index, by link status, stays the way in.
    column = "+event_date" if connection.vendor == "sqlite" else "event_date"
    return f" AND {column} > '{window.months24.isoformat()}' AND {column} <= '{window.as_of.isoformat()}'"


def _queries(
    household_ids: list[int] | None, village_codes: list[str] | None, as_of: dt.date | None = None
) -> dict[str, str]:
    h, m, y = _q(Household._meta.db_table), _q(Member._meta.db_table), _q(HouseholdYear._meta.db_table)
    linked, at_village = _LINKED, _AT_VILLAGE
    hh_filter = m_filter = y_filter = ""
    in_village = ""
    if village_codes is not None:
        codes = ", ".join("'" + c.replace("'", "") + "'" for c in village_codes) or "NULL"
        in_village = f"village_code IN ({codes})"
    if household_ids is None:
        # Linked events with a household and village-level events, written as one range of the covering index
        # feedevent_screening_cover (link_status first). The equivalent `(linked AND household) OR village` makes
        # SQLite collect and deduplicate millions of rowids (MULTI-INDEX OR).
        ev_where = (
            f"link_status IN ({linked}, {at_village}) "
            f"AND (household_id IS NOT NULL OR link_status = {at_village})"
        )
        if in_village:
            ev_where += f" AND (link_status = {linked} OR {in_village})"
    else:
        ids = ", ".join(str(int(i)) for i in household_ids) or "NULL"
        hh_filter = f"AND id IN ({ids})"
        m_filter = f"AND household_id IN ({ids})"
        y_filter = f"WHERE household_id IN ({ids})"
        # A few households: this OR form is what looks each of them up in the index.
        ev_where = f"(link_status = {linked} AND household_id IN ({ids})) OR (link_status = {at_village}"
        ev_where += f" AND {in_village})" if in_village else ")"
        ev_where = f"({ev_where})"
    ev_where += _event_window(as_of)
    # Only the columns the engine reads (engine.screening.run.SCHEMAS): the driver builds Arrow value by value, and
    # three unread text columns of 3.5M members cost 0.7-0.9 s of CPU. No covering index for the members: at 1M
    # the scan reads the same 4.1 s with one; SQLite decodes the rows in ~0.7 s, the rest is the driver.
    return {
        "households": (
            f"SELECT id AS household_id, household_no, village_code, household_type, monitor_category, "
            f"no_labour_household, relocation_site FROM {h} WHERE is_active {hh_filter}"
        ),
        "members": (
            f"SELECT id AS member_id, household_id, is_active, birth_date, education, student_status, health, "
            f"disability_grade, labour_capacity, work_months, basic_medical_insured FROM {m} WHERE 1 = 1 {m_filter}"
        ),
        "household_years": (
            f"SELECT household_id, year, {_money(_MONEY)}, housing_unsafe, dropout, water_unsafe, "
            f"uninsured_member, household_size FROM {y} {y_filter}"
        ),
        "events": f"{_events_select()} WHERE {ev_where}",
    }


_MONEY = ("wage_income", "business_income", "property_income", "transfer_income", "business_cost", "claim_income",
          "compliant_out_of_pocket")  # fmt: skip


def pg_double(column: str) -> str:
    """PostgreSQL: an amount (DecimalField) as the engine reads it, a double. numeric reaches Arrow as text, which
    costs the driver and then a parse: 0.69 s against 0.29 s for 200,000 income years."""
    return f"CAST({column} AS DOUBLE PRECISION)"


# PostgreSQL: an event's date of receipt, the UTC date, as SQLite's text gives it. DATE() alone would take the
# session's time zone, which for the ADBC reads is the server's (Asia/Shanghai on many) and for Django's cursor UTC.
PG_RECEIVED_DATE = "DATE(created_at AT TIME ZONE 'UTC')"


def _money(columns: tuple[str, ...]) -> str:
    if connection.vendor != "postgresql":
        return ", ".join(columns)
    return ", ".join(f"{pg_double(c)} AS {c}" for c in columns)


def _events_select() -> str:
    # SQLite keeps datetimes as ISO text: the date is its first ten characters, cut in Arrow (`_conform`) rather
    # than parsed row by row in SQL.
    received = "created_at" if connection.vendor == "sqlite" else PG_RECEIVED_DATE
    return (
        f"SELECT feed, household_id, member_id, village_code, event_date, {received} AS received_date, amount, "
        f"kind FROM {_q(FeedEvent._meta.db_table)}"
    )


def _events_split(cut: int, as_of: dt.date | None = None) -> list[str]:
    """The full pass's events (`_queries(None, None, as_of)["events"]`) as three disjoint queries: linked events
    of the households up to `cut`, those above it, and village-level events; each one range of the covering
    index."""
    select, cut, window = _events_select(), int(cut), _event_window(as_of)
    return [
        f"{select} WHERE link_status = {_LINKED} AND household_id <= {cut}{window}",
        f"{select} WHERE link_status = {_LINKED} AND household_id > {cut}{window}",
        f"{select} WHERE link_status = {_AT_VILLAGE}{window}",
    ]


def _household_midpoint() -> int | None:
    """The middle of the households' id range (ids are allotted in sequence, events spread evenly enough over
    them); None without households."""
    h = _q(Household._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT (SELECT MIN(id) FROM {h}), (SELECT MAX(id) FROM {h})")
        low, high = cursor.fetchone()
    return None if low is None else (int(low) + int(high)) // 2


def sqlite_file() -> str | None:
    """The default database's SQLite file, or None: another database, or SQLite in memory (tests), which ADBC
    cannot open."""
    if connection.vendor != "sqlite":
        return None
    path = str(connection.settings_dict["NAME"])
    return None if path == ":memory:" or "mode=memory" in path else path


def _columnar() -> bool:
    """Whether `fetch` reads through ADBC (not through Django's connection, which is per thread)."""
    if connection.in_atomic_block:
        return False
    return connection.vendor == "postgresql" or sqlite_file() is not None


def fetch(sql: str, *, columnar: bool = True, schema: pa.Schema | None = None) -> pa.Table:
    """One query's result as Arrow: through ADBC outside a transaction, else — and for the few rows of one
    household's re-screen (`columnar=False`) — through Django's own cursor. On SQLite the live path then never
    opens the file with ADBC's second SQLite library beside the web server's and the worker's other threads,
    whose connections `sqlite_hand_over` cannot close.

    `schema`, the columns the caller will conform the result to (by name), is what a read of more than a
    thousand rows from SQLite must give: see `_with_type_probe`."""
    if connection.in_atomic_block or not columnar:
        # A second (ADBC) connection cannot see this transaction's uncommitted writes; read through our own.
        return _fetch_cursor(sql)
    vendor = connection.vendor
    if vendor == "sqlite":
        import adbc_driver_sqlite.dbapi as adbc

        path = sqlite_file()
        if path is None:
            return _fetch_cursor(sql)
        with sqlite_libraries.shared():
            sqlite_hand_over(path)
            with adbc.connect(path) as con, con.cursor() as cur:
                # Wait for a writer (or a WAL recovery after a crash) like Django's connections do, not fail at once.
                cur.execute("PRAGMA busy_timeout = 20000")
                cur.execute(sql if schema is None else _with_type_probe(sql, schema))
                table = cur.fetch_arrow_table()
        return table if schema is None else _without_type_probe(table)
    if vendor == "postgresql":
        import adbc_driver_postgresql.dbapi as adbc

        s = connection.settings_dict
        uri = _pg_uri(s)
        with adbc.connect(uri) as con, con.cursor() as cur:
            cur.execute(sql)
            return cur.fetch_arrow_table()
    return _fetch_cursor(sql)


_PROBE = "guardline_type_probe"


def _probe_literal(type_: pa.DataType) -> str:
    if pa.types.is_floating(type_):
        return "0.5"
    if pa.types.is_integer(type_) or pa.types.is_boolean(type_):
        return "0"
    return "''"  # text, and dates: SQLite keeps them as ISO text


def _with_type_probe(sql: str, schema: pa.Schema) -> str:
    """`sql` with a first row of literals of each column's type.

    ADBC's SQLite driver takes a column's type from the first batch of rows (1,024) and fails on a later value of
    another type ("Type mismatch in column 7: expected INT64 but got DOUBLE"). Two cases are common in real data:
    a NUMERIC column (Django's DecimalField on SQLite: incomes) whose first thousand values are whole yuan, stored
    as integers, before one that is not; and a column whose first thousand values are all NULL (a claim income
    few households have), for which it guesses int64. The probe row, dropped after the read, fixes each column's
    type. The columns are taken by name, in the schema's order."""
    names = [f'"{f.name}"' for f in schema]
    probe = ", ".join(f"{_probe_literal(f.type)} AS {n}" for f, n in zip(schema, names, strict=True))
    return f"SELECT {probe}, 1 AS {_PROBE} UNION ALL SELECT {', '.join(names)}, 0 FROM ({sql})"


def _without_type_probe(table: pa.Table) -> pa.Table:
    probe = table.column(_PROBE)
    data = table.drop_columns([_PROBE])
    if probe[0].as_py() == 1 and pc.sum(probe).as_py() == 1:
        return data.slice(1)  # SQLite returns the arms of a UNION ALL in order: no copy
    return data.filter(pc.equal(probe, 0))


def sqlite_hand_over(path: str) -> None:
    """Close this thread's Django connection to the SQLite file before ADBC opens it; Django reopens it at its
    next query.

    ADBC's driver embeds its own SQLite: a second library in this process, whose POSIX locks do not see the
    first one's (sqlite.org, "How To Corrupt An SQLite Database File", 2.2.1). Opening the file, it finds the
    WAL's shared memory apparently unused and truncates it. A connection of the other library that still has it
    mapped then faults on its next write: SIGBUS inside sqlite3WalFrames. A bench script met it in Django's
    `executemany`, after a sqlite3 connection left open had kept the mapping alive across an ADBC read.

    So the file is handed over: no connection of the Python library may be open while ADBC reads. Django's is
    closed here; any other must be closed before (contextlib.closing: `with sqlite3.connect()` does not close).
    Inside a transaction nothing is closed, and `fetch` reads through Django's own cursor instead; nor is a
    connection to another file (tests copy their in-memory database to a file for ADBC)."""
    if connection.vendor != "sqlite" or connection.in_atomic_block or connection.connection is None:
        return
    row = connection.connection.execute("PRAGMA database_list").fetchone()  # (seq, name, file) of "main"
    if row and row[2] and os.path.exists(path) and os.path.samefile(row[2], path):
        connection.close()


def _pg_uri(s: dict) -> str:
    from urllib.parse import quote

    auth = quote(s["USER"] or "", safe="")
    if s.get("PASSWORD"):
        auth += ":" + quote(s["PASSWORD"], safe="")
    host = s["HOST"] or "localhost"
    return f"postgresql://{auth}@{host}:{s['PORT'] or 5432}/{quote(s['NAME'], safe='')}"


def _fetch_cursor(sql: str) -> pa.Table:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        names = [d[0] for d in cursor.description]
        rows = cursor.fetchall()
    columns = list(zip(*rows, strict=True)) if rows else [[] for _ in names]
    return pa.table({n: pa.array([_plain(v) for v in col]) for n, col in zip(names, columns, strict=True)})


def _plain(value):
    if isinstance(value, dt.datetime):
        return value.date()
    return float(value) if type(value).__name__ == "Decimal" else value


def _text_dates(col):
    """Dates or datetimes as SQLite keeps them (ISO text) to dates: the date as written, its first ten characters.
    Parsed whole where Arrow can (a date, a datetime without offset: ~3x faster than cutting the text first)."""
    for via in (pa.date32(), pa.timestamp("us")):
        try:
            return pc.cast(pc.cast(col, via), pa.date32())
        except pa.ArrowInvalid:
            pass
    return pc.cast(pc.utf8_slice_codeunits(col, 0, 10), pa.date32())


def _conform(name: str, table: pa.Table) -> pa.Table:
    """Cast what the database gave (text dates, 0/1 booleans, decimals) to the engine's schema."""
    return _conform_to(SCHEMAS[name], table)


def _conform_to(schema: pa.Schema, table: pa.Table) -> pa.Table:
    cols = {}
    for f in schema:
        col = table.column(f.name)
        if pa.types.is_null(col.type) or col.null_count == len(col):
            # nothing but NULLs: ADBC's SQLite driver then guesses int64, which does not cast to a date
            col = pa.nulls(len(col), f.type)
        elif f.type == pa.date32() and pa.types.is_string(col.type):
            col = _text_dates(col)
        elif f.type == pa.date32() and pa.types.is_timestamp(col.type):
            col = pc.cast(col, pa.date32())
        elif f.type == pa.bool_() and not pa.types.is_boolean(col.type):
            col = pc.not_equal(pc.cast(col, pa.int64()), 0)
        cols[f.name] = col.cast(f.type)
    return pa.table(cols)


def screening_inputs(
    household_ids: list[int] | None = None,
    village_codes: list[str] | None = None,
    as_of: dt.date | None = None,
    timings: dict[str, float] | None = None,
    isolated: bool = False,
    region: str = "",
) -> dict[str, pa.Table]:
    """All active households (or just `household_ids`, with their villages' village-level events); with `as_of`,
    only the events a screening at that date reads (`_event_window`). A full pass on SQLite in a file reads the
    columnar copy (guardline.screening.mirror), brought up to date first. Elsewhere its scans run side by side,
    each on its own ADBC connection (the drivers release the GIL); the events, by far the longest, are read in two
    halves by household so that no single scan is the critical path. `timings` gets the copy's sync time and
    the rows it replaced.

    `isolated`: other threads of this process may hold connections to the database (a web server's), so nothing
    here may open the SQLite file through ADBC (sqlite_hand_over): a copy behind the database is brought up to date
    by a child process (mirror.inputs).

    `region`: a hint that only that division's households are wanted; the columnar copy reads just them, other
    paths read everything (callers filter)."""
    queries = _queries(household_ids, village_codes, as_of)
    if household_ids is not None or not _columnar():
        columnar = household_ids is None
        return {
            name: _conform(name, fetch(sql, columnar=columnar, schema=SCHEMAS[name]))
            for name, sql in queries.items()
        }
    from concurrent.futures import ThreadPoolExecutor

    from . import mirror

    if mirror.enabled():
        # From the columnar copy, brought up to date first (guardline.screening.mirror).
        window = None if as_of is None else (Window.at(as_of).months24, as_of)
        tables, synced = mirror.inputs(village_codes, window, isolated=isolated, region=region)
        if timings is not None:
            timings["copy_sync"] = round(synced.seconds, 3)
            timings["copy_replaced"] = synced.replaced
        return {name: _conform(name, table) for name, table in tables.items()}
    # PostgreSQL (SQLite in a file reads the copy above): ADBC connections side by side.
    parts = {name: [sql] for name, sql in queries.items()}
    cut = _household_midpoint() if village_codes is None else None
    if cut is not None:
        parts["events"] = _events_split(cut, as_of)
    with ThreadPoolExecutor(max_workers=sum(len(p) for p in parts.values())) as pool:
        futures = {
            name: [
                pool.submit(lambda n, q: _conform(n, fetch(q, schema=SCHEMAS[n])), name, sql) for sql in sqls
            ]
            for name, sqls in parts.items()
        }
        return {name: pa.concat_tables([f.result() for f in fs]) for name, fs in futures.items()}


def screening_inputs_export(directory: Path, as_of: dt.date) -> dict[str, int]:
    """The engine's inputs as Parquet files in `directory` (households, members, household_years, events) with
    the rules in force (rules.json), the parameters in force on `as_of` — stored overrides and each village's
    monitoring line — (params.json) and manifest.json: what engine/screening/spark_job.py reads on a cluster.
    Returns the rows per table."""
    import json

    import pyarrow.parquet as pq

    from engine.screening.spark_job import overrides_to_json, rules_to_json

    from .services import overrides_in_force, rules_in_force

    directory.mkdir(parents=True, exist_ok=True)
    inputs = screening_inputs(as_of=as_of)
    rows = {}
    for name, table in inputs.items():
        pq.write_table(table, directory / f"{name}.parquet", compression="zstd")
        rows[name] = table.num_rows
    villages = inputs["households"].column("village_code").to_pylist()
    documents = {
        "params.json": overrides_to_json(overrides_in_force(villages, as_of)),
        "rules.json": rules_to_json(rules_in_force()),
        "manifest.json": {"as_of": as_of.isoformat(), "rows": rows},
    }
    for file, doc in documents.items():
        (directory / file).write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")
    return rows
