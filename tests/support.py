"""Shared fixtures: the real divisions of the demo county (520526 威宁) loaded once per test database, and users of
every role scoped to real places."""

from __future__ import annotations

import pytest
from django.conf import settings

from guardline.accounts.models import Role
from guardline.accounts.services import user_create
from guardline.regions.models import Region
from guardline.registry.models import Household, Member

COUNTY = "520526"
PASSWORD = "Test-Password-2026"


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    from guardline.regions.services import regions_import_divisions

    with django_db_blocker.unblock():
        regions_import_divisions(settings.GUARDLINE["DIVISIONS_DIR"], county=COUNTY)


@pytest.fixture
def villages(db):
    """Two villages of different townships of the county, and a third in the same township as the first."""
    first = (
        Region.objects.filter(code__startswith=COUNTY, level=Region.Level.VILLAGE).order_by("code").first()
    )
    if first is None:  # an earlier transactional (browser) test in this worker flushed every table
        from guardline.regions.services import regions_import_divisions

        regions_import_divisions(settings.GUARDLINE["DIVISIONS_DIR"], county=COUNTY)
        first = (
            Region.objects.filter(code__startswith=COUNTY, level=Region.Level.VILLAGE)
            .order_by("code")
            .first()
        )
    same_township = (
        Region.objects.filter(parent=first.parent, level=Region.Level.VILLAGE).exclude(pk=first.pk).first()
    )
    other = (
        Region.objects.filter(code__startswith=COUNTY, level=Region.Level.VILLAGE)
        .exclude(parent=first.parent)
        .order_by("code")
        .first()
    )
    return {"A": first, "A2": same_township, "B": other}


@pytest.fixture
def make_user(db):
    def make(username: str, role: str, *regions: str, **extra):
        return user_create(
            actor=None, username=username, password=PASSWORD, role=role, regions=list(regions), **extra
        )

    return make


def make_household(village: str, no: str, head: str = "张三", id_number: str | None = None) -> Household:
    from engine.ids import check_char

    household = Household.objects.create(
        household_no=no,
        village_code=village,
        household_type="general",
        head_name=head,
        member_count=1,
        phone="13800001234",
    )
    first17 = id_number or f"{COUNTY}1980010{len(no) % 10}{int(no[-2:]):02d}1"[:17]
    Member.objects.create(
        household=household, name=head, id_number=first17 + check_char(first17), relation="head", sex="male"
    )
    return household


@pytest.fixture
def households(villages):
    return {
        "A": make_household(villages["A"].code, "520526000000000001", "张三", "52052619800101001"),
        "A2": make_household(villages["A2"].code, "520526000000000002", "李四", "52052619800101003"),
        "B": make_household(villages["B"].code, "520526000000000003", "王五", "52052619800101005"),
    }


@pytest.fixture
def cadre_a(make_user, villages):
    return make_user("cadre_a", Role.VILLAGE_CADRE, villages["A"].code)


@pytest.fixture(autouse=True)
def fresh_cache():
    """Each test starts with an empty cache: counters kept there (the declaration rate limit per address, the
    lockout's) must not leak from one test into the next in the same worker."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(params=["statements", "copy"])
def write_path(request, monkeypatch):
    """Both ways the bulk writes go (guardline.core.bulk): statements (executemany), and on PostgreSQL COPY, which
    it takes from COPY_FROM_ROWS rows on — here from one row, so that a test's few rows take it too."""
    from django.db import connection

    from guardline.core import bulk

    if request.param == "copy":
        if connection.vendor != "postgresql":
            pytest.skip("COPY is PostgreSQL's bulk path")
        monkeypatch.setattr(bulk, "COPY_FROM_ROWS", 1)
    return request.param
