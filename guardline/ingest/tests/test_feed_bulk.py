"""The set-based store of feed files (feed_events_store) writes exactly what the row-by-row path of API pushes
(feed_events_apply_rows) writes: same natural-key hashes, payloads, amounts, kinds, links and notes, for every feed
and for awkward text (quotes, backslashes, control characters) that the hash must escape like json.dumps."""

import csv

import pytest
from django.conf import settings

from engine.ingest import SPECS, load_table
from engine.ingest.feeds import FEED_KEYS
from guardline.ingest.feed_services import feed_events_apply_rows, feed_events_store, natural_key_hash
from guardline.ingest.models import FeedEvent, ImportBatch
from guardline.ingest.services import import_file
from simulate import simulate_county

pytestmark = pytest.mark.django_db

COLUMNS = (
    "feed",
    "key_hash",
    "source_row",
    "event_date",
    "id_number",
    "id_status",
    "id_prefix15",
    "name",
    "birth_date",
    "sex",
    "village_code",
    "payload",
    "amount",
    "kind",
    "household_id",
    "member_id",
    "link_status",
    "link_method",
    "link_note",
)


def _stored(batch) -> dict[int, tuple]:
    return {r[2]: r for r in FeedEvent.objects.filter(batch=batch).values_list(*COLUMNS)}


def _both_paths(spec, path, allowed=None) -> tuple[dict, dict]:
    rows_batch = ImportBatch.objects.create(kind="feed", feed=spec.key, file_name="rows", sha256="")
    loaded = load_table(path, spec)
    rows = [r for chunk in loaded.iter_clean(order_by=("source_row",)) for r in chunk]
    applied = feed_events_apply_rows(spec, rows, batch=rows_batch, allowed=allowed)
    by_rows = _stored(rows_batch)
    FeedEvent.objects.filter(batch=rows_batch).delete()
    bulk_batch = ImportBatch.objects.create(kind="feed", feed=spec.key, file_name="bulk", sha256="")
    stored = feed_events_store(load_table(path, spec), batch=bulk_batch, allowed=allowed, chunk_rows=7)
    assert (stored.rows, stored.created, stored.unchanged) == (len(rows), applied.created, 0)
    assert stored.out_of_scope == applied.out_of_scope
    for row in rows:  # the hash is natural_key_hash's
        assert by_rows[row["source_row"]][1] == natural_key_hash(spec, row)
    return by_rows, _stored(bulk_batch)


@pytest.fixture
def county(tmp_path):
    out = tmp_path / "county"
    simulate_county(
        households=120, seed=3, out_dir=out, divisions_dir=settings.GUARDLINE["DIVISIONS_DIR"], outsiders=True
    )
    import_file("registry", out / "registry.csv")
    return out


def test_bulk_store_equals_row_path_for_every_feed(county):
    for key in FEED_KEYS:
        by_rows, by_bulk = _both_paths(SPECS[key], county / "feeds" / f"{key}.csv")
        assert by_rows and by_rows == by_bulk, key


def test_bulk_store_equals_row_path_outside_scope_and_for_awkward_text(county, tmp_path):
    path = county / "feeds" / "medical_settlement.csv"
    with open(path, encoding="utf-8", newline="") as fh:
        data = list(csv.reader(fh))
    header = data[0]
    hospital, name = header.index("医疗机构"), header.index("姓名")
    awkward = ['县"人民"医院', "卫生院\\分院", "诊所\x01", "医院\t", "普通医院", "'单引号'"]
    for i, row in enumerate(data[1:]):
        row[hospital] = awkward[i % len(awkward)]
        if i % 7 == 0:
            row[name] = row[name] + '"'
    odd = tmp_path / "odd.csv"
    with open(odd, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(data)
    villages = sorted({r[header.index("行政区划代码")] for r in data[1:]})
    half = set(villages[: len(villages) // 2])
    by_rows, by_bulk = _both_paths(SPECS["medical_settlement"], odd, allowed=lambda code: code in half)
    assert by_rows == by_bulk
    assert any("不在上传者管辖范围" in r[-1] for r in by_bulk.values())


def test_bulk_store_skips_stored_records(county):
    spec = SPECS["illness_diagnosis"]
    path = county / "feeds" / "illness_diagnosis.csv"
    first = ImportBatch.objects.create(kind="feed", feed=spec.key, file_name="a", sha256="")
    stored = feed_events_store(load_table(path, spec), batch=first, chunk_rows=5)
    again = ImportBatch.objects.create(kind="feed", feed=spec.key, file_name="b", sha256="")
    repeat = feed_events_store(load_table(path, spec), batch=again, chunk_rows=5)
    assert stored.created == stored.rows > 0
    assert (repeat.created, repeat.unchanged) == (0, stored.rows)
    assert FeedEvent.objects.count() == stored.rows
