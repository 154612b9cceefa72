"""The columnar copy of the screening inputs (guardline.screening.mirror): what a full pass reads from it is always
what the database holds — after inserts, relinks, deletes and hand-made UPDATEs, and after whatever makes the copy
untrustworthy (a crash between its two commits, a restored database, a dropped trigger, a damaged file). On SQLite
in a file and on PostgreSQL alike; PostgreSQL's own case, changes committed out of their log's order while a sync
reads, is in test_mirror_postgres.py."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import date

import duckdb
import pyarrow as pa
import pytest
from django.db import connection

from guardline.ingest.models import FeedEvent
from guardline.registry.models import Household, HouseholdYear, Member
from guardline.screening import extract, mirror
from guardline.screening.tests.test_extract import _on_file

pytestmark = pytest.mark.django_db(transaction=True)
on_sqlite = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's own case")
AS_OF = date(2025, 6, 30)


def _event(
    n: int, home: Household | None, status: str = "linked", when: date = date(2025, 3, 1)
) -> FeedEvent:
    return FeedEvent.objects.create(
        feed="medical_settlement", key_hash=f"k{n}", event_date=when, village_code="520526001001",
        household=home, link_status=status, amount=float(n), kind="inpatient", payload={},
    )  # fmt: skip


@pytest.fixture
def on_file(tmp_path, monkeypatch):
    """Two households with events in the test database. SQLite's (in memory) is copied to a file that the copy and
    the columnar reads use from then on; the test changes that file, or PostgreSQL's database, directly through
    SQL (`_sql`) — the triggers log it. Returns the SQLite file ("" on PostgreSQL) and the households' ids."""
    homes = [
        Household.objects.create(household_no=f"52052601000000000{i}", village_code="520526001001")
        for i in (1, 2)
    ]
    Member.objects.create(
        household=homes[0],
        name="甲",
        id_number="520526198001010011",
        relation="head",
        birth_date=date(1980, 1, 1),
    )
    HouseholdYear.objects.create(household=homes[0], year=2024, wage_income=1000)
    for n in range(6):
        _event(n, homes[n % 2])
    _event(6, None, "village")
    _event(7, None, "unlinked")
    path = _on_file(tmp_path, monkeypatch) if connection.vendor == "sqlite" else ""
    assert mirror.enabled()
    location = mirror.location()
    assert location is not None
    location.unlink(missing_ok=True)  # PostgreSQL's: one per database, left by an earlier test
    return path, [h.pk for h in homes]


def _sql(path: str, *statements: str) -> None:
    """`statements` committed, each in a transaction of its own (SQLite: in the file at `path`)."""
    if not path:
        with connection.cursor() as cursor:  # autocommit: the test is not in a transaction
            for statement in statements:
                cursor.execute(statement)
        return
    with closing(sqlite3.connect(path)) as db, db:
        for statement in statements:
            db.execute(statement)


def _duplicate(path: str, table: str, where: str, **changes) -> str:
    """INSERT … SELECT of the rows `where` selects in `table`, with a new id and `changes` (column = SQL value)."""
    with connection.cursor() as cursor:
        columns = [
            c.name for c in connection.introspection.get_table_description(cursor, table) if c.name != "id"
        ]
    values = [changes.get(c, c) for c in columns]
    return f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(values)} FROM {table} WHERE {where}"


def _sorted(table: pa.Table) -> pa.Table:
    return table.sort_by([(c, "ascending") for c in table.column_names])


def _assert_copy_is_the_database(village_codes=None, window=None) -> mirror.SyncResult:
    got, synced = mirror.inputs(village_codes, window)
    for name, sql in extract._queries(None, village_codes).items():
        if name == "events" and window is not None:
            sql += f" AND event_date > '{window[0]}' AND event_date <= '{window[1]}'"
        wanted = extract._conform(name, extract.fetch(sql, schema=extract.SCHEMAS[name]))
        assert _sorted(extract._conform(name, got[name])).equals(_sorted(wanted)), name
    return synced


def _amounts() -> list[float]:
    return sorted(mirror.inputs(None, None)[0]["events"].column("amount").to_pylist())


def _changes_logged(path: str) -> int:
    if not path:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {mirror.CHANGES}")
            return cursor.fetchone()[0]
    with closing(sqlite3.connect(path)) as db:
        return db.execute(f"SELECT count(*) FROM {mirror.CHANGES}").fetchone()[0]


def test_inserts_relinks_and_deletes_reach_the_copy_and_only_they_are_read_again(on_file):
    path, (h1, h2) = on_file
    first = _assert_copy_is_the_database()
    assert first.rebuilt and first.reason == "no copy"
    assert first.rows == {"households": 2, "members": 1, "household_years": 1, "events": 8}
    assert _changes_logged(path) == 0  # forgotten once the copy holds them
    again = _assert_copy_is_the_database()
    assert (again.rebuilt, again.replaced) == (False, 0)

    events = FeedEvent._meta.db_table
    _sql(
        path,
        # a new event, a relink to the other household, an unlinked event linked, a deletion, an edit
        f"INSERT INTO {events} (feed, key_hash, event_date, id_number, id_status, id_prefix15, id_number_hash, "
        f"id_prefix15_hash, name, sex, village_code, payload, amount, kind, link_status, link_method, link_note, "
        f"created_at, household_id) SELECT feed, 'new', event_date, id_number, id_status, id_prefix15, id_number_hash, "
        f"id_prefix15_hash, name, sex, village_code, payload, 99.0, kind, link_status, link_method, link_note, "
        f"created_at, household_id FROM {events} WHERE key_hash = 'k0'",
        f"UPDATE {events} SET household_id = {h2} WHERE key_hash = 'k2'",
        f"UPDATE {events} SET household_id = {h1}, link_status = 'linked' WHERE key_hash = 'k7'",
        f"DELETE FROM {events} WHERE key_hash = 'k4'",
        f"UPDATE {events} SET amount = 1000.0 WHERE key_hash = 'k5'",
        f"UPDATE {events} SET link_note = 'read by no pass' WHERE key_hash = 'k1'",  # not a copied column
    )
    assert _changes_logged(path) == 5
    synced = _assert_copy_is_the_database()
    assert (synced.rebuilt, synced.replaced, synced.rows["events"]) == (False, 5, 8)
    assert _amounts() == [0.0, 1.0, 2.0, 3.0, 6.0, 7.0, 99.0, 1000.0]
    # the windows and a village filter as the extract's own queries have them
    _assert_copy_is_the_database(["520526001001"], (date(2025, 1, 1), AS_OF))
    _assert_copy_is_the_database(["520526009999"], (date(2025, 3, 1), AS_OF))


def test_a_crash_between_the_two_commits_rebuilds_the_copy(on_file, monkeypatch):
    path, _ = on_file
    _assert_copy_is_the_database()
    _sql(path, f"UPDATE {FeedEvent._meta.db_table} SET amount = 5.5 WHERE key_hash = 'k0'")

    def crash(*args):
        raise RuntimeError("killed after the copy committed, before the database recorded it")

    with monkeypatch.context() as m:
        m.setattr(mirror, "_record", crash)
        with pytest.raises(RuntimeError):
            mirror.inputs(None, None)
    synced = _assert_copy_is_the_database()
    assert synced.rebuilt and synced.reason == "the copy and the database disagree"
    assert 5.5 in _amounts()


def test_a_restored_database_a_dropped_trigger_or_a_damaged_file_rebuild_the_copy(on_file):
    path, _ = on_file
    _assert_copy_is_the_database()
    events = FeedEvent._meta.db_table

    # a backup from before the copy's last sync: the database's state is older than the copy's
    _sql(path, f"UPDATE {mirror.STATE} SET watermark = watermark - 1")
    synced = _assert_copy_is_the_database()
    assert synced.rebuilt and synced.reason == "the copy and the database disagree"

    # a migration that remakes the events table drops its triggers: what was written meanwhile was not logged
    _sql(
        path,
        "DROP TRIGGER screening_copy_events_update" + ("" if path else f" ON {events}"),
        f"UPDATE {events} SET amount = 7.5 WHERE key_hash = 'k1'",
    )
    synced = _assert_copy_is_the_database()
    assert synced.rebuilt and synced.reason == "triggers missing: screening_copy_events_update"
    _sql(path, f"UPDATE {events} SET amount = 8.5 WHERE key_hash = 'k1'")  # logged again
    assert _assert_copy_is_the_database().replaced == 1

    location = mirror.location()
    assert location is not None
    location.write_bytes(b"not a DuckDB file")
    synced = _assert_copy_is_the_database()
    assert synced.rebuilt and synced.reason == "no copy"


def test_a_table_most_of_which_changed_is_reloaded_whole(on_file, monkeypatch):
    path, _ = on_file
    _assert_copy_is_the_database()
    monkeypatch.setattr(mirror, "RELOAD_MIN_ROWS", 2)
    _sql(
        path,
        f"UPDATE {FeedEvent._meta.db_table} SET amount = amount + 1 WHERE key_hash IN ('k0', 'k1', 'k2')",
        f"UPDATE {Household._meta.db_table} SET monitor_category = 'edge' WHERE household_no LIKE '%1'",
    )
    synced = _assert_copy_is_the_database()
    assert (synced.rebuilt, synced.reloaded, synced.replaced) == (False, ("events",), 1)
    assert _changes_logged(path) == 0


def _copy_household_order(table: str) -> list:
    with duckdb.connect(str(mirror.location()), read_only=True) as con:
        return [row[0] for row in con.execute(f"SELECT household_id FROM {table}").fetchall()]


def test_the_copy_is_in_household_order_and_written_anew_when_appended_rows_pile_up(on_file, monkeypatch):
    """The events arrive alternating between the households; the copy holds them household by household (the
    engine's group-bys run twice as fast), the village's events last. A sync appends its rows at the end, out of
    that order; once they pass the share, the next sync writes the copy anew. A copy written before the copy kept
    that count (no `unsorted` in its meta) is written anew too."""
    path, (h1, h2) = on_file
    _assert_copy_is_the_database()
    order = _copy_household_order("events")
    assert order == [h1, h1, h1, h2, h2, h2, None, None]
    monkeypatch.setattr(mirror, "RELOAD_MIN_ROWS", 2)
    events = FeedEvent._meta.db_table
    for n in (1, 2):
        _sql(path, _duplicate(path, events, "key_hash IN ('k0', 'k1')", key_hash=f"'again{n}' || key_hash"))
        synced = _assert_copy_is_the_database()
        assert (synced.rebuilt, synced.replaced) == (False, 2)
    assert _copy_household_order("events")[-4:] == [h1, h2, h1, h2]
    synced = _assert_copy_is_the_database()
    assert synced.rebuilt and synced.reason == "4 rows out of household order"
    assert _copy_household_order("events") == [h1] * 5 + [h2] * 5 + [None, None]

    with duckdb.connect(str(mirror.location())) as con:
        con.execute("ALTER TABLE meta DROP COLUMN unsorted")
    again = _assert_copy_is_the_database()
    assert again.rebuilt and again.reason == "no copy"


def test_households_members_and_income_years_are_copied_too(on_file):
    path, (h1, h2) = on_file
    _assert_copy_is_the_database()
    registry = Household._meta.db_table
    members, years = Member._meta.db_table, HouseholdYear._meta.db_table
    _sql(
        path,
        _duplicate(path, members, "true", health="'chronic'", id_number_hash="'another'"),
        _duplicate(path, years, "true", household_id=str(h2), wage_income="12345.5"),
        f"UPDATE {registry} SET is_active = false WHERE id = {h2}",
    )
    synced = _assert_copy_is_the_database()
    assert (synced.rebuilt, synced.replaced) == (False, 3)
    got = mirror.inputs(None, None)[0]
    assert got["households"].column("household_id").to_pylist() == [h1]  # the inactive one is not screened
    assert sorted(got["members"].column("health").to_pylist()) == ["", "chronic"]
    assert sorted(got["household_years"].column("wage_income").to_pylist()) == [1000.0, 12345.5]
    _sql(path, f"DELETE FROM {members} WHERE health = 'chronic'")
    assert _assert_copy_is_the_database().replaced == 1
    assert mirror.inputs(None, None)[0]["members"].num_rows == 1


def test_a_regions_read_holds_its_households_rows_and_village_events_only(on_file):
    """What a what-if over one county of a province's copy reads (mirror.inputs(region=…))."""
    path, (h1, h2) = on_file
    events = FeedEvent._meta.db_table
    _sql(
        path,
        f"UPDATE {Household._meta.db_table} SET village_code = '520526002001' WHERE id = {h2}",
        _duplicate(path, events, "link_status = 'village'", village_code="'520526002001'", key_hash="'k-other'",
                   amount="60.0"),
    )  # fmt: skip
    whole = mirror.inputs(None, None)[0]
    first, second = (
        mirror.inputs(None, None, region="520526001")[0],
        mirror.inputs(None, None, region="520526002")[0],
    )
    assert first["households"].column("household_id").to_pylist() == [h1]
    assert second["households"].column("household_id").to_pylist() == [h2]
    assert first["members"].num_rows == 1 and second["members"].num_rows == 0
    assert first["household_years"].num_rows == 1 and second["household_years"].num_rows == 0
    assert sorted(first["events"].column("amount").to_pylist()) == [0.0, 2.0, 4.0, 6.0]  # h1's, its village's
    assert sorted(second["events"].column("amount").to_pylist()) == [1.0, 3.0, 5.0, 60.0]
    for name in whole:  # the two regions are the whole registry
        assert first[name].num_rows + second[name].num_rows == whole[name].num_rows, name
    assert mirror.inputs(None, None, region="520526")[0]["events"].num_rows == whole["events"].num_rows


def test_whole_yuan_incomes_and_columns_null_for_a_thousand_rows_are_read_in_full(on_file):
    """ADBC's SQLite driver types a column by its first 1,024 values: a NUMERIC income column whose first
    thousand values are whole yuan (stored as integers) and a column NULL that long (a claim income, an event's
    amount) once made it fail on the first value of another type ("expected INT64 but got DOUBLE")."""
    path, (h1, h2) = on_file
    years, events = HouseholdYear._meta.db_table, FeedEvent._meta.db_table

    def many(table: str, where: str, **changes) -> str:
        """1,500 copies of the row `where` selects, numbered by n.i."""
        return "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1500) " + _duplicate(
            path, table, where, **changes
        ).replace(f"FROM {table} WHERE", f"FROM {table}, n WHERE")

    def rows(first_year: int) -> list[str]:
        return [
            many(years, f"household_id = {h1}", household_id=str(h2), year=f"{first_year} + i", wage_income="8000",
                 claim_income="NULL"),
            _duplicate(path, years, f"household_id = {h1}", household_id=str(h2), year=str(first_year + 2000),
                       wage_income="8000.5", claim_income="1200.25"),
            many(events, "key_hash = 'k0'", feed="'death_registration'", key_hash=f"'d{first_year}-' || i",
                 amount="NULL"),
            f"UPDATE {events} SET amount = 7.5 WHERE key_hash = 'd{first_year}-1500'",
        ]  # fmt: skip

    _sql(path, *rows(10000))  # read whole when the copy is built
    synced = _assert_copy_is_the_database()
    assert synced.rebuilt
    got = mirror.inputs(None, None)[0]
    assert 8000.5 in got["household_years"].column("wage_income").to_pylist()
    assert 1200.25 in got["household_years"].column("claim_income").to_pylist()
    assert 7.5 in got["events"].column("amount").to_pylist()
    _sql(path, *rows(20000))  # read as changes
    synced = _assert_copy_is_the_database()
    assert not synced.rebuilt and synced.replaced > 3000


def test_a_full_pass_reads_its_events_from_the_copy(on_file, monkeypatch):
    path, _ = on_file
    inputs = extract.screening_inputs(as_of=AS_OF)
    location = mirror.location()
    assert location is not None and location.exists()
    assert sorted(inputs["events"].column("amount").to_pylist()) == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    _sql(path, f"UPDATE {FeedEvent._meta.db_table} SET event_date = '2023-01-01' WHERE key_hash = 'k3'")
    inputs = extract.screening_inputs(as_of=AS_OF)  # out of the 24-month look-back now
    assert sorted(inputs["events"].column("amount").to_pylist()) == [0.0, 1.0, 2.0, 4.0, 5.0, 6.0]
    assert inputs["events"].schema == extract.SCHEMAS["events"]


def test_the_command_brings_the_copy_up_to_date_or_rebuilds_it(on_file):
    from io import StringIO

    from django.core.management import call_command

    path, _ = on_file

    def command(*args: str) -> str:
        out = StringIO()
        call_command("refresh_screening_copy", *args, stdout=out)
        return out.getvalue()

    assert "rebuilt (no copy)" in command()
    _sql(path, f"UPDATE {FeedEvent._meta.db_table} SET amount = 12.5 WHERE key_hash = 'k0'")
    assert "1 rows replaced" in command()
    assert "0 rows replaced" in command()
    assert "rebuilt (no copy)" in command("--rebuild")
    assert 12.5 in _amounts()


def test_the_command_says_where_there_is_no_copy(settings):
    from io import StringIO

    from django.core.management import call_command

    settings.GUARDLINE = {**settings.GUARDLINE, "SCREENING_COPY_DIR": ""}  # PostgreSQL without a directory
    out = StringIO()
    call_command("refresh_screening_copy", stdout=out)  # SQLite: the test database is in memory
    assert "no screening input copy on this database" in out.getvalue()


@on_sqlite
def test_an_isolated_read_never_opens_the_file_through_adbc_and_a_child_process_syncs(on_file, monkeypatch):
    """A web server's thread (the what-if page) reads the copy beside other threads whose SQLite connections stay
    open: this process must not open the file through ADBC's second SQLite library, so a copy that is behind is
    brought up to date by a child process (`guardline refresh_screening_copy`), and one in step is read as it is."""
    import adbc_driver_sqlite.dbapi as adbc

    path, _ = on_file

    def refused(*args, **kwargs):
        raise AssertionError("an isolated read opened the SQLite file through ADBC")

    def isolated_amounts() -> list[float]:
        with monkeypatch.context() as m:
            m.setattr(adbc, "connect", refused)
            got, synced = mirror.inputs(None, None, isolated=True)
        return sorted(got["events"].column("amount").to_pylist()), synced

    amounts, synced = isolated_amounts()  # no copy yet: the child builds it
    assert (amounts, synced.rows["events"]) == ([0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 8)
    _sql(path, f"UPDATE {FeedEvent._meta.db_table} SET amount = 42.0 WHERE key_hash = 'k0'")
    amounts, _ = isolated_amounts()  # behind by one change: the child applies it
    assert amounts == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 42.0]
    assert _changes_logged(path) == 0
    with monkeypatch.context() as m:  # in step: read as it is, no child
        m.setattr(mirror.subprocess, "run", lambda *a, **k: pytest.fail("a child for a copy in step"))
        assert isolated_amounts()[0] == amounts
    _assert_copy_is_the_database()


@on_sqlite
@pytest.mark.usefixtures("on_file")
def test_an_isolated_read_says_why_when_the_child_fails(monkeypatch):
    monkeypatch.setattr(mirror.sys, "executable", "/bin/false")
    with pytest.raises(RuntimeError, match=r"up to date failed \(exit 1\)"):
        mirror.inputs(None, None, isolated=True)
