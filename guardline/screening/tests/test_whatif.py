"""Policy what-if: the counts it predicts equal what a real re-screen with the adopted parameter gives."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from guardline.accounts.models import Role
from guardline.accounts.services import user_create
from guardline.screening.models import HouseholdGrade
from guardline.screening.services import screening_parameter_set, screening_run
from guardline.screening.whatif import policy_whatif
from tests.support import PASSWORD

COUNTY = "520526"


@pytest.fixture
def county_admin(screened_county):
    return user_create(
        actor=None, username="wi_admin", password=PASSWORD, role=Role.COUNTY_ADMIN, regions=[COUNTY]
    )


def _flagged() -> set[int]:
    return set(
        HouseholdGrade.objects.filter(grade__in=("red", "yellow")).values_list("household_id", flat=True)
    )


@pytest.mark.parametrize(("name", "value"), [("grade_yellow", 15), ("monitoring_line", 12000)])
def test_whatif_equals_a_real_rescreen_with_the_changed_parameter(county_admin, name, value):
    screening_run()
    before = _flagged()
    result = policy_whatif(user=county_admin, region=COUNTY, changes={name: value})
    assert result.flagged_now == len(before)
    assert result.entering or result.leaving, "the change should move some households"

    screening_parameter_set(actor=county_admin, name=name, region_code=COUNTY, value=value)
    if (
        name == "monitoring_line"
    ):  # the line in force per village comes from the regions app, most specific wins
        from guardline.regions.models import MonitoringLine

        assert not MonitoringLine.objects.exists(), "this fixture has no stored lines; the parameter applies"
    screening_run()
    after = _flagged()
    assert result.flagged_then == len(after)
    assert set(result.entering) == after - before
    assert set(result.leaving) == before - after
    assert sum(v["entering"] for v in result.by_village) == len(result.entering)
    assert sum(v["leaving"] for v in result.by_village) == len(result.leaving)
    assert all(r["name"] for r in result.by_risk)


def test_whatif_is_scoped_and_validated(county_admin, make_user, villages):
    from django.core.exceptions import ValidationError

    with pytest.raises(PermissionDenied):
        policy_whatif(user=county_admin, region="520525", changes={"grade_yellow": 20})
    with pytest.raises(ValidationError):
        policy_whatif(user=county_admin, region=COUNTY, changes={"grade_yellow": 1000})
    with pytest.raises(ValidationError):
        policy_whatif(user=county_admin, region=COUNTY, changes={"no_such_parameter": 1})
    cadre = make_user("wi_cadre", Role.VILLAGE_CADRE, villages["A"].code)
    with pytest.raises(PermissionDenied):
        policy_whatif(user=cadre, region=villages["A"].code, changes={"grade_yellow": 20})


def test_whatif_page(client, county_admin):
    client.force_login(county_admin)
    assert client.get("/warnings/whatif/").status_code == 200
    page = client.post("/warnings/whatif/", {"region": COUNTY, "grade_yellow": "15"})
    body = page.content.decode()
    assert page.status_code == 200 and 'id="whatif-result"' in body, body[:2000]
    bad = client.post("/warnings/whatif/", {"region": COUNTY, "grade_yellow": "abc"})
    assert "不是数字" in bad.content.decode()
