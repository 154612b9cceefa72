"""Dashboard pages: the numbers shown are the aggregate rows (equal to direct queries), drill-down links, region
scope, the composite ranking with its breakdown, and the province's weights."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import PermissionDenied

from guardline.accounts.models import Role
from guardline.dashboards.models import EvaluationWeight, RegionMetric
from guardline.dashboards.services import aggregates_refresh, evaluation_weights_set, period_of
from guardline.regions.models import Region
from guardline.registry.models import Household
from guardline.screening.models import HouseholdGrade
from tests.support import PASSWORD

pytestmark = pytest.mark.django_db


def _login(client, user):
    assert client.login(username=user.username, password=PASSWORD)


def test_county_dashboard_shows_the_aggregates_with_drill_down(client, story, people, villages):
    aggregates_refresh(now=story)
    county = villages["A"].code[:6]
    _login(client, people["county"])
    home = client.get("/dashboards/")
    assert home.status_code == 302 and home.url == f"/dashboards/{county}/"
    page = client.get(f"/dashboards/{county}/")
    assert page.status_code == 200
    body = page.content.decode()
    shown = dict(re.findall(r'data-metric="(\w+)">([\d,]+)<', body))
    active = Household.objects.filter(is_active=True, village_code__startswith=county)
    assert int(shown["hh_total"]) == active.count()
    assert int(shown["hh_monitored"]) == active.exclude(monitor_category="").count()
    assert (
        int(shown["hh_grade_red"]) == HouseholdGrade.objects.filter(household__in=active, grade="red").count()
    )
    # Drill-down: every township of the county, linked to its own dashboard.
    for township in Region.objects.filter(parent_id=county)[:3]:
        assert f'href="/dashboards/{township.code}/?period=' in body
    # Charts from a JSON data island and a static script: no inline script (CSP).
    assert 'id="dashboard-data" type="application/json"' in body
    assert "vendor/echarts/echarts.min.js" in body and "dashboards/dashboards.js" in body
    for tag in re.findall(r"<script[^>]*>", body):
        assert "src=" in tag or 'type="application/json"' in tag, tag
    assert " style=" not in body
    # A village dashboard reads the same table.
    village = client.get(f"/dashboards/{villages['A'].code}/")
    assert (
        village.status_code == 200
        and village.context["metrics"]["hh_total"] == active.filter(village_code=villages["A"].code).count()
    )


def test_users_see_only_their_regions(client, story, people, villages, make_user):
    aggregates_refresh(now=story)
    county = villages["A"].code[:6]
    _login(client, people["village"])  # village cadre of A
    assert client.get("/dashboards/").url == f"/dashboards/{villages['A'].code}/"
    assert client.get(f"/dashboards/{county}/").status_code == 403
    assert client.get(f"/dashboards/{villages['B'].code}/").status_code == 403
    assert client.get(f"/dashboards/{villages['A'].code}/").status_code == 200
    _login(client, people["township_b"])
    assert client.get(f"/dashboards/{villages['A'].code[:9]}/").status_code == 403
    assert client.get(f"/dashboards/{county}/evaluation/").status_code == 403
    department = make_user("dept", Role.DEPARTMENT_OFFICER, county)
    _login(client, department)
    assert client.get(f"/dashboards/{county}/").status_code == 403


def test_province_ranks_counties_with_its_weights(client, story, people, villages, make_user):
    aggregates_refresh(now=story)
    province = Region.objects.get(code=villages["A"].code[:2])
    officer = make_user("prov", Role.PROVINCE_OFFICER, province.code)
    with pytest.raises(PermissionDenied):
        evaluation_weights_set(actor=people["county"], province=province, weights={"measure_coverage": 5})
    _login(client, officer)
    response = client.post(
        f"/dashboards/weights/{province.code}/", {"w_measure_coverage": "5", "w_return_rate": "0"}
    )
    assert response.status_code == 302
    assert EvaluationWeight.objects.get(province=province, indicator="measure_coverage").weight == 5
    page = client.get(f"/dashboards/{province.code}/evaluation/")
    assert page.status_code == 200
    scored = page.context["scored"]
    assert [s.region for s in scored] == [villages["A"].code[:6]]  # the one county with data in this test
    assert scored[0].rank == 1 and scored[0].composite == 100  # alone: best on every indicator with a value
    assert "return_rate" not in {p.indicator for p in scored[0].parts}
    # The county ranks its townships: two have households.
    county_page = client.get(f"/dashboards/{villages['A'].code[:6]}/evaluation/")
    ranked = county_page.context["scored"]
    with_data = {villages["A"].code[:9], villages["B"].code[:9]}
    assert with_data <= {s.region for s in ranked}
    assert ranked[0].region in with_data and "综合得分" in county_page.content.decode()


def test_catalogue_page_lists_every_indicator(client, people):
    from engine.aggregates.catalogue import INDICATORS

    _login(client, people["county"])
    body = client.get("/dashboards/indicators/").content.decode()
    for i in INDICATORS:
        assert f"<code>{i.code}</code>" in body


def test_refresh_command(story, villages):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("refresh_aggregates", "--period", period_of(story), stdout=out)
    assert "rows written" in out.getvalue()
    assert RegionMetric.objects.filter(region_code=villages["A"].code[:6], metric="hh_total").exists()


def test_refresh_task_runs_in_the_background(story, villages):
    from guardline.dashboards.tasks import aggregates_refresh_task

    result = aggregates_refresh_task.enqueue()  # the immediate backend in tests
    assert result.return_value["written"] > 0
    assert RegionMetric.objects.filter(region_code=villages["A"].code[:6], metric="hh_total").exists()
