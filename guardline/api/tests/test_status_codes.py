"""One test per status code of the live ingest endpoint and the registry endpoints. Every error is JSON
`{"detail": "<readable message>"}` (422 adds the schema errors field by field), and nothing is stored by a request
that fails as a whole."""

import json

import pytest

from guardline.accounts.models import Role
from guardline.api.models import DepartmentToken
from guardline.api.services import department_token_create, department_token_revoke
from guardline.ingest.models import FeedEvent, ImportBatch
from guardline.regions.models import Region
from tests.support import PASSWORD

pytestmark = pytest.mark.django_db

PUSH = "/api/v1/feeds/{feed}/events"


@pytest.fixture
def token(villages):
    _, raw = department_token_create(
        actor=None,
        name="医保局结算系统",
        department="medical_insurance",
        region=Region.objects.get(code="520526"),
    )
    return raw


def push(client, feed, body, token=None, *, raw=False):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    data = body if raw else json.dumps(body)
    return client.post(PUSH.format(feed=feed), data, content_type="application/json", **headers)


def settlement(member, **extra):
    return {
        "证件号码": member.id_number,
        "姓名": member.name,
        "结算日期": "2024-03-05",
        "医疗总费用": "800",
        **extra,
    }


def assert_error(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert isinstance(body["detail"], str) and body["detail"].strip(), body
    return body


def nothing_stored():
    return FeedEvent.objects.count() == 0 and ImportBatch.objects.count() == 0


# --- 200 -------------------------------------------------------------------------------------------------------


def test_200_per_item_results_an_invalid_item_does_not_fail_the_request(client, token, households):
    member = households["A"].members.first()
    response = push(
        client,
        "medical_settlement",
        {"events": [settlement(member), {"姓名": "赵六", "结算日期": "不是日期"}]},
        token,
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["feed"] == "medical_settlement" and body["received"] == 2
    ok, bad = body["results"]
    assert (ok["index"], ok["status"], ok["link_status"]) == (0, "created", "linked")
    assert ok["household_id"] == households["A"].pk and ok["event_key"]
    assert (bad["index"], bad["status"]) == (1, "rejected")
    assert [e["code"] for e in bad["errors"]] == ["bad_date"] and bad["errors"][0]["field"] == "settle_date"
    assert FeedEvent.objects.get().member == member
    assert DepartmentToken.objects.get().last_used_at is not None


def test_200_replay_is_duplicate_and_creates_nothing(client, token, households):
    event = settlement(households["A"].members.first())
    first = push(client, "medical_settlement", {"events": [event]}, token).json()["results"][0]
    before = FeedEvent.objects.count()
    response = push(client, "medical_settlement", {"events": [event]}, token)
    assert response.status_code == 200
    again = response.json()["results"][0]
    assert again["status"] == "duplicate" and again["event_key"] == first["event_key"]
    assert FeedEvent.objects.count() == before == 1


def test_200_control_characters_in_values_are_dropped_not_stored(client, token, households):
    member = households["A"].members.first()
    event = settlement(member, 姓名=member.name[:1] + "\u0000" + member.name[1:], 医疗总费用="8\u000700")
    response = push(
        client, "medical_settlement", {"events": [event, {"姓名": "\u0000", "结算日期": "\u0000x"}]}, token
    )
    assert response.status_code == 200, response.content
    ok, bad = response.json()["results"]
    assert (ok["status"], ok["link_status"], bad["status"]) == ("created", "linked", "rejected")
    stored = FeedEvent.objects.get()
    assert stored.member == member and "\u0000" not in json.dumps(stored.payload)


# --- 401 -------------------------------------------------------------------------------------------------------


def test_401_without_token(client, households):
    event = settlement(households["A"].members.first())
    body = assert_error(push(client, "medical_settlement", {"events": [event]}), 401)
    assert "Bearer" in body["detail"]
    assert nothing_stored()


def test_401_wrong_token(client, token, households):
    event = settlement(households["A"].members.first())
    assert_error(push(client, "medical_settlement", {"events": [event]}, token + "x"), 401)
    assert_error(push(client, "medical_settlement", {"events": [event]}, "gl_not-a-token"), 401)
    assert nothing_stored()


def test_401_revoked_token(client, token, households):
    event = settlement(households["A"].members.first())
    department_token_revoke(actor=None, token=DepartmentToken.objects.get())
    body = assert_error(push(client, "medical_settlement", {"events": [event]}, token), 401)
    assert "revoked" in body["detail"]
    assert nothing_stored()


def test_401_registry_without_login(client, households):
    assert_error(client.get("/api/v1/households"), 401)
    assert_error(client.get(f"/api/v1/households/{households['A'].pk}"), 401)


# --- 403 -------------------------------------------------------------------------------------------------------


def test_403_token_pushing_another_departments_feed(client, token, households):
    accident = {
        "证件号码": households["A"].members.first().id_number,
        "事故日期": "2024-01-01",
        "伤情": "重伤",
    }
    body = assert_error(push(client, "accident", {"events": [accident]}, token), 403)
    assert "accident" in body["detail"]
    assert nothing_stored()


def test_403_registry_for_a_user_without_view_registry(client, make_user, households):
    make_user("dept", Role.DEPARTMENT_OFFICER, "520526")
    assert client.login(username="dept", password=PASSWORD)
    assert_error(client.get("/api/v1/households"), 403)
    assert_error(client.get(f"/api/v1/households/{households['A'].pk}"), 403)


# --- 404 -------------------------------------------------------------------------------------------------------


def test_404_unknown_feed(client, token, households):
    body = assert_error(push(client, "no_such_feed", {"events": [{"name": "x"}]}, token), 404)
    assert "no_such_feed" in body["detail"]
    assert nothing_stored()


def test_404_household_outside_the_callers_regions(client, cadre_a, households):
    assert client.login(username="cadre_a", password=PASSWORD)
    assert client.get(f"/api/v1/households/{households['A'].pk}").status_code == 200
    body = assert_error(client.get(f"/api/v1/households/{households['B'].pk}"), 404)
    assert households["B"].household_no not in body["detail"]
    assert_error(client.get("/api/v1/households/999999999"), 404)


# --- 422 -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "body", "raw", "says"),
    [
        ("missing events", {"rows": []}, False, "events"),
        ("empty body", "", True, "empty body"),
        ("empty list", {"events": []}, False, "at least 1"),
        ("more than 5000", {"events": [{"name": "x", "settle_date": "2024-01-01"}] * 5001}, False, "5000"),
        ("events not objects", {"events": ["x"]}, False, "events.0: Input should be a valid dictionary"),
        ("not JSON", "name=x&settle_date=2024-01-01", True, "JSON"),
        ("truncated JSON", '{"events": [{"name": "x"', True, "JSON"),
    ],
)
def test_422_body_not_matching_the_schema(client, token, case, body, raw, says):
    detail = assert_error(push(client, "medical_settlement", body, token, raw=raw), 422)["detail"]
    assert says in detail, (case, detail)
    assert nothing_stored()


def test_422_registry_bad_parameter(client, cadre_a):
    assert client.login(username="cadre_a", password=PASSWORD)
    assert_error(client.get("/api/v1/households", {"limit": "many"}), 422)


@pytest.mark.parametrize(
    "params",
    [{"offset": "99999999999999999999"}, {"offset": str(2**63)}, {"limit": str(2**63)}, {"limit": "1001"}],
)
def test_422_registry_out_of_range_paging(client, cadre_a, params):
    """Found by schemathesis: a 20-digit offset reached the database and answered 500."""
    assert client.login(username="cadre_a", password=PASSWORD)
    assert_error(client.get("/api/v1/households", params), 422)


# --- OpenAPI ---------------------------------------------------------------------------------------------------


def test_openapi_lists_the_endpoints_with_their_status_codes(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    push_op = paths["/api/v1/feeds/{feed}/events"]["post"]
    assert set(push_op["responses"]) == {"200", "401", "403", "404", "422"}
    assert push_op["security"] == [{"DepartmentTokenAuth": []}]
    body_schema = push_op["requestBody"]["content"]["application/json"]["schema"]["$ref"].split("/")[-1]
    events = response.json()["components"]["schemas"][body_schema]["properties"]["events"]
    assert (events["minItems"], events["maxItems"]) == (1, 5000)
    assert set(paths["/api/v1/households"]["get"]["responses"]) == {"200", "401", "403", "422"}
    detail = paths["/api/v1/households/{household_id}"]["get"]["responses"]
    assert set(detail) == {"200", "401", "403", "404", "422"}
