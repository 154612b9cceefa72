"""The region-isolation matrix: a village cadre of village A cannot see or change anything of village B (nor of
another village of the same township) through any page, API endpoint or service."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import URLPattern, URLResolver, get_resolver

from guardline.accounts.models import Role
from guardline.regions.services import grid_create
from guardline.registry.services import household_update, member_update
from tests.support import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_a(client, cadre_a):
    assert client.login(username="cadre_a", password=PASSWORD)
    return client


def _int_param_routes():
    """Every URL route of the platform that takes an object id."""
    found = []

    def walk(patterns, prefix=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern) and "<int:" in str(p.pattern):
                found.append(prefix + str(p.pattern))

    walk(get_resolver().url_patterns)
    return found


def test_household_pages_show_only_own_village(client_a, households):
    body = client_a.get("/households/").content.decode()
    assert households["A"].household_no in body
    assert households["B"].household_no not in body
    assert households["A2"].household_no not in body  # same township, other village
    for key in ("B", "A2"):
        h = households[key]
        assert client_a.get(f"/households/{h.pk}/").status_code == 404
        assert client_a.post(f"/households/{h.pk}/reveal/", {"purpose": "核实"}).status_code == 404
        link = f"/households/{h.pk}/"
        assert link not in client_a.get("/households/", {"q": h.household_no}).content.decode()
        assert link not in client_a.get("/households/", {"q": h.members.first().id_number}).content.decode()
    township_b = households["B"].village_code[:9]
    assert (
        households["B"].household_no
        not in client_a.get("/households/", {"region": township_b}).content.decode()
    )


def test_api_shows_only_own_village(client_a, households):
    listing = client_a.get("/api/v1/households").json()
    assert [item["household_no"] for item in listing["items"]] == [households["A"].household_no]
    assert client_a.get(f"/api/v1/households/{households['A'].pk}").status_code == 200
    assert client_a.get(f"/api/v1/households/{households['B'].pk}").status_code == 404
    assert client_a.get(f"/api/v1/households/{households['A2'].pk}").status_code == 404


def test_every_id_route_refuses_other_village(client_a, households):
    """Walk every route with an id parameter, using village B's object ids: never a 200."""
    b = households["B"]
    ids = {b.pk, b.members.first().pk}
    routes = _int_param_routes()
    assert routes, "no id routes found"
    import re

    for route in routes:
        for obj_id in ids:
            url = "/" + re.sub(r"<int:\w+>", str(obj_id), route).lstrip("^").rstrip("$")
            url = url.replace("\\Z", "")
            for method in ("get", "post"):
                response = getattr(client_a, method)(url)
                refused = response.status_code in (403, 404, 405) or (
                    response.status_code == 302
                    and response.url.startswith("/admin/login/")  # admin: staff only
                )
                assert refused, (method, url, response.status_code)


def test_services_refuse_other_village(cadre_a, households, villages):
    b = households["B"]
    with pytest.raises(PermissionDenied):
        member_update(actor=cadre_a, member=b.members.first(), health="chronic")
    with pytest.raises(PermissionDenied):
        household_update(actor=cadre_a, household=b, relocation_site=True)
    with pytest.raises(PermissionDenied):
        grid_create(actor=cadre_a, village=villages["B"], name="网格一")
    b.refresh_from_db()
    assert b.relocation_site is False
    assert b.members.first().health == ""
    # ...while their own village works, and is logged.
    member_update(actor=cadre_a, member=households["A"].members.first(), health="chronic")
    assert grid_create(actor=cadre_a, village=villages["A"], name="网格一").pk


def test_roles_without_registry_access(make_user, client, households):
    make_user("dept", Role.DEPARTMENT_OFFICER, households["A"].village_code[:6])
    client.login(username="dept", password=PASSWORD)
    assert client.get("/households/").status_code == 403
    assert client.get(f"/households/{households['A'].pk}/").status_code == 403
    assert client.get("/api/v1/households").status_code == 403


def test_anonymous_is_sent_to_login(client, households):
    response = client.get("/households/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert client.get("/api/v1/households").status_code == 401


def test_county_staff_sees_whole_county(make_user, client, households):
    make_user("staff", Role.COUNTY_STAFF, "520526")
    client.login(username="staff", password=PASSWORD)
    body = client.get("/households/").content.decode()
    assert all(h.household_no in body for h in households.values())


def test_user_without_scope_sees_nothing(client, households):
    from guardline.accounts.models import User

    User.objects.create_user("noscope", password=PASSWORD, role=Role.COUNTY_STAFF)
    client.login(username="noscope", password=PASSWORD)
    body = client.get("/households/").content.decode()
    assert not any(h.household_no in body for h in households.values())
