"""Household pages: masking, logged reveal, member edit with change history."""

import pytest

from guardline.accounts.models import Role
from guardline.core.models import ChangeLog, PersonalDataAccess
from tests.support import PASSWORD

pytestmark = pytest.mark.django_db


def test_detail_masks_and_reveal_is_logged(client, cadre_a, households):
    h = households["A"]
    client.login(username="cadre_a", password=PASSWORD)
    full = h.members.first().id_number
    page = client.get(f"/households/{h.pk}/").content.decode()
    assert full not in page and "13800001234" not in page
    assert client.post(f"/households/{h.pk}/reveal/", {"purpose": ""}).status_code == 302
    assert PersonalDataAccess.objects.count() == 0  # no purpose, no reveal
    client.post(f"/households/{h.pk}/reveal/", {"purpose": "入户核实"})
    access = PersonalDataAccess.objects.get()
    assert (access.user, access.household_id, access.purpose) == (cadre_a, h.pk, "入户核实")
    assert (access.channel, access.region_code) == ("page", h.village_code)
    page = client.get(f"/households/{h.pk}/").content.decode()
    assert full in page and "13800001234" in page


def test_grid_worker_cannot_reveal_or_edit(client, make_user, households):
    make_user("grid_a", Role.GRID_WORKER, households["A"].village_code)
    client.login(username="grid_a", password=PASSWORD)
    h = households["A"]
    assert client.get(f"/households/{h.pk}/").status_code == 200
    assert client.post(f"/households/{h.pk}/reveal/", {"purpose": "x"}).status_code == 403
    assert client.get(f"/households/members/{h.members.first().pk}/edit/").status_code == 403


def test_member_edit_is_logged_and_shown(client, cadre_a, households):
    h = households["A"]
    member = h.members.first()
    client.login(username="cadre_a", password=PASSWORD)
    response = client.post(
        f"/households/members/{member.pk}/edit/",
        {
            "name": member.name,
            "health": "disabled",
            "disability_grade": "2",
            "labour_capacity": "weak",
            "education": "",
            "student_status": "",
            "migrant_work": "",
            "work_months": "",
            "basic_medical_insured": "",
        },
    )
    assert response.status_code == 302
    member.refresh_from_db()
    assert (member.health, member.disability_grade) == ("disabled", 2)
    change = ChangeLog.objects.get(entity="member", entity_id=member.pk)
    assert change.actor == cadre_a
    assert change.before["health"] == "" and change.after["health"] == "disabled"
    assert change.request_id
    page = client.get(f"/households/{h.pk}/").content.decode()
    changes = page.split('id="changes"')[1]
    assert "健康状况" in changes and "残疾" in changes and "cadre_a" in changes
    bad = client.post(
        f"/households/members/{member.pk}/edit/", {"name": member.name, "disability_grade": "7"}
    )
    assert bad.status_code == 200 and "残疾等级应为 1–4" in bad.content.decode()


def test_list_filters_and_paging(client, make_user, households):
    from decimal import Decimal

    make_user("staff", Role.COUNTY_STAFF, "520526")
    client.login(username="staff", password=PASSWORD)
    a = households["A"]
    a.latest_per_capita_income, a.household_type = Decimal("7000"), "former_poor"
    a.save()
    body = client.get("/households/", {"income_band": "6000_8700"}).content.decode()
    assert a.household_no in body and households["B"].household_no not in body
    body = client.get("/households/", {"household_type": "former_poor"}).content.decode()
    assert a.household_no in body and households["B"].household_no not in body
    body = client.get("/households/", {"income_band": "none"}).content.decode()
    assert a.household_no not in body and households["B"].household_no in body
    assert client.get("/households/", {"page": "999"}).status_code == 200  # past the end: last page, no error


def test_paging_count_is_capped(make_user, households, client, monkeypatch):
    from guardline.core.paging import CappedPaginator
    from guardline.registry.models import Household

    monkeypatch.setattr(CappedPaginator, "cap", 2)
    paginator = CappedPaginator(Household.objects.order_by("pk"), 1)
    assert paginator.count == 3 and paginator.capped and paginator.num_pages == 2
    make_user("staff", Role.COUNTY_STAFF, "520526")
    client.login(username="staff", password=PASSWORD)
    body = client.get("/households/").content.decode()
    assert "2+" in body


def test_concurrent_member_edits_never_lose_an_update(client, cadre_a, make_user, households):
    import re

    from django.test import Client

    make_user("staff", Role.COUNTY_STAFF, "520526")
    member = households["A"].members.first()
    url = f"/households/members/{member.pk}/edit/"
    other = Client()
    client.login(username="cadre_a", password=PASSWORD)
    other.login(username="staff", password=PASSWORD)
    token = re.compile(r'name="version" value="([^"]+)"')
    v1 = token.search(client.get(url).content.decode()).group(1)
    v2 = token.search(other.get(url).content.decode()).group(1)
    assert v1 == v2
    base = {"name": member.name, "health": "", "labour_capacity": "", "education": "", "student_status": "",
            "migrant_work": "", "work_months": "", "basic_medical_insured": "", "disability_grade": ""}  # fmt: skip
    assert client.post(url, {**base, "version": v1, "work_months": "6"}).status_code == 302
    stale = other.post(url, {**base, "version": v2, "health": "disabled", "disability_grade": "2"})
    assert stale.status_code == 200
    text = stale.content.decode()
    assert "该成员信息已被他人更新" in text and "cadre_a" in text and "请刷新后重试" in text
    member.refresh_from_db()
    assert (member.work_months, member.health) == (6, "")  # only the first change
    assert ChangeLog.objects.filter(entity="member", entity_id=member.pk).count() == 1
    fresh = token.search(other.get(url).content.decode()).group(1)
    assert fresh != v1
    assert other.post(url, {**base, "version": fresh, "work_months": "6", "health": "disabled",
                            "disability_grade": "2"}).status_code == 302  # fmt: skip
    member.refresh_from_db()
    assert (member.work_months, member.health) == (6, "disabled")


def test_member_update_service_refuses_a_stale_version(cadre_a, households):
    from guardline.registry import services

    member = households["A"].members.first()
    v = services.member_version(member)
    services.member_update(actor=cadre_a, member=member, expected_version=v, work_months=3)
    with pytest.raises(services.StaleMemberError):
        services.member_update(actor=cadre_a, member=member, expected_version=v, work_months=9)
    member.refresh_from_db()
    assert member.work_months == 3
