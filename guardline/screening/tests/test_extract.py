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
def test_adbc_and_cursor_reads_agree(tmp_path):
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

    for name, sql in extract._queries(None, None).items():
        columnar = extract._conform(name, extract.fetch(sql))
        cursor = extract._conform(name, extract._fetch_cursor(sql))
        assert columnar.num_rows > 0, name
        order = [(k, "ascending") for k in columnar.column_names]
        assert columnar.sort_by(order).equals(cursor.sort_by(order)), name
        assert columnar.schema == pa.schema(extract.SCHEMAS[name])
