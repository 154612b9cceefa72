"""The columnar (ADBC) read of committed data gives exactly what Django's own cursor gives."""

from __future__ import annotations

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
def test_adbc_and_cursor_reads_agree(tmp_path, monkeypatch):
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

    for name, sql in extract._queries(None, None).items():
        columnar = extract._conform(name, extract.fetch(sql))
        cursor = extract._conform(name, extract._fetch_cursor(sql))
        assert columnar.num_rows > 0, name
        order = [(k, "ascending") for k in columnar.column_names]
        assert columnar.sort_by(order).equals(cursor.sort_by(order)), name
        assert columnar.schema == pa.schema(extract.SCHEMAS[name])
    for name, table in extract.screening_inputs().items():  # the four scans side by side
        cursor = extract._conform(name, extract._fetch_cursor(extract._queries(None, None)[name]))
        order = [(k, "ascending") for k in table.column_names]
        assert table.sort_by(order).equals(cursor.sort_by(order)), name


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
