"""Which monitoring line applied to household H on date D: province default, county override, formula, history."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from guardline.accounts.models import Role
from guardline.regions.models import MonitoringLine, Region
from guardline.regions.selectors import monitoring_line_for_household
from guardline.regions.services import monitoring_line_set
from tests.support import COUNTY


@pytest.fixture
def officers(make_user):
    return {
        "province": make_user("prov", Role.PROVINCE_OFFICER, "52"),
        "county": make_user("county", Role.COUNTY_ADMIN, COUNTY),
    }


def test_line_history_default_override_and_formula(officers, households):
    province, county = Region.objects.get(code="52"), Region.objects.get(code=COUNTY)
    h = households["A"]
    monitoring_line_set(
        actor=officers["province"],
        region=province,
        year=2024,
        effective_from=date(2024, 1, 1),
        amount=Decimal("8700"),
    )
    assert monitoring_line_for_household(h, date(2023, 12, 31)) is None
    assert monitoring_line_for_household(h, date(2024, 3, 1)).amount == Decimal("8700")

    # County override from July: 2 × monthly 低保 standard 600 × 12 = 14,400.
    override = monitoring_line_set(
        actor=officers["county"],
        region=county,
        year=2024,
        effective_from=date(2024, 7, 1),
        dibao_monthly=Decimal("600"),
        multiple=Decimal("2"),
    )
    assert override.amount == Decimal("14400.00")
    assert override.basis == MonitoringLine.Basis.DIBAO_MULTIPLE
    assert monitoring_line_for_household(h, date(2024, 6, 30)).amount == Decimal("8700")
    assert monitoring_line_for_household(h, date(2024, 7, 1)).pk == override.pk

    # A new province line for 2025 applies in 2025: the 2024 county override does not carry over.
    line_2025 = monitoring_line_set(
        actor=officers["province"],
        region=province,
        year=2025,
        effective_from=date(2025, 1, 1),
        amount=Decimal("9000"),
    )
    assert monitoring_line_for_household(h, date(2025, 2, 1)).pk == line_2025.pk
    # History is kept: the 2024 decision date still resolves to the override.
    assert monitoring_line_for_household(h, date(2024, 12, 31)).pk == override.pk
    # A correction later in the year supersedes, without editing the old row.
    fix = monitoring_line_set(
        actor=officers["province"],
        region=province,
        year=2025,
        effective_from=date(2025, 4, 1),
        amount=Decimal("9100"),
    )
    assert monitoring_line_for_household(h, date(2025, 3, 31)).pk == line_2025.pk
    assert monitoring_line_for_household(h, date(2025, 4, 1)).pk == fix.pk
    assert MonitoringLine.objects.count() == 4


def test_line_rules(officers, cadre_a, villages):
    county = Region.objects.get(code=COUNTY)
    with pytest.raises(PermissionDenied):
        monitoring_line_set(
            actor=cadre_a, region=county, year=2024, effective_from=date(2024, 1, 1), amount=Decimal("1")
        )
    with pytest.raises(ValidationError):
        monitoring_line_set(
            actor=officers["county"],
            region=county,
            year=2024,
            effective_from=date(2024, 1, 1),
            amount=Decimal("-5"),
        )
    with pytest.raises(ValidationError):
        monitoring_line_set(
            actor=officers["county"],
            region=villages["A"],
            year=2024,
            effective_from=date(2024, 1, 1),
            amount=Decimal("8000"),
        )
    other_county = Region.objects.get(code="52")
    with pytest.raises(PermissionDenied):  # a county administrator cannot set the province default
        monitoring_line_set(
            actor=officers["county"],
            region=other_county,
            year=2024,
            effective_from=date(2024, 1, 1),
            amount=Decimal("8000"),
        )


def test_import_divisions_is_idempotent_and_builds_the_tree(db):
    from django.conf import settings

    from guardline.regions.services import regions_import_divisions

    before = Region.objects.count()
    result = regions_import_divisions(settings.GUARDLINE["DIVISIONS_DIR"], county=COUNTY)
    assert Region.objects.count() == before
    assert result.counts["villages"] == 623
    village = Region.objects.filter(code__startswith=COUNTY, level=Region.Level.VILLAGE).first()
    assert village.parent.parent.code == COUNTY
    assert village.parent.parent.parent.parent.code == "52"
    assert Region.objects.get(code=COUNTY).name.startswith("威宁")


def test_grid_page_creates_grids_only_in_own_villages(client, cadre_a, villages):
    from guardline.regions.models import Grid
    from tests.support import PASSWORD

    client.login(username="cadre_a", password=PASSWORD)
    assert client.post("/regions/grids/", {"village": villages["A"].code, "name": "一组"}).status_code == 302
    assert client.post("/regions/grids/", {"village": villages["B"].code, "name": "二组"}).status_code == 200
    assert client.post("/regions/grids/", {"village": villages["A"].code, "name": "一组"}).status_code == 200
    assert list(Grid.objects.values_list("village_id", "name")) == [(villages["A"].code, "一组")]
    assert "一组" in client.get("/regions/grids/").content.decode()
