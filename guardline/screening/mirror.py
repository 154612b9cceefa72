"""A columnar copy of the screening inputs, kept in step with the operational database, that full passes read.

Reading a province out of the database was most of a pass's extract: 12M events, 3.5M members, 2M income years and
1M households decoded and turned into Arrow value by value took 9-11 s of two cores on SQLite, 14-19 s on
PostgreSQL, every night, although a day adds or changes a few tens of thousands of rows. So a full pass reads them
from a DuckDB file (only the columns the engine reads, see `COPIES`), and first brings that file up to date:

- Triggers on the four tables (guardline.screening.mirror_tables) log the id of every row inserted, deleted, or
  changed in a column the copy holds, into `InputChange` — whoever writes (imports, linking, the API, a hand-made
  UPDATE).
- `sync()` reads the changes logged since the copy's watermark and the rows they name, replaces those rows in the
  copy (a row gone from the database is gone from the copy) — or, when more than a fifth of a table changed,
  reloads that table whole — and moves the watermark, all in one DuckDB transaction. How it knows which changes
  the copy already holds differs by database (guardline.screening.mirror_log): SQLite's log is in commit order,
  PostgreSQL's is read in one snapshot with the rows.
- Then the database records the same (token, watermark) in `InputCopyState` and forgets the changes the copy
  holds. Whenever the two disagree — a crash between the two commits, a database restored from a backup, a copy
  of another database, a file that does not open — and whenever a trigger is missing (a migration that remakes
  one of the tables drops its triggers), the copy is rebuilt from a full read.
- Its tables are written in household order (`CLUSTER`), which the engine's group-bys read twice as fast; rows a
  sync appends are out of that order, and when they pile up the copy is rebuilt too.

Where the file is (`location`): beside a SQLite database in a file (`<database>.inputs.duckdb`); for PostgreSQL,
in GUARDLINE_SCREENING_COPY_DIR (one file per server and database; empty: no copy, passes read the tables).
Tests in memory read the tables themselves. One copy per database: the processes that screen (workers, the
what-if page) share its directory, and a copy kept elsewhere takes over from it by a rebuild. An exclusive lock
on `<copy>.lock` keeps one process at a time syncing or reading it. The file holds personal data (birth dates,
health) as the database does, so it is made readable by its owner only; it needs no backup (it is rebuilt from
the database).

SQLite is read through ADBC, whose driver embeds a second SQLite library (extract.sqlite_hand_over): only where
no other thread of the process keeps a Django connection open — a worker, whose heartbeat waits for it
(core.locks.sqlite_libraries), or a command. A web server's thread (the what-if page) reads `isolated`: it asks
through Python's sqlite3 whether the copy is in step, and has a child process sync it when it is not."""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
from django.conf import settings
from django.db import connection

from engine.screening.run import SCHEMAS
from guardline.core.locks import file_lock
from guardline.ingest.models import FeedEvent

from .extract import sqlite_file
from .mirror_log import ChangeLog, SqliteLog, postgres_log, sqlite_log
from .mirror_tables import BY_NAME, CHANGES, COPIES, STATE, TRIGGERS, Copy, triggers_create, triggers_drop

__all__ = ["CHANGES", "COPIES", "STATE", "TRIGGERS", "Copy", "triggers_create", "triggers_drop"]

log = logging.getLogger(__name__)

# Reload a table whole rather than replace rows when more than this share of it changed, and rebuild the file when
# more than this share of it has been deleted since it was written (DuckDB keeps deleted rows' space).
RELOAD_SHARE = 0.2
RELOAD_MIN_ROWS = 100_000
# Every table of the copy is written in household order. The engine groups the events and members by household,
# and rows of one household side by side make its hash aggregates about twice as fast as rows in the order they
# arrived, which is the database's (PostgreSQL's copy of 1M households, 11.5M events: the floor's join and group-by
# 0.76-1.04 s → 0.40-0.46 s; the sort, once, 2.7 s). Rows a sync appends go at the end, out of that order: when
# they come to RELOAD_SHARE of the copy, it is written anew (for a county's daily feeds, about every two months).
CLUSTER = "household_id"
# What DuckDB may hold in memory beyond the rows read while it sorts them; the rest goes to a temporary file beside
# the copy. The 1M-household copy written anew, alone: peak 5.1 GiB and 12.8 s without a limit, 3.6 GiB and
# 14.4-14.5 s with it; 3.4 GiB and 13.6 s in the order the rows came.
SORT_MEMORY = "512MB"


def location() -> Path | None:
    """Where the default database's copy is, or None where it keeps none: SQLite in memory (tests), PostgreSQL
    without GUARDLINE_SCREENING_COPY_DIR, any other database."""
    database = sqlite_file()
    if database is not None:
        return copy_path(database)
    directory = settings.GUARDLINE.get("SCREENING_COPY_DIR")
    if connection.vendor != "postgresql" or not directory:
        return None
    s = connection.settings_dict
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", f"{s['HOST'] or 'localhost'}-{s['PORT'] or 5432}-{s['NAME']}")
    Path(directory).mkdir(mode=0o700, parents=True, exist_ok=True)
    return Path(directory) / f"{name}.inputs.duckdb"


def enabled() -> bool:
    """Whether full passes read the copy: a database that keeps one, outside a transaction (a pass inside one
    must see its own uncommitted writes, which only Django's connection can)."""
    return not connection.in_atomic_block and location() is not None


def copy_path(database: str) -> Path:
    """The copy of a SQLite database in a file."""
    return Path(database + ".inputs.duckdb")


@dataclass(frozen=True)
class SyncResult:
    """What `sync` did: `rebuilt` the file (and why), or `replaced` rows and `reloaded` tables, up to change
    `watermark`, in `seconds`; `rows` per table afterwards."""

    rebuilt: bool
    reason: str
    replaced: int
    reloaded: tuple[str, ...]
    rows: dict[str, int]
    watermark: int
    seconds: float


def _locked(path: Path) -> AbstractContextManager[None]:
    """One process at a time syncing or reading the copy at `path`."""
    return file_lock(str(path) + ".lock")


def _record(db: ChangeLog, token: str, watermark: int) -> None:
    db.record(token, watermark)


@dataclass(frozen=True)
class _Meta:
    token: str
    watermark: int
    deleted: int  # rows deleted since the copy was written (their space is kept until then)
    unsorted: int  # rows appended since then, out of household order (CLUSTER)
    rows: dict[str, int]


def _copy_meta(path: Path) -> _Meta | None:
    """What the copy says of itself, or None if there is none or it does not open."""
    if not path.exists():
        return None
    try:
        with duckdb.connect(str(path), read_only=True) as con:
            row = con.execute("SELECT token, watermark, deleted, unsorted FROM meta").fetchone()
            rows = {c.name: con.execute(f"SELECT count(*) FROM {c.name}").fetchone() for c in COPIES}
    except duckdb.Error as error:
        log.warning("screening input copy %s does not open (%s): rebuilding it", path, error)
        return None
    if row is None:
        return None
    return _Meta(
        str(row[0]), int(row[1]), int(row[2]), int(row[3]), {k: int(v[0]) for k, v in rows.items() if v}
    )


def _rebuild(path: Path, db: ChangeLog) -> tuple[dict[str, int], int]:
    """Write a new copy from a full read, next to the old one, and put it in place; returns (rows, watermark)."""
    watermark = db.high(0)  # before reading: every change up to it is in what is read
    tables = db.read_whole(list(COPIES))
    token = uuid.uuid4().hex
    tmp = path.with_name(path.name + ".new")
    tmp.unlink(missing_ok=True)
    rows = {name: t.num_rows for name, t in tables.items()}
    with duckdb.connect(str(tmp), config={"memory_limit": SORT_MEMORY}) as con:
        os.chmod(tmp, 0o600)
        for name in list(tables):
            con.register("arrived", tables.pop(name))  # each read freed once written
            con.execute(f"CREATE TABLE {name} AS SELECT * FROM arrived ORDER BY {CLUSTER}")
            con.unregister("arrived")
        con.execute(
            "CREATE TABLE meta (token VARCHAR, watermark BIGINT, deleted BIGINT, unsorted BIGINT, built_at TIMESTAMP)"
        )
        con.execute("INSERT INTO meta VALUES (?, ?, 0, 0, now())", [token, watermark])
        con.execute("CHECKPOINT")
    os.replace(tmp, path)
    _record(db, token, watermark)
    return rows, watermark


def _apply(
    path: Path, db: ChangeLog, meta: _Meta, high: int, counts: dict[int, int]
) -> tuple[int, tuple[str, ...], dict[str, int]]:
    """Replace the rows logged since the copy's watermark (`counts` per source; or reload a table most of whose
    rows changed) and move the watermark, in one DuckDB transaction."""
    changed = [c for c in COPIES if counts.get(c.source)]
    reload = [
        c for c in changed if counts[c.source] > max(RELOAD_MIN_ROWS, RELOAD_SHARE * meta.rows.get(c.name, 0))
    ]
    whole = db.read_whole(reload) if reload else {}
    replaced, rows, deleted, unsorted = 0, dict(meta.rows), 0, 0
    fresh = {c.name: db.changed(c, meta.watermark, high) for c in changed if c not in reload}
    with duckdb.connect(str(path), config={"memory_limit": SORT_MEMORY}) as con:
        con.execute("BEGIN")
        for name, table in whole.items():
            con.register("arrived", table)
            # a new table rather than deleting every row: the old one's blocks are free again at the checkpoint
            con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM arrived ORDER BY {CLUSTER}")
            con.unregister("arrived")
            rows[name] = table.num_rows
        for name, (ids, table) in fresh.items():
            key = BY_NAME[name].key
            con.register("ids", pa.table({"id": ids}))
            con.register("arrived", table)
            gone = con.execute(f"DELETE FROM {name} WHERE {key} IN (SELECT id FROM ids)").fetchone()
            con.execute(f"INSERT INTO {name} SELECT * FROM arrived")
            con.unregister("ids")
            con.unregister("arrived")
            gone_rows = int(gone[0]) if gone else 0
            deleted += gone_rows
            unsorted += table.num_rows
            rows[name] += table.num_rows - gone_rows
            replaced += len(ids)
        con.execute(
            "UPDATE meta SET watermark = ?, deleted = deleted + ?, unsorted = unsorted + ?",
            [high, deleted, unsorted],
        )
        con.execute("COMMIT")
    return replaced, tuple(c.name for c in reload), rows


@contextmanager
def _change_log() -> Iterator[ChangeLog]:
    database = sqlite_file()
    if database is not None:
        with sqlite_log(database) as db:
            yield db
    else:
        with postgres_log() as pg:
            yield pg


def sync() -> SyncResult:
    """Bring the copy of the database's inputs up to date (see the module's docstring). Call under `_locked`."""
    t0 = time.perf_counter()
    path = location()
    if path is None:
        raise RuntimeError("this database keeps no screening input copy")
    with _change_log() as db:
        missing = db.missing_triggers()
        if missing:
            # Changes made while a trigger was missing were not logged: none of the copy can be trusted.
            db.triggers_create()
        db.begin()
        state = db.state()
        meta = _copy_meta(path)
        reason = ""
        if missing:
            reason = "triggers missing: " + ", ".join(missing)
        elif meta is None:
            reason = "no copy"
        elif state is None or (meta.token, meta.watermark) != state:
            reason = "the copy and the database disagree"
        elif db.behind(meta.watermark):
            reason = "the change log is behind the copy"
        elif meta.deleted > max(RELOAD_MIN_ROWS, RELOAD_SHARE * sum(meta.rows.values())):
            reason = f"{meta.deleted:,} deleted rows"
        elif meta.unsorted > max(RELOAD_MIN_ROWS, RELOAD_SHARE * sum(meta.rows.values())):
            reason = f"{meta.unsorted:,} rows out of household order"
        if reason or meta is None:
            log.info("rebuilding the screening input copy %s: %s", path, reason)
            rows, watermark = _rebuild(path, db)
            return SyncResult(True, reason, 0, (), rows, watermark, time.perf_counter() - t0)
        high = db.high(meta.watermark)
        counts = db.changes(meta.watermark, high)
        if not counts:
            return SyncResult(False, "", 0, (), meta.rows, meta.watermark, time.perf_counter() - t0)
        replaced, reloaded, rows = _apply(path, db, meta, high, counts)
        _record(db, meta.token, high)
        return SyncResult(False, "", replaced, reloaded, rows, high, time.perf_counter() - t0)


def refresh(rebuild: bool = False) -> SyncResult | None:
    """Bring the copy up to date now (None where there is none): after a large import, say, so that the next pass
    does not pay for it (`guardline refresh_screening_copy`). With `rebuild`, write it anew from a full read."""
    path = location()
    if path is None:
        return None
    with _locked(path):
        if rebuild:
            path.unlink(missing_ok=True)
        return sync()


def _in_step(database: str, path: Path) -> SyncResult | None:
    """Whether the copy holds every change logged, asked through Python's sqlite3 — the SQLite library of a web
    server's other threads (Django), whose locks it shares — and never through ADBC's: what `sync` would find, or
    None if it has work to do. (Deleted space is left for the next `sync` to compact.) Call under `_locked`."""
    t0 = time.perf_counter()
    with closing(sqlite3.connect(database, timeout=20)) as con:
        db = SqliteLog(database, con.cursor())
        if db.missing_triggers():
            return None
        state, high = db.state(), db.high_seq()
    meta = _copy_meta(path)
    if meta is None or state != (meta.token, meta.watermark) or high != meta.watermark:
        return None
    return SyncResult(False, "", 0, (), meta.rows, high, time.perf_counter() - t0)


def _sync_in_child(database: str) -> SyncResult:
    """`guardline refresh_screening_copy` in a child process: a process of its own may open the file through
    ADBC whatever connections this one's threads hold (POSIX locks work between processes)."""
    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", "from config.cli import main; main()", "refresh_screening_copy"],
        env={**os.environ, "DATABASE_URL": f"sqlite:///{database}"},
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        raise RuntimeError(
            f"bringing the screening input copy {copy_path(database)} up to date failed (exit {done.returncode}): "
            f"{(done.stderr or done.stdout).strip()[-2000:]}"
        )
    meta = _copy_meta(copy_path(database))
    if meta is None:
        raise RuntimeError(f"the screening input copy {copy_path(database)} does not open after its refresh")
    log.info("screening input copy %s brought up to date by a child process", copy_path(database))
    return SyncResult(False, "", 0, (), meta.rows, meta.watermark, time.perf_counter() - t0)


def inputs(
    village_codes: list[str] | None,
    window: tuple[dt.date, dt.date] | None,
    *,
    isolated: bool = False,
    region: str = "",
) -> tuple[dict[str, pa.Table], SyncResult]:
    """A full pass's input tables (what extract's queries read: active households, every member and income year,
    linked events with a household and village-level events — with `village_codes`, only those villages'
    village-level ones — dated within `window` = (after, upto]), from the copy brought up to date first.

    `isolated` (a web server, whose other threads keep connections to the file open): this process never opens
    the file through ADBC. A copy that is behind is brought up to date by a child process; what is read then is
    the database as that child found it (changes committed in between wait for the next sync).

    `region` (a division code): only the households of its villages, their rows and events, and its villages'
    village-level events (a what-if over one county of a province's copy)."""
    path = location()
    if path is None:
        raise RuntimeError("this database keeps no screening input copy")
    database = sqlite_file()
    linked, at_village = str(FeedEvent.LinkStatus.LINKED), str(FeedEvent.LinkStatus.VILLAGE)
    where = {"households": "is_active", "members": "true", "household_years": "true"}
    where["events"] = (
        f"((link_status = '{linked}' AND household_id IS NOT NULL) OR link_status = '{at_village}')"
    )
    params: dict[str, list] = {name: [] for name in where}
    if village_codes is not None:
        where["events"] += f" AND (link_status = '{linked}' OR list_contains(?, village_code))"
        params["events"].append(list(village_codes))
    if window is not None:
        where["events"] += " AND event_date > ? AND event_date <= ?"
        params["events"].extend(window)
    if region:
        inside = "household_id IN (SELECT household_id FROM households WHERE is_active AND starts_with(village_code, ?))"
        where["households"] += " AND starts_with(village_code, ?)"
        params["households"].append(region)
        for name in ("members", "household_years"):
            where[name] += f" AND {inside}"
            params[name].append(region)
        where["events"] += f" AND ({inside} OR (household_id IS NULL AND starts_with(village_code, ?)))"
        params["events"].extend([region, region])
    result = None
    if isolated and database is not None:  # (PostgreSQL's connections are the sync's own)
        with _locked(path):
            result = _in_step(database, path)
        if result is None:
            result = _sync_in_child(database)  # it takes the copy's lock itself
    with _locked(path):
        if result is None:
            result = sync()
        with duckdb.connect(str(path), read_only=True) as con:
            tables = {
                name: con.sql(
                    f"SELECT {', '.join(SCHEMAS[name].names)} FROM {name} WHERE {where[name]}",
                    params=params[name] or None,
                ).to_arrow_table()
                for name in where
            }
    return tables, result
