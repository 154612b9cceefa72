"""The clerical review queue: an uncertain link is shown with the evidence side by side; accepting attaches the
event to the candidate's household (it then shows on the household page), rejecting leaves it unlinked for good;
both are logged; only county officers of the candidate's region can see or decide."""

from datetime import date

import pytest
from django.utils import timezone

from guardline.accounts.models import Role
from guardline.core.models import ChangeLog
from guardline.ingest.models import FeedEvent
from tests.support import PASSWORD

pytestmark = pytest.mark.django_db


def _uncertain(household, n: int = 1) -> FeedEvent:
    member = household.members.get()
    return FeedEvent.objects.create(
        feed="illness_diagnosis",
        key_hash=f"k{household.pk}-{n}",
        source_row=n + 1,
        event_date=date(2026, 3, 1),
        name=member.name,
        birth_date=date(1980, 1, 2),  # one day off the registry's
        sex="male",
        village_code=household.village_code,
        payload={"disease": "脑梗死", "severity": "重大疾病"},
        link_status=FeedEvent.LinkStatus.REVIEW,
        link_score=0.93,
        candidate=member,
        link_examined_at=timezone.now(),
    )


@pytest.fixture
def staff(make_user, villages):
    return make_user("county_staff", Role.COUNTY_STAFF, "520526")


def test_queue_shows_evidence_side_by_side(client, staff, households):
    _uncertain(households["A"])
    client.login(username="county_staff", password=PASSWORD)
    page = client.get("/imports/review/").content.decode()
    assert "张三" in page and "1980-01-02" in page and "0.9300" in page and "疾病诊断" in page
    assert "确认是同一人" in page and "不是同一人" in page
    assert households["A"].members.get().id_number not in page  # the candidate's ID number stays masked


def test_accept_attaches_the_event_and_logs_it(client, staff, households):
    event = _uncertain(households["A"])
    client.login(username="county_staff", password=PASSWORD)
    assert "脑梗死" not in client.get(f"/households/{households['A'].pk}/").content.decode()
    response = client.post(f"/imports/review/{event.pk}/", {"decision": "accept"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "已确认" in response.content.decode()
    event.refresh_from_db()
    assert (event.link_status, event.link_method, event.household_id) == (
        "linked",
        "clerical",
        households["A"].pk,
    )
    assert event.reviewed_by == staff and event.reviewed_at is not None and event.candidate is None
    assert (
        "脑梗死" in client.get(f"/households/{households['A'].pk}/").content.decode().split('id="events"')[1]
    )
    log = ChangeLog.objects.get(entity="feed_event", entity_id=event.pk)
    assert (
        log.actor == staff and log.before["link_status"] == "review" and log.after["link_status"] == "linked"
    )
    assert log.household_id == households["A"].pk
    # Decided once: the item left the queue and cannot be decided again.
    assert client.post(f"/imports/review/{event.pk}/", {"decision": "reject"}).status_code == 404


def test_reject_leaves_it_unlinked_and_out_of_later_runs(client, staff, households):
    from guardline.ingest.link_services import feed_events_link_probabilistic

    event = _uncertain(households["A"])
    client.login(username="county_staff", password=PASSWORD)
    assert client.post(f"/imports/review/{event.pk}/", {"decision": "reject"}).status_code == 302
    event.refresh_from_db()
    assert (event.link_status, event.household_id, event.candidate_id) == ("unlinked", None, None)
    assert ChangeLog.objects.get(entity="feed_event", entity_id=event.pk).after["link_status"] == "unlinked"
    assert feed_events_link_probabilistic(relink=True).examined == 0  # a clerk's "no" is never overridden
    assert "没有待核对的记录" in client.get("/imports/review/").content.decode()


def test_bad_decision_is_refused_without_change(client, staff, households):
    event = _uncertain(households["A"])
    client.login(username="county_staff", password=PASSWORD)
    assert client.post(f"/imports/review/{event.pk}/", {"decision": "maybe"}).status_code == 400
    assert client.get(f"/imports/review/{event.pk}/").status_code == 400
    event.refresh_from_db()
    assert event.link_status == "review"


@pytest.mark.parametrize(
    ("role", "region", "list_status", "decide_status"),
    [
        (Role.VILLAGE_CADRE, "A", 403, 403),  # not a county officer
        (Role.DEPARTMENT_OFFICER, "county", 403, 403),
        (Role.AUDITOR, "county", 403, 403),
        (Role.COUNTY_STAFF, "B", 200, 404),  # a county officer, but the candidate lives outside their regions
    ],
)
def test_only_county_officers_of_the_region_decide(
    client, make_user, villages, households, role, region, list_status, decide_status
):
    event = _uncertain(households["A"])
    code = "520526" if region == "county" else villages[region].code
    make_user("someone", role, code, **({"department": "health"} if role == Role.DEPARTMENT_OFFICER else {}))
    client.login(username="someone", password=PASSWORD)
    page = client.get("/imports/review/")
    assert page.status_code == list_status
    if list_status == 200:
        assert "张三" not in page.content.decode()
    assert client.post(f"/imports/review/{event.pk}/", {"decision": "accept"}).status_code == decide_status
    event.refresh_from_db()
    assert event.link_status == "review"
