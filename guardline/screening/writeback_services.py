"""The write-back of a screening pass: the engine's grades and warnings brought into the database in the caller's
transaction — grades inserted or updated only where they changed, warnings inserted, updated where their content
changed (RiskWarning.digest) or closed, and their change-log entries in bulk. Called by services.screening_run."""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections.abc import Callable
from itertools import repeat
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from engine import scratch
from engine.screening.explain import DIGESTS_SCHEMA
from engine.screening.firings import firing_counts
from engine.screening.run import collector_paused
from guardline.core.bulk import copy_wanted, rows_copy, rows_staged
from guardline.core.changelog import log_rows

from . import extract
from .models import HouseholdGrade, RiskWarning, RuleFiring, ScreeningRun


@contextlib.contextmanager
def page_cache_for_bulk_write():
    """SQLite: a page cache large enough for the indexes a full pass writes into (a province's grades, warnings
    and change log), for this connection and only while it writes — the default keeps each connection small.
    With a cache of a few MB every index insert re-reads pages from the OS."""
    if connection.vendor != "sqlite":
        yield
        return
    megabytes = int(settings.GUARDLINE.get("SCREENING_WRITE_CACHE_MB", 512))
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        (before,) = cursor.fetchone()
        cursor.execute(f"PRAGMA cache_size = {-1024 * megabytes}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(before)}")


# A province's write-back makes millions of small acyclic objects (parameter tuples, their values): with the cyclic
# collector on, each of its collections walks the whole growing heap again, for nothing.
@collector_paused()
def results_write(
    run: ScreeningRun,
    grades: pa.Table,
    current: pa.Table,
    warnings: pa.Table | Callable[[], pa.Table],
    scoped: list[int] | None,
    timings: dict[str, float] | None = None,
    kept: pa.Table | None = None,
    overtaken: list[int] | None = None,
) -> tuple[int, int, int, int]:
    """Set-based write-back: grades inserted or updated only where they changed; warnings inserted, updated where their
    content changed (RiskWarning.digest) and closed, with one executemany each, and their change-log entries in
    bulk — all in the caller's transaction. `warnings` are the engine's warnings in their stored form
    (`warnings_stored`), or what gives them once the grades are written (an explanation still running in another
    thread); `kept` (household_id, digest) the red and yellow households the engine found exactly as their open
    warning and did not explain again (ScreenResult.kept): left as they are, not closed; `overtaken` the households
    a run started after this one has written already, from fresher data (services.households_overtaken): neither
    their grades nor their warnings are touched. Returns (opened, updated, unchanged, closed)."""
    now = timezone.now()
    ops = connection.ops
    stamp = ops.adapt_datetimefield_value(now)
    clock = time.perf_counter()
    timings = {} if timings is None else timings

    def lap(name: str) -> None:
        nonlocal clock
        timings[name] = round(time.perf_counter() - clock, 3)
        clock = time.perf_counter()

    grades = _without(grades, overtaken)
    _grades_write(run, grades, current, stamp)
    lap("write_grades")
    if callable(warnings):
        warnings = warnings()
        lap("write_wait_explain")
    rows, unchanged, gone = _warnings_to_write(
        _without(warnings, overtaken), _without(_open_warnings(scoped), overtaken), kept
    )
    # New warnings, the bulk of a first run, go from Arrow columns to parameter tuples without a Python loop; the
    # constant columns are repeated, and their change-log entries' JSON was built in DuckDB.
    # The new ones come first: slices, not copies, of wide JSON rows.
    new_count = rows.column("pk").null_count
    new_rows = rows.slice(0, new_count)
    columns = [new_rows.column(name).to_pylist() for name in _STORED]
    constant = (RiskWarning.Status.OPEN, stamp, stamp, stamp, run.pk, run.pk, "")
    fresh = list(zip(*columns, *(repeat(value) for value in constant), strict=False))  # repeat() is endless
    fresh_households, fresh_logs = columns[0], new_rows.column("log").to_pylist()
    logs: list[tuple[Any, ...]] = []
    del new_rows, columns
    changed: list[tuple] = []
    old_rows = rows.slice(new_count)
    for *stored, pk, old_grade in zip(
        *(old_rows.column(name).to_pylist() for name in (*_STORED, "pk", "old_grade")), strict=True
    ):
        hid, village, grade, score, risks, reasons, sources, rules, points, digest, signal = stored
        if old_grade != grade:
            logs.append(
                ("warning", pk, hid, "regrade", {"grade": old_grade}, {"grade": grade, "run": run.pk})
            )
        changed.append((pk, village, grade, score, risks, reasons, sources, rules, points, digest, signal))
    del rows, old_rows
    lap("write_prepare")
    table = ops.quote_name(RiskWarning._meta.db_table)
    opened: list[tuple[Any, ...]] = []
    with connection.cursor() as cursor:
        if fresh:
            # Every id this INSERT takes is above the largest one before it (a rowid, or a sequence's next value
            # on PostgreSQL); read back with the run, they name each new warning in its change-log entry.
            cursor.execute(f"SELECT MAX(id) FROM {table}")
            (before,) = cursor.fetchone()
            if copy_wanted(len(fresh)):
                rows_copy(cursor, RiskWarning._meta.db_table, _INSERTED, fresh)
            else:
                cursor.executemany(
                    f"INSERT INTO {table} ({', '.join(_INSERTED)}) VALUES ({', '.join(['%s'] * len(_INSERTED))})",
                    fresh,
                )
            cursor.execute(
                f"SELECT household_id, id FROM {table} WHERE id > %s AND opened_by_run_id = %s",
                [before or 0, run.pk],
            )
            pk_of = dict(cursor.fetchall())
            opened = list(
                zip(
                    repeat("warning"),
                    [pk_of[hid] for hid in fresh_households],
                    fresh_households,
                    repeat("open"),
                    repeat(None),
                    fresh_logs,
                )
            )
            del pk_of, fresh_households, fresh_logs
        if changed:
            _warnings_update(cursor, changed, stamp, run.pk)
        score_of: dict[int, float] = {}
        if gone:
            mask = pc.is_in(grades.column("household_id"), pa.array(list(gone), pa.int64()))
            kept = grades.filter(mask)
            score_of = dict(
                zip(kept.column("household_id").to_pylist(), kept.column("score").to_pylist(), strict=True)
            )
        closing = []
        for hid, pk in gone.items():
            reason = f"{run.as_of} 复筛未再发现风险（风险分值 {score_of.get(hid, 0):.1f}，绿色）"
            closing.append((RiskWarning.Status.CLOSED, stamp, stamp, run.pk, reason, pk))
            logs.append(("warning", pk, hid, "close", {"status": "open"},
                         {"status": "closed", "reason": reason, "run": run.pk}))  # fmt: skip
        if closing and copy_wanted(len(closing)):
            rows_staged(cursor, "_warnings_closed", RiskWarning._meta.db_table, ["id", "close_reason"],
                        [(pk, reason) for *_, reason, pk in closing])  # fmt: skip
            cursor.execute(
                f"UPDATE {table} AS w SET status = %s, closed_at = %s, updated_at = %s, last_run_id = %s, "
                "close_reason = s.close_reason FROM _warnings_closed AS s WHERE w.id = s.id",
                [RiskWarning.Status.CLOSED, stamp, stamp, run.pk],
            )
        elif closing:
            cursor.executemany(
                f"UPDATE {table} SET status = %s, closed_at = %s, updated_at = %s, last_run_id = %s, "
                "close_reason = %s WHERE id = %s",
                closing,
            )
    lap("write_warnings")
    log_rows(opened + logs, at=now)
    lap("write_log")
    return len(fresh), len(changed), unchanged, len(closing)


def firings_write(run: ScreeningRun, grades: pa.Table) -> int:
    """The run's firing counts, per county and trigger (engine.screening.firings), in the caller's transaction: for
    a run over every household only — one household's re-screen says nothing of a county. Returns the rows."""
    counts = firing_counts(grades)
    RuleFiring.objects.bulk_create(
        [
            RuleFiring(run=run, county_code=county, rule_code=rule, households=n)
            for county, rule, n in zip(*(counts.column(i).to_pylist() for i in range(3)), strict=True)
        ],
        batch_size=500,
    )
    return counts.num_rows


# The columns of a new warning, in the order of the rows results_write builds.
_INSERTED = (
    "household_id", "village_code", "grade", "score", "risk_types", "reasons", "sources", "rules", "points", "digest",
    "first_signal_date", "status", "opened_at", "updated_at", "graded_at", "opened_by_run_id", "last_run_id",
    "close_reason",
)  # fmt: skip
# What an open warning's update writes: the content the engine gave it.
_UPDATED = ("village_code", "grade", "score", "risk_types", "reasons", "sources", "rules", "points", "digest")


def _warnings_update(cursor, changed: list[tuple], stamp, run_pk: int) -> None:
    """Write the open warnings whose content changed: rows of (pk, *_UPDATED, first_signal_date). The grading time
    moves only with the grade; the first signal of an open warning never moves later (later runs only add
    evidence)."""
    table = connection.ops.quote_name(RiskWarning._meta.db_table)
    if copy_wanted(len(changed)):
        columns = ["id", *_UPDATED, "first_signal_date"]
        rows_staged(cursor, "_warnings_changed", RiskWarning._meta.db_table, columns, changed)
        cursor.execute(
            f"UPDATE {table} AS w SET graded_at = CASE WHEN w.grade <> s.grade THEN %s ELSE w.graded_at END, "
            + ", ".join(f"{c} = s.{c}" for c in _UPDATED)
            + ", first_signal_date = CASE WHEN w.first_signal_date <= s.first_signal_date THEN w.first_signal_date "
            "ELSE s.first_signal_date END, updated_at = %s, last_run_id = %s FROM _warnings_changed AS s "
            "WHERE w.id = s.id",
            [stamp, stamp, run_pk],
        )
        return
    cursor.executemany(
        f"UPDATE {table} SET graded_at = CASE WHEN grade <> %s THEN %s ELSE graded_at END, "
        + ", ".join(f"{c} = %s" for c in _UPDATED)
        + ", first_signal_date = CASE WHEN first_signal_date <= %s THEN first_signal_date ELSE %s END, "
        "updated_at = %s, last_run_id = %s WHERE id = %s",
        [(values[1], stamp, *values, signal, signal, stamp, run_pk, pk) for pk, *values, signal in changed],
    )


def _without(table: pa.Table, households: list[int] | None) -> pa.Table:
    """The rows of `table` whose household_id is not one of `households`."""
    if not households:
        return table
    skip = pc.is_in(table.column("household_id"), pa.array(households, pa.int64()))
    return table.filter(pc.invert(skip))


def writers_serialised() -> None:
    """PostgreSQL: hold, until the caller's transaction ends, the lock every screening write-back takes, so that
    runs write one after another there as they do on SQLite (core.locks.write_lock). What a run skips or re-reads
    because another run wrote first (services.households_overtaken, current_refreshed) is only sound if no other
    run writes between that check and the commit."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_WRITE_BACK_LOCK])


_WRITE_BACK_LOCK = 0x5C2EE1  # an arbitrary key of pg_advisory_xact_lock, the same in every process

# Clocks of the processes that write grades (workers on several machines) may differ by up to this much: rows
# stamped this long before a run read the stored grades are read again too.
CLOCK_MARGIN_SECONDS = 30


def current_refreshed(current: pa.Table, household_ids: list[int] | None, read_at) -> pa.Table:
    """`current` (current_grades, read before the write transaction) with the rows written since `read_at` (less
    CLOCK_MARGIN_SECONDS) read again, in the write transaction. Another run that wrote a household in between
    would otherwise leave the grade it wrote in place wherever this run's grade equals the one read before."""
    table = connection.ops.quote_name(HouseholdGrade._meta.db_table)
    since = read_at - dt.timedelta(seconds=CLOCK_MARGIN_SECONDS)
    rows = _rows_of(
        f"SELECT household_id, grade, score, rules FROM {table} WHERE updated_at >= %s",
        [connection.ops.adapt_datetimefield_value(since)],
        household_ids,
    )
    if not rows:
        return current
    written = pa.table(
        {f.name: pa.array([row[i] for row in rows], f.type) for i, f in enumerate(current.schema)}
    )
    return pa.concat_tables([_without(current, written.column("household_id").to_pylist()), written])


# The columns of a warning row as `_warnings_to_write` gives them, in the order of the INSERT.
_STORED = ("household_id", "village_code", "grade", "score", "risk_types", "reasons", "sources", "rules", "points",
           "digest", "first_signal_date")  # fmt: skip


def warnings_stored(warnings: pa.Table, run_pk: int) -> pa.Table:
    """The engine's warnings (engine.screening.explain.WARNINGS_SCHEMA) in the form they are stored in, built in
    DuckDB — the columns of `_STORED` (codes joined with ";", lists as JSON text, the ten largest points as
    [[indicator, points], …], the date as ISO text) and `log`, the JSON of a new warning's change-log entry. It does
    not depend on what is stored already, so the thread that explains builds it while the grades are written."""
    with scratch.connection() as con:
        con.register("w", warnings)
        return con.sql(
            "SELECT household_id, village_code, grade, score, array_to_string(risk_types, ';') AS risk_types, "
            "CAST(to_json(reasons) AS VARCHAR) AS reasons, CAST(to_json(sources) AS VARCHAR) AS sources, "
            "array_to_string(rules, ';') AS rules, CAST(to_json(list_transform(points[1:10], "
            "lambda p: [to_json(p.code), to_json(p.points)])) AS VARCHAR) AS points, digest, "
            # SQLite stores a date as its ISO text (what Django's adapt_datefield_value gives); PostgreSQL takes it
            "CAST(first_signal_date AS VARCHAR) AS first_signal_date, "
            # the change-log entry of a new warning (core.changelog.log_rows takes it as JSON text)
            "CAST(json_object('grade', grade, 'score', score, 'risk_types', array_to_string(risk_types, ';'), "
            "'run', $run) AS VARCHAR) AS log FROM w",
            params={"run": run_pk},
        ).to_arrow_table()


def _open_warnings(scoped: list[int] | None) -> pa.Table:
    """(household_id, pk, grade, digest, first_signal_date) of the open warnings (of the `scoped` households), read in
    the write transaction through the cursor: 0.85-0.95 s for a province's 300,000 against 1.4-1.5 s through the
    ORM's row objects. The date is read as text: SQLite's driver would parse each one in Python."""
    table = connection.ops.quote_name(RiskWarning._meta.db_table)
    rows = _rows_of(
        f"SELECT household_id, id, grade, digest, CAST(first_signal_date AS TEXT) FROM {table} WHERE status = %s",
        [RiskWarning.Status.OPEN],
        scoped,
    )
    types = (pa.int64(), pa.int64(), pa.string(), pa.string(), pa.string())
    names = ("household_id", "pk", "grade", "digest", "first_signal_date")
    # A comprehension per column: zip(*rows) over 300,000 rows took 0.4 s.
    table = pa.table(
        {n: pa.array([row[i] for row in rows], t) for i, (n, t) in enumerate(zip(names, types, strict=True))}
    )
    return table.set_column(4, "first_signal_date", table.column(4).cast(pa.date32()))


def _rows_of(sql: str, params: list[Any], household_ids: list[int] | None) -> list[tuple]:
    """Every row of `sql` (which ends in a WHERE clause) through the cursor, of `household_ids` only when given."""
    if household_ids is not None:
        sql += f" AND household_id IN ({', '.join(['%s'] * len(household_ids)) or 'NULL'})"
        params = [*params, *household_ids]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _warnings_to_write(
    stored: pa.Table, open_: pa.Table, kept: pa.Table | None = None
) -> tuple[pa.Table, int, dict[int, int]]:
    """The engine's warnings (`warnings_stored`) against the open ones (`_open_warnings`), in DuckDB: (the rows to
    insert or update — the stored columns (_STORED), `log`, and the open warning's pk and grade, NULL for a new one;
    new ones first —, how many are found again exactly as they were, {household_id: pk} of the open ones to close).

    The digest (RiskWarning.digest) is the engine's hash of the explanation's inputs (explain.digests): a warning
    is written when it is new, its digest changed, or its first-signal date moved earlier (it may only move
    earlier). The households in `kept` were found exactly as stored and not explained: never closed."""
    if kept is None:
        kept = DIGESTS_SCHEMA.empty_table()
    with scratch.connection() as con:
        con.register("w", stored)
        con.register("open_", open_)
        con.register("kept", kept)
        con.execute(
            "CREATE TEMP TABLE d AS SELECT w.household_id, o.pk, o.grade AS old_grade, "
            "(o.pk IS NULL OR o.digest IS DISTINCT FROM w.digest "
            "OR CAST(w.first_signal_date AS DATE) < o.first_signal_date) AS write "
            "FROM w LEFT JOIN open_ AS o USING (household_id)"
        )
        rows = con.sql(
            "SELECT w.*, d.pk, d.old_grade FROM w JOIN d USING (household_id) WHERE d.write "
            "ORDER BY d.pk IS NOT NULL, w.household_id"
        ).to_arrow_table()
        ((same,),) = con.execute(
            "SELECT (SELECT count(*) FROM d WHERE NOT d.write) + (SELECT count(*) FROM kept SEMI JOIN open_ "
            "USING (household_id))"
        ).fetchall()
        gone = con.sql(
            "SELECT household_id, pk FROM open_ ANTI JOIN w USING (household_id) ANTI JOIN kept USING (household_id) "
            "ORDER BY household_id"
        ).fetchall()
    return rows, same, dict(gone)


def open_digests(household_ids: list[int] | None) -> pa.Table:
    """(household_id, digest) of the open warnings of the households about to be screened (read before the engine
    runs, columnar): what lets the engine skip explaining the warnings it would find exactly as they are."""
    table = connection.ops.quote_name(RiskWarning._meta.db_table)
    where = f"status = '{RiskWarning.Status.OPEN}' AND digest IS NOT NULL"
    if household_ids is not None:
        where += f" AND household_id IN ({', '.join(str(int(i)) for i in household_ids) or 'NULL'})"
    got = extract.fetch(
        f"SELECT household_id, digest FROM {table} WHERE {where}",
        columnar=household_ids is None,
        schema=DIGESTS_SCHEMA,
    )
    # Through the cursor, no rows give NULL columns: cast like the rest.
    return pa.table({f.name: got.column(f.name).cast(f.type) for f in DIGESTS_SCHEMA})


def current_grades(household_ids: list[int] | None) -> pa.Table:
    """The stored grades of the households about to be written (read before the write transaction, columnar)."""
    table = connection.ops.quote_name(HouseholdGrade._meta.db_table)
    where = ""
    if household_ids is not None:
        where = f"WHERE household_id IN ({', '.join(str(int(i)) for i in household_ids) or 'NULL'})"
    schema = pa.schema([("household_id", pa.int64()), ("grade", pa.string()), ("score", pa.float64()),
                        ("rules", pa.string())])  # fmt: skip
    got = extract.fetch(
        f"SELECT household_id, grade, score, rules FROM {table} {where}",
        columnar=household_ids is None,
        schema=schema,
    )
    # Through the cursor, no rows give NULL columns: cast like the rest.
    return pa.table({f.name: got.column(f.name).cast(f.type) for f in schema})


def _grades_write(run: ScreeningRun, grades: pa.Table, current: pa.Table, stamp) -> int:
    """Insert the households without a grade and update those whose grade, score or triggers changed since the
    last run: the comparison runs in DuckDB over Arrow, each write is one executemany.

    New rows go in with INSERT … ON CONFLICT DO NOTHING, not as upserts: SQLite checks a deferred foreign key of an
    upserted row three times slower (measured at 1M rows: 16 s against 5.4 s). A row that a concurrent run added
    in between is caught by the count of rows inserted and upserted after all."""
    with scratch.connection() as con:
        con.register("new", grades.select(["household_id", "village_code", "grade", "score", "fired_rules"]))
        con.register("cur", current)
        todo = con.sql(
            "SELECT n.household_id, n.village_code, n.grade, n.score, LEFT(COALESCE(n.fired_rules, ''), 400) AS rules, "
            "c.household_id IS NULL AS fresh "
            "FROM new AS n LEFT JOIN cur AS c ON c.household_id = n.household_id "
            "WHERE c.household_id IS NULL OR c.grade <> n.grade OR ROUND(c.score, 2) <> ROUND(n.score, 2) "
            "OR COALESCE(c.rules, '') <> LEFT(COALESCE(n.fired_rules, ''), 400) ORDER BY n.household_id"
        ).to_arrow_table()
    if not todo.num_rows:
        return 0
    as_of = connection.ops.adapt_datefield_value(run.as_of)

    def params(rows: pa.Table, key_last: bool) -> list[tuple]:
        key = [rows.column("household_id").to_pylist()]
        values = [rows.column(c).to_pylist() for c in ("village_code", "grade", "score", "rules")]
        constant = [repeat(as_of), repeat(run.pk), repeat(stamp)]
        columns = [*values, *constant, *key] if key_last else [*key, *values, *constant]
        return list(zip(*columns, strict=False))  # repeat() is endless

    fresh = todo.filter(todo.column("fresh"))
    changed = todo.filter(pc.invert(todo.column("fresh")))
    table = connection.ops.quote_name(HouseholdGrade._meta.db_table)
    into = f"INSERT INTO {table} ({', '.join(_GRADE_COLUMNS)}) "
    insert = into + "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (household_id) DO "
    with connection.cursor() as cursor:
        if copy_wanted(todo.num_rows):
            upsert = changed
            if fresh.num_rows:
                # New rows straight into the table. One that a concurrent run added in between fails the COPY,
                # whose savepoint then leaves nothing: the new rows are upserted with the changed ones instead.
                try:
                    with transaction.atomic():
                        rows_copy(cursor, HouseholdGrade._meta.db_table, _GRADE_COLUMNS, params(fresh, False))
                except IntegrityError:
                    upsert = todo
            if upsert.num_rows:
                # The rest in one upsert from a staged copy.
                staged = _GRADE_COLUMNS[:5]
                rows_staged(cursor, "_grades_written", HouseholdGrade._meta.db_table, staged,
                            zip(*(upsert.column(c).to_pylist() for c in staged), strict=True))  # fmt: skip
                cursor.execute(
                    into + f"SELECT {', '.join(staged)}, %s, %s, %s FROM _grades_written "
                    "ON CONFLICT (household_id) DO " + _GRADE_UPSERT,
                    [as_of, run.pk, stamp],
                )
            return todo.num_rows
        if fresh.num_rows:
            rows = params(fresh, key_last=False)
            cursor.executemany(insert + "NOTHING", rows)
            if cursor.rowcount != len(rows):  # -1 where the driver does not count an executemany
                cursor.executemany(insert + _GRADE_UPSERT, rows)
        if changed.num_rows:
            cursor.executemany(
                f"UPDATE {table} SET village_code = %s, grade = %s, score = %s, rules = %s, as_of = %s, run_id = %s, "
                "updated_at = %s WHERE household_id = %s",
                params(changed, key_last=True),
            )
    return todo.num_rows


_GRADE_COLUMNS = ("household_id", "village_code", "grade", "score", "rules", "as_of", "run_id", "updated_at")
_GRADE_UPSERT = (
    "UPDATE SET village_code = excluded.village_code, grade = excluded.grade, score = excluded.score, "
    "rules = excluded.rules, as_of = excluded.as_of, run_id = excluded.run_id, updated_at = excluded.updated_at"
)
