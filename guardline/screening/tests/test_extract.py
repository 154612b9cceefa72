"""The columnar (ADBC) read of committed data gives exactly what Django's own cursor gives."""

from __future__ import annotations

from datetime import date, timedelta

import pyarrow as pa
import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from engine.ingest.feeds import FEED_KEYS
from guardline.ingest.services import import_file
from guardline.screening import extract
from guardline.screening.tests.conftest import window_start
from simulate import simulate_county


@pytest.mark.django_db(transaction=True)
def test_adbc_and_cursor_reads_agree(tmp_path, monkeypatch, request):
    out = tmp_path / "county"
    simulate_county(
        households=40,
        seed=5,
        out_dir=out,
        divisions_dir=settings.GUARDLINE["DIVISIONS_DIR"],
        start=window_start(timezone.localdate()),
    )
    import_file("registry", out / "registry.csv")
    for path in sorted(out.glob("income_*.csv")):
        import_file("income", path)
    for key in FEED_KEYS:
        import_file(key, out / "feeds" / f"{key}.csv")
    assert not connection.in_atomic_block  # committed data: the columnar path is taken where there is one
    if connection.vendor == "sqlite":
        _on_file(tmp_path, monkeypatch)
        assert extract._columnar()
    else:
        # A server in China often runs in Asia/Shanghai: the columnar reads' sessions take its zone, Django's cursor
        # sets UTC. Events received at 20:00 UTC fall on the next day there; both reads must give the UTC date.
        database = connection.ops.quote_name(connection.settings_dict["NAME"])
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE ingest_feedevent SET created_at = '2025-01-01 20:00:00+00' WHERE id % 2 = 0"
            )
            cursor.execute(f"ALTER DATABASE {database} SET timezone = 'Asia/Shanghai'")
        request.addfinalizer(lambda: connection.cursor().execute(f"ALTER DATABASE {database} RESET timezone"))

    for name, sql in extract._queries(None, None).items():
        columnar = extract._conform(name, extract.fetch(sql))
        cursor = extract._conform(name, extract._fetch_cursor(sql))
        assert columnar.num_rows > 0, name
        order = [(k, "ascending") for k in columnar.column_names]
        assert columnar.sort_by(order).equals(cursor.sort_by(order)), name
        assert columnar.schema == pa.schema(extract.SCHEMAS[name])
    for name, table in extract.screening_inputs().items():  # the scans side by side, the events in parts
        cursor = extract._conform(name, extract._fetch_cursor(extract._queries(None, None)[name]))
        order = [(k, "ascending") for k in table.column_names]
        assert table.sort_by(order).equals(cursor.sort_by(order)), name
    if connection.vendor == "postgresql":
        received = set(extract.screening_inputs()["events"].column("received_date").to_pylist())
        assert date(2025, 1, 1) in received and date(2025, 1, 2) not in received


def _on_file(tmp_path, monkeypatch) -> str:
    """The test database (SQLite in memory, which ADBC cannot open) copied to a file that the columnar reads then
    use; Django's own connection keeps reading the in-memory original, with the same committed data."""
    import sqlite3

    path = str(tmp_path / "copy.sqlite3")
    connection.ensure_connection()
    with sqlite3.connect(path) as copy:
        connection.connection.backup(copy)
    monkeypatch.setitem(connection.settings_dict, "NAME", path)
    return path


def test_a_column_of_nulls_conforms_whatever_type_the_driver_guessed():
    # ADBC's SQLite driver types a column it saw only NULLs in as int64 (members without any birth date, say)
    names = extract.SCHEMAS["members"].names
    table = pa.table({n: pa.array([None, None], pa.int64()) for n in names})
    conformed = extract._conform("members", table)
    assert conformed.schema == extract.SCHEMAS["members"]
    assert conformed.column("birth_date").null_count == 2


def _plan(path: str, sql: str) -> str:
    import adbc_driver_sqlite.dbapi as adbc

    with adbc.connect(path) as con, con.cursor() as cur:
        cur.execute("EXPLAIN QUERY PLAN " + sql)
        return " | ".join(str(row[-1]) for row in cur.fetchall())


@pytest.mark.django_db(transaction=True)
def test_full_pass_events_are_those_of_the_former_query(tmp_path, monkeypatch):
    """Linked events with a household and village-level events, nothing else (not in review, unlinked, nor linked
    without a household): exactly the rows of the former `(linked AND household) OR village`, also in the two
    halves and the village part that a parallel full pass reads, and through ADBC on the covering index."""
    from guardline.ingest.models import FeedEvent
    from guardline.registry.models import Household, Member

    homes = [
        Household.objects.create(household_no=f"52052601{i:012d}", village_code="520526001001")
        for i in (1, 2, 3)
    ]
    for i, home in enumerate(homes):
        Member.objects.create(household=home, name=f"成员{i}", id_number=f"52052619800101{i:03d}X")
    S = FeedEvent.LinkStatus
    cases = [  # (link_status, household, village, included)
        (S.LINKED, homes[0], "520526001001", True),
        (S.LINKED, homes[1], "520526001001", True),
        (S.LINKED, homes[2], "520526001001", True),
        (S.LINKED, None, "520526001001", False),  # linked, household since deleted
        (S.VILLAGE, None, "520526001001", True),
        (S.VILLAGE, None, "520526001002", True),
        (S.VILLAGE, homes[0], "520526001001", True),
        (S.REVIEW, homes[1], "520526001001", False),
        (S.REVIEW, None, "520526001001", False),
        (S.UNLINKED, None, "520526001001", False),
        (S.UNLINKED, homes[2], "520526001001", False),
    ]
    for n, (status, home, village, _) in enumerate(cases):
        FeedEvent.objects.create(
            feed="water_incident" if status == S.VILLAGE else "medical_settlement",
            key_hash=f"k{n}",
            event_date=date(2025, 4, 1 + n),
            village_code=village,
            household=home,
            link_status=status,
            amount=float(n),
            kind="停水",
            payload={},
        )
    wanted = sorted(float(n) for n, case in enumerate(cases) if case[-1])

    def amounts(*sqls: str) -> list[float]:
        return sorted(a for sql in sqls for a in extract._fetch_cursor(sql).column("amount").to_pylist())

    select = extract._events_select()
    former = (
        f"{select} WHERE (link_status = 'linked' AND household_id IS NOT NULL) OR (link_status = 'village')"
    )
    full = extract._queries(None, None)["events"]
    assert amounts(former) == wanted
    assert amounts(full) == wanted
    order = [(k, "ascending") for k in extract.SCHEMAS["events"].names]
    same = extract._conform("events", extract._fetch_cursor(full)).sort_by(order)
    assert same.equals(extract._conform("events", extract._fetch_cursor(former)).sort_by(order))
    for cut in (0, homes[0].pk, homes[1].pk, homes[2].pk):
        assert amounts(*extract._events_split(cut)) == wanted, cut
    # with a village filter, and the OR form kept for a few households: as before too
    former_in_village = (
        f"{select} WHERE (link_status = 'linked' AND household_id IS NOT NULL) "
        f"OR (link_status = 'village' AND village_code IN ('520526001002'))"
    )
    assert amounts(extract._queries(None, ["520526001002"])["events"]) == amounts(former_in_village)
    assert amounts(former_in_village) == [0.0, 1.0, 2.0, 5.0]
    assert amounts(extract._queries([homes[0].pk], ["520526001001"])["events"]) == [0.0, 4.0, 6.0]
    assert amounts(extract._queries([homes[1].pk], None)["events"]) == [1.0, 4.0, 5.0, 6.0]

    if connection.vendor == "sqlite":
        path = _on_file(tmp_path, monkeypatch)
        for sql in (full, *extract._events_split(homes[1].pk)):
            plan = _plan(path, sql)
            assert (
                "USING COVERING INDEX feedevent_screening_cover" in plan and "MULTI-INDEX OR" not in plan
            ), plan
    assert extract._columnar()
    inputs = extract.screening_inputs()  # in parallel through ADBC, the events in parts
    assert sorted(inputs["events"].column("amount").to_pylist()) == wanted
    for name, sql in extract._queries(None, None).items():
        cursor = extract._conform(name, extract._fetch_cursor(sql))
        order = [(k, "ascending") for k in cursor.column_names]
        assert inputs[name].sort_by(order).equals(cursor.sort_by(order)), name


def test_text_dates_are_their_first_ten_characters():
    import pyarrow.compute as pc

    for texts in (
        ["2025-06-30", None, "2024-02-29"],  # DateField
        ["2025-06-30 08:00:00", "2025-06-30 23:59:59.999999", None],  # DateTimeField, UTC as Django keeps it
        ["2025-06-30 23:30:00+08:00", "2025-06-30T08:00:00"],  # with an offset: cut, not parsed
        ["2025-06-30", "2025-06-30 08:00:00"],
    ):
        col = pa.chunked_array([pa.array(texts[:1]), pa.array(texts[1:])])
        cut = pc.cast(pc.utf8_slice_codeunits(col, 0, 10), pa.date32())
        assert extract._text_dates(col).equals(cut), texts


@pytest.mark.django_db(transaction=True)
def test_only_events_within_the_engines_look_back_are_read(tmp_path, monkeypatch):
    """With the screening date, the extract reads the events dated in (as_of - 24 months, as_of], the engine's own
    bounds: a county's older history is never read, and what the engine sees is the same."""
    from engine.screening.steps import Window
    from guardline.ingest.models import FeedEvent
    from guardline.registry.models import Household

    home = Household.objects.create(household_no="520526010000000001", village_code="520526001001")
    as_of = date(2025, 6, 30)
    window = Window.at(as_of)
    dates = [date(2019, 1, 1), window.months24, window.months24 + timedelta(days=1), as_of,
             date(2025, 7, 1)]  # fmt: skip
    for n, when in enumerate(dates):
        for status, household in (("linked", home), ("village", None)):
            FeedEvent.objects.create(
                feed="medical_settlement", key_hash=f"{status}{n}", event_date=when, village_code="520526001001",
                household=household, link_status=status, amount=float(n), kind="", payload={},
            )  # fmt: skip
    inside = sorted([2.0, 3.0] * 2)

    def amounts(*sqls: str) -> list[float]:
        return sorted(a for sql in sqls for a in extract._fetch_cursor(sql).column("amount").to_pylist())

    assert amounts(extract._queries(None, None)["events"]) == sorted([float(n) for n in range(5)] * 2)
    assert amounts(extract._queries(None, None, as_of)["events"]) == inside
    assert amounts(*extract._events_split(home.pk, as_of)) == inside
    assert amounts(extract._queries([home.pk], ["520526001001"], as_of)["events"]) == inside
    if connection.vendor == "sqlite":
        path = _on_file(tmp_path, monkeypatch)
        _with_county_statistics(path)
        for sql in (extract._queries(None, None, as_of)["events"], *extract._events_split(home.pk, as_of)):
            plan = _plan(path, sql)
            assert "USING COVERING INDEX feedevent_screening_cover" in plan and "event_date_" not in plan, (
                plan
            )
    got = extract.screening_inputs(as_of=as_of)["events"]
    assert sorted(got.column("amount").to_pylist()) == inside


def _with_county_statistics(path: str) -> None:
    """The planner statistics of the events of a 1M-household county (12M events, ~33k per day), as ANALYZE
    wrote them on bench/screening_db.py's database: with them SQLite prefers the index on event_date alone for a
    date range — and then looks every event up in the table (219 s instead of 12 s at that size)."""
    import sqlite3

    stats = {
        "feedevent_screening_cover": "12000000 3000000 13 4 2 2 1 1 1 1",
        "ingest_feedevent_event_date_4f42e0a9": "12000000 32877",
        "ingest_feed_househo_1da7fe_idx": "12000000 13 1",
        "ingest_feedevent_household_id_eac23b4a": "12000000 13",
        "ingest_feedevent_village_code_b2013941": "12000000 1200",
        "ingest_feed_link_st_5e95fc_idx": "12000000 3000000 3000000",
        "ingest_feed_feed_77468f_idx": "12000000 1000000 352942",
    }
    with sqlite3.connect(path) as lite:
        lite.execute("ANALYZE")
        names = {name for (name,) in lite.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert set(stats) <= names, (
            set(stats) - names
        )  # the schema's index names, as the county's file has them
        lite.execute("DELETE FROM sqlite_stat1 WHERE tbl = 'ingest_feedevent'")
        lite.executemany(
            "INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES ('ingest_feedevent', ?, ?)", stats.items()
        )


_TWO_LIBRARIES = """
import os, sys
import django
django.setup()
from django.db import connection, transaction
from guardline.screening import extract
if sys.argv[1] == "off":
    extract.sqlite_hand_over = lambda path: None

def big():
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany("INSERT INTO t VALUES (randomblob(2000))", [()] * 40000)

with connection.cursor() as cursor:
    cursor.execute("CREATE TABLE t (x)")
big()  # the WAL's shared memory grows to several regions, all mapped by Django's connection
with connection.cursor() as cursor:
    cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
print(extract.fetch("SELECT count(*) AS n FROM t").column("n").to_pylist(), flush=True)  # ADBC opens the file
big()  # writes into those regions again
with connection.cursor() as cursor:
    cursor.execute("SELECT count(*) FROM t")
    print(cursor.fetchone()[0], flush=True)
"""


def test_adbc_reads_hand_the_sqlite_file_over_from_djangos_connection(tmp_path):
    """ADBC's SQLite and Python's are two libraries in one process (extract.sqlite_hand_over): while Django's
    connection holds the WAL's shared memory mapped, an ADBC read truncates it, and Django's next large write dies
    of SIGBUS. `fetch` closes Django's connection to that file first. Run in child processes, on a file database,
    with and without the hand-over."""
    import os
    import signal
    import subprocess
    import sys

    from django.conf import settings as django_settings

    def child(mode: str) -> subprocess.CompletedProcess:
        env = dict(
            os.environ,
            DJANGO_SETTINGS_MODULE="config.settings.base",
            DATABASE_URL=f"sqlite:///{tmp_path / mode}.sqlite3",
            GUARDLINE_VAR_DIR=str(tmp_path / f"var-{mode}"),
            PYTHONPATH=str(django_settings.BASE_DIR),
        )
        return subprocess.run(
            [sys.executable, "-c", _TWO_LIBRARIES, mode], env=env, capture_output=True, text=True, timeout=300
        )

    done = child("on")
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["[40000]", "80000"]
    # Without it the same steps fault: what the hand-over is for. (Should a later SQLite or ADBC stop faulting
    # here, this line says so; the hand-over then costs only a reconnect.)
    assert child("off").returncode == -signal.SIGBUS
