"""PostgreSQL's own cases of the screening input copy (guardline.screening.mirror_log.PostgresLog): its sequences
are not in commit order, and writers commit while a sync reads. The copy must still hold every committed change,
once, after the next sync. The shared cases (inserts, relinks, deletes, crashes, restored databases) are in
test_mirror.py."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import duckdb
import psycopg
import pytest
from django.db import connection

from guardline.ingest.models import FeedEvent
from guardline.screening import mirror
from guardline.screening.mirror_log import PostgresLog
from guardline.screening.tests.test_mirror import (
    _amounts,
    _assert_copy_is_the_database,
    _changes_logged,
    _sql,
    on_file,  # noqa: F401 (a fixture)
)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("on_file"),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's own cases"),
]
EVENTS = FeedEvent._meta.db_table


@contextmanager
def _writer() -> Iterator[psycopg.Connection]:
    """A second client of the test database, as another web worker or import would be."""
    s = connection.settings_dict
    with psycopg.connect(
        host=s["HOST"], port=s["PORT"], user=s["USER"], password=s["PASSWORD"], dbname=s["NAME"]
    ) as other:
        yield other


def _in_copy() -> list[float]:
    """The events' amounts in the copy as it is, not brought up to date."""
    location = mirror.location()
    assert location is not None
    with duckdb.connect(str(location), read_only=True) as con:
        return [row[0] for row in con.execute("SELECT amount FROM events").fetchall()]


def test_a_change_logged_first_and_committed_last_reaches_the_copy():
    """The writer's change gets its seq before the other's and commits after a sync took the other's: a watermark
    by seq, as on SQLite, would skip it for ever."""
    _assert_copy_is_the_database()
    with _writer() as slow:
        slow.execute(f"UPDATE {EVENTS} SET amount = 11.0 WHERE key_hash = 'k1'")  # logged, not committed
        _sql("", f"UPDATE {EVENTS} SET amount = 22.0 WHERE key_hash = 'k2'")  # a higher seq, committed
        synced = _assert_copy_is_the_database()
        assert (synced.replaced, _amounts()) == (1, [0.0, 1.0, 3.0, 4.0, 5.0, 6.0, 22.0])
        assert _changes_logged("") == 0  # the uncommitted entry is not visible, to count or to delete
        slow.commit()
    assert _changes_logged("") == 1
    synced = _assert_copy_is_the_database()
    assert (synced.rebuilt, synced.replaced) == (False, 1)
    assert 11.0 in _amounts() and _changes_logged("") == 0


def test_a_change_committed_while_a_sync_reads_waits_for_the_next(monkeypatch):
    _assert_copy_is_the_database()
    _sql("", f"UPDATE {EVENTS} SET amount = 30.0 WHERE key_hash = 'k3'")
    changed = PostgresLog.changed

    def meanwhile(self, copy, after, upto):
        # after the sync's snapshot was taken, before it reads the rows: another client commits a change
        with _writer() as other:
            other.execute(f"UPDATE {EVENTS} SET amount = 40.0 WHERE key_hash = 'k4'")
        return changed(self, copy, after, upto)

    with monkeypatch.context() as m:
        m.setattr(PostgresLog, "changed", meanwhile)
        _, synced = mirror.inputs(None, None)
    assert synced.replaced == 1
    assert {30.0, 4.0} <= set(_in_copy()) and 40.0 not in _in_copy()  # the database as the snapshot saw it
    assert _changes_logged("") == 1  # and the later change's entry is kept
    synced = _assert_copy_is_the_database()
    assert (synced.rebuilt, synced.replaced) == (False, 1)
    assert 40.0 in _amounts()


def test_a_bulk_insert_is_logged_in_one_statement_and_a_truncate_rebuilds():
    _assert_copy_is_the_database()
    _sql(
        "",
        f"INSERT INTO {EVENTS} (feed, key_hash, event_date, id_number, id_status, id_prefix15, id_number_hash, "
        f"id_prefix15_hash, name, sex, village_code, payload, amount, kind, link_status, link_method, link_note, "
        f"created_at, household_id) SELECT feed, 'bulk-' || n, event_date, id_number, id_status, id_prefix15, "
        f"id_number_hash, id_prefix15_hash, name, sex, village_code, payload, 100.0 + n, kind, link_status, "
        f"link_method, link_note, created_at, household_id FROM {EVENTS}, generate_series(1, 50) AS n "
        f"WHERE key_hash = 'k0'",
    )
    assert _changes_logged("") == 50
    synced = _assert_copy_is_the_database()
    assert (synced.replaced, synced.rows["events"]) == (50, 58)
    _sql("", f"TRUNCATE {EVENTS} CASCADE")  # no row is logged: the copy's state is forgotten
    synced = _assert_copy_is_the_database()
    assert synced.rebuilt and synced.reason == "the copy and the database disagree"
    assert synced.rows["events"] == 0


def test_a_disabled_trigger_counts_as_missing():
    _assert_copy_is_the_database()
    _sql(
        "",
        f"ALTER TABLE {EVENTS} DISABLE TRIGGER screening_copy_events_update",
        f"UPDATE {EVENTS} SET amount = 9.5 WHERE key_hash = 'k0'",  # not logged
    )
    synced = _assert_copy_is_the_database()
    assert synced.rebuilt and synced.reason == "triggers missing: screening_copy_events_update"
    _sql("", f"UPDATE {EVENTS} SET amount = 8.5 WHERE key_hash = 'k0'")  # enabled again, and logged
    assert _assert_copy_is_the_database().replaced == 1


def test_syncs_take_turns_and_a_copy_on_another_machine_takes_over(monkeypatch, tmp_path):
    import threading

    from guardline.screening.mirror_log import SYNC_LOCK

    _assert_copy_is_the_database()
    _sql("", f"UPDATE {EVENTS} SET amount = 50.0 WHERE key_hash = 'k5'")
    done: list = []
    with _writer() as other:
        other.execute(f"SELECT pg_advisory_lock({SYNC_LOCK})")  # a sync on another machine, under way
        waiting = threading.Thread(target=lambda: done.append(mirror.refresh()))
        waiting.start()
        waiting.join(timeout=1.0)
        assert waiting.is_alive() and not done
        other.execute(f"SELECT pg_advisory_unlock({SYNC_LOCK})")
        waiting.join(timeout=30)
    assert done and done[0].replaced == 1

    here = mirror.location()
    elsewhere = tmp_path / "elsewhere.inputs.duckdb"
    monkeypatch.setattr(mirror, "location", lambda: elsewhere)
    synced = _assert_copy_is_the_database()  # the other machine's copy: the database records this one's
    assert synced.rebuilt and synced.reason == "no copy"
    monkeypatch.setattr(mirror, "location", lambda: here)
    synced = _assert_copy_is_the_database()
    assert synced.rebuilt and synced.reason == "the copy and the database disagree"
