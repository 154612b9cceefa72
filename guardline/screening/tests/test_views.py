"""The warnings inbox and the catalogue: scoped to the user's regions, ordered red-first and oldest-first, with the
response clock; parameters and rules editable only by those allowed, with validation; the live path from the API."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from guardline.accounts.models import Role
from guardline.screening.models import RiskWarning, ScreeningParameter, ScreeningRule
from tests.support import PASSWORD

pytestmark = pytest.mark.django_db


def _warning(household, grade="red", hours_ago=0, score=70.0):
    at = timezone.now() - dt.timedelta(hours=hours_ago)
    return RiskWarning.objects.create(
        household=household, village_code=household.village_code, grade=grade, score=score, risk_types="01",
        reasons=[f"测试原因 {household.household_no}"], sources=["medical_settlement"], first_signal_date=at.date(),
        opened_at=at, updated_at=at, graded_at=at,
    )  # fmt: skip


def test_inbox_is_scoped_ordered_and_shows_the_clock(client, households, make_user, villages):
    old_yellow = _warning(households["A"], "yellow", hours_ago=300, score=40)
    _warning(households["A2"], "red", hours_ago=3)
    _warning(households["B"], "red", hours_ago=1)
    township = villages["A"].code[:9]
    make_user("township", Role.TOWNSHIP_REVIEWER, township)
    client.login(username="township", password=PASSWORD)
    page = client.get(reverse("screening:inbox")).content.decode()
    assert "测试原因 " + households["B"].household_no not in page  # other township
    red_pos = page.index("测试原因 " + households["A2"].household_no)
    yellow_pos = page.index("测试原因 " + households["A"].household_no)
    assert red_pos < yellow_pos  # red first
    assert (
        page.count("已超时") >= 2
    )  # red 3 h old: on site (2 h) overdue; yellow 300 h: on site (7 d) overdue
    assert old_yellow.on_site_due < timezone.now()
    filtered = client.get(reverse("screening:inbox"), {"grade": "yellow"}).content.decode()
    assert "测试原因 " + households["A2"].household_no not in filtered


def test_a_cadre_sees_only_the_village(client, households, cadre_a):
    _warning(households["A"])
    _warning(households["A2"])
    client.login(username="cadre_a", password=PASSWORD)
    page = client.get(reverse("screening:inbox")).content.decode()
    assert "测试原因 " + households["A"].household_no in page
    assert "测试原因 " + households["A2"].household_no not in page


def test_department_officers_cannot_see_warnings(client, make_user, villages):
    make_user("dept", Role.DEPARTMENT_OFFICER, villages["A"].code[:6], department="medical_insurance")
    client.login(username="dept", password=PASSWORD)
    assert client.get(reverse("screening:inbox")).status_code == 403
    assert client.get(reverse("screening:catalogue")).status_code == 403


def test_catalogue_lists_every_indicator_and_rule(client, cadre_a):
    from engine.screening import DEFAULT_RULES, INDICATORS

    client.login(username="cadre_a", password=PASSWORD)
    page = client.get(reverse("screening:catalogue")).content.decode()
    assert len(INDICATORS) >= 28
    for i in INDICATORS:
        assert i.title_zh in page
    for r in DEFAULT_RULES:
        assert r.code in page
    assert "新增或修改规则" not in page  # a cadre edits nothing


def test_parameters_only_in_own_region_and_validated(client, make_user, villages):
    county = villages["A"].code[:6]
    make_user("admin", Role.COUNTY_ADMIN, county)
    client.login(username="admin", password=PASSWORD)
    url = reverse("screening:parameter_set")
    client.post(url, {"name": "monitoring_line", "region_code": county, "value": "9100"})
    assert ScreeningParameter.objects.get(region_code=county).value == 9100
    assert (
        client.post(url, {"name": "monitoring_line", "region_code": "53", "value": "9100"}).status_code == 403
    )
    page = client.post(url, {"name": "monitoring_line", "region_code": county, "value": "-1"}, follow=True)
    assert "超出范围" in page.content.decode()
    assert ScreeningParameter.objects.get(region_code=county).value == 9100
    # a county admin may not change the province's rules
    assert client.post(reverse("screening:rule_save"), {"code": "x"}).status_code == 403


def test_province_officer_edits_rules_with_validation(client, make_user):
    make_user("prov", Role.PROVINCE_OFFICER, "52")
    client.login(username="prov", password=PASSWORD)
    url = reverse("screening:rule_save")
    bad = client.post(url, {"code": "r1", "title": "坏", "risk_type": "01", "severity": "hard",
                            "condition": "1; DROP TABLE x", "reason": "x", "is_active": "on"}, follow=True)  # fmt: skip
    assert "规则未保存" in bad.content.decode() and not ScreeningRule.objects.exists()
    good = client.post(url, {"code": "r1", "title": "好", "risk_type": "07", "severity": "hard",
                             "condition": "job_losses_12m >= 2", "reason": "两人失业", "is_active": "on"}, follow=True)  # fmt: skip
    assert "已保存" in good.content.decode()
    assert ScreeningRule.objects.get(code="r1").version == 1
    assert "r1" in client.get(reverse("screening:catalogue")).content.decode()


def test_an_api_event_rescreens_its_household_at_once(client, households):
    """The live path: a large medical bill pushed by the insurance system opens a red warning for that household
    (in tests the background task runs immediately; in production the task worker picks it up)."""
    import json

    from guardline.api.services import department_token_create
    from guardline.regions.models import Region

    _, raw = department_token_create(
        actor=None, name="医保", department="medical_insurance", region=Region.objects.get(code="520526")
    )
    member = households["A"].members.first()
    today = timezone.localdate().isoformat()
    event = {"证件号码": member.id_number, "姓名": member.name, "结算日期": today, "个人自付": "35000"}
    response = client.post(
        "/api/v1/feeds/medical_settlement/events",
        json.dumps({"events": [event]}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    )
    assert response.status_code == 200, response.content
    warning = RiskWarning.objects.get(household=households["A"], status="open")
    assert warning.grade == "red" and "medical_settlement" in warning.sources
    assert any("35,000" in r for r in warning.reasons)
    assert not RiskWarning.objects.filter(household=households["B"]).exists()
