"""The screening benchmark's operational database on PostgreSQL, the production database (README → Production).

The SQLite file of bench/screening_db.py is built (or taken from its cache) as usual, then its rows are copied into
a fresh PostgreSQL database migrated by `guardline migrate`, so both databases hold the same households, members,
income years and events: every column read as text from SQLite and streamed through `COPY … FROM STDIN (FORMAT
csv)`, which parses each value into the column's own type (dates, timestamps, JSON). Secondary indexes are dropped
for the load and made again from their own definitions, foreign-key triggers are off while it runs (superuser
`session_replication_role = replica`; the rows come from a database that enforced them), identity sequences
continue after the highest id copied, and the tables are vacuumed and analysed as a settled database's would be.

The day-to-day helpers of screening_db (empty the outputs, add and remove a next day's events) with the same SQL
for PostgreSQL."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
from contextlib import closing
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import screening_db

# What the bench database holds (screening_db.TABLES and the county's divisions and line), parents first.
COPIED = ("regions_region", "regions_monitoringline", *screening_db.TABLES)
BATCH_ROWS = 200_000


def on_postgres(url: str) -> bool:
    """Whether a DATABASE_URL names a PostgreSQL server."""
    return url.startswith(("postgres://", "postgresql://"))


def _named(url: str, name: str) -> str:
    """`url` with its database changed to `name`."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def fresh_database(url: str, name: str) -> str:
    """An empty database `name` on the PostgreSQL server of `url` (dropped first if it exists); returns its URL."""
    import psycopg

    with psycopg.connect(_named(url, "postgres"), autocommit=True) as con:
        con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        con.execute(f'CREATE DATABASE "{name}"')
    return _named(url, name)


def _connect(url: str):
    import psycopg

    con = psycopg.connect(url, autocommit=True)
    con.execute("SET TIME ZONE 'UTC'")  # Django's SQLite stores UTC without an offset
    return con


def _secondary_indexes(pg, tables: tuple[str, ...]) -> list[tuple[str, str]]:
    """(name, definition) of the indexes on `tables` that no constraint owns (a primary key or unique one)."""
    return pg.execute(
        "SELECT i.indexname, i.indexdef FROM pg_indexes AS i WHERE i.schemaname = 'public' "
        "AND i.tablename = ANY(%s) AND NOT EXISTS (SELECT 1 FROM pg_constraint AS c "
        "WHERE c.conname = i.indexname AND c.conrelid = i.tablename::regclass)",
        [list(tables)],
    ).fetchall()


def _copy_table(lite_path: Path, pg, table: str) -> int:
    """Every row of `table`, SQLite → PostgreSQL, as CSV text in batches; returns the number of rows."""
    import adbc_driver_sqlite.dbapi as adbc
    import pyarrow.csv as pacsv

    columns = [c for (c,) in pg.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = %s "
        "ORDER BY ordinal_position", [table],
    ).fetchall()]  # fmt: skip
    quoted = ", ".join(f'"{c}"' for c in columns)
    # As text: SQLite's columns are typed per value, PostgreSQL parses the text into each column's own type.
    select = ", ".join(f'CAST("{c}" AS TEXT) AS "{c}"' for c in columns)
    rows = 0
    with adbc.connect(str(lite_path)) as lite, lite.cursor() as cur:
        cur.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": str(BATCH_ROWS)})
        cur.execute(f'SELECT {select} FROM "{table}"')
        reader = cur.fetch_record_batch()
        with pg.cursor() as pcur, pcur.copy(f'COPY "{table}" ({quoted}) FROM STDIN (FORMAT csv)') as copy:
            for batch in reader:
                buffer = io.BytesIO()
                pacsv.write_csv(batch, buffer, pacsv.WriteOptions(include_header=False))
                copy.write(buffer.getvalue())
                rows += batch.num_rows
    return rows


def load(lite_path: Path, url: str, say=print) -> None:
    """The migrated, empty PostgreSQL database of `url` filled with COPIED from the SQLite file."""
    t0 = time.perf_counter()
    with closing(_connect(url)) as pg:
        indexes = _secondary_indexes(pg, COPIED)
        for name, _ in indexes:
            pg.execute(f'DROP INDEX "{name}"')
        pg.execute("SET session_replication_role = replica")  # no foreign-key triggers for the load
        for table in COPIED:
            t = time.perf_counter()
            rows = _copy_table(lite_path, pg, table)
            say(f"    {table}: {rows:,} rows ({time.perf_counter() - t:.1f}s)")
        pg.execute("SET session_replication_role = DEFAULT")
        t = time.perf_counter()
        pg.execute("SET maintenance_work_mem = '1GB'")
        for _, definition in indexes:
            pg.execute(definition)
        sequences = pg.execute(
            "SELECT table_name, pg_get_serial_sequence(table_name, 'id') FROM information_schema.columns "
            "WHERE table_schema = 'public' AND table_name = ANY(%s) AND column_name = 'id'",
            [list(COPIED)],
        ).fetchall()
        for table, sequence in sequences:
            if sequence:
                pg.execute(
                    f'SELECT setval(%s, COALESCE((SELECT MAX(id) FROM "{table}"), 0) + 1, false)', [sequence]
                )
        say(f"  {len(indexes)} indexes re-created in {time.perf_counter() - t:.1f}s")
        t = time.perf_counter()
        pg.execute("VACUUM (ANALYZE)")
        say(f"  vacuumed and analysed in {time.perf_counter() - t:.1f}s")
    say(f"  copied into PostgreSQL in {time.perf_counter() - t0:.1f}s")


def _source_of(lite_path: Path) -> str:
    """What names the copied rows of the SQLite file: the file and what it was built for (its marker). Not its
    time of change (emptying the outputs before each run changes it) nor its migrations (a copy used again is
    migrated like the file)."""
    built = json.loads(lite_path.with_suffix(".json").read_text())
    return json.dumps({"file": lite_path.name, "built": built})


def _copied_from(server_url: str, name: str) -> str | None:
    """The source (`_source_of`) a finished copy on the server was made from, None without one."""
    import psycopg

    with psycopg.connect(_named(server_url, "postgres"), autocommit=True) as con:
        row = con.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
    return row[0] if row else None


def _migrate(lite_path: Path, url: str) -> None:
    env = {**screening_db.django_env(lite_path, lite_path.parent / "var"), "DATABASE_URL": url}
    subprocess.run(
        [sys.executable, "-c", "from config.cli import main; main()", "migrate", "-v0", "--no-input"],
        env=env, cwd=screening_db.ROOT, check=True,
    )  # fmt: skip


def database(lite_path: Path, server_url: str, say=print) -> str:
    """A PostgreSQL database on `server_url`'s server with the SQLite bench file's rows; returns its URL. A copy
    made earlier on the same server from the same file is used again (a server kept between runs), its outputs
    emptied by the caller; else the database is made afresh."""
    name = f"guardline_bench_{lite_path.stem.replace('-', '_')}"
    source = _source_of(lite_path)
    url = _named(server_url, name)
    if _copied_from(server_url, name) == source:
        t = time.perf_counter()
        _migrate(lite_path, url)
        say(f"using PostgreSQL database {name}, copied from {lite_path.name} before (migrated in "
            f"{time.perf_counter() - t:.1f}s)")  # fmt: skip
        return url
    fresh_database(server_url, name)
    say(f"copying {lite_path.name} into PostgreSQL database {name}")
    t = time.perf_counter()
    _migrate(lite_path, url)
    say(f"  migrated in {time.perf_counter() - t:.1f}s")
    load(lite_path, url, say=say)
    from psycopg import sql

    with closing(_connect(url)) as pg:  # the copy is complete
        pg.execute(sql.SQL("COMMENT ON DATABASE {} IS {}").format(sql.Identifier(name), sql.Literal(source)))
    return url


# ------------------------------------------------------------------------------ screening_db's helpers, PostgreSQL
def reset_outputs(url: str) -> None:
    """screening_db.reset_outputs on PostgreSQL."""
    with closing(_connect(url)) as pg:
        day_of_events_remove(url)
        with pg.transaction():
            pg.execute("DELETE FROM screening_householdgrade")
            pg.execute("DELETE FROM screening_riskwarning")
            pg.execute("DELETE FROM core_changelog WHERE entity IN ('warning', 'screening_run')")
            pg.execute("DELETE FROM screening_rulefiring")
            pg.execute("DELETE FROM screening_screeningrun")
        pg.execute("VACUUM (ANALYZE) screening_householdgrade, screening_riskwarning, core_changelog")


def day_of_events_add(url: str, day: date, per_year: int) -> int:
    """screening_db.day_of_events_add on PostgreSQL."""
    day_of_events_remove(url)
    count = max(1, per_year // 365)
    made = {"key_hash": f"'{screening_db.DAY_KEY}' || id", "event_date": f"DATE '{day.isoformat()}'",
            "created_at": f"TIMESTAMPTZ '{day.isoformat()} 09:00:00+00'", "batch_id": "NULL"}  # fmt: skip
    with closing(_connect(url)) as pg:
        columns = [c for (c,) in pg.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' "
            "AND table_name = 'ingest_feedevent' AND column_name <> 'id' ORDER BY ordinal_position"
        ).fetchall()]  # fmt: skip
        select = ", ".join(made.get(c, f'"{c}"') for c in columns)
        names = ", ".join(f'"{c}"' for c in columns)
        pg.execute(
            f"INSERT INTO ingest_feedevent ({names}) "
            f"SELECT {select} FROM ingest_feedevent WHERE link_status = 'linked' AND id IN "
            f"(SELECT id FROM ingest_feedevent ORDER BY random() LIMIT {count * 2}) LIMIT {count}"
        )
        (written,) = pg.execute(
            "SELECT count(*) FROM ingest_feedevent WHERE event_date = %s AND key_hash LIKE %s",
            [day, f"{screening_db.DAY_KEY}%"],
        ).fetchone()
    return int(written)


def day_of_events_remove(url: str) -> None:
    """screening_db.day_of_events_remove on PostgreSQL: every event with the next day's key."""
    with closing(_connect(url)) as pg:
        pg.execute("DELETE FROM ingest_feedevent WHERE key_hash LIKE %s", [f"{screening_db.DAY_KEY}%"])


def marker(url: str) -> dict:
    """What the bench reports of the database it ran on."""
    with closing(_connect(url)) as pg:
        (version,) = pg.execute("SHOW server_version").fetchone()
    return {
        "database": "postgresql",
        "server_version": version,
        "database_name": urlsplit(url).path.lstrip("/"),
    }


if __name__ == "__main__":  # python bench/screening_pg.py SQLITE_FILE (with DATABASE_URL of a server)
    import os

    print(json.dumps({"url": database(Path(sys.argv[1]), os.environ["DATABASE_URL"])}))
