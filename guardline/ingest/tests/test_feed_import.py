"""Department feeds: all twelve parse, rows with a valid ID link exactly and correctly, re-sending changes nothing,
village-level rows attach to their village, and linked events show on the household page."""

import csv

import pytest
from django.conf import settings

from engine.ingest.feeds import FEED_KEYS
from guardline.accounts.models import Role
from guardline.ingest.models import FeedEvent, ImportBatch
from guardline.ingest.services import import_file
from simulate import simulate_county
from tests.support import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def county(tmp_path):
    out = tmp_path / "county"
    simulate_county(
        households=150,
        seed=11,
        out_dir=out,
        divisions_dir=settings.GUARDLINE["DIVISIONS_DIR"],
        outsiders=True,
    )
    assert import_file("registry", out / "registry.csv").rows_rejected == 0
    return out


def test_all_feeds_import_and_link_correctly(county):
    truth = {}
    with open(county / "truth" / "person_links.csv", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            truth[(row["feed_key"], int(row["file_row"]))] = (row["household_no"], row["in_registry"] == "1")
    for key in FEED_KEYS:
        batch = import_file(key, county / "feeds" / f"{key}.csv")
        assert batch.status == ImportBatch.Status.DONE, (key, batch.message)
        assert batch.rows_rejected == 0, (key, batch.errors_sample[:3])
        assert batch.created == batch.rows_read
        events = FeedEvent.objects.filter(batch=batch)
        assert (batch.linked, batch.review, batch.unlinked) == (
            events.filter(link_status="linked").count(),
            events.filter(link_status="review").count(),
            events.filter(link_status="unlinked").count(),
        )
    linked = FeedEvent.objects.filter(link_status="linked").select_related("household")
    assert {e.link_method for e in linked} == {"id_exact", "probabilistic"}
    for event in linked:  # every link, exact or probabilistic, is the right household
        assert event.household.household_no == truth[(event.feed, event.source_row)][0]
    with_valid_id = FeedEvent.objects.exclude(id_number_hash="")
    for event in with_valid_id:  # 100 % correct for rows with a valid ID: linked iff the person is registered
        in_registry = truth[(event.feed, event.source_row)][1]
        assert (event.link_status == "linked") == in_registry, event.link_note
        if not in_registry:
            assert event.link_note == "身份证号在台账中不存在"
    unlinked = FeedEvent.objects.filter(link_status="unlinked")
    assert unlinked.exists() and all(e.link_note for e in unlinked)
    damaged = FeedEvent.objects.filter(id_status="excel_damaged")
    assert all(len(e.id_prefix15) == 15 for e in damaged)
    assert set(FeedEvent.objects.filter(feed="water_incident").values_list("link_status", flat=True)) <= {
        "village"
    }


def test_resending_a_feed_changes_nothing(county, tmp_path):
    path = county / "feeds" / "medical_settlement.csv"
    first = import_file("medical_settlement", path)
    count = FeedEvent.objects.count()
    assert import_file("medical_settlement", path).status == ImportBatch.Status.DUPLICATE
    # The same records in another file (e.g. a cumulative monthly list) are recognised by their natural key.
    rows = path.read_text(encoding="utf-8").splitlines()
    (tmp_path / "again.csv").write_text("\n".join([rows[0], *reversed(rows[1:])]) + "\n", encoding="utf-8")
    again = import_file("medical_settlement", tmp_path / "again.csv")
    assert again.created == 0 and again.unchanged == first.created
    assert FeedEvent.objects.count() == count
    event = FeedEvent.objects.first()
    assert event.batch_id == first.pk and event.source_row >= 2  # lineage back to the file and row


def test_household_page_shows_its_events_in_time_order(county, client, make_user):
    import_file("illness_diagnosis", county / "feeds" / "illness_diagnosis.csv")
    event = FeedEvent.objects.filter(link_status="linked").order_by("event_date").first()
    make_user("staff", Role.COUNTY_STAFF, "520526")
    client.login(username="staff", password=PASSWORD)
    page = client.get(f"/households/{event.household_id}/").content.decode()
    timeline = page.split('id="events"')[1]
    assert event.payload["disease"] in timeline and "疾病诊断" in timeline


def test_department_officer_uploads_only_own_feeds_and_gets_feedback(county, client, make_user):
    from io import BytesIO

    from openpyxl import load_workbook

    make_user("medical", Role.DEPARTMENT_OFFICER, "520526", department="medical_insurance")
    client.login(username="medical", password=PASSWORD)
    page = client.get("/imports/").content.decode()
    assert (
        'value="medical_settlement"' in page
        and 'value="accident"' not in page
        and 'value="registry"' not in page
    )
    before = ImportBatch.objects.count()  # the fixture's registry import
    with open(county / "feeds" / "accident.csv", "rb") as fh:
        refused = client.post("/imports/", {"kind": "accident", "file": fh})
    assert refused.status_code == 200 and ImportBatch.objects.count() == before  # not an allowed choice
    with open(county / "feeds" / "medical_settlement.csv", "rb") as fh:
        response = client.post("/imports/", {"kind": "medical_settlement", "file": fh})
    assert response.status_code == 302
    batch = ImportBatch.objects.get(feed="medical_settlement")
    assert batch.feed == "medical_settlement" and batch.linked > 0 and batch.unlinked > 0
    assert client.get("/households/").status_code == 403  # a department officer does not browse the registry
    feedback = client.get(f"/imports/batches/{batch.pk}/feedback.xlsx")
    assert feedback.status_code == 200
    book = load_workbook(BytesIO(feedback.content))
    unlinked = list(book["未能关联"].iter_rows(min_row=2, values_only=True))
    assert len(unlinked) == batch.unlinked and all(row[6] for row in unlinked)
    from guardline.core.models import PersonalDataAccess

    access = PersonalDataAccess.objects.get(channel=PersonalDataAccess.Channel.DOWNLOAD)
    assert access.user.username == "medical" and f"导入批次 {batch.pk}" in access.subject
    assert access.region_code == "520526" and access.purpose


def test_rows_without_id_link_probabilistically_and_incrementally(tmp_path):
    from django.core.management import call_command

    from guardline.ingest.link_services import feed_events_link_probabilistic

    out = tmp_path / "county400"
    simulate_county(households=400, seed=12, out_dir=out, divisions_dir=settings.GUARDLINE["DIVISIONS_DIR"])
    import_file("registry", out / "registry.csv")
    batch = import_file("medical_settlement", out / "feeds" / "medical_settlement.csv")
    with open(out / "truth" / "person_links.csv", encoding="utf-8") as fh:
        truth = {
            int(r["file_row"]): r["household_no"]
            for r in csv.DictReader(fh)
            if r["feed_key"] == "medical_settlement"
        }
    idless = FeedEvent.objects.filter(id_number_hash="")
    auto = idless.filter(link_method="probabilistic").select_related("household")
    assert idless.count() > 50 and auto.count() >= 0.9 * idless.count()
    assert all(e.household.household_no == truth[e.source_row] for e in auto)  # precision of automatic links
    assert all(e.link_examined_at is not None for e in idless)
    for event in FeedEvent.objects.filter(link_status="review").select_related("candidate__household"):
        assert event.candidate is not None and event.link_score is not None
    assert batch.linked == FeedEvent.objects.filter(link_status="linked").count()
    assert "待人工核对" in batch.message
    # New batches link incrementally: what was examined is not examined again.
    assert feed_events_link_probabilistic().examined == 0
    call_command("link_events", "--relink")  # an explicit re-run still leaves the links as they were
    assert FeedEvent.objects.filter(link_method="probabilistic").count() == auto.count()
