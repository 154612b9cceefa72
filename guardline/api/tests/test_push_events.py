"""The live ingest API: token per department, same validation as files, per-item results, harmless replays."""

import json

import pytest

from guardline.api.services import department_token_create
from guardline.ingest.models import FeedEvent
from guardline.regions.models import Region

pytestmark = pytest.mark.django_db


@pytest.fixture
def token(villages):
    _, raw = department_token_create(
        actor=None,
        name="医保局结算系统",
        department="medical_insurance",
        region=Region.objects.get(code="520526"),
    )
    return raw


def post(client, feed, events, token=None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return client.post(
        f"/api/v1/feeds/{feed}/events",
        json.dumps({"events": events}),
        content_type="application/json",
        **headers,
    )


def test_push_validates_links_and_replays_harmlessly(client, token, households):
    member = households["A"].members.first()
    events = [
        {
            "证件号码": member.id_number.lower(),
            "姓名": member.name,
            "结算日期": "2024年3月5日",
            "个人自付": "1,200元",
            "医疗总费用": 5000,
        },
        {"id_number": "", "name": "王五", "birth_date": "1980-01-01", "settle_date": "2024-03-06"},
        {"name": "赵六", "settle_date": "不是日期"},
    ]
    response = post(client, "medical_settlement", events, token)
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["created", "created", "rejected"]
    assert results[0]["link_status"] == "linked" and results[0]["household_id"] == households["A"].pk
    assert results[1]["link_status"] == "unlinked"
    assert results[2]["errors"][0]["code"] == "bad_date"
    event = FeedEvent.objects.get(member=member)
    assert event.payload["out_of_pocket"] == "1200.00"
    again = post(client, "medical_settlement", events[:1], token).json()["results"]
    assert again[0]["status"] == "duplicate" and again[0]["event_key"] == results[0]["event_key"]
    assert FeedEvent.objects.count() == 2


def test_push_is_refused_without_token_or_for_another_department(client, token):
    assert post(client, "medical_settlement", [{"name": "x", "settle_date": "2024-01-01"}]).status_code == 401
    assert (
        post(client, "medical_settlement", [{"name": "x", "settle_date": "2024-01-01"}], "wrong").status_code
        == 401
    )
    assert (
        post(
            client, "accident", [{"name": "x", "accident_date": "2024-01-01", "injury": "重伤"}], token
        ).status_code
        == 403
    )
    assert post(client, "no_such_feed", [{"name": "x"}], token).status_code == 404
    assert FeedEvent.objects.count() == 0


def test_openapi_documents_the_push_endpoint(client):
    schema = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/feeds/{feed}/events" in schema["paths"]
