"""The database's side of the screening input copy (guardline.screening.mirror): its change log, its state, and the
reads that fill the copy. SQLite and PostgreSQL keep the log in step with the copy differently.

- **SQLite** serialises its writers and InputChange.seq is AUTOINCREMENT, so seq order is commit order: a sync
  reads the highest seq M before it reads any row, applies the changes logged in (watermark, M], and forgets
  them up to M (`SqliteLog`).
- **PostgreSQL's** sequences are not in commit order: a change given a lower seq may commit after one given a
  higher. A sync therefore reads the log and the rows in one REPEATABLE READ transaction, whose snapshot sees a
  change's log entry exactly when it sees the change (the trigger writes both in the writer's transaction). It
  applies every entry it sees, and in the same transaction deletes those entries and records the copy's state;
  an entry committed after the snapshot is invisible to it, neither applied nor deleted, and waits for the next
  sync (`PostgresLog`). The side-by-side reads of a rebuild share that snapshot (pg_export_snapshot). The
  watermark is then the highest seq the copy holds: it tells a crash between the two commits apart, and a
  database restored from a backup, whose sequence is behind it."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from typing import Any, Protocol

import pyarrow as pa
from django.db import connection

from guardline.core.locks import sqlite_libraries, write_lock
from guardline.ingest.models import FeedEvent
from guardline.registry.models import Household

from .extract import _conform_to, _pg_uri, fetch, sqlite_hand_over
from .mirror_tables import CHANGES, PG_TRIGGERS, STATE, TRIGGERS, Copy, pg_triggers_create, triggers_create


class ChangeLog(Protocol):
    """One sync's view of the database: what `mirror.sync` asks of either database."""

    def missing_triggers(self) -> list[str]: ...

    def triggers_create(self) -> None: ...

    def begin(self) -> None:
        """Start reading: from here on, what is read is one state of the database (PostgreSQL's snapshot)."""

    def state(self) -> tuple[str, int] | None: ...

    def high(self, watermark: int) -> int:
        """The watermark the copy reaches once it holds every change this sync sees (`watermark` its current)."""

    def behind(self, watermark: int) -> bool:
        """Whether the change log is behind a copy at `watermark`: the database was restored from a backup."""

    def changes(self, after: int, upto: int) -> dict[int, int]:
        """Rows logged per source that this sync applies."""

    def changed(self, copy: Copy, after: int, upto: int) -> tuple[pa.Array, pa.Table]:
        """The ids logged for `copy` and the rows of those ids that still exist."""

    def read_whole(self, copies: list[Copy]) -> dict[str, pa.Table]: ...

    def record(self, token: str, watermark: int) -> None:
        """The database's side of the copy's state, and the changes the copy now holds forgotten."""


def _one(db: Any, sql: str, params: tuple = ()) -> tuple | None:
    db.execute(sql, params) if params else db.execute(sql)
    return db.fetchone()


def parts(copy: Copy, db: Any) -> list[str]:
    """A full read of `copy` as disjoint WHERE clauses read side by side: the events (by far the largest) in
    ranges of their covering index (feedevent_screening_cover, link status then household)."""
    if copy.name != "events":
        return [""]
    low, high = _one(db, f"SELECT MIN(id), MAX(id) FROM {Household._meta.db_table}") or (None, None)
    if low is None:
        return [""]
    cut, linked = (int(low) + int(high)) // 2, f"'{FeedEvent.LinkStatus.LINKED}'"
    return [
        f"WHERE link_status = {linked} AND household_id <= {cut}",
        f"WHERE link_status = {linked} AND household_id > {cut}",
        f"WHERE link_status < {linked}",
        f"WHERE link_status > {linked}",
    ]


def _side_by_side(jobs: list[tuple[Copy, str]], read) -> dict[str, pa.Table]:
    """`read(copy, where)` of every job, side by side (the ADBC drivers release the GIL), concatenated per copy."""
    with ThreadPoolExecutor(max_workers=max(1, len(jobs))) as pool:
        tables = list(pool.map(lambda job: read(*job), jobs))
    names = dict.fromkeys(copy.name for copy, _ in jobs)
    return {
        name: pa.concat_tables([t for (c, _), t in zip(jobs, tables, strict=True) if c.name == name])
        for name in names
    }


class SqliteLog:
    """The change log of SQLite in a file, read through ADBC's SQLite (extract.sqlite_hand_over), in autocommit:
    the few writes are explicit transactions under the database's write lock."""

    def __init__(self, database: str, db: Any) -> None:
        self.database, self.db = database, db

    def _writing(self):
        return _sqlite_writing(self.db)

    def high_seq(self) -> int:
        # sqlite_sequence keeps AUTOINCREMENT's high mark even when every change has been forgotten.
        row = _one(self.db, "SELECT seq FROM sqlite_sequence WHERE name = ?", (CHANGES,))
        return int(row[0]) if row else 0

    def missing_triggers(self) -> list[str]:
        self.db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        have = {r[0] for r in self.db.fetchall()}
        return [name for name in TRIGGERS if name not in have]

    def triggers_create(self) -> None:
        with self._writing():
            triggers_create(self.db)

    def begin(self) -> None:
        pass  # the watermark is read before any row (`high`): every change up to it is in what is read

    def state(self) -> tuple[str, int] | None:
        row = _one(self.db, f"SELECT token, watermark FROM {STATE} WHERE id = 1")
        return (str(row[0]), int(row[1])) if row else None

    def high(self, watermark: int) -> int:
        return self.high_seq()

    def behind(self, watermark: int) -> bool:
        return self.high_seq() < watermark

    def changes(self, after: int, upto: int) -> dict[int, int]:
        self.db.execute(
            f"SELECT source, COUNT(DISTINCT row_id) FROM {CHANGES} WHERE seq > ? AND seq <= ? GROUP BY source",
            (after, upto),
        )
        return {int(s): int(n) for s, n in self.db.fetchall()}

    def changed(self, copy: Copy, after: int, upto: int) -> tuple[pa.Array, pa.Table]:
        logged = f"SELECT row_id FROM {CHANGES} WHERE seq > {int(after)} AND seq <= {int(upto)} AND source = "
        ids = fetch(f"SELECT DISTINCT row_id FROM ({logged}{copy.source})").column("row_id").cast(pa.int64())
        return ids, self.read(copy, f"WHERE id IN ({logged}{copy.source})")

    def read(self, copy: Copy, where: str = "") -> pa.Table:
        return _conform_to(copy.schema, fetch(f"{copy.select()} {where}", schema=copy.schema))

    def read_whole(self, copies: list[Copy]) -> dict[str, pa.Table]:
        return _side_by_side([(c, where) for c in copies for where in parts(c, self.db)], self.read)

    def record(self, token: str, watermark: int) -> None:
        with self._writing():
            self.db.execute(
                f"INSERT INTO {STATE} (id, token, watermark) VALUES (1, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET token = excluded.token, watermark = excluded.watermark",
                (token, watermark),
            )
            self.db.execute(f"DELETE FROM {CHANGES} WHERE seq <= ?", (watermark,))


@contextmanager
def _sqlite_writing(db: Any) -> Iterator[None]:
    with write_lock():
        db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")


@contextmanager
def sqlite_log(database: str) -> Iterator[SqliteLog]:
    """A cursor of its own, in autocommit, through ADBC's SQLite — the library the tables are read with, with
    Django's connection handed over first (extract.sqlite_hand_over): a sqlite3 connection opened beside the
    ADBC scans failed with "disk I/O error"."""
    import adbc_driver_sqlite.dbapi as adbc

    with sqlite_libraries.shared():
        sqlite_hand_over(database)
        with adbc.connect(database, autocommit=True) as con, con.cursor() as cursor:
            cursor.execute("PRAGMA busy_timeout = 20000")
            yield SqliteLog(database, cursor)


SYNC_LOCK = 0x5C2EE2  # pg_advisory_lock's key for syncs of the copy


class PostgresLog:
    """PostgreSQL's change log, read in one REPEATABLE READ transaction on an ADBC connection of its own (see the
    module's docstring); `record` commits it."""

    def __init__(self, uri: str, db: Any) -> None:
        self.uri, self.db = uri, db
        self.snapshot = ""  # exported for the side-by-side reads, once asked for

    def missing_triggers(self) -> list[str]:
        # A disabled trigger (ALTER TABLE … DISABLE TRIGGER) logs nothing either.
        self.db.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgenabled <> 'D'")
        have = {r[0] for r in self.db.fetchall()}
        return [name for name in PG_TRIGGERS if name not in have]

    def triggers_create(self) -> None:
        # Its own transaction, before the snapshot: CREATE TRIGGER waits for the writers of each table to finish,
        # and every write committed after it is logged.
        self.db.execute("BEGIN")
        pg_triggers_create(self.db)
        self.db.execute("COMMIT")

    def begin(self) -> None:
        self.db.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")

    def state(self) -> tuple[str, int] | None:
        row = _one(self.db, f"SELECT token, watermark FROM {STATE} WHERE id = 1")
        return (str(row[0]), int(row[1])) if row else None

    def high(self, watermark: int) -> int:
        row = _one(self.db, f"SELECT MAX(seq) FROM {CHANGES}")
        return max(watermark, int(row[0])) if row and row[0] is not None else watermark

    def behind(self, watermark: int) -> bool:
        sequence = f"pg_get_serial_sequence('{CHANGES}', 'seq')"
        row = _one(self.db, f"SELECT pg_sequence_last_value({sequence}::regclass)")
        return (int(row[0]) if row and row[0] is not None else 0) < watermark

    def changes(self, after: int, upto: int) -> dict[int, int]:
        # Every entry this snapshot sees: those it had seen before were deleted with its last state.
        self.db.execute(f"SELECT source, COUNT(DISTINCT row_id) FROM {CHANGES} GROUP BY source")
        return {int(s): int(n) for s, n in self.db.fetchall()}

    def changed(self, copy: Copy, after: int, upto: int) -> tuple[pa.Array, pa.Table]:
        logged = f"SELECT row_id FROM {CHANGES} WHERE source = {copy.source}"
        ids = self._fetch(self.db, f"SELECT DISTINCT row_id FROM ({logged}) AS logged").column("row_id")
        return ids.cast(pa.int64()), self._read(self.db, copy, f"WHERE id IN ({logged})")

    @staticmethod
    def _fetch(db: Any, sql: str) -> pa.Table:
        db.execute(sql)
        return db.fetch_arrow_table()

    def _read(self, db: Any, copy: Copy, where: str = "") -> pa.Table:
        return _conform_to(copy.schema, self._fetch(db, f"{copy.select('postgresql')} {where}"))

    def _read_in_snapshot(self, copy: Copy, where: str) -> pa.Table:
        import adbc_driver_postgresql.dbapi as adbc

        with adbc.connect(self.uri, autocommit=True) as con, con.cursor() as db:
            db.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
            db.execute(f"SET TRANSACTION SNAPSHOT '{self.snapshot}'")
            try:
                return self._read(db, copy, where)
            finally:
                db.execute("ROLLBACK")

    def read_whole(self, copies: list[Copy]) -> dict[str, pa.Table]:
        if not self.snapshot:
            row = _one(self.db, "SELECT pg_export_snapshot()")
            self.snapshot = str(row[0]) if row else ""
        return _side_by_side(
            [(c, where) for c in copies for where in parts(c, self.db)], self._read_in_snapshot
        )

    def record(self, token: str, watermark: int) -> None:
        self.db.execute(
            f"INSERT INTO {STATE} (id, token, watermark) VALUES (1, '{token}', {int(watermark)}) "
            "ON CONFLICT (id) DO UPDATE SET token = excluded.token, watermark = excluded.watermark"
        )
        self.db.execute(f"DELETE FROM {CHANGES}")  # what this snapshot sees: the entries the copy now holds
        self.db.execute("COMMIT")


@contextmanager
def postgres_log() -> Iterator[PostgresLog]:
    """The default database's PostgreSQL, on an ADBC connection of its own; a transaction `record` did not commit
    is rolled back."""
    import adbc_driver_postgresql.dbapi as adbc

    uri = _pg_uri(connection.settings_dict)
    with adbc.connect(uri, autocommit=True) as con, con.cursor() as cursor:
        # One sync at a time per database, whichever machine its copy is on (the copy's file lock is per machine):
        # two at once would both update the state and delete the same entries, and one would fail ("could not
        # serialize access"). Taken before the snapshot, so the second sees what the first committed (and, its
        # copy no longer the one the database records, rebuilds). The connection's end releases it.
        _one(cursor, f"SELECT pg_advisory_lock({SYNC_LOCK})")
        try:
            yield PostgresLog(uri, cursor)
        finally:
            # A warning, not an error, when there is no transaction; on a broken connection, let the error that
            # broke it be the one raised.
            with suppress(adbc.Error):
                cursor.execute("ROLLBACK")
